"""The TensorFlow half of the protein branch's Potts-type models: fits that need TensorFlow.

* :class:`PseudoLikelihood` and :func:`optimise`: the weighted pseudo-likelihood of a Potts model and the
  full-batch optimiser that fits it (penalty conventions in :mod:`cislens.protein.pll`), with autodiff;
* :func:`fit_factored_attention` (``factored_attention.fit``), whose couplings are built from factors.

The Potts model itself (free couplings, ``potts.fit``) is fitted without TensorFlow by
:mod:`cislens.protein.plm`, to the same iterates.

The sequence VAE's TensorFlow half is :mod:`cislens.protein.vae_model`. TensorFlow is imported inside
the functions, so the numpy-only models (``pssm``, ``mg``) and the rule steps that never fit a TF model
do not load it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from . import pssm
from .msa import Q
from .params import PottsModel, flat_to_blocks
from .pll import (
    BETA1,
    BETA2,
    EPS,
    Penalty,
    _cores,
    _ranges,
    check_inputs,
    check_optimiser,
    collapse_duplicates,
    penalty,
)


class PseudoLikelihood:
    """The data term, as TensorFlow constants built once: state indices, labels, normalised weights.

    The coupling fields ``x_onehot @ J`` are a sum of L rows of J per sequence, so they are computed as
    a sparse segment sum (N L^2 q additions instead of the dense product's N (Lq)^2 multiply-adds, q
    times fewer), and so is the gradient ``x_onehot^T @ G`` (rows of G summed per (position, state),
    indices pre-sorted once). Exact in float32. TensorFlow's segment-sum kernel runs on one thread, so
    both are split into ``chunks`` independent ops (sequence ranges forward, row ranges of the gradient
    backward) that the inter-op pool runs in parallel: 1.7x faster on 2 cores than one op.
    """

    def __init__(self, seqs: np.ndarray, weights: np.ndarray, q: int = Q, chunks: int | None = None) -> None:
        import tensorflow as tf

        seqs, weights = check_inputs(seqs, weights, q)
        self.neff = float(weights.sum())
        unique, summed = collapse_duplicates(seqs, weights)
        self.n_unique, self.length = unique.shape
        self.q = q
        size = self.length * q
        keys = (np.arange(self.length) * q + unique).ravel()  # row of J each (sequence, site) selects
        rows = np.repeat(np.arange(self.n_unique), self.length)
        chunks = max(1, min(int(chunks or 2 * _cores()), self.n_unique))

        def const(values: np.ndarray) -> object:
            return tf.constant(values.astype(np.int32))

        # forward chunk: (selected rows of J, output row within the chunk, chunk's number of sequences)
        self._forward = []
        for a, b in _ranges(self.n_unique, chunks):
            part = slice(a * self.length, b * self.length)
            self._forward.append((const(keys[part]), const(rows[part] - a), b - a))
        # backward chunk: (rows of the upstream gradient, output row within the chunk, chunk's rows)
        order = np.argsort(keys, kind="stable")
        sorted_keys, rows_by_key = keys[order], rows[order]
        self._backward = []
        for a, b in _ranges(size, chunks):
            lo, hi = np.searchsorted(sorted_keys, [a, b])
            self._backward.append((const(rows_by_key[lo:hi]), const(sorted_keys[lo:hi] - a), b - a))
        self.y = tf.constant(unique.astype(np.int32))
        self.w = tf.constant((summed / self.neff).astype(np.float32))
        self.off_diagonal = tf.constant(1.0 - np.eye(self.length, dtype=np.float32)[:, None, :, None])

    def couplings(self, free: object) -> object:
        """Symmetric ``(L*q, L*q)`` couplings with zero diagonal blocks from a free square matrix."""
        import tensorflow as tf

        size = self.length * self.q
        sym = 0.5 * (free + tf.transpose(free))
        blocks = tf.reshape(sym, (self.length, self.q, self.length, self.q)) * self.off_diagonal
        return tf.reshape(blocks, (size, size))

    def coupling_fields(self, couplings: object) -> object:
        """``(N, L*q)``: for each sequence, sum_j J[(j, x_j), :] (= one-hot @ J), with its gradient."""
        import tensorflow as tf

        def chunked(matrix: object, parts: list) -> object:
            sums = [tf.sparse.segment_sum(matrix, idx, seg, num_segments=n) for idx, seg, n in parts]
            return sums[0] if len(sums) == 1 else tf.concat(sums, axis=0)

        @tf.custom_gradient
        def fields(matrix: object) -> tuple[object, Callable]:
            def grad(upstream: object) -> object:
                return chunked(upstream, self._backward)

            return chunked(matrix, self._forward), grad

        return fields(couplings)

    def nll(self, h: object, couplings: object) -> object:
        """Weighted mean (over sequences) of the summed per-site negative log conditionals."""
        import tensorflow as tf

        fields = tf.reshape(self.coupling_fields(couplings), (-1, self.length, self.q)) + h
        site = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=self.y, logits=fields)
        return tf.reduce_sum(self.w * tf.reduce_sum(site, axis=1))

    def penalised(self, h: object, couplings: object, pen: Penalty) -> object:
        import tensorflow as tf

        reg = 2.0 * pen.h * tf.nn.l2_loss(h) + pen.j * tf.nn.l2_loss(couplings)  # l2_loss = sum(x^2) / 2
        return self.nll(h, couplings) + reg


def optimise(
    loss: Callable[[], object],
    variables: Sequence[object],
    iterations: int = 100,
    learning_rate: float = 1.0,
    *,
    optimiser: str = "gremlin_adam",
    progress: bool = True,
    desc: str = "pseudo-likelihood",
) -> list[float]:
    """Full-batch first-order optimisation, one compiled graph per step; returns the loss per step.

    ``"gremlin_adam"``: Adam with one second moment per tensor (the sum of squared gradients) and no bias
    correction, the variant GREMLIN-TF found to reach L-BFGS quality in ~100 steps on this convex
    objective: each step is a momentum-averaged gradient direction of length ~``learning_rate``, so the
    rate needs no tuning against the loss scale (use 1.0). ``"adam"``: ordinary per-element Adam (use
    ~0.01-0.05), better for non-convex factorised models whose tensors differ in scale.
    """
    import tensorflow as tf
    from tqdm.auto import tqdm

    check_optimiser(optimiser)
    beta1, beta2, eps = BETA1, BETA2, EPS
    firsts = [tf.Variable(tf.zeros_like(v), trainable=False) for v in variables]
    if optimiser == "adam":
        seconds = [tf.Variable(tf.zeros_like(v), trainable=False) for v in variables]
    else:
        seconds = [tf.Variable(0.0, trainable=False) for _ in variables]
    count = tf.Variable(0.0, trainable=False)

    @tf.function
    def step() -> object:
        with tf.GradientTape() as tape:
            value = loss()
        grads = tape.gradient(value, variables)
        count.assign_add(1.0)
        for var, grad, m, v in zip(variables, grads, firsts, seconds, strict=True):
            # in-place assign_* one after another: at most one temporary the size of the variable
            m.assign(m * beta1)
            m.assign_add(grad * (1 - beta1))
            if optimiser == "adam":
                v.assign(v * beta2)
                v.assign_add(tf.square(grad) * (1 - beta2))
                rate = learning_rate * tf.sqrt(1 - beta2**count) / (1 - beta1**count)
                var.assign_sub(rate * m / (tf.sqrt(v) + eps))
            else:
                v.assign(beta2 * v + (1 - beta2) * 2.0 * tf.nn.l2_loss(grad))  # sum of squares, fused
                var.assign_sub(m * (learning_rate / (tf.sqrt(v) + eps)))
        return value

    history: list[float] = []
    bar = tqdm(range(int(iterations)), desc=desc, disable=not progress, leave=False)
    for _ in bar:
        history.append(float(step()))
        if progress:
            bar.set_postfix(loss=f"{history[-1]:.4f}", refresh=False)
    return history


def fit_factored_attention(
    seqs: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    heads: int = 32,
    dim: int = 32,
    iterations: int = 300,
    learning_rate: float = 0.05,
    optimiser: str = "adam",
    penalty_convention: str = "cislens",
    lambda_h: float | None = None,
    lambda_j: float | None = None,
    seed: int = 0,
    q: int = Q,
    progress: bool = True,
) -> PottsModel:
    """Fit; returns the assembled couplings plus ``arrays["attention"]`` (H, L, L) and
    ``arrays["values"]`` (H, q, q)."""
    import tensorflow as tf

    data = PseudoLikelihood(seqs, weights, q)
    length = data.length
    pen = penalty(length, data.neff, q=q, convention=penalty_convention, lambda_h=lambda_h, lambda_j=lambda_j)
    rng = np.random.default_rng(seed)
    h = tf.Variable(pssm.fit(seqs, weights, q=q).h, name="h")
    query = tf.Variable(
        rng.normal(0, 1 / np.sqrt(dim), (heads, length, dim)).astype(np.float32), name="query"
    )
    key = tf.Variable(rng.normal(0, 1 / np.sqrt(dim), (heads, length, dim)).astype(np.float32), name="key")
    values = tf.Variable(rng.normal(0, 0.01, (heads, q, q)).astype(np.float32), name="values")
    no_self = tf.constant(np.where(np.eye(length, dtype=bool), -1e9, 0.0).astype(np.float32))

    def attention() -> object:
        logits = tf.einsum("hid,hjd->hij", query, key) / np.sqrt(dim) + no_self
        return tf.nn.softmax(logits, axis=-1)

    def assembled() -> object:
        blocks = tf.einsum("hij,hab->iajb", attention(), values)  # (L, q, L, q) position-major
        return data.couplings(tf.reshape(blocks, (length * q, length * q)))

    history = optimise(
        lambda: data.penalised(h, assembled(), pen),
        [h, query, key, values],
        iterations,
        learning_rate,
        optimiser=optimiser,
        progress=progress,
        desc="factored attention",
    )
    info = {
        "model": "factored_attention",
        "neff": data.neff,
        "heads": heads,
        "dim": dim,
        "iterations": int(iterations),
        "final_loss": history[-1] if history else float("nan"),
        "penalty": penalty_convention,
        "seed": int(seed),
    }
    return PottsModel(
        h=h.numpy(),
        J=flat_to_blocks(assembled().numpy(), length, q),
        info=info,
        arrays={"attention": attention().numpy(), "values": values.numpy()},
    )
