"""Training regimes: how each batch is transformed before the usual gradient step.

A regime is a mapping with ``kind`` plus that kind's keys (``check_regime`` fills defaults).
``standard``/``l2``/``dropout`` change only the model (``model_overrides`` feeds the builder);
``gaussian_noise``, ``adversarial`` and ``evoaug`` wrap the model in a ``RegimeTrainer`` whose
``train_step`` transforms the batch. Usage in the fit loop::

    trainer = build_trainer(model, regime, seed)      # shares model's weights
    compile_model(trainer, ...)                        # compile the trainer, not the model
    trainer.fit(..., callbacks=[*callbacks, *trainer.callbacks()])
    # then, if finetune_settings(regime): compile + fit ``model`` itself (no augmentation)

The batch transforms live here too: the EvoAug augmentations (pure, stateless TensorFlow functions) and
the PGD / FGSM attack with the robustness numbers reported after training (``adversarial_accuracy``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from ..errors import InputError
from ..models.predict import predict_output
from .metrics import evaluate_predictions

# Order of application: noise last, so the others (mutation reads the base) see one-hot input.
AUGMENTATIONS = ("reverse_complement", "deletion", "insertion", "translocation", "mutation", "noise")
REGIMES = ("standard", "l2", "dropout", "gaussian_noise", "adversarial", "evoaug")
ATTACKS = ("pgd", "fgsm")

_DEFAULTS: dict[str, dict[str, Any]] = {
    "standard": {},
    "l2": {"l2": 1e-3},
    "dropout": {"dropout": 0.2, "dense_dropout": 0.5},
    "gaussian_noise": {"sigma": 0.1},
    "adversarial": {
        "attack": "pgd",
        "epsilon": 0.1,
        "steps": 20,
        "step_size": None,  # -> 2.5 * epsilon / steps (pgd) or epsilon (fgsm)
        "random_start": True,
        "warmup_epochs": 1,
        "mix": 0.5,
    },
    "evoaug": {
        "augmentations": list(AUGMENTATIONS),
        "max_augs": 3,
        "rc_prob": 0.5,
        "delete_max": 30,
        "insert_max": 20,
        "shift_max": 20,
        "noise_std": 0.3,
        "mutate_frac": 0.05,
        "finetune_epochs": 5,
        "finetune_learning_rate": 1e-4,
    },
}

# key -> (type, low, high, low_inclusive); bounds checked after conversion
_FLOAT_RANGES: dict[str, tuple[float, float, bool]] = {
    "l2": (0.0, float("inf"), True),
    "dropout": (0.0, 1.0, True),
    "dense_dropout": (0.0, 1.0, True),
    "sigma": (0.0, float("inf"), False),
    "epsilon": (0.0, float("inf"), False),
    "step_size": (0.0, float("inf"), False),
    "mix": (0.0, 1.0, False),
    "rc_prob": (0.0, 1.0, True),
    "noise_std": (0.0, float("inf"), True),
    "mutate_frac": (0.0, 1.0, True),
    "finetune_learning_rate": (0.0, float("inf"), False),
}
_INT_MINIMA = {
    "steps": 1,
    "warmup_epochs": 0,
    "max_augs": 1,
    "delete_max": 0,
    "insert_max": 0,
    "shift_max": 0,
    "finetune_epochs": 0,
}


def _as_float(kind: str, key: str, value: Any) -> float:
    if isinstance(value, bool):
        raise InputError(f"regime {kind!r}: {key} must be a number, got {value!r}")
    try:
        number = float(value)  # YAML reads 1e-3 as a string
    except (TypeError, ValueError):
        raise InputError(f"regime {kind!r}: {key} must be a number, got {value!r}") from None
    low, high, inclusive = _FLOAT_RANGES[key]
    if not ((number >= low if inclusive else number > low) and number <= high) or number != number:
        bracket = "[" if inclusive else "("
        raise InputError(f"regime {kind!r}: {key}={value!r} is outside {bracket}{low}, {high}]")
    if key in ("dropout", "dense_dropout") and number >= 1.0:
        raise InputError(f"regime {kind!r}: {key}={value!r} must be < 1")
    return number


def _as_int(kind: str, key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise InputError(f"regime {kind!r}: {key} must be an integer, got {value!r}")
    if value < _INT_MINIMA[key]:
        raise InputError(f"regime {kind!r}: {key}={value!r} must be >= {_INT_MINIMA[key]}")
    return int(value)


def _check_value(kind: str, key: str, value: Any) -> Any:
    if key == "attack":
        if value not in ATTACKS:
            raise InputError(f"regime {kind!r}: unknown attack {value!r}; valid: {', '.join(ATTACKS)}")
        return value
    if key == "random_start":
        if not isinstance(value, bool):
            raise InputError(f"regime {kind!r}: random_start must be true or false, got {value!r}")
        return value
    if key == "augmentations":
        names = [value] if isinstance(value, str) else list(value)
        bad = [n for n in names if n not in AUGMENTATIONS]
        if bad or not names or len(set(names)) != len(names):
            raise InputError(
                f"regime {kind!r}: augmentations {names!r} must be distinct names from "
                f"{', '.join(AUGMENTATIONS)}"
            )
        return names
    if key == "step_size" and value is None:
        return None
    if key in _INT_MINIMA:
        return _as_int(kind, key, value)
    return _as_float(kind, key, value)


def check_regime(regime: Mapping[str, Any] | str) -> dict[str, Any]:
    """Validate a regime and return it complete (``kind`` plus every key with its default).

    A bare string is read as ``{"kind": string}``. Idempotent: a checked regime checks unchanged.
    """
    if isinstance(regime, str):
        regime = {"kind": regime}
    if not isinstance(regime, Mapping):
        raise InputError(f"regime must be a mapping with a 'kind' key, got {type(regime).__name__}")
    kind = regime.get("kind", "standard")
    if kind not in REGIMES:
        raise InputError(f"unknown regime kind {kind!r}; valid: {', '.join(REGIMES)}")
    defaults = _DEFAULTS[kind]
    unknown = sorted(set(regime) - set(defaults) - {"kind"})
    if unknown:
        raise InputError(
            f"unknown key(s) {', '.join(unknown)} for regime {kind!r}; valid: {', '.join(defaults) or 'none'}"
        )
    checked: dict[str, Any] = {"kind": kind}
    for key, default in defaults.items():
        checked[key] = _check_value(kind, key, regime.get(key, default))
    if kind == "adversarial" and checked["step_size"] is None:
        if checked["attack"] == "fgsm":
            checked["step_size"] = checked["epsilon"]
        else:
            checked["step_size"] = default_step_size(checked["epsilon"], checked["steps"])
    return checked


def model_overrides(regime: Mapping[str, Any] | str) -> dict[str, Any]:
    """Hyperparameters the model builder must use for this regime (regularisation lives in the model)."""
    r = check_regime(regime)
    if r["kind"] == "l2":
        return {"l2": r["l2"]}
    if r["kind"] == "dropout":
        return {"dropout": r["dropout"], "dense_dropout": r["dense_dropout"]}
    return {}


def finetune_settings(regime: Mapping[str, Any] | str) -> dict[str, Any] | None:
    """EvoAug's second stage: keep training the plain model without augmentation (None: no stage)."""
    r = check_regime(regime)
    if r["kind"] != "evoaug" or r["finetune_epochs"] == 0:
        return None
    return {"epochs": r["finetune_epochs"], "learning_rate": r["finetune_learning_rate"]}


