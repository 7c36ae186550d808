"""Architecture hyperparameters and their defaults, without importing Keras.

The workflow reads these at DAG-building time (which figures apply, what a variant's first layer is),
where importing TensorFlow would cost seconds on every ``snakemake`` call.
"""

from __future__ import annotations

from typing import Any

from ..errors import InputError

ACTIVATIONS = ("relu", "exponential", "softplus", "sigmoid", "tanh", "elu", "linear", "exp_shift_scale")
TASK_TYPES = ("binary", "regression")

# Shared by every architecture: the first convolutional layer and its activation.
_FIRST_DEFAULTS: dict[str, Any] = {
    "batch_norm": True,
    "activation": "relu",
    "activation_shift": 0.0,
    "activation_scale": 1.0,
    "dropout": 0.1,
    "l2": 1e-6,
}

_CNN_DEFAULTS: dict[str, Any] = {
    **_FIRST_DEFAULTS,
    "filters": 30,
    "kernel_size": 19,
    "first_pool": 25,
    "pool_total": 100,
    "second_pool": None,
    "conv2_filters": 128,
    "conv2_kernel": 5,
    "dense_units": 512,
    "dense_dropout": 0.5,
}


def _conv_defaults(i: int, filters: int, kernel: int, pool: int, dropout: float) -> dict[str, Any]:
    return {
        f"conv{i}_filters": filters,
        f"conv{i}_kernel": kernel,
        f"conv{i}_pool": pool,
        f"conv{i}_dropout": dropout,
    }


# CNN-deep of the exponential-activation paper; like its reference code the first layer is not pooled.
_CNN_DEEP_DEFAULTS: dict[str, Any] = {
    **_FIRST_DEFAULTS,
    "filters": 32,
    "kernel_size": 19,
    "first_pool": 1,
    **_conv_defaults(2, 48, 7, 4, 0.2),
    **_conv_defaults(3, 96, 7, 4, 0.3),
    **_conv_defaults(4, 128, 3, 3, 0.4),
    "dilation": 1,
    "dense_units": 512,
    "dense_dropout": 0.5,
}

# CNN-local: a large first-layer pool (50) leaves little room to build features from motif positions.
_CNN_LOCAL_DEFAULTS: dict[str, Any] = {
    **_FIRST_DEFAULTS,
    "filters": 24,
    "kernel_size": 19,
    "first_pool": 50,
    **_conv_defaults(2, 48, 3, 2, 0.2),
    "dense_units": 96,
    "dense_dropout": 0.5,
}

# CNN-dist: unpooled first layer, then three conv/pool blocks whose receptive field spans the whole
# 200-nt input, so motif combinations far apart can interact; ``dilation`` (>1) widens it further.
_CNN_DIST_DEFAULTS: dict[str, Any] = {
    **_FIRST_DEFAULTS,
    "filters": 24,
    "kernel_size": 19,
    "first_pool": 1,
    **_conv_defaults(2, 32, 7, 4, 0.2),
    **_conv_defaults(3, 48, 7, 4, 0.3),
    **_conv_defaults(4, 64, 3, 3, 0.4),
    "dilation": 1,
    "dense_units": 96,
    "dense_dropout": 0.5,
}

# Basset (Kelley et al. 2016), scaled to the input length given.
_BASSET_DEFAULTS: dict[str, Any] = {
    **_FIRST_DEFAULTS,
    "filters": 300,
    "kernel_size": 19,
    "first_pool": 3,
    "dropout": 0.0,
    **_conv_defaults(2, 200, 11, 4, 0.0),
    **_conv_defaults(3, 200, 7, 4, 0.0),
    "dilation": 1,
    "dense_units": 1000,
    "dense_dropout": 0.3,
    "dense2_units": 1000,
    "dense2_dropout": 0.3,
}

_ATTENTION_DEFAULTS: dict[str, Any] = {
    **_FIRST_DEFAULTS,
    "filters": 32,
    "kernel_size": 19,
    "first_pool": 4,
    "positional_encoding": False,
    "num_heads": 8,
    "key_dim": 32,
    "attention_dropout": 0.1,
    "dense_units": 512,
    "dense_dropout": 0.5,
}

_RESIDUALBIND_DEFAULTS: dict[str, Any] = {
    **_FIRST_DEFAULTS,
    "filters": 96,
    "kernel_size": 11,
    "res_kernel": 3,
    "dilations": (2, 4, 8),
    "res_dropout": 0.1,
    "avg_pool": 10,
    "pool_dropout": 0.2,
    "dense_units": 256,
    "dense_dropout": 0.5,
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
    p = {**defaults, **hp}
    _check_choice("activation", p["activation"], ACTIVATIONS)
    return p


_DEFAULTS: dict[str, dict[str, Any]] = {
    "cnn": _CNN_DEFAULTS,
    "cnn_deep": _CNN_DEEP_DEFAULTS,
    "cnn_local": _CNN_LOCAL_DEFAULTS,
    "cnn_dist": _CNN_DIST_DEFAULTS,
    "cnn_attention": _ATTENTION_DEFAULTS,
    "residualbind": _RESIDUALBIND_DEFAULTS,
    "basset": _BASSET_DEFAULTS,
}


def hyperparameters(arch: str, **hp: Any) -> dict[str, Any]:
    """The hyperparameters ``build_model(arch, ..., **hp)`` uses: the arch's defaults updated by ``hp``."""
    _check_choice("arch", arch, tuple(_DEFAULTS))
    return _merge(arch, _DEFAULTS[arch], hp)


def pool_sizes(arch: str, **hp: Any) -> list[int]:
    """The pools a model of ``arch`` applies in turn, first layer first (what models.zoo builds and
    checks against the input length): the plan compares them with a dataset's window at DAG time."""
    p = hyperparameters(arch, **hp)
    if arch == "residualbind":
        return [int(p["avg_pool"])]
    first = int(p["first_pool"])
    if arch == "cnn":
        return [first, int(p["second_pool"] or max(1, int(p["pool_total"]) // first))]
    blocks = sorted(int(k[4:-8]) for k in p if k.startswith("conv") and k.endswith("_filters"))
    return [first, *(int(p[f"conv{i}_pool"]) for i in blocks)]
