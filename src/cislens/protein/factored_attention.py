"""Factored attention (Bhattacharya et al. 2021): couplings as attention-weighted amino-acid matrices.

``J_ij(a, b) = sum_h A_h(i, j) W_h(a, b)`` with ``A_h = softmax_j(Q_h K_h^T / sqrt(d))`` built from
per-position query/key embeddings only (no sequence input), so each head is a learned contact pattern
with one shared ``q x q`` amino-acid preference -- far fewer parameters than a Potts model, and heads
that can be read directly as maps. Trained with the Potts model's weighted pseudo-likelihood and penalty
(on the assembled, symmetrised couplings). Not convex: the seed matters.
"""

from __future__ import annotations

import numpy as np

from . import pssm
from .msa import Q
from .params import PottsModel, flat_to_blocks
from .pll import PseudoLikelihood, optimise, penalty


def fit(
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


def head_maps(model: PottsModel, symmetric: bool = True) -> np.ndarray:
    """``(H, L, L)`` attention maps (symmetrised ``(A + A^T) / 2`` by default, as contacts are)."""
    maps = np.asarray(model.arrays["attention"])
    return 0.5 * (maps + maps.transpose(0, 2, 1)) if symmetric else maps


def head_contact_precision(model: PottsModel, contacts: np.ndarray, k: int, **kwargs: object) -> np.ndarray:
    """Precision of each head's own top-``k`` pairs (which heads learned contacts)."""
    from .contacts import precision_at

    return np.array([precision_at(m, contacts, k, **kwargs) for m in head_maps(model)])