class EpochTracker(keras.callbacks.Callback):
    """Copies the epoch index (0-based, as Keras counts) into ``trainer.epoch`` at each epoch start."""

    def __init__(self, trainer: RegimeTrainer) -> None:
        super().__init__()
        self._trainer = trainer

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._trainer.epoch.assign(int(epoch))


class RegimeTrainer(keras.Model):
    """Wraps ``net`` (same weight objects) and transforms each training batch per the regime.

    Only training batches change; validation, prediction and ``weights`` are exactly ``net``'s, so
    early stopping's get/set_weights round-trips on either. Random draws come from
    ``seed_generator`` (its state is a variable, hence checkpointable); ``epoch`` is a
    non-trainable tf.Variable (not a Keras weight) kept current by ``callbacks()``.
    """

    def __init__(self, net: keras.Model, regime: Mapping[str, Any], seed: int = 0) -> None:
        checked = check_regime(regime)
        super().__init__(name=f"{net.name}_{checked['kind']}_trainer")
        self.net = net
        self.regime = checked
        self.seed_generator = keras.random.SeedGenerator(int(seed))
        self.epoch = tf.Variable(0, trainable=False, dtype=tf.int64, name="epoch")

    @property
    def output(self) -> Any:  # lets compile helpers read the task count as on the plain model
        return self.net.output

    def get_layer(self, name: str | None = None, index: int | None = None) -> keras.layers.Layer:
        """Layers of ``net`` (e.g. ``output``), so task-type detection works on the trainer too."""
        return self.net.get_layer(name=name, index=index)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        return self.net(inputs, training=training)

    def callbacks(self) -> list[keras.callbacks.Callback]:
        """Callbacks the fit loop must pass to ``fit`` (epoch tracking for adversarial warm-up)."""
        return [EpochTracker(self)]

    def _next_seed(self) -> tf.Tensor:
        return tf.cast(self.seed_generator.next(), tf.int64)

    def transform_batch(self, x: Any, y: Any, sample_weight: Any = None) -> tuple[Any, Any, Any]:
        """The batch the gradient step sees; labels and weights are never reordered or changed."""
        kind = self.regime["kind"]
        x = tf.convert_to_tensor(x, dtype=tf.float32)
        if kind == "gaussian_noise":
            noise = keras.random.normal(tf.shape(x), stddev=self.regime["sigma"], seed=self.seed_generator)
            x = x + noise
        elif kind == "evoaug":
            r = {k: v for k, v in self.regime.items() if k not in ("kind", "finetune_epochs")}
            r.pop("finetune_learning_rate")
            x = evoaug(x, self._next_seed(), **r)
        elif kind == "adversarial":
            x = self._adversarial_batch(x, y, sample_weight)
        return x, y, sample_weight

    def _adversarial_batch(self, x: tf.Tensor, y: Any, sample_weight: Any) -> tf.Tensor:
        """After ``warmup_epochs`` clean epochs, the first ceil(mix * B) examples become adversarial.

        Replacing (rather than appending) keeps the batch size, labels and sample weights aligned;
        batches are shuffled, so which examples are attacked is random. The attack uses the model
        in inference mode (no dropout, BN moving statistics left untouched).
        """
        r = self.regime
        seed = self._next_seed()
        y = tf.convert_to_tensor(y)
        n_adv = tf.cast(tf.math.ceil(r["mix"] * tf.cast(tf.shape(x)[0], tf.float32)), tf.int32)

        def attacked() -> tf.Tensor:
            xa, ya = x[:n_adv], y[:n_adv]
            sw = None if sample_weight is None else sample_weight[:n_adv]

            def loss_fn(z: tf.Tensor) -> tf.Tensor:
                pred = self.net(z, training=False)
                return self.compute_loss(x=z, y=ya, y_pred=pred, sample_weight=sw, training=False)

            x_adv = pgd_perturb(
                loss_fn,
                xa,
                epsilon=r["epsilon"],
                steps=1 if r["attack"] == "fgsm" else r["steps"],
                step_size=r["step_size"],
                random_start=r["random_start"] and r["attack"] == "pgd",
                seed=seed,
            )
            return tf.concat([x_adv, x[n_adv:]], axis=0)

        warm = self.epoch < r["warmup_epochs"]
        return tf.cond(warm, lambda: tf.identity(x), attacked)

    def train_step(self, data: Any) -> dict[str, Any]:
        """Keras 3 TF train step (as keras' own) on the transformed batch."""
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        x, y, sample_weight = self.transform_batch(x, y, sample_weight)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
            scaled = self.optimizer.scale_loss(loss)
        weights = self.trainable_weights
        gradients = tape.gradient(scaled, weights)
        self.optimizer.apply(gradients, weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss, sample_weight=tf.shape(x)[0])
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)


