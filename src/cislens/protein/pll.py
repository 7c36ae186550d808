"""Weighted pseudo-likelihood of a Potts model: penalties and input checks (numpy); the data term
(``PseudoLikelihood``) and the full-batch optimiser (``optimise``) are in :mod:`cislens.protein.plm`
(compiled loops, the Potts fit) and :mod:`cislens.protein.fit` (TensorFlow, factored attention).

Shared by ``potts`` (free couplings) and ``factored_attention`` (couplings built from factors).

The objective is written the way CCMpred and GREMLIN write it, on the weighted *sum* over sequences::

    sum_n w_n sum_i -log P(x_ni | x_n,-i)  +  lambda_h |h|^2  +  lambda_J sum_{i<j} |J_ij|_F^2

and is computed divided by Neff (= sum of weights; GREMLIN-TF does the same), which leaves the optimum
unchanged and keeps the loss near "nats per sequence". Penalty conventions (``penalty_convention=``):

* ``"ccmpred"``: lambda_h = 0.01, lambda_J = 0.01 (q - 1)(L - 1) (CCMpred's 0.2 (L - 1); GREMLIN's
  lam_w = 0.01 scaled by (L - 1)(A - 1)). Fixed against a data term that grows with Neff, so per
  effective sequence the coupling prior is 0.2 (L - 1) / Neff.
* ``"cislens"`` (default): lambda_h = 0.01 as above, lambda_J = 0.02 Neff, i.e. a fixed per-sequence
  coupling prior of 0.01 on each ordered pair (i, j) and (j, i) -- plmDCA's lambda_J.
* ``"plmdca"``: both per sequence, lambda_h = 0.01 Neff and lambda_J = 0.02 Neff.

Measured (P@L, separation >= 6): 1atzA (Neff 1,149, L 75, Cb < 8 A) ccmpred 0.53-0.55, cislens 0.56,
plmdca 0.53 (its field prior pulls rare states' fields to 0); PF00014 (Neff 4,364, L 53, dist < 5 A)
ccmpred 0.75, cislens 0.81-0.83. When Neff >> 10 (L - 1) the CCMpred prior is several times weaker than
the per-sequence one and the couplings overfit, hence the default. Every convention is convex in
(h, J): the optimiser only decides how close to the unique optimum the iterations get.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .msa import Q

PENALTIES = ("cislens", "ccmpred", "plmdca")
OPTIMISERS = ("gremlin_adam", "adam")  # fit.optimise (TensorFlow) and plm.optimise (numba)
BETA1, BETA2, EPS = 0.9, 0.999, 1e-8  # Adam's constants (Kingma & Ba 2015), shared by both optimisers


def check_optimiser(optimiser: str) -> None:
    """One line naming the valid optimisers, before any set-up."""
    if optimiser not in OPTIMISERS:
        raise InputError(f"unknown optimiser {optimiser!r}; valid: {', '.join(OPTIMISERS)}")


@dataclass(frozen=True)
class Penalty:
    """L2 strengths on the per-effective-sequence objective (the summed-form lambdas divided by Neff)."""

    h: float
    j: float  # on sum_{i<j} |J_ij|_F^2


def penalty(
    length: int,
    neff: float,
    *,
    q: int = Q,
    convention: str = "cislens",
    lambda_h: float | None = None,
    lambda_j: float | None = None,
) -> Penalty:
    """The penalty of ``convention`` (module docstring); ``lambda_h`` / ``lambda_j`` override its
    summed-form values (e.g. ``lambda_j=0.2 * (L - 1)`` is CCMpred's coupling strength)."""
    if convention not in PENALTIES:
        raise InputError(f"unknown penalty convention {convention!r}; valid: {', '.join(PENALTIES)}")
    lam_h = 0.01 * (neff if convention == "plmdca" else 1.0)
    lam_j = 0.01 * (q - 1) * (length - 1) if convention == "ccmpred" else 0.02 * neff
    lam_h = lam_h if lambda_h is None else float(lambda_h)
    lam_j = lam_j if lambda_j is None else float(lambda_j)
    return Penalty(lam_h / neff, lam_j / neff)


def collapse_duplicates(seqs: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique rows with summed weights: the weighted pseudo-likelihood is unchanged, the work shrinks."""
    unique, inverse = np.unique(np.asarray(seqs), axis=0, return_inverse=True)
    return unique, np.bincount(inverse.ravel(), weights=np.asarray(weights, dtype=np.float64))


def _ranges(total: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous, near-equal, non-empty ``[a, b)`` ranges covering ``range(total)``."""
    bounds = np.linspace(0, total, min(parts, total) + 1).astype(int)
    return [(int(a), int(b)) for a, b in itertools.pairwise(bounds) if b > a]


def check_inputs(seqs: np.ndarray, weights: np.ndarray | None, q: int = Q) -> tuple[np.ndarray, np.ndarray]:
    seqs = np.asarray(seqs)
    if seqs.ndim != 2 or seqs.shape[0] < 1 or seqs.shape[1] < 2:
        raise InputError(f"expected an (N, L) alignment with L >= 2, got shape {seqs.shape}")
    if seqs.min() < 0 or seqs.max() >= q:
        raise InputError(f"alignment states must lie in 0..{q - 1}")
    weights = np.ones(len(seqs)) if weights is None else np.asarray(weights, dtype=np.float64)
    if weights.shape != (len(seqs),) or not np.all(weights >= 0) or weights.sum() <= 0:
        raise InputError(f"expected {len(seqs)} non-negative sequence weights with a positive sum")
    return seqs, weights


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1
