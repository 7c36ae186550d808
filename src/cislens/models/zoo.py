"""The model zoo: one builder per architecture, with fixed layer names later stages rely on.

Fixed names: ``first_conv`` / ``first_bn`` / ``first_activation`` (the first layer, read by filter
analysis after the activation and before pooling), ``logits`` (pre-sigmoid, the default attribution
target) and ``output`` (sigmoid for binary tasks, linear for regression).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras

from ..errors import InputError

ACTIVATIONS = ("relu", "exponential", "softplus", "sigmoid", "tanh", "elu", "linear")
TASK_TYPES = ("binary", "regression")

_CNN_DEFAULTS: dict[str, Any] = {
    "filters": 30,
    "kernel_size": 19,
    "batch_norm": True,
    "activation": "relu",
    "first_pool": 25,
    "pool_total": 100,
    "second_pool": None,
    "dropout": 0.1,
    "conv2_filters": 128,
    "conv2_kernel": 5,
    "dense_units": 512,
    "dense_dropout": 0.5,
    "l2": 1e-6,
}


def _check_choice(kind: str, value: str, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise InputError(f"unknown {kind} {value!r}; valid: {', '.join(valid)}")


def _merge(arch: str, defaults: dict[str, Any], hp: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(hp) - set(defaults))
    if unknown:
        raise InputError(
            f"unknown hyperparameter(s) {', '.join(unknown)} for arch {arch!r}; "
            f"valid: {', '.join(sorted(defaults))}"
        )
    return {**defaults, **hp}


def _output_head(x: Any, n_tasks: int, task_type: str, reg: Any) -> Any:
    logits = keras.layers.Dense(n_tasks, kernel_regularizer=reg, name="logits")(x)
    final = "sigmoid" if task_type == "binary" else "linear"
    return keras.layers.Activation(final, name="output")(logits)


def _build_cnn(input_length: int, n_tasks: int, task_type: str, **hp: Any) -> keras.Model:
    """CNN-x of the pool-size study: the first-layer pool size x is the design variable."""
    p = _merge("cnn", _CNN_DEFAULTS, hp)
    _check_choice("activation", p["activation"], ACTIVATIONS)
    first_pool = int(p["first_pool"])
    second_pool = p["second_pool"] or max(1, int(p["pool_total"]) // first_pool)
    if input_length // first_pool // int(second_pool) < 1:
        raise InputError(f"input length {input_length} is too short for pools {first_pool} x {second_pool}")
    reg = keras.regularizers.L2(p["l2"]) if p["l2"] else None

    inputs = keras.Input(shape=(input_length, 4), name="sequence")
    x = keras.layers.Conv1D(
        p["filters"],
        p["kernel_size"],
        padding="same",
        use_bias=True,
        kernel_regularizer=reg,
        name="first_conv",
    )(inputs)
    if p["batch_norm"]:
        x = keras.layers.BatchNormalization(name="first_bn")(x)
    x = keras.layers.Activation(p["activation"], name="first_activation")(x)
    x = keras.layers.MaxPooling1D(first_pool, name="first_pool")(x)
    x = keras.layers.Dropout(p["dropout"], name="first_dropout")(x)

    x = keras.layers.Conv1D(
        p["conv2_filters"], p["conv2_kernel"], padding="same", kernel_regularizer=reg, name="conv2"
    )(x)
    if p["batch_norm"]:
        x = keras.layers.BatchNormalization(name="conv2_bn")(x)
    x = keras.layers.Activation("relu", name="conv2_activation")(x)
    x = keras.layers.MaxPooling1D(int(second_pool), name="conv2_pool")(x)
    x = keras.layers.Dropout(p["dropout"], name="conv2_dropout")(x)

    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(p["dense_units"], kernel_regularizer=reg, name="dense")(x)
    if p["batch_norm"]:
        x = keras.layers.BatchNormalization(name="dense_bn")(x)
    x = keras.layers.Activation("relu", name="dense_activation")(x)
    x = keras.layers.Dropout(p["dense_dropout"], name="dense_dropout")(x)
    outputs = _output_head(x, n_tasks, task_type, reg)
    return keras.Model(inputs, outputs, name=f"cnn_pool{first_pool}_{p['activation']}")


_BUILDERS: dict[str, Callable[..., keras.Model]] = {"cnn": _build_cnn}
ARCHITECTURES = tuple(_BUILDERS)


def build_model(
    arch: str, input_length: int, n_tasks: int, *, task_type: str = "binary", **hp: Any
) -> keras.Model:
    """Build an (uncompiled) model; unknown names raise InputError listing the valid ones."""
    _check_choice("arch", arch, ARCHITECTURES)
    _check_choice("task_type", task_type, TASK_TYPES)
    return _BUILDERS[arch](int(input_length), int(n_tasks), task_type, **hp)


def logit_model(model: keras.Model) -> keras.Model:
    """Same weights, ending at the pre-sigmoid ``logits`` layer (the default attribution target)."""
    try:
        logits = model.get_layer("logits")
    except ValueError as err:
        raise InputError(f"model {model.name!r} has no layer named 'logits'") from err
    return keras.Model(model.inputs, logits.output, name=f"{model.name}_logits")


TARGETS = ("logit", "probability")


def target_model(model: keras.Model, target: str = "logit") -> keras.Model:
    """What attribution and GIA score: the ``logits`` layer (default) or the final output."""
    if target == "logit":
        return logit_model(model)
    if target == "probability":
        return model
    raise InputError(f"unknown target {target!r}; valid: {', '.join(TARGETS)}")