def build_trainer(model: keras.Model, regime: Mapping[str, Any] | str, seed: int = 0) -> RegimeTrainer:
    """Wrap ``model`` for ``regime``; compile and fit the returned trainer, save ``model``."""
    return RegimeTrainer(model, regime, seed)


# --- augmentations ---------------------------------------------------------------------------------------
# EvoAug-style sequence augmentations as pure, stateless TensorFlow functions.
#
# Every function maps a one-hot batch (B, L, 4) to a batch of the same shape, draws per-sequence
# parameters from an explicit stateless seed (a length-2 integer tensor), and accepts numpy input, so
# the same code runs inside a compiled train step and in tests. Length is always preserved: the
# reference insertion returned longer sequences; here insertions are trimmed at the 3' end and
# deletions padded there with random bases.


Seed = Any  # a length-2 int32/int64 tensor (or array) for tf.random.stateless_*


def _prepare(x: Any, seed: Seed) -> tuple[tf.Tensor, tf.Tensor]:
    x = tf.convert_to_tensor(x, dtype=tf.float32)
    return x, tf.cast(tf.convert_to_tensor(seed), tf.int64)


def _split(seed: tf.Tensor, n: int) -> list[tf.Tensor]:
    """Independent child seeds, so each random draw gets its own stream."""
    return tf.unstack(tf.random.experimental.stateless_split(seed, n), num=n)


