"""The model zoo: one builder per architecture, with fixed layer names later stages rely on.

Fixed names: ``first_conv`` / ``first_bn`` / ``first_activation`` (the first layer, read by filter
analysis after the activation and before pooling), ``first_pool`` (the pool right after it, where the
architecture has one), ``logits`` (pre-sigmoid, the default attribution target) and ``output``
(sigmoid for binary tasks, linear for regression). Later blocks are ``conv{i}[_bn|_activation|_pool|
_dropout]`` and ``dense[2][_bn|_activation|_dropout]``; the attention layer is ``mha``.

All convolutions use ``same`` padding so every architecture accepts any long-enough input length
(the reference code of the exponential-activation paper used ``valid`` in some deeper layers).

The custom layers (``ExpShiftScale``, ``SinusoidalPositionEncoding``, ``BatchNorm``) are defined and
registered here, so importing this module (or calling :func:`load_model`) is what lets a saved ``.keras``
file load; the readers at the end (``first_layer_*``, ``attention_weights``) find layers by those fixed names.

Precision (``training.precision``): models may be built and trained under ``mixed_float16``
(:func:`precision_policy`); their ``logits`` and ``output`` stay float32, and :func:`float32_copy` /
:func:`load_model` turn them back into float32 models for saving and every later stage.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from ..errors import InputError
from .hparams import (
    _ATTENTION_DEFAULTS,
    _BASSET_DEFAULTS,
    _CNN_DEEP_DEFAULTS,
    _CNN_DEFAULTS,
    _CNN_DIST_DEFAULTS,
    _CNN_LOCAL_DEFAULTS,
    _RESIDUALBIND_DEFAULTS,
    TASK_TYPES,
    _check_choice,
    _merge,
    pool_sizes,
)
from .hparams import ACTIVATIONS as ACTIVATIONS  # re-exported: part of the zoo's API
from .hparams import hyperparameters as hyperparameters

# --- custom layers, registered on import so saved ``.keras`` files load again ------------------------
# The registered names (``cislens>ExpShiftScale``, ``cislens>SinusoidalPositionEncoding``,
# ``cislens>BatchNorm``) are what saved models refer to: keep them.


@keras.saving.register_keras_serializable(package="cislens")
class ExpShiftScale(keras.layers.Layer):
    """``exp(scale * (x - shift))``: the shifted / scaled exponential of the exponential-activation paper.

    One form covers both variants: ``shift`` moves the threshold below which activity is suppressed
    and ``scale`` sharpens (>1) or flattens (<1) the curve. ``scale * exp(x - shift)`` would add
    nothing, since it equals a pure shift by ``shift - log(scale)``. ``shift=0, scale=1`` is ``exp``.
    """

    def __init__(self, shift: float = 0.0, scale: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shift = float(shift)
        self.scale = float(scale)

    def call(self, inputs: Any) -> Any:
        return ops.exp(self.scale * (inputs - self.shift))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "shift": self.shift, "scale": self.scale}


@keras.saving.register_keras_serializable(package="cislens")
class BatchNorm(keras.layers.BatchNormalization):
    """Keras' BatchNormalization (same weights, statistics and results) with a faster training pass.

    Batch normalisation (Ioffe & Szegedy 2015) after the first convolution was a third of a CNN-25
    training step on CPU: the framework's version makes about ten elementwise passes over the
    (batch, length, filters) tensor each way. Here the training pass is one function with the
    closed-form gradient, and on CPU, for a large input (``COMPILE_MIN_SIZE``), its forward and its
    backward are each one XLA-compiled function, which fuses the elementwise work into the per-channel
    reductions (no GPU has measured it, so there the same functions run uncompiled, as they do for small
    inputs). The variance is two-pass (centred), as Keras'. Inference, masks, renorm, synchronised
    statistics, non-float32 inputs or compute dtypes, ``center``/``scale`` off and an axis other than
    the last take Keras' own path. Being a subclass, DeepLIFT's linear rule (an ``isinstance`` check)
    treats it as BatchNormalization.
    """

    def call(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
        plain = (
            not (training and self.trainable)
            or mask is not None
            or self.renorm
            or self.synchronized
            or not (self.center and self.scale)
            or self.axis not in (-1, len(inputs.shape) - 1)
            or keras.backend.standardize_dtype(inputs.dtype) != "float32"
            or self.compute_dtype != "float32"
        )
        if plain:
            return super().call(inputs, training=training, mask=mask)
        # the weights enter as tensors (their reads), so the custom gradient sees no variables
        gamma, beta = ops.copy(self.gamma), ops.copy(self.beta)
        outputs, mean, variance = _batch_norm_training(inputs, gamma, beta, float(self.epsilon))
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
        self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
        return outputs


# Per-example size (length x channels) from which the training pass is compiled: the gain is in passes
# over memory; below it (CNN-25's second and dense batch norms) kernels are as fast and spare the compile.
COMPILE_MIN_SIZE = 4096


def _compiled_here(x: Any) -> bool:
    """XLA-compile the training pass for a large ``x`` where no GPU is visible (measured on CPU only)."""
    size = int(np.prod(x.shape[1:])) if all(dim is not None for dim in x.shape[1:]) else 0
    gpu = any(device.startswith("gpu") for device in keras.distribution.list_devices())
    return size >= COMPILE_MIN_SIZE and not gpu


def _normalise(rows: Any, gamma: Any, beta: Any, epsilon: float) -> tuple[Any, Any, Any]:
    """Forward over ``(rows, C)``: outputs, mean and (centred, two-pass) variance, as Keras' layer."""
    mean = ops.mean(rows, axis=0)
    centred = rows - mean
    variance = ops.mean(centred * centred, axis=0)
    return centred * (gamma * ops.rsqrt(variance + epsilon)) + beta, mean, variance


