"""The one compiled forward every stage uses: scorers, batched prediction, and the attribution forwards.

Every function here takes a Keras model and numpy arrays and returns numpy arrays; TensorFlow
(``tf.function`` with an open batch dimension, traced once per model and shape) stays inside this module.

* :func:`scorer` / :func:`predict`: x (N, L, 4) -> float64 scores (N, T) of a ``target`` (GIA, figures).
* :func:`setup`, :func:`score_fn`, :func:`run_batches`, :func:`memo`: the task-weighted target that
  attribution methods explain, its compiled forward and a per-model cache of compiled functions.
* :func:`mutant_scorer`: ISM's forward, building single-base mutants inside the compiled function.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from ..errors import InputError
from .zoo import target_model

Model = keras.Model  # what the model-agnostic modules name in their annotations (no Keras import there)
Scorer = Callable[[np.ndarray], np.ndarray]  # (N, L, 4) one-hot -> (N, T) model scores

__all__ = [
    "Model",
    "Scorer",
    "memo",
    "mutant_scorer",
    "predict",
    "predict_output",
    "run_batches",
    "score_fn",
    "scorer",
    "sequence_chunks",
    "setup",
]


def scorer(model: keras.Model, target: str = "logit", batch_size: int = 1024, frozen: bool = False) -> Scorer:
    """A function x (N, L, 4) -> float64 scores (N, T) of ``target`` (logits by default: additive effects).

    One traced ``tf.function`` with an open batch dimension is reused for every call: ``model.predict``
    rebuilds its data pipeline per call, which costs more than the forward pass on GIA's many small calls.
    ``frozen``: the weights become constants of the graph, so TensorFlow folds batch norm into the
    convolutions and fuses their kernels (about 1.3x faster on CPU, same values); for scoring a model
    whose weights no longer change (variant effects, predictions), as later weight updates are not seen.
    """
    net = target_model(model, target)
    n_out = int(np.prod(net.outputs[0].shape[1:]))
    if keras.backend.backend() == "tensorflow":
        spec = tf.TensorSpec((None, *net.inputs[0].shape[1:]), tf.float32)
        forward = tf.function(lambda x: net(x, training=False), input_signature=[spec])
        if frozen:
            from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

            graph = convert_variables_to_constants_v2(forward.get_concrete_function())
            forward = lambda x: graph(tf.constant(x))[0]  # noqa: E731
    else:  # pragma: no cover - other Keras backends
        forward = lambda x: net.predict_on_batch(x)  # noqa: E731

    def score(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        chunks = [np.asarray(forward(x[i : i + batch_size])) for i in range(0, len(x), batch_size)]
        out = np.concatenate(chunks) if chunks else np.zeros((0, n_out))
        return out.astype(np.float64).reshape(len(x), n_out)

    return score


def predict(
    model: keras.Model,
    x: np.ndarray,
    *,
    target: str = "logit",
    task: int | None = None,
    batch_size: int = 256,
) -> np.ndarray:
    """Model scores (N, T), or (N,) for one ``task``; logits by default (additive effects)."""
    out = scorer(model, target, batch_size)(x)
    return out if task is None else out[:, task]


def predict_output(model: keras.Model, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """The model's final output for ``x`` (``model.predict``, float32 as Keras returns it)."""
    return model.predict(np.asarray(x, dtype=np.float32), batch_size=batch_size, verbose=0)


# --- the attribution forwards: a task-weighted target, compiled once per model and input shape -------


def task_weights(task: int | np.ndarray | None, n: int, n_out: int) -> np.ndarray:
    """(N, T) weights on the outputs: one task, all tasks (None), or per-sequence weights as given."""
    if task is None:
        return np.ones((n, n_out), dtype=np.float32)
    if np.ndim(task) == 0:
        if not 0 <= int(task) < n_out:
            raise InputError(f"task index {task} out of range for a model with {n_out} outputs")
        weights = np.zeros((n, n_out), dtype=np.float32)
        weights[:, int(task)] = 1
        return weights
    weights = np.asarray(task, dtype=np.float32)
    if weights.shape != (n, n_out):
        raise InputError(f"task weights of shape {weights.shape} do not match ({n}, {n_out})")
    return weights


def score_fn(net: keras.Model, shape: tuple[int, ...]) -> Callable:
    """Compiled (B, L, 4), (B, T) -> (B,): the task-weighted target every attribution explains."""
    n_out = int(net.output.shape[-1])

    @tf.function(
        input_signature=[tf.TensorSpec((None, *shape), tf.float32), tf.TensorSpec((None, n_out), tf.float32)]
    )
    def score(xb: tf.Tensor, wb: tf.Tensor) -> tf.Tensor:
        return tf.reduce_sum(net(xb, training=False) * wb, axis=-1)

    return score


