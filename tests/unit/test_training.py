"""Fit loop (best weights really restored) and sklearn-based evaluation."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import math

import numpy as np
import pytest

from cislens.errors import InputError
from cislens.models import zoo
from cislens.runtime import set_seed
from cislens.training.fit import train
from cislens.training.metrics import evaluate_model, evaluate_predictions


def _data(n, length=40, tasks=2, seed=0):
    rng = np.random.default_rng(seed)
    x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, size=(n, length))]
    y = (rng.random((n, tasks)) > 0.5).astype(np.float32)  # random labels: validation loss must rise
    return x, y


def _small_model():
    return zoo.build_model(
        "cnn",
        40,
        2,
        first_pool=4,
        pool_total=8,
        filters=8,
        conv2_filters=16,
        dense_units=32,
        dropout=0.0,
        dense_dropout=0.0,
    )


@pytest.mark.slow
def test_best_weights_restored_when_epochs_run_out():
    set_seed(3)
    x_train, y_train = _data(200, seed=1)
    x_valid, y_valid = _data(100, seed=2)
    model = _small_model()
    # patience > epochs: training ends by max epochs, the case the reference code got wrong
    history = train(
        model,
        x_train,
        y_train,
        x_valid,
        y_valid,
        epochs=8,
        batch_size=20,
        learning_rate=1e-2,
        patience=50,
        seed=3,
        verbose=0,
    )
    assert list(history["epoch"]) == list(range(1, 9))
    assert {"loss", "val_loss", "val_auroc", "val_aupr", "lr", "best"} <= set(history.columns)
    best = int(history["val_loss"].idxmin())
    assert best != len(history) - 1, "overfitting setup should peak before the last epoch"
    assert bool(history["best"].iloc[best]) and history.attrs["best_epoch"] == best + 1
    val_loss = model.evaluate(x_valid, y_valid, batch_size=100, verbose=0)[0]
    assert val_loss == pytest.approx(history["val_loss"].min(), rel=1e-4)
    assert val_loss < history["val_loss"].iloc[-1] - 1e-3
    # ReduceLROnPlateau (factor 0.2, patience 5): five epochs without improvement after epoch 1
    assert history["lr"].iloc[0] == pytest.approx(1e-2) and history["lr"].iloc[-1] == pytest.approx(2e-3)


@pytest.mark.slow
def test_early_stopping_stops_and_restores_on_auroc():
    set_seed(4)
    x_train, y_train = _data(200, seed=5)
    x_valid, y_valid = _data(100, seed=6)
    model = _small_model()
    history = train(
        model,
        x_train,
        y_train,
        x_valid,
        y_valid,
        epochs=30,
        batch_size=50,
        learning_rate=1e-2,
        patience=2,
        monitor="val_auroc",
        seed=4,
        verbose=0,
        lr_decay=False,
    )
    assert len(history) < 30
    # The restored weights score exactly the best logged epoch (val_auroc is the exact AUROC).
    tasks = [str(t) for t in range(y_valid.reshape(len(y_valid), -1).shape[1])]
    result = evaluate_model(model, x_valid, y_valid, tasks)
    assert result["auroc_mean"] == pytest.approx(history["val_auroc"].max(), abs=1e-6)
    assert not {"auroc", "aupr"} & set(history)  # no per-batch AUC curves on the training set
    np.testing.assert_allclose(history["lr"], 1e-2)


def test_evaluate_predictions_binary_excludes_single_class_tasks():
    y = np.array([[1, 0, 1], [0, 0, 0], [1, 0, 1], [0, 0, 1]], dtype=np.float32)
    pred = np.array([[0.9, 0.2, 0.1], [0.1, 0.3, 0.4], [0.8, 0.1, 0.7], [0.2, 0.5, 0.3]])
    out = evaluate_predictions(y, pred, ["a", "b", "c"])
    a, b, c = out["per_task"]
    assert a["auroc"] == 1.0 and a["aupr"] == 1.0 and a["n_pos"] == 2
    assert math.isnan(b["auroc"]) and b["n_pos"] == 0
    assert c["auroc"] == pytest.approx(1 / 3)  # positives 0.1, 0.7, 0.3 vs negative 0.4
    assert out["auroc_mean"] == pytest.approx((1.0 + 1 / 3) / 2) and out["n"] == 4


def test_evaluate_predictions_regression():
    y = np.arange(10, dtype=float).reshape(10, 1)
    out = evaluate_predictions(y, y**3, ["t"], task_type="regression")
    assert out["per_task"][0]["spearman"] == pytest.approx(1.0)
    assert out["pearson_mean"] < 1.0
    assert out["mse_mean"] == out["per_task"][0]["mse"] == pytest.approx(np.mean((y - y**3) ** 2))


def test_evaluate_model_uses_model_output():
    set_seed(0)
    x, y = _data(30)
    model = _small_model()
    out = evaluate_model(model, x, y, ["t0", "t1"])
    assert [row["task"] for row in out["per_task"]] == ["t0", "t1"] and 0 <= out["auroc_mean"] <= 1


def _regression_model():
    return zoo.build_model(
        "cnn",
        40,
        1,
        task_type="regression",
        first_pool=4,
        pool_total=8,
        filters=8,
        conv2_filters=8,
        dense_units=16,
        dropout=0.0,
        dense_dropout=0.0,
    )


def test_regression_monitors_pearson_across_sequences():
    set_seed(7)
    rng = np.random.default_rng(7)
    x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, size=(300, 40))]
    y = x[:, :, 2].sum(axis=1, keepdims=True).astype(np.float32)  # G count: learnable
    model = _regression_model()
    before = [w.copy() for w in model.get_weights()]
    history = train(
        model,
        x[:200],
        y[:200],
        x[200:],
        y[200:],
        epochs=4,
        batch_size=20,
        learning_rate=1e-2,
        patience=10,
        monitor="auto",
        seed=7,
        verbose=0,
    )
    assert np.isfinite(history["val_pearson"]).all() and history["val_pearson"].max() > 0.5
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))
    with pytest.raises(InputError, match="not logged for regression"):
        train(
            _regression_model(), x[:200], y[:200], x[200:], y[200:], epochs=1, monitor="val_auroc", verbose=0
        )


def test_checkpoint_from_other_settings_is_not_resumed(tmp_path):
    set_seed(8)
    x_train, y_train = _data(100, seed=8)
    x_valid, y_valid = _data(50, seed=9)
    checkpoint = tmp_path / "checkpoint.npz"
    train(
        _small_model(),
        x_train,
        y_train,
        x_valid,
        y_valid,
        epochs=2,
        batch_size=20,
        seed=8,
        verbose=0,
        checkpoint=checkpoint,
    )
    assert checkpoint.exists()
    # Another learning rate: the old state must not be resumed (it would skip the two epochs).
    history = train(
        _small_model(),
        x_train,
        y_train,
        x_valid,
        y_valid,
        epochs=2,
        batch_size=20,
        seed=8,
        learning_rate=1e-2,
        verbose=0,
        checkpoint=checkpoint,
    )
    assert len(history) == 2 and history["lr"].iloc[0] == pytest.approx(1e-2)


def test_adversarial_warmup_epochs_never_hold_the_best_weights():
    set_seed(9)
    x_train, y_train = _data(100, seed=10)
    x_valid, y_valid = _data(50, seed=11)
    regime = {"kind": "adversarial", "epsilon": 0.1, "steps": 2, "warmup_epochs": 2}
    history = train(
        _small_model(),
        x_train,
        y_train,
        x_valid,
        y_valid,
        epochs=4,
        batch_size=20,
        seed=9,
        verbose=0,
        regime=regime,
        patience=10,
    )
    assert history.attrs["best_epoch"] > 2