def _random_onehot(batch: tf.Tensor, length: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    bases = tf.random.stateless_uniform(tf.stack([batch, length]), seed, 0, 4, dtype=tf.int32)
    return tf.one_hot(bases, 4, dtype=tf.float32)


def _randint(batch: tf.Tensor, seed: tf.Tensor, low: int, high: int) -> tf.Tensor:
    """One integer per sequence, uniform in [low, high] (inclusive)."""
    return tf.random.stateless_uniform(tf.reshape(batch, [1]), seed, low, high + 1, dtype=tf.int32)


def _uniform_below(upper: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Per-sequence integer uniform in [0, upper] for a per-sequence ``upper`` (int32 vector)."""
    u = tf.random.stateless_uniform(tf.shape(upper), seed)
    value = tf.cast(tf.floor(u * tf.cast(upper + 1, tf.float32)), tf.int32)
    return tf.minimum(value, upper)


def _dims(x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    shape = tf.shape(x)
    return shape[0], shape[1]


def reverse_complement(x: Any) -> tf.Tensor:
    """Reverse the sequence and swap A<->T, C<->G (ACGT channel order, so reverse both axes)."""
    return tf.convert_to_tensor(x, dtype=tf.float32)[:, ::-1, ::-1]


def random_reverse_complement(x: Any, seed: Seed, prob: float = 0.5) -> tf.Tensor:
    """Reverse-complement each sequence with probability ``prob``."""
    x, seed = _prepare(x, seed)
    flip = tf.random.stateless_uniform(tf.shape(x)[:1], seed) < prob
    return tf.where(flip[:, None, None], reverse_complement(x), x)


def deletion(x: Any, seed: Seed, max_len: int = 30) -> tf.Tensor:
    """Delete 0..max_len nt at a random start and pad both ends with random bases (half each), so the
    length is kept and neither end is systematically replaced (which would teach a position bias)."""
    x, seed = _prepare(x, seed)
    batch, length = _dims(x)
    s_len, s_start, s_pad = _split(seed, 3)
    size = tf.minimum(_randint(batch, s_len, 0, max_len), length)
    start = _uniform_below(length - size, s_start)
    pos = tf.range(length)[None, :]
    kept = pos - (size // 2)[:, None]  # position within the shortened sequence
    source = kept + size[:, None] * tf.cast(kept >= start[:, None], tf.int32)
    out = tf.gather(x, tf.clip_by_value(source, 0, length - 1), batch_dims=1)
    padded = (kept < 0) | (kept >= (length - size)[:, None])
    return tf.where(padded[..., None], _random_onehot(batch, length, s_pad), out)


def insertion(x: Any, seed: Seed, max_len: int = 20) -> tf.Tensor:
    """Insert 0..max_len random nt at a random position, then trim both ends (half each) back to
    length L: the reference changed the input length; trimming one end only would bias positions."""
    x, seed = _prepare(x, seed)
    batch, length = _dims(x)
    s_len, s_start, s_ins = _split(seed, 3)
    size = tf.minimum(_randint(batch, s_len, 0, max_len), length)
    start = _uniform_below(length - size, s_start)
    pos = tf.range(length)[None, :] + (size // 2)[:, None]  # position within the lengthened sequence
    after = pos >= (start + size)[:, None]
    inserted = (pos >= start[:, None]) & ~after
    source = pos - size[:, None] * tf.cast(after, tf.int32)
    out = tf.gather(x, tf.clip_by_value(source, 0, length - 1), batch_dims=1)
    return tf.where(inserted[..., None], _random_onehot(batch, length, s_ins), out)


def translocation(x: Any, seed: Seed, max_shift: int = 20) -> tf.Tensor:
    """Circularly roll each sequence by a shift in [-max_shift, max_shift] (np.roll semantics)."""
    x, seed = _prepare(x, seed)
    batch, length = _dims(x)
    shift = _randint(batch, seed, -max_shift, max_shift)
    source = tf.math.floormod(tf.range(length)[None, :] - shift[:, None], length)
    return tf.gather(x, source, batch_dims=1)


def noise(x: Any, seed: Seed, std: float = 0.3) -> tf.Tensor:
    """Add Gaussian noise (mean 0, ``std``) to every entry; the only non-one-hot output."""
    x, seed = _prepare(x, seed)
    return x + std * tf.random.stateless_normal(tf.shape(x), seed)


def mutation(x: Any, seed: Seed, rate: float = 0.05) -> tf.Tensor:
    """Substitute exactly round(rate * L) distinct positions per sequence with a different base.

    Forcing a different base makes ``rate`` the fraction actually changed (redrawing uniformly
    would leave a quarter of the chosen positions unchanged).
    """
    x, seed = _prepare(x, seed)
    batch, length = _dims(x)
    s_pos, s_base = _split(seed, 2)
    count = tf.cast(tf.round(rate * tf.cast(length, tf.float32)), tf.int32)
    scores = tf.random.stateless_uniform(tf.stack([batch, length]), s_pos)
    ranks = tf.argsort(tf.argsort(scores, axis=1), axis=1)
    chosen = ranks < count
    offset = tf.random.stateless_uniform(tf.stack([batch, length]), s_base, 1, 4, dtype=tf.int32)
    new_base = tf.math.floormod(tf.argmax(x, axis=-1, output_type=tf.int32) + offset, 4)
    return tf.where(chosen[..., None], tf.one_hot(new_base, 4, dtype=tf.float32), x)


def _make_ops(
    rc_prob: float, delete_max: int, insert_max: int, shift_max: int, noise_std: float, mutate_frac: float
) -> dict[str, Callable[[tf.Tensor, tf.Tensor], tf.Tensor]]:
    return {
        "reverse_complement": lambda x, s: random_reverse_complement(x, s, rc_prob),
        "deletion": lambda x, s: deletion(x, s, delete_max),
        "insertion": lambda x, s: insertion(x, s, insert_max),
        "translocation": lambda x, s: translocation(x, s, shift_max),
        "mutation": lambda x, s: mutation(x, s, mutate_frac),
        "noise": lambda x, s: noise(x, s, noise_std),
    }


def evoaug(
    x: Any,
    seed: Seed,
    *,
    augmentations: Sequence[str] = AUGMENTATIONS,
    max_augs: int = 3,
    rc_prob: float = 0.5,
    delete_max: int = 30,
    insert_max: int = 20,
    shift_max: int = 20,
    noise_std: float = 0.3,
    mutate_frac: float = 0.05,
) -> tf.Tensor:
    """Give each sequence 1..max_augs distinct augmentations drawn uniformly from ``augmentations``.

    Every enabled augmentation runs on the whole batch (cheap, and keeps the op vectorised); a
    per-sequence mask picks which results are kept, applied in ``AUGMENTATIONS`` order.
    """
    x, seed = _prepare(x, seed)
    enabled = [name for name in AUGMENTATIONS if name in set(augmentations)]
    if not enabled:
        return x
    ops = _make_ops(rc_prob, delete_max, insert_max, shift_max, noise_std, mutate_frac)
    seeds = _split(seed, len(enabled) + 2)
    batch = tf.shape(x)[0]
    scores = tf.random.stateless_uniform(tf.stack([batch, len(enabled)]), seeds[0])
    ranks = tf.argsort(tf.argsort(scores, axis=1), axis=1)
    counts = _randint(batch, seeds[1], 1, min(int(max_augs), len(enabled)))
    chosen = ranks < counts[:, None]  # (B, A): a random subset of size counts[b] per sequence
    for i, name in enumerate(enabled):
        x = tf.where(chosen[:, i, None, None], ops[name](x, seeds[i + 2]), x)
    return x


# --- adversarial examples and robustness ---------------------------------------------------------------
# Adversarial examples on the one-hot input (PGD / FGSM) and the robustness numbers we report.
#
# The same projected-gradient core serves adversarial training (inside the train step) and the
# post-hoc evaluation, so the attack a model was trained against is the one it is scored on.

TARGETS = ("loss",)


def default_step_size(epsilon: float, steps: int) -> float:
    """Madry et al.'s 2.5 * eps / steps: enough to reach the ball's boundary from any start."""
    return 2.5 * float(epsilon) / max(int(steps), 1)


def pgd_perturb(
    loss_fn: Callable[[tf.Tensor], tf.Tensor],
    x: Any,
    *,
    epsilon: float,
    steps: int,
    step_size: float,
    random_start: bool,
    seed: Any,
) -> tf.Tensor:
    """L_inf PGD maximising ``loss_fn``: signed-gradient ascent, projected back onto |x_adv - x| <= eps.

    FGSM is the special case steps=1, step_size=epsilon, no random start. The result carries no
    gradient (the training step must not differentiate through the attack).
    """
    x = tf.stop_gradient(tf.convert_to_tensor(x, dtype=tf.float32))
    start = x
    if random_start:
        seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
        start = tf.clip_by_value(
            x + tf.random.stateless_uniform(tf.shape(x), seed, -epsilon, epsilon), 0.0, 1.0
        )

    def body(i: tf.Tensor, x_adv: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        with tf.GradientTape() as tape:
            tape.watch(x_adv)
            loss = loss_fn(x_adv)
        grad = tape.gradient(loss, x_adv)
        x_adv = x_adv + step_size * tf.sign(grad)
        x_adv = x + tf.clip_by_value(x_adv - x, -epsilon, epsilon)
        x_adv = tf.clip_by_value(x_adv, 0.0, 1.0)  # a base can be more or less present, never negative
        return i + 1, tf.stop_gradient(x_adv)

    _, x_adv = tf.while_loop(lambda i, _: i < steps, body, (tf.constant(0), start))
    return tf.stop_gradient(x_adv)


def is_binary(model: keras.Model) -> bool:
    """Binary tasks end in a sigmoid ``output`` layer (zoo convention); anything else is regression."""
    try:
        activation = model.get_layer("output").activation
    except (ValueError, AttributeError):
        return True
    return getattr(activation, "__name__", "") == "sigmoid"


def _task_loss(model: keras.Model, binary: bool) -> Callable[[tf.Tensor, tf.Tensor], tf.Tensor]:
    # Keras' binary cross-entropy recovers the logits behind a sigmoid layer, so saturated
    # probabilities still give useful input gradients (checked: loss 30 at logit 30, not clipped).
    def loss(x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        pred = model(x, training=False)
        # pred goes in unsliced: slicing would drop the logits Keras keeps on the sigmoid output
        per_example = (
            keras.losses.binary_crossentropy(y, pred) if binary else tf.reduce_mean(tf.square(pred - y), -1)
        )
        return tf.reduce_sum(per_example)

    return loss


def pgd_attack(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    *,
    epsilon: float = 0.1,
    steps: int = 20,
    step_size: float | None = None,
    target: str = "loss",
    seed: int = 0,
    batch_size: int = 256,
    random_start: bool = True,
    attack: str = "pgd",
) -> np.ndarray:
    """Adversarial copies of ``x`` (numpy, float32) that raise the task loss of ``model`` on ``y``.

    ``attack="fgsm"`` takes one step of size ``epsilon`` from x. Batch b uses seed (seed, b), so
    results do not depend on other batches.
    """
    if target not in TARGETS:
        raise InputError(f"unknown attack target {target!r}; valid: {', '.join(TARGETS)}")
    if attack not in ("pgd", "fgsm"):
        raise InputError(f"unknown attack {attack!r}; valid: pgd, fgsm")
    if epsilon <= 0 or steps < 1:
        raise InputError(f"attack needs epsilon > 0 and steps >= 1; got epsilon={epsilon}, steps={steps}")
    if attack == "fgsm":
        steps, step_size, random_start = 1, float(epsilon), False
    step = default_step_size(epsilon, steps) if step_size is None else float(step_size)
    task_loss = _task_loss(model, is_binary(model))

    @tf.function(reduce_retracing=True)
    def run(xb: tf.Tensor, yb: tf.Tensor, sb: tf.Tensor) -> tf.Tensor:
        return pgd_perturb(
            lambda xa: task_loss(xa, yb),
            xb,
            epsilon=float(epsilon),
            steps=int(steps),
            step_size=step,
            random_start=random_start,
            seed=sb,
        )

    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32).reshape(len(x), -1)
    out = np.empty_like(x)
    for b, lo in enumerate(range(0, len(x), batch_size)):
        hi = lo + batch_size
        sb = tf.constant([int(seed), b], dtype=tf.int64)
        out[lo:hi] = run(tf.constant(x[lo:hi]), tf.constant(y[lo:hi]), sb).numpy()
    return out


def adversarial_accuracy(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    *,
    epsilon: float = 0.1,
    steps: int = 20,
    step_size: float | None = None,
    seed: int = 0,
    batch_size: int = 256,
    attack: str = "pgd",
) -> dict[str, float]:
    """Clean vs adversarial performance for metrics.json.

    Binary: accuracy (mean over tasks of agreement at threshold 0.5) and mean per-task AUROC.
    Regression: mean per-task Pearson r instead.
    """
    y = np.asarray(y, dtype=np.float32).reshape(len(x), -1)
    x_adv = pgd_attack(
        model, x, y, epsilon=epsilon, steps=steps, step_size=step_size, seed=seed,
        batch_size=batch_size, attack=attack,
    )  # fmt: skip
    clean = predict_output(model, x, batch_size).reshape(len(x), -1)
    adv = predict_output(model, x_adv, batch_size).reshape(len(x), -1)
    result: dict[str, float] = {"epsilon": float(epsilon), "steps": int(steps) if attack == "pgd" else 1}
    task_type = "binary" if is_binary(model) else "regression"
    tasks = [str(t) for t in range(y.shape[1])]
    key = "auroc" if task_type == "binary" else "pearson"
    if task_type == "binary":
        truth = y > 0.5
        result["clean_accuracy"] = float(np.mean((clean > 0.5) == truth))
        result["adversarial_accuracy"] = float(np.mean((adv > 0.5) == truth))
    for name, pred in (("clean", clean), ("adversarial", adv)):
        result[f"{name}_{key}"] = evaluate_predictions(y, pred, tasks, task_type)[f"{key}_mean"]
    return result
