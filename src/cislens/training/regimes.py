"""Training regimes: how each batch is transformed before the usual gradient step.

A regime is a mapping with ``kind`` plus that kind's keys (``check_regime`` fills defaults).
``standard``/``l2``/``dropout`` change only the model (``model_overrides`` feeds the builder);
``gaussian_noise``, ``adversarial`` and ``evoaug`` wrap the model in a ``RegimeTrainer`` whose
``train_step`` transforms the batch. Usage in the fit loop::

    trainer = build_trainer(model, regime, seed)      # shares model's weights
    compile_model(trainer, ...)                        # compile the trainer, not the model
    trainer.fit(..., callbacks=[*callbacks, *trainer.callbacks()])
    # then, if finetune_settings(regime): compile + fit ``model`` itself (no augmentation)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras
import tensorflow as tf

from ..errors import InputError
from . import augment
from .robustness import default_step_size, pgd_perturb

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
        "augmentations": list(augment.AUGMENTATIONS),
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
        bad = [n for n in names if n not in augment.AUGMENTATIONS]
        if bad or not names or len(set(names)) != len(names):
            raise InputError(
                f"regime {kind!r}: augmentations {names!r} must be distinct names from "
                f"{', '.join(augment.AUGMENTATIONS)}"
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
            x = augment.evoaug(x, self._next_seed(), **r)
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