def run_batches(fn: Callable, points: np.ndarray, weights: np.ndarray, batch_size: int) -> np.ndarray:
    """``fn`` over ``points`` in slices of ``batch_size`` (weights row-aligned with points)."""
    parts = [
        fn(tf.constant(points[s : s + batch_size]), tf.constant(weights[s : s + batch_size])).numpy()
        for s in range(0, len(points), batch_size)
    ]
    return np.concatenate(parts) if parts else np.zeros((0, *points.shape[1:]), np.float32)


def sequence_chunks(n: int, per_sequence: int, batch_size: int, desc: str, progress: bool) -> Iterator:
    """(start, stop) runs of whole sequences with about ``batch_size`` model inputs each."""
    if batch_size < 1:
        raise InputError(f"batch_size must be >= 1, got {batch_size}")
    step = max(1, batch_size // max(1, per_sequence))
    with tqdm(total=n, desc=desc, unit="seq", disable=not progress) as bar:
        for start in range(0, n, step):
            stop = min(n, start + step)
            yield start, stop
            bar.update(stop - start)


_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def memo(model: keras.Model, key: tuple, build: Callable[[], Any]) -> Any:
    """Per-model cache of target views and compiled functions, dropped with the model.

    Tracing a tf.function costs ~0.1 s; without this every call (and every GIA or benchmark round)
    paid it again. Variables are read at run time, so later weight updates are still seen.
    """
    cache = _COMPILED.setdefault(model, {})
    if key not in cache:
        cache[key] = build()
    return cache[key]


def _target_net(model: keras.Model, target: str) -> keras.Model:
    net = target_model(model, target)
    if isinstance(net, keras.Sequential):  # a functional view: one ``output`` and a graph to re-wire
        net = keras.Model(net.inputs[0], net.outputs[0])
    return net


def setup(model: keras.Model, x: np.ndarray, target: str, task: int | np.ndarray | None) -> tuple:
    """(x as float32 (N, L, 4), the cached target network, (N, T) task weights)."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 3:
        raise InputError(f"sequences must be (N, L, 4); got shape {x.shape}")
    net = memo(model, ("net", target), lambda: _target_net(model, target))
    weights = task_weights(task, len(x), int(net.output.shape[-1]))
    return x, net, weights


def _mutant_fn(net: keras.Model, shape: tuple[int, ...], n_out: int) -> Callable:
    length, depth = shape

    @tf.function(
        input_signature=[
            tf.TensorSpec((None, *shape), tf.float32),  # the chunk's sequences
            tf.TensorSpec((None,), tf.int32),  # which sequence each mutant comes from
            tf.TensorSpec((None,), tf.int32),  # mutated position
            tf.TensorSpec((None,), tf.int32),  # new base
            tf.TensorSpec((None, n_out), tf.float32),  # task weights of the chunk's sequences
        ]
    )
    def mutant_scores(
        xs: tf.Tensor, seq: tf.Tensor, pos: tf.Tensor, base: tf.Tensor, ws: tf.Tensor
    ) -> tf.Tensor:
        hit = tf.one_hot(pos, length)[:, :, None]  # (P, L, 1)
        mutants = tf.gather(xs, seq) * (1.0 - hit) + hit * tf.one_hot(base, depth)[:, None, :]
        return tf.reduce_sum(net(mutants, training=False) * tf.gather(ws, seq), axis=-1)

    return mutant_scores


def _first_block(net: keras.Model) -> tuple[list[keras.layers.Layer], keras.Model] | None:
    """``([first_conv, first_bn?, first_activation, first_pool?], the network after them)`` when the
    input feeds only that chain (every zoo model): a linear, stride-1, undilated 'same' Conv1D, then
    element-wise layers and a 'valid' max-pool whose stride is its size; None for other networks."""
    try:
        chain = [net.get_layer("first_conv")]
    except ValueError:
        return None
    cfg = chain[0].get_config()
    if not (
        isinstance(chain[0], keras.layers.Conv1D)
        and cfg.get("padding") == "same"
        and tuple(cfg.get("strides", (1,))) == (1,)
        and tuple(cfg.get("dilation_rate", (1,))) == (1,)
        and cfg.get("groups", 1) == 1
        and cfg.get("activation") == "linear"
        and chain[0].input is net.inputs[0]
    ):
        return None
    for name in ("first_bn", "first_activation", "first_pool"):
        try:
            layer = net.get_layer(name)
        except ValueError:
            continue
        if layer.input is not chain[-1].output:
            return None
        chain.append(layer)
    if chain[-1].name == "first_pool":
        pool = chain[-1].get_config()
        if pool.get("padding") != "valid" or tuple(pool["strides"]) != tuple(pool["pool_size"]):
            return None
    if not any(layer.name == "first_activation" for layer in chain):
        return None
    try:
        tail = keras.Model(chain[-1].output, net.outputs[0])  # fails when an earlier tensor is reused
    except ValueError:
        return None
    return chain, tail


def _block_mutant_fn(chain: list[keras.layers.Layer], tail: keras.Model, shape: tuple[int, ...]) -> Callable:
    """ISM's forward from the first block on, recomputing only what a substitution changes.

    A mutant's first-layer pre-activation is its sequence's plus the kernel difference (new base - old)
    at the <= K columns the base reaches; after the element-wise layers and the pool only the
    <= ``ceil((K - 1) / s) + 1`` windows of size s holding those columns differ, so per mutant only they
    are recomputed and written into the sequence's own block output, and the network runs from there
    (fastISM's idea, Nair et al. 2022, Bioinformatics); the values are those of whole mutants.
    """
    conv, rest = chain[0], chain[1:]
    length = shape[0]
    width = int(conv.kernel.shape[0])
    left = (width - 1) // 2  # TensorFlow's 'same' padding: any odd extra column goes on the right
    size = int(rest[-1].get_config()["pool_size"][0]) if rest[-1].name == "first_pool" else 1
    windows = length // size  # a 'valid' pool drops the last length % size columns
    span = min(windows, (width - 1 + size - 1) // size + 1)  # windows a substitution can change
    n_out = int(tail.output.shape[-1])

    def block(pre: tf.Tensor) -> tf.Tensor:
        for layer in rest:
            pre = layer(pre, training=False)
        return pre

    @tf.function(
        input_signature=[
            tf.TensorSpec((None, *shape), tf.float32),
            tf.TensorSpec((None,), tf.int32),
            tf.TensorSpec((None,), tf.int32),
            tf.TensorSpec((None,), tf.int32),
            tf.TensorSpec((None, n_out), tf.float32),
        ]
    )
    def mutant_scores(
        xs: tf.Tensor, seq: tf.Tensor, pos: tf.Tensor, base: tf.Tensor, ws: tf.Tensor
    ) -> tf.Tensor:
        wild = conv(xs)  # (B, L, F): each sequence's pre-activation, once
        by_base = tf.transpose(tf.convert_to_tensor(conv.kernel), (1, 0, 2))  # (4, K, F)
        observed = tf.gather_nd(xs, tf.stack([seq, pos], axis=1))  # (P, 4): an N or soft column too
        delta = tf.gather(by_base, base) - tf.einsum("pc,ckf->pkf", observed, by_base)  # (P, K, F)
        reach = pos[:, None] + left - tf.range(width)[None, :]  # (P, K): the output column of each tap
        first = tf.clip_by_value(tf.maximum(pos + left - (width - 1), 0) // size, 0, windows - span)
        columns = first[:, None] * size + tf.range(span * size)[None, :]  # (P, span * size)
        rows = tf.broadcast_to(seq[:, None], tf.shape(columns))
        region = tf.gather_nd(wild, tf.stack([rows, columns], axis=-1))  # (P, span * size, F)
        place = tf.one_hot(reach - first[:, None] * size, span * size)  # out-of-region taps: all zero
        changed = block(region + tf.einsum("pkc,pkf->pcf", place, delta))  # (P, span, F)
        which = first[:, None] + tf.range(span)[None, :]
        at = tf.stack([tf.broadcast_to(tf.range(tf.shape(seq)[0])[:, None], tf.shape(which)), which], -1)
        mutant = tf.tensor_scatter_nd_update(tf.gather(block(wild), seq), at, changed)
        return tf.reduce_sum(tail(mutant, training=False) * tf.gather(ws, seq), axis=-1)

    return mutant_scores


def mutant_scorer(model: keras.Model, net: keras.Model, target: str, shape: tuple[int, ...]) -> Callable:
    """(xs (B, L, 4), weights (B, T)) -> f(seq, pos, base) -> (P,) task-weighted scores of the mutants
    ``xs[seq]`` with ``base`` at ``pos``; mutants are built inside the compiled function (cached per model),
    from the first block's output when the network starts with a zoo first block (:func:`_block_mutant_fn`).
    """
    n_out = int(net.output.shape[-1])

    def build() -> Callable:
        split = _first_block(net) if len(shape) == 2 and shape[1] == 4 else None
        return _block_mutant_fn(*split, shape) if split else _mutant_fn(net, shape, n_out)

    fn = memo(model, ("mutant", target, shape), build)

    def for_chunk(xs: np.ndarray, ws: np.ndarray) -> Callable[..., np.ndarray]:
        xs_t, ws_t = tf.constant(xs), tf.constant(ws)

        def scores(seq: np.ndarray, pos: np.ndarray, base: np.ndarray) -> np.ndarray:
            seq_t, pos_t, base_t = (tf.constant(a, tf.int32) for a in (seq, pos, base))
            return fn(xs_t, seq_t, pos_t, base_t, ws_t).numpy()

        return scores

    return for_chunk
