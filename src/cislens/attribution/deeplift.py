"""DeepLIFT with the rescale rule, averaged over dinucleotide-shuffled references (DeepSHAP).

How: the model is re-wired (``keras.models.clone_model`` reusing the same layers, so the same
weights) with every nonlinearity wrapped in a ``tf.custom_gradient`` whose backward pass returns the
DeepLIFT multiplier instead of the local derivative. Inputs and references run as one concatenated
batch [x; ref], so each wrapper sees both forward values:

- elementwise activations (relu, exponential, softplus, sigmoid, tanh, elu, ..., and ExpShiftScale):
  multiplier (f(z_x) - f(z_ref)) / (z_x - z_ref), the local derivative where |z_x - z_ref| < 1e-6;
- max-pooling: each pooled output's change is split at max(y_x, y_ref) and routed back through the
  gradient of the max, to the observed argmax and the reference's argmax (as shap and captum do),
  then divided by each input's change;
- linear layers (Conv1D, Dense, BatchNormalization at inference, Dropout, Flatten, Reshape, average
  pooling, Add, ...) keep their ordinary gradients.

Both halves of the batch carry the same upstream gradient (the score weights both), which the
pooling rule needs. Attribution = multiplier x (x - ref), averaged over references; per sequence it
sums to f(x) - mean f(ref) up to float error. Self-attention (softmax, products of activations) and
LayerNormalization have no rescale rule: models holding them (``cnn_attention``) raise InputError;
use integrated or expected gradients for those.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from ..errors import InputError
from ..models.predict import memo
from ..models.predict import sequence_chunks as _sequence_chunks
from ..models.predict import setup as _setup
from ..models.zoo import ExpShiftScale, SinusoidalPositionEncoding
from .references import baseline_chunk, reference_count

log = logging.getLogger(__name__)

_EPS = 1e-6
# Checked after every batch: a model with an op the rules miss breaks summation-to-delta.
_WARN_GAP = 1e-3

_ELEMENTWISE = frozenset(
    {
        "relu",
        "exponential",
        "softplus",
        "sigmoid",
        "tanh",
        "elu",
        "selu",
        "gelu",
        "silu",
        "swish",
        "softsign",
        "relu6",
        "leaky_relu",
        "hard_sigmoid",
        "hard_silu",
        "hard_swish",
        "mish",
        "log_sigmoid",
    }
)
_LINEAR_ACTIVATIONS = frozenset({"linear", "identity"})
_LINEAR_LAYERS: tuple[type, ...] = (
    keras.layers.InputLayer,
    keras.layers.Conv1D,
    keras.layers.Conv2D,
    keras.layers.Dense,
    keras.layers.EinsumDense,
    keras.layers.BatchNormalization,
    keras.layers.Dropout,
    keras.layers.SpatialDropout1D,
    keras.layers.GaussianDropout,
    keras.layers.GaussianNoise,
    keras.layers.Flatten,
    keras.layers.Reshape,
    keras.layers.Permute,
    keras.layers.AveragePooling1D,
    keras.layers.AveragePooling2D,
    keras.layers.GlobalAveragePooling1D,
    keras.layers.Add,
    keras.layers.Subtract,
    keras.layers.Average,
    keras.layers.Concatenate,
    keras.layers.ZeroPadding1D,
    keras.layers.Cropping1D,
    keras.layers.UpSampling1D,
    keras.layers.Identity,
    SinusoidalPositionEncoding,
)
_ELEMENTWISE_LAYERS: tuple[type, ...] = (
    ExpShiftScale,
    keras.layers.ReLU,
    keras.layers.ELU,
    keras.layers.LeakyReLU,
)
_MAX_LAYERS: tuple[type, ...] = (
    keras.layers.MaxPooling1D,
    keras.layers.MaxPooling2D,
    keras.layers.GlobalMaxPooling1D,
)


def _halves(t: tf.Tensor) -> list[tf.Tensor]:
    return tf.split(t, 2, axis=0)


def _rescale_elementwise(fn: Callable) -> Callable:
    """``fn`` (elementwise) whose gradient is the rescale multiplier between the batch halves."""

    @tf.custom_gradient
    def rescaled(z: tf.Tensor) -> Any:
        with tf.GradientTape() as tape:
            tape.watch(z)
            y = fn(z)
        slope = tape.gradient(y, z)
        slope = tf.zeros_like(z) if slope is None else slope

        def grad(dy: tf.Tensor) -> tf.Tensor:
            (zx, zr), (yx, yr) = _halves(z), _halves(y)
            dz = zx - zr
            near = tf.abs(dz) < _EPS
            ratio = (yx - yr) / tf.where(near, tf.ones_like(dz), dz)
            multiplier = tf.where(near, _halves(slope)[0], ratio)
            return dy * tf.concat([multiplier, multiplier], axis=0)

        return y, grad

    return rescaled


def _rescale_max(pool: Callable) -> Callable:
    """A max-pool whose gradient routes each output's change through the max's own gradient."""

    @tf.custom_gradient
    def rescaled(z: tf.Tensor) -> Any:
        y = pool(z)

        def grad(dy: tf.Tensor) -> tf.Tensor:
            (zx, zr), (yx, yr), dyx = _halves(z), _halves(y), _halves(dy)[0]
            top = tf.maximum(yx, yr)
            with tf.GradientTape(persistent=True) as tape:
                tape.watch([zx, zr])
                px, pr = pool(zx), pool(zr)
            # y_x - y_ref = (top - y_ref) + (y_x - top): the first part goes to the observed argmax,
            # the second to the reference's; each share is bounded by that input's own change.
            share = tape.gradient(px, zx, output_gradients=dyx * (top - yr)) + tape.gradient(
                pr, zr, output_gradients=dyx * (yx - top)
            )
            plain = tape.gradient(px, zx, output_gradients=dyx)
            del tape
            dz = zx - zr
            same = tf.equal(dz, 0.0)
            multiplier = tf.where(same, plain, share / tf.where(same, tf.ones_like(dz), dz))
            return tf.concat([multiplier, multiplier], axis=0)

        return y, grad

    return rescaled


class _Rescaled(keras.layers.Layer):
    """Wraps a nonlinearity (a layer or an activation function) with its DeepLIFT rule."""

    def __init__(self, inner: Callable, rule: Callable[[Callable], Callable], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.inner = inner
        self.rule = rule

    def call(self, inputs: Any) -> Any:
        return self.rule(self.inner)(inputs)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        if isinstance(self.inner, keras.layers.Layer):
            return self.inner.compute_output_shape(input_shape)
        return input_shape


def _activation_name(fn: Any) -> str:
    return getattr(fn, "__name__", type(fn).__name__)


def _unsupported(layer: keras.layers.Layer, why: str) -> InputError:
    return InputError(
        f"DeepSHAP (rescale rule) does not support layer {layer.name!r} ({type(layer).__name__}): {why}; "
        "use integrated_gradients or expected_gradients for this model"
    )


def _call_rescaled(layer: keras.layers.Layer, *args: Any, **kwargs: Any) -> Any:
    """clone_model's call_function: run ``layer`` with its nonlinearity swapped for the rescale rule."""
    if isinstance(layer, keras.Model):
        raise _unsupported(layer, "nested models are not unrolled")
    if isinstance(layer, _MAX_LAYERS):
        return _Rescaled(layer, _rescale_max)(*args)
    if isinstance(layer, _ELEMENTWISE_LAYERS):
        return _Rescaled(layer, _rescale_elementwise)(*args)
    if isinstance(layer, keras.layers.Activation):
        name = _activation_name(layer.activation)
        if name in _LINEAR_ACTIVATIONS:
            return layer(*args, **kwargs)
        if name in _ELEMENTWISE:
            return _Rescaled(layer, _rescale_elementwise)(*args)
        raise _unsupported(layer, f"activation {name!r} is not elementwise")
    if isinstance(layer, _LINEAR_LAYERS):
        activation = getattr(layer, "activation", None)
        name = _activation_name(activation) if activation is not None else "linear"
        if name in _LINEAR_ACTIVATIONS:
            return layer(*args, **kwargs)
        if name not in _ELEMENTWISE:
            raise _unsupported(layer, f"activation {name!r} is not elementwise")
        # Split `Dense(..., activation=f)` into a linear twin (same weights) and a rescaled f.
        twin = type(layer).from_config({**layer.get_config(), "activation": "linear", "name": None})
        z = twin(*args, **kwargs)
        twin.set_weights(layer.get_weights())
        return _Rescaled(activation, _rescale_elementwise)(z)
    raise _unsupported(layer, "no rescale rule for this layer type")