def _normalise_gradient(
    d: Any, rows: Any, mean: Any, variance: Any, gamma: Any, epsilon: float
) -> tuple[Any, Any, Any]:
    """dx = gamma / std * (dy - mean(dy) - xhat * mean(dy * xhat)), dgamma, dbeta (mean and variance
    get no gradient of their own)."""
    rstd = ops.rsqrt(variance + epsilon)
    n = ops.cast(ops.shape(rows)[0], rows.dtype)
    centred = rows - mean
    dbeta = ops.sum(d, axis=0)
    dgamma = ops.sum(d * centred, axis=0) * rstd
    scale = gamma * rstd
    dx = d * scale - (centred * (scale * rstd * dgamma / n) + scale * dbeta / n)
    return dx, dgamma, dbeta


@functools.cache
def _passes(epsilon: float, compiled: bool) -> tuple[Callable, Callable]:
    """The forward and backward passes; ``compiled``: each one XLA function, which fuses its
    elementwise work into its reductions (three loops over the tensor forward, two backward, where
    separate kernels make about a dozen passes)."""
    forward = functools.partial(_normalise, epsilon=epsilon)
    backward = functools.partial(_normalise_gradient, epsilon=epsilon)
    if not compiled:
        return forward, backward
    import tensorflow as tf

    return (
        tf.function(forward, jit_compile=True, autograph=False),
        tf.function(backward, jit_compile=True, autograph=False),
    )


def _batch_norm_training(x: Any, gamma: Any, beta: Any, epsilon: float) -> tuple[Any, Any, Any]:
    """``(gamma * (x - mean) / sqrt(var + eps) + beta, mean, var)`` over all but the last axis, with
    the closed-form gradient."""
    channels = x.shape[-1]
    forward, backward = _passes(epsilon, _compiled_here(x))

    @ops.custom_gradient
    def normalise(x: Any, gamma: Any, beta: Any) -> tuple[Any, Callable]:
        rows = ops.reshape(x, (-1, channels))
        outputs, mean, variance = forward(rows, gamma, beta)

        def grad(*upstream: Any, **kwargs: Any) -> tuple[Any, Any, Any]:
            dy = kwargs.get("upstream", upstream)
            dy = dy[0] if isinstance(dy, list | tuple) else dy
            dx, dgamma, dbeta = backward(ops.reshape(dy, (-1, channels)), rows, mean, variance, gamma)
            return ops.reshape(dx, ops.shape(x)), dgamma, dbeta

        return (ops.reshape(outputs, ops.shape(x)), mean, variance), grad

    return normalise(x, gamma, beta)


