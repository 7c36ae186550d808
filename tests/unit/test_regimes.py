"""Training regimes: EvoAug augmentations, PGD/FGSM, noise, warm-up and the RegimeTrainer fit path."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import pytest

from cislens.errors import InputError
from cislens.models import zoo
from cislens.training import regimes
from cislens.training.fit import compile_model
from cislens.training.regimes import adversarial_accuracy, pgd_attack

L = 40


def _onehot(n, length=L, seed=0):
    rng = np.random.default_rng(seed)
    return np.eye(4, dtype=np.float32)[rng.integers(0, 4, size=(n, length))]


def _model(task_type="binary", tasks=2, **hp):
    return zoo.build_model(
        "cnn", L, tasks, task_type=task_type, first_pool=4, pool_total=8, filters=8,
        conv2_filters=16, dense_units=16, **{"dropout": 0.0, "dense_dropout": 0.0, **hp},
    )  # fmt: skip


def _bce(model, x, y):
    p = np.clip(model.predict(x, verbose=0), 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _is_onehot(x):
    return np.all(np.isin(x, (0.0, 1.0))) and np.all(x.sum(-1) == 1.0)


@pytest.fixture(scope="module")
def trained():
    """A small model that learned a real signal (GC content above / below 50%)."""
    keras.utils.set_random_seed(0)
    x = _onehot(600, seed=1)
    gc = x[..., 1:3].sum(-1).mean(-1)
    y = np.stack([gc > 0.5, gc < 0.45], axis=1).astype(np.float32)
    model = _model()
    compile_model(model, learning_rate=3e-3)
    model.fit(x, y, epochs=6, batch_size=50, verbose=0)
    return model, x[:200], y[:200]


# ---------------------------------------------------------------- attacks
@pytest.mark.parametrize("attack", ["pgd", "fgsm"])
def test_attack_stays_in_ball_and_raises_loss(trained, attack):
    model, x, y = trained
    eps = 0.1
    x_adv = pgd_attack(model, x, y, epsilon=eps, steps=5, attack=attack, batch_size=64)
    assert x_adv.shape == x.shape and x_adv.dtype == np.float32
    assert np.abs(x_adv - x).max() <= eps + 1e-6
    assert np.abs(x_adv - x).max() > eps / 2
    assert _bce(model, x_adv, y) > _bce(model, x, y) + 0.01


def test_adversarial_accuracy_binary_and_regression(trained):
    model, x, y = trained
    res = adversarial_accuracy(model, x, y, epsilon=0.1, steps=3)
    assert set(res) == {
        "epsilon", "steps", "clean_accuracy", "adversarial_accuracy", "clean_auroc", "adversarial_auroc",
    }  # fmt: skip
    assert res["adversarial_accuracy"] <= res["clean_accuracy"]
    assert res["clean_auroc"] > 0.6
    reg = adversarial_accuracy(_model("regression", tasks=1), x, y[:, :1], epsilon=0.1, steps=2)
    assert {"clean_pearson", "adversarial_pearson"} <= set(reg)


# ---------------------------------------------------------------- augmentations
SEED = np.array([7, 3], dtype=np.int64)
OPS = {
    "reverse_complement": lambda x, s: regimes.random_reverse_complement(x, s, 0.5),
    "deletion": lambda x, s: regimes.deletion(x, s, 30),
    "insertion": lambda x, s: regimes.insertion(x, s, 20),
    "translocation": lambda x, s: regimes.translocation(x, s, 20),
    "mutation": lambda x, s: regimes.mutation(x, s, 0.05),
    "noise": lambda x, s: regimes.noise(x, s, 0.3),
}


@pytest.mark.parametrize("name", list(OPS))
def test_augmentation_keeps_shape_and_onehot(name):
    x = _onehot(16, length=60)
    out = np.asarray(OPS[name](x, SEED))
    assert out.shape == x.shape
    assert _is_onehot(out) == (name != "noise")
    assert not np.array_equal(out, x)
    np.testing.assert_array_equal(out, np.asarray(OPS[name](x, SEED)))  # same seed, same draw


def test_noise_std():
    x = _onehot(64, length=100)
    diff = np.asarray(regimes.noise(x, SEED, 0.3)) - x
    assert abs(diff.std() - 0.3) < 0.03 and abs(diff.mean()) < 0.01


def test_reverse_complement():
    x = _onehot(5)
    rc = np.asarray(regimes.reverse_complement(x))
    np.testing.assert_array_equal(rc, np.flip(x, axis=(1, 2)))
    np.testing.assert_array_equal(np.asarray(regimes.reverse_complement(rc)), x)
    acgt = "ACGT"
    seq = np.eye(4, dtype=np.float32)[[acgt.index(c) for c in "AACGG"]][None]
    rc_seq = "".join(acgt[i] for i in np.asarray(regimes.reverse_complement(seq))[0].argmax(-1))
    assert rc_seq == "CCGTT"
    np.testing.assert_array_equal(np.asarray(regimes.random_reverse_complement(x, SEED, 1.0)), rc)
    np.testing.assert_array_equal(np.asarray(regimes.random_reverse_complement(x, SEED, 0.0)), x)


def test_mutation_changes_five_percent():
    x = _onehot(32, length=200)
    out = np.asarray(regimes.mutation(x, SEED, 0.05))
    changed = (out.argmax(-1) != x.argmax(-1)).mean(axis=1)
    np.testing.assert_allclose(changed, 0.05)


def test_translocation_is_a_roll():
    x = _onehot(16, length=100)
    out = np.asarray(regimes.translocation(x, SEED, 20))
    shifts = []
    for xi, oi in zip(x, out, strict=True):
        ks = [k for k in range(-20, 21) if np.array_equal(np.roll(xi, k, axis=0), oi)]
        assert ks, "output is not a roll of the input by <= 20"
        shifts.append(ks[0])
    assert len(set(shifts)) > 1  # per-sequence shifts


def test_deletion_and_insertion_structure():
    x = _onehot(12, length=60)
    n = x.shape[1]
    dele = np.asarray(regimes.deletion(x, SEED, 10))
    ins = np.asarray(regimes.insertion(x, SEED, 10))
    for xi, di, ii in zip(x, dele, ins, strict=True):
        # deletion: out = random pad of d//2 + x[:s] + x[s+d:] + random pad of d - d//2
        assert any(
            np.array_equal(di[d // 2 : d // 2 + s], xi[:s])
            and np.array_equal(di[d // 2 + s : n - (d - d // 2)], xi[s + d :])
            for d in range(11)
            for s in range(n - d + 1)
        )
        # insertion: (x[:s] + random k + x[s:]) trimmed by k//2 at 5' and the rest at 3'
        assert any(
            np.array_equal(ii[: max(s - k // 2, 0)], xi[k // 2 : max(s, k // 2)])
            and np.array_equal(ii[s + k - k // 2 :], xi[s : n - k + k // 2])
            for k in range(11)
            for s in range(k // 2, n - k + 1)
        )
    np.testing.assert_array_equal(np.asarray(regimes.deletion(x, SEED, 0)), x)
    np.testing.assert_array_equal(np.asarray(regimes.insertion(x, SEED, 0)), x)


def test_evoaug_combination():
    x = _onehot(64, length=80)
    no_noise = [a for a in regimes.AUGMENTATIONS if a != "noise"]
    out = np.asarray(regimes.evoaug(x, SEED, augmentations=no_noise, max_augs=3))
    assert out.shape == x.shape and _is_onehot(out)
    assert np.mean([not np.array_equal(a, b) for a, b in zip(out, x, strict=True)]) > 0.5
    full = np.asarray(regimes.evoaug(x, SEED))
    assert full.shape == x.shape and np.isfinite(full).all()
    only_rc = np.asarray(regimes.evoaug(x, SEED, augmentations=["reverse_complement"], rc_prob=1.0))
    np.testing.assert_array_equal(only_rc, np.flip(x, axis=(1, 2)))


# ---------------------------------------------------------------- trainer
def test_gaussian_noise_sigma():
    trainer = regimes.build_trainer(_model(), {"kind": "gaussian_noise", "sigma": 0.2}, seed=0)
    x = _onehot(128, length=L)
    out, y_out, _ = trainer.transform_batch(x, np.zeros((128, 2), np.float32))
    diff = np.asarray(out) - x
    assert abs(diff.std() - 0.2) < 0.02 and abs(diff.mean()) < 0.01
    np.testing.assert_array_equal(np.asarray(y_out), 0.0)


def test_same_seed_same_batches():
    x, y = _onehot(16), np.zeros((16, 2), np.float32)
    for regime in ({"kind": "evoaug"}, {"kind": "gaussian_noise"}):
        a, b, c = (regimes.build_trainer(_model(), regime, seed=s) for s in (5, 5, 6))
        for _ in range(2):  # successive batches follow the same stream
            xa = np.asarray(a.transform_batch(x, y)[0])
            np.testing.assert_array_equal(xa, np.asarray(b.transform_batch(x, y)[0]))
            assert not np.array_equal(xa, np.asarray(c.transform_batch(x, y)[0]))


def test_adversarial_warmup_then_mix():
    model = _model()
    trainer = regimes.build_trainer(model, {"kind": "adversarial", "steps": 2, "warmup_epochs": 2}, seed=0)
    compile_model(trainer, learning_rate=1e-3)
    x, y = _onehot(10), np.ones((10, 2), np.float32)
    (tracker,) = trainer.callbacks()
    for epoch in (0, 1):
        tracker.on_epoch_begin(epoch)
        np.testing.assert_array_equal(np.asarray(trainer.transform_batch(x, y)[0]), x)
    tracker.on_epoch_begin(2)
    out = np.asarray(trainer.transform_batch(x, y)[0])
    assert not np.array_equal(out[:5], x[:5])  # mix 0.5: first half attacked
    np.testing.assert_array_equal(out[5:], x[5:])
    assert np.abs(out - x).max() <= 0.1 + 1e-6


@pytest.mark.parametrize("kind", regimes.REGIMES)
def test_fit_one_epoch_updates_inner_model(kind):
    keras.utils.set_random_seed(0)
    model = _model(**regimes.model_overrides({"kind": kind}))
    regime = {"kind": kind, "steps": 2, "warmup_epochs": 0} if kind == "adversarial" else {"kind": kind}
    trainer = regimes.build_trainer(model, regime, seed=1)
    assert trainer.net is model
    compile_model(trainer, learning_rate=1e-3)
    before = [w.numpy().copy() for w in model.trainable_weights]  # BN statistics move without a step
    x, y = _onehot(48), (np.random.default_rng(0).random((48, 2)) > 0.5).astype(np.float32)
    history = trainer.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=trainer.callbacks())
    assert np.isfinite(history.history["loss"][0])
    after = [w.numpy() for w in model.trainable_weights]
    assert len(trainer.get_weights()) == len(model.get_weights())  # early stopping's get/set_weights
    assert all(not np.allclose(a, b) for a, b in zip(before, after, strict=True))


def test_check_regime():
    assert regimes.check_regime({"kind": "gaussian_noise"}) == {"kind": "gaussian_noise", "sigma": 0.1}
    adv = regimes.check_regime({"kind": "adversarial", "epsilon": 0.2})
    assert adv["steps"] == 20 and adv["step_size"] == pytest.approx(2.5 * 0.2 / 20)
    assert adv["warmup_epochs"] == 1 and adv["mix"] == 0.5
    assert regimes.check_regime(adv) == adv
    assert regimes.check_regime({"kind": "adversarial", "attack": "fgsm"})["step_size"] == 0.1
    assert regimes.check_regime({"kind": "l2", "l2": "1e-4"})["l2"] == 1e-4
    bad = [
        {"kind": "mixup"},
        {"kind": "gaussian_noise", "epsilon": 0.1},
        {"kind": "gaussian_noise", "sigma": -1},
        {"kind": "adversarial", "steps": 0},
        {"kind": "adversarial", "attack": "cw"},
        {"kind": "adversarial", "mix": 1.5},
        {"kind": "evoaug", "augmentations": ["rc"]},
        {"kind": "evoaug", "max_augs": True},
        {"kind": "dropout", "dropout": 1.0},
    ]
    for regime in bad:
        with pytest.raises(InputError) as err:
            regimes.check_regime(regime)
        assert "\n" not in str(err.value)


def test_overrides_and_finetune():
    assert regimes.model_overrides({"kind": "l2"}) == {"l2": 1e-3}
    assert set(regimes.model_overrides({"kind": "dropout"})) == {"dropout", "dense_dropout"}
    assert regimes.model_overrides({"kind": "adversarial"}) == {}
    assert regimes.finetune_settings({"kind": "evoaug"}) == {"epochs": 5, "learning_rate": 1e-4}
    assert regimes.finetune_settings({"kind": "standard"}) is None


def test_deletion_pads_both_ends():
    # All-A sequences: a changed first or last base can only come from the random padding.
    x = np.zeros((400, 100, 4), np.float32)
    x[..., 0] = 1
    out = np.asarray(regimes.deletion(x, SEED, 30))
    first, last = (out[:, 0, 0] != 1).mean(), (out[:, -1, 0] != 1).mean()
    assert first > 0.3 and last > 0.3 and abs(first - last) < 0.2, (first, last)
