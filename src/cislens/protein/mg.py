"""Multivariate Gaussian ("MG") model: couplings from the inverse of a shrunk one-hot covariance.

Treating the one-hot alignment as Gaussian gives a closed form, ``J = -C^-1`` (the mean-field /
GaussDCA idea), with no optimisation. All 21 states are kept; the one-hot covariance is singular
(each position's states sum to one), so ``4.5 / sqrt(Neff)`` is added to its diagonal, the shrinkage
of the GREMLIN authors' MG baseline, which both regularises and makes the inverse exist.
"""

from __future__ import annotations

import numpy as np

from . import pssm
from .msa import Q, one_hot
from .params import PottsModel, flat_to_blocks
from .pll import check_inputs


def weighted_covariance(seqs: np.ndarray, weights: np.ndarray, q: int = Q, block: int = 4096) -> np.ndarray:
    """``(L*q, L*q)`` weighted covariance of the one-hot rows (weights normalised to sum to 1).

    Accumulated as ``sum_b X_b^T diag(p_b) X_b - mu mu^T`` over row blocks, so only one float32 block
    of the one-hot matrix exists at a time (10^5 x 300 columns would be 2.5 GB whole).
    """
    p = weights / weights.sum()
    size = seqs.shape[1] * q
    second = np.zeros((size, size))
    mean = np.zeros(size)
    for start in range(0, len(seqs), block):
        x = one_hot(seqs[start : start + block], q)
        pb = p[start : start + block]
        mean += pb @ x
        second += (x * pb[:, None].astype(np.float32)).T @ x
    return second - np.outer(mean, mean)


def fit(
    seqs: np.ndarray, weights: np.ndarray | None = None, *, shrinkage: float = 4.5, q: int = Q
) -> PottsModel:
    """Couplings ``-inv(C + shrinkage / sqrt(Neff) * I)`` as blocks; fields from the PSSM."""
    seqs, weights = check_inputs(seqs, weights, q)
    neff = float(weights.sum())
    length = seqs.shape[1]
    cov = weighted_covariance(seqs, weights, q)
    cov[np.diag_indices_from(cov)] += shrinkage / np.sqrt(neff)
    precision = np.linalg.inv(cov)
    couplings = flat_to_blocks(-precision, length, q)
    idx = np.arange(length)
    couplings[idx, idx] = 0.0
    h = pssm.fit(seqs, weights, q=q).h
    info = {"model": "mg", "neff": neff, "shrinkage": shrinkage / np.sqrt(neff)}
    return PottsModel(h=h, J=couplings.astype(np.float32), info=info)