def sinusoidal_encoding(length: int, depth: int) -> np.ndarray:
    """(length, depth) fixed sine/cosine table of the Transformer paper (no weights to learn)."""
    positions = np.arange(length, dtype=np.float64)[:, None]
    rates = 1.0 / np.power(10_000.0, (2 * (np.arange(depth) // 2)) / max(depth, 1))
    angles = positions * rates[None, :]
    table = np.where(np.arange(depth)[None, :] % 2 == 0, np.sin(angles), np.cos(angles))
    return table.astype(np.float32)


@keras.saving.register_keras_serializable(package="cislens")
class SinusoidalPositionEncoding(keras.layers.Layer):
    """Adds a fixed sinusoidal position code so self-attention can tell positions apart."""

    def build(self, input_shape: tuple) -> None:
        self._table = sinusoidal_encoding(int(input_shape[-2]), int(input_shape[-1]))

    def call(self, inputs: Any) -> Any:
        return inputs + ops.cast(self._table, inputs.dtype)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape


# --- builders -------------------------------------------------------------------------------------------


def _check_pools(input_length: int, pools: Sequence[int]) -> None:
    """Fail early with the pool sizes, rather than deep inside Keras with a zero-length tensor."""
    length = input_length
    for pool in pools:
        length //= int(pool)
    if length < 1:
        sizes = " x ".join(str(int(p)) for p in pools)
        raise InputError(f"input length {input_length} is too short for pools {sizes}")


def _regularizer(p: dict[str, Any]) -> Any:
    return keras.regularizers.L2(p["l2"]) if p["l2"] else None


def _first_activation(p: dict[str, Any]) -> keras.layers.Layer:
    """The layer whose output filter analysis reads: after the activation, before any pooling."""
    if p["activation"] == "exp_shift_scale":
        return ExpShiftScale(p["activation_shift"], p["activation_scale"], name="first_activation")
    return keras.layers.Activation(p["activation"], name="first_activation")


def _first_block(x: Any, p: dict[str, Any], reg: Any, pool: int | None) -> Any:
    """conv -> [BN] -> activation -> [max-pool] -> dropout, with the fixed ``first_*`` names."""
    x = keras.layers.Conv1D(
        p["filters"], p["kernel_size"], padding="same", kernel_regularizer=reg, name="first_conv"
    )(x)
    if p["batch_norm"]:
        x = BatchNorm(name="first_bn")(x)
    x = _first_activation(p)(x)
    if pool is not None:
        x = keras.layers.MaxPooling1D(int(pool), name="first_pool")(x)
    return keras.layers.Dropout(p["dropout"], name="first_dropout")(x)


def _conv_block(
    x: Any,
    name: str,
    filters: int,
    kernel: int,
    *,
    pool: int | None,
    dropout: float,
    batch_norm: bool,
    reg: Any,
    dilation: int = 1,
) -> Any:
    """conv -> [BN] -> ReLU -> [max-pool] -> dropout; deeper layers always use ReLU."""
    x = keras.layers.Conv1D(
        filters, kernel, padding="same", dilation_rate=int(dilation), kernel_regularizer=reg, name=name
    )(x)
    if batch_norm:
        x = BatchNorm(name=f"{name}_bn")(x)
    x = keras.layers.Activation("relu", name=f"{name}_activation")(x)
    if pool is not None:
        x = keras.layers.MaxPooling1D(int(pool), name=f"{name}_pool")(x)
    return keras.layers.Dropout(dropout, name=f"{name}_dropout")(x)


def _dense_block(x: Any, name: str, units: int, dropout: float, batch_norm: bool, reg: Any) -> Any:
    x = keras.layers.Dense(units, kernel_regularizer=reg, name=name)(x)
    if batch_norm:
        x = BatchNorm(name=f"{name}_bn")(x)
    x = keras.layers.Activation("relu", name=f"{name}_activation")(x)
    return keras.layers.Dropout(dropout, name=f"{name}_dropout")(x)


def _output_head(x: Any, n_tasks: int, task_type: str, reg: Any) -> Any:
    # float32 whatever the dtype policy: under mixed_float16 the logits, the sigmoid and the loss stay
    # float32 (Keras' mixed-precision guidance), and every stage reading ``logits`` gets float32.
    logits = keras.layers.Dense(n_tasks, kernel_regularizer=reg, name="logits", dtype="float32")(x)
    final = "sigmoid" if task_type == "binary" else "linear"
    return keras.layers.Activation(final, name="output", dtype="float32")(logits)


def _sequence_input(input_length: int) -> Any:
    return keras.Input(shape=(input_length, 4), name="sequence")


def _build_cnn(input_length: int, n_tasks: int, task_type: str, **hp: Any) -> keras.Model:
    """CNN-x of the pool-size study: the first-layer pool size x is the design variable."""
    p = _merge("cnn", _CNN_DEFAULTS, hp)
    first_pool, second_pool = pool_sizes("cnn", **p)  # the plan checks the same pools at DAG time
    _check_pools(input_length, (first_pool, second_pool))
    reg = _regularizer(p)

    inputs = _sequence_input(input_length)
    x = _first_block(inputs, p, reg, first_pool)
    x = _conv_block(
        x,
        "conv2",
        p["conv2_filters"],
        p["conv2_kernel"],
        pool=second_pool,
        dropout=p["dropout"],
        batch_norm=p["batch_norm"],
        reg=reg,
    )
    x = keras.layers.Flatten(name="flatten")(x)
    x = _dense_block(x, "dense", p["dense_units"], p["dense_dropout"], p["batch_norm"], reg)
    outputs = _output_head(x, n_tasks, task_type, reg)
    return keras.Model(inputs, outputs, name=f"cnn_pool{first_pool}_{p['activation']}")


def _block_indices(p: dict[str, Any]) -> list[int]:
    return sorted(int(k[4:-8]) for k in p if k.startswith("conv") and k.endswith("_filters"))


def _build_stack(arch: str, defaults: dict[str, Any]) -> Callable[..., keras.Model]:
    """Builder for plain conv stacks: first block, ``conv2..convN`` blocks, one or two dense layers."""

    def build(input_length: int, n_tasks: int, task_type: str, **hp: Any) -> keras.Model:
        p = _merge(arch, defaults, hp)
        blocks = _block_indices(p)
        _check_pools(input_length, pool_sizes(arch, **p))
        reg = _regularizer(p)

        inputs = _sequence_input(input_length)
        x = _first_block(inputs, p, reg, p["first_pool"])
        for i in blocks:
            x = _conv_block(
                x,
                f"conv{i}",
                p[f"conv{i}_filters"],
                p[f"conv{i}_kernel"],
                pool=p[f"conv{i}_pool"],
                dropout=p[f"conv{i}_dropout"],
                batch_norm=p["batch_norm"],
                reg=reg,
                dilation=p.get("dilation", 1),
            )
        x = keras.layers.Flatten(name="flatten")(x)
        for name in ("dense", "dense2"):
            if f"{name}_units" in p:
                x = _dense_block(x, name, p[f"{name}_units"], p[f"{name}_dropout"], p["batch_norm"], reg)
        outputs = _output_head(x, n_tasks, task_type, reg)
        return keras.Model(inputs, outputs, name=f"{arch}_{p['activation']}")

    build.__doc__ = f"Build {arch!r} (see its defaults in this module)."
    return build


def _build_attention(input_length: int, n_tasks: int, task_type: str, **hp: Any) -> keras.Model:
    """CNN + multi-head self-attention: filters scan motifs, attention relates their positions.

    Post-norm Transformer residual: ``LayerNorm(h + Dropout(MHA(h, h)))``. ``use_bias=False`` drops
    the biases of the query/key/value projections (and, in Keras, of the output projection too).
    """
    p = _merge("cnn_attention", _ATTENTION_DEFAULTS, hp)
    _check_pools(input_length, pool_sizes("cnn_attention", **p))
    reg = _regularizer(p)

    inputs = _sequence_input(input_length)
    h = _first_block(inputs, p, reg, p["first_pool"])
    if p["positional_encoding"]:
        h = SinusoidalPositionEncoding(name="positional_encoding")(h)
    mha = keras.layers.MultiHeadAttention(
        int(p["num_heads"]), int(p["key_dim"]), use_bias=False, kernel_regularizer=reg, name="mha"
    )
    x = mha(h, h)
    x = keras.layers.Dropout(p["attention_dropout"], name="mha_dropout")(x)
    x = keras.layers.Add(name="mha_residual")([h, x])
    x = keras.layers.LayerNormalization(name="mha_norm")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = _dense_block(x, "dense", p["dense_units"], p["dense_dropout"], p["batch_norm"], reg)
    outputs = _output_head(x, n_tasks, task_type, reg)
    return keras.Model(inputs, outputs, name=f"cnn_attention_{p['activation']}")


def _residual_block(x: Any, p: dict[str, Any], reg: Any) -> Any:
    """Dilated convs (BN, ReLU, dropout between) summed with the block input, then ReLU."""
    dilations = [int(d) for d in p["dilations"]]
    skip = x
    for i, rate in enumerate(dilations, start=1):
        x = keras.layers.Conv1D(
            p["filters"],
            p["res_kernel"],
            padding="same",
            dilation_rate=rate,
            kernel_regularizer=reg,
            name=f"res{i}_conv",
        )(x)
        if p["batch_norm"]:
            x = BatchNorm(name=f"res{i}_bn")(x)
        if i < len(dilations):
            x = keras.layers.Activation("relu", name=f"res{i}_activation")(x)
            x = keras.layers.Dropout(p["res_dropout"], name=f"res{i}_dropout")(x)
    x = keras.layers.Add(name="res_add")([skip, x])
    return keras.layers.Activation("relu", name="res_activation")(x)


def _build_residualbind(input_length: int, n_tasks: int, task_type: str, **hp: Any) -> keras.Model:
    """ResidualBind (RNA, 41 nt): first conv, dilated residual block, average pool, dense 256."""
    p = _merge("residualbind", _RESIDUALBIND_DEFAULTS, hp)
    _check_pools(input_length, pool_sizes("residualbind", **p))
    reg = _regularizer(p)

    inputs = _sequence_input(input_length)
    x = _first_block(inputs, p, reg, None)
    x = _residual_block(x, p, reg)
    x = keras.layers.AveragePooling1D(int(p["avg_pool"]), name="pool")(x)
    x = keras.layers.Dropout(p["pool_dropout"], name="pool_dropout")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = _dense_block(x, "dense", p["dense_units"], p["dense_dropout"], p["batch_norm"], reg)
    outputs = _output_head(x, n_tasks, task_type, reg)
    return keras.Model(inputs, outputs, name=f"residualbind_{p['activation']}")


_BUILDERS: dict[str, Callable[..., keras.Model]] = {
    "cnn": _build_cnn,
    "cnn_deep": _build_stack("cnn_deep", _CNN_DEEP_DEFAULTS),
    "cnn_local": _build_stack("cnn_local", _CNN_LOCAL_DEFAULTS),
    "cnn_dist": _build_stack("cnn_dist", _CNN_DIST_DEFAULTS),
    "cnn_attention": _build_attention,
    "residualbind": _build_residualbind,
    "basset": _build_stack("basset", _BASSET_DEFAULTS),
}
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


def load_model(path: Any) -> keras.Model:
    """``keras.models.load_model`` with the zoo's custom layers registered (this module imports them).

    A file that is not a complete ``.keras`` zip (truncated, damaged) fails in one line that says so,
    not Keras's "File not found" for a file that exists.
    """
    import json
    import os
    import zipfile
    import zlib

    from ..errors import corrupt_output

    if not os.path.exists(path):
        raise InputError(f"{path}: model file does not exist")
    if not zipfile.is_zipfile(path):
        raise corrupt_output(path)
    try:
        model = keras.models.load_model(path)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, json.JSONDecodeError) as err:
        raise corrupt_output(path) from err
    return float32_copy(model)  # a mixed_float16 file computes in float32 like every other


# --- precision: mixed_float16 is a training setting; every saved or loaded model computes in float32 -----

PRECISIONS = ("float32", "mixed_float16")


@contextlib.contextmanager
def precision_policy(precision: str = "float32") -> Iterator[None]:
    """Build (and train) models under ``precision``; the previous global dtype policy comes back after,
    so one process (a test session, a benchmark worker) does not leak float16 into later models."""
    _check_choice("precision", precision, PRECISIONS)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def _layers(model: keras.layers.Layer) -> Iterator[keras.layers.Layer]:
    for layer in getattr(model, "layers", []):
        yield layer
        yield from _layers(layer)


def uses_float16(model: keras.layers.Layer) -> bool:
    """Whether any layer of ``model`` (a regime trainer's wrapped net included) computes in float16."""
    return any(layer.compute_dtype == "float16" for layer in [model, *_layers(model)])


def float32_copy(model: keras.Model) -> keras.Model:
    """``model`` itself when it computes in float32, else the same network and weights in float32
    (uncompiled).

    Mixed precision keeps float32 master weights, so the copy loses nothing; it is what gets saved
    and loaded: attribution gradients stay free of float16 underflow, and CPU stages avoid float16's
    slow kernels."""
    if not uses_float16(model):
        return model

    def as_float32(layer: keras.layers.Layer) -> keras.layers.Layer:
        return layer.__class__.from_config({**layer.get_config(), "dtype": "float32"})

    copy = keras.models.clone_model(model, clone_function=as_float32)
    copy.set_weights(model.get_weights())
    return copy


# --- reading zoo models by their fixed layer names: the first convolutional layer, attention maps -------


def _layer(model: keras.Model, name: str) -> keras.layers.Layer:
    try:
        return model.get_layer(name)
    except ValueError as err:
        raise InputError(f"model {model.name!r} has no layer named {name!r}") from err


def first_layer_model(model: keras.Model) -> keras.Model:
    """Sub-model from the input to ``first_activation``: after the activation, before pooling."""
    return keras.Model(model.inputs, _layer(model, "first_activation").output)


def first_layer_activations(model: keras.Model, x: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
    """(N, L, F) output of ``first_activation`` for all of ``x`` (mind the memory on large sets)."""
    sub = first_layer_model(model)
    out = sub.predict(np.asarray(x, dtype=np.float32), batch_size=batch_size, verbose=0)
    return np.asarray(out, dtype=np.float32)  # float16 from a mixed_float16 model not loaded from file


def first_layer_kernel_size(model: keras.Model) -> int:
    """Filter width of ``first_conv`` (the PPM window size depends on it)."""
    return int(_layer(model, "first_conv").kernel_size[0])


def first_layer_padding(model: keras.Model) -> str:
    """``same`` or ``valid``: decides how activation positions map back to sequence windows."""
    return str(_layer(model, "first_conv").padding)


def attention_weights(model: keras.Model, x: np.ndarray, *, batch_size: int = 128) -> np.ndarray:
    """(N, heads, L', L') self-attention probabilities of the ``mha`` layer (each row sums to 1).

    The layer is re-called on its own input with ``return_attention_scores=True``, so this works on a
    model loaded from ``.keras`` too (the scores are not a model output).
    """
    mha = _layer(model, "mha")
    feed = keras.Model(model.input, _query_tensor(mha))
    x = np.asarray(x, dtype=np.float32)
    chunks = []
    for start in range(0, len(x), batch_size):
        h = feed(x[start : start + batch_size], training=False)
        _, scores = mha(h, h, return_attention_scores=True, training=False)
        chunks.append(keras.ops.convert_to_numpy(scores).astype(np.float32))
    return np.concatenate(chunks) if chunks else np.zeros((0,), dtype=np.float32)


def _query_tensor(layer: keras.layers.Layer) -> object:
    """The symbolic tensor the layer was called on as its query (its first input)."""
    inputs = layer.input
    return inputs[0] if isinstance(inputs, (list, tuple)) else inputs