def rescale_model(net: keras.Model) -> keras.Model:
    """``net`` with every nonlinearity under its DeepLIFT rule; feed it [x; ref] concatenated."""
    if isinstance(net, keras.Sequential):  # call_function only re-wires functional graphs
        net = keras.Model(net.inputs[0], net.outputs[0])
    return keras.models.clone_model(net, clone_function=lambda layer: layer, call_function=_call_rescaled)


def _multiplier_fn(rescaled: keras.Model, shape: tuple[int, ...], n_out: int) -> Callable:
    spec = tf.TensorSpec((None, *shape), tf.float32)

    @tf.function(input_signature=[spec, spec, tf.TensorSpec((None, n_out), tf.float32)])
    def multipliers(xb: tf.Tensor, rb: tf.Tensor, wb: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        with tf.GradientTape() as tape:
            tape.watch(xb)
            out = rescaled(tf.concat([xb, rb], axis=0), training=False)
            # Both halves weighted alike: the pooling rule reads the reference half's upstream.
            score = tf.reduce_sum(out * tf.concat([wb, wb], axis=0), axis=-1)
            total = tf.reduce_sum(score)
        fx, fr = _halves(score)
        return tape.gradient(total, xb), fx - fr

    return multipliers


def deep_lift_shap(
    model: keras.Model,
    x: np.ndarray,
    *,
    references: str | np.ndarray = "shuffle",
    n_references: int = 20,
    seed: int = 0,
    target: str = "logit",
    task: int | np.ndarray | None = None,
    batch_size: int = 256,
    progress: bool = True,
    hypothetical: bool = False,
) -> np.ndarray:
    """DeepLIFT (rescale rule) attributions averaged over references, (N, L, 4).

    ``hypothetical=True`` returns hypothetical contributions instead (the input TF-MoDISco reads,
    Shrikumar et al. 2018, arXiv:1811.00416): for every base b at every position, the contribution
    had b been observed, m_b - sum_c m_c ref_c, averaged over references; times x it gives the
    ordinary attribution.

    ``references``: "shuffle" (``n_references`` dinucleotide shuffles of each sequence: DeepSHAP),
    "zero", or an array (L, 4), (N, L, 4) or (N, K, L, 4). Already "times (x - ref)": per sequence
    the attributions sum to f(x) - mean f(ref); a larger gap (> 1e-3 relative) is logged as a
    warning, since it means an op the rules do not cover.
    """
    x, net, weights = _setup(model, x, target, task)
    if int(n_references) < 1:
        raise InputError(f"n_references must be >= 1, got {n_references}")
    shape = tuple(x.shape[1:])
    n_out = int(net.output.shape[-1])
    fn = memo(model, ("deeplift", target, shape), lambda: _multiplier_fn(rescale_model(net), shape, n_out))
    n_refs = reference_count(references, n_references)
    pairs_per_pass = max(1, batch_size // 2)  # each pair is two model inputs
    out = np.empty_like(x)
    worst = 0.0
    for start, stop in _sequence_chunks(len(x), 2 * n_refs, batch_size, "deep_lift_shap", progress):
        refs = baseline_chunk(x, references, int(n_references), seed, start, stop)  # (S, K, L, 4)
        k = refs.shape[1]
        xs = np.repeat(x[start:stop], k, axis=0)
        rs = np.reshape(refs, (-1, *shape))
        ws = np.repeat(weights[start:stop], k, axis=0)
        mult, gap = [], []
        for s in range(0, len(xs), pairs_per_pass):
            sl = slice(s, s + pairs_per_pass)
            m, delta = fn(tf.constant(xs[sl]), tf.constant(rs[sl]), tf.constant(ws[sl]))
            mult.append(m.numpy())
            gap.append(delta.numpy())
        m = np.concatenate(mult)
        contrib = m * (xs - rs)
        delta = np.concatenate(gap).astype(np.float64)
        sums = contrib.reshape(len(xs), -1).sum(axis=1, dtype=np.float64)
        worst = max(worst, float(np.max(np.abs(sums - delta) / np.maximum(np.abs(delta), 1e-3))))
        if hypothetical:
            contrib = m - (m * rs).sum(axis=-1, keepdims=True)
        out[start:stop] = contrib.reshape(stop - start, k, *shape).mean(axis=1)
    if worst > _WARN_GAP:
        log.warning("deep_lift_shap: attributions miss f(x) - f(ref) by up to %.2g (relative)", worst)
    return out
