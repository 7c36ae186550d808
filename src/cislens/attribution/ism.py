"""In silico saturation mutagenesis: the effect of every single-base substitution, (N, L, 4).

Mutants are built inside the compiled function from (sequence, position, base) indices, so only one
batch of mutants ever exists: N x 3L mutants of length L would not fit for long sequences.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from .gradients import _run, _sequence_chunks, _setup, memo, score_fn


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


def ism(
    model: keras.Model,
    x: np.ndarray,
    *,
    target: str = "logit",
    task: int | np.ndarray | None = None,
    batch_size: int = 256,
    progress: bool = True,
) -> np.ndarray:
    """delta[n, i, b] = f(x_n with base b at position i) - f(x_n); 0 at the observed base.

    Only the 3L real substitutions are evaluated (all 4 bases at an N, an all-zero row). ISM is not
    a gradient and needs no correction; to score it per position against ground truth, see
    ``evaluate.ism_position_map`` (L2 norm over the substitutions, the convention behind the
    anchors' ISM numbers).
    """
    x, net, weights = _setup(model, x, target, task)
    shape = tuple(x.shape[1:])
    n_out = int(net.output.shape[-1])
    score = memo(model, ("score", target, shape), lambda: score_fn(net, shape))
    wild = _run(score, x, weights, batch_size)
    mutant_scores = memo(model, ("mutant", target, shape), lambda: _mutant_fn(net, shape, n_out))
    out = np.zeros_like(x)
    per_sequence = int(np.prod(shape)) - shape[0]  # 3L for one-hot sequences
    for start, stop in _sequence_chunks(len(x), per_sequence, batch_size, "ism", progress):
        seq, pos, base = np.nonzero(x[start:stop] != 1.0)
        xs, ws = tf.constant(x[start:stop]), tf.constant(weights[start:stop])
        for s in range(0, len(seq), batch_size):
            sl = slice(s, s + batch_size)
            scores = mutant_scores(
                xs,
                tf.constant(seq[sl], tf.int32),
                tf.constant(pos[sl], tf.int32),
                tf.constant(base[sl], tf.int32),
                ws,
            ).numpy()
            out[start + seq[sl], pos[sl], base[sl]] = scores - wild[start + seq[sl]]
    return out
