"""Site-independent model: weighted amino-acid frequencies per column, fields ``h = log f``.

It is the baseline every coupling model must beat, and its fields initialise the Potts fit (with no
couplings, ``h = log f`` is exactly the pseudo-likelihood optimum up to the pseudocount).
"""

from __future__ import annotations

import numpy as np

from .msa import Q
from .params import PottsModel
from .pll import check_inputs


def frequencies(seqs: np.ndarray, weights: np.ndarray | None = None, q: int = Q) -> np.ndarray:
    """Weighted state frequencies ``(L, q)`` (rows sum to 1), without pseudocount."""
    seqs, weights = check_inputs(seqs, weights, q)
    length = seqs.shape[1]
    index = (np.arange(length) * q + seqs.astype(np.int64)).ravel()  # no (N, L*q) one-hot in memory
    counts = np.bincount(index, weights=np.repeat(weights, length), minlength=length * q)
    return counts.reshape(length, q) / weights.sum()


def fit(
    seqs: np.ndarray, weights: np.ndarray | None = None, *, pseudocount: float = 1.0, q: int = Q
) -> PottsModel:
    """Fields ``h = log f`` with ``pseudocount`` effective sequences spread uniformly over the q states.

    A count-based pseudocount (rather than a fixed fraction) fades as Neff grows, so large families keep
    their observed frequencies while unseen states get a finite (large negative) log-ratio.
    """
    seqs, weights = check_inputs(seqs, weights, q)
    neff = weights.sum()
    f = (frequencies(seqs, weights, q) * neff + pseudocount / q) / (neff + pseudocount)
    h = np.log(f)
    h -= h.mean(axis=1, keepdims=True)  # zero-sum gauge: log-ratios are unchanged
    return PottsModel(h=h.astype(np.float32), info={"model": "pssm", "neff": float(neff)})
