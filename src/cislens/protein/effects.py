"""Mutation effects from fitted models, and their rank agreement with measurements.

For Potts-type models (PSSM, Potts, MG, factored attention) the effect is the change in statistical
energy ``E(mutant) - E(wild type)``, which is gauge invariant, so models fitted in different gauges
(or the planted model of a simulation) can be compared directly. For the PSSM that is the sum of
``log f(mutant) - log f(wild type)``.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from .dms import mutant_batch
from .params import PottsModel


def mutation_effects(
    model: PottsModel, wild_type: np.ndarray, mutations: list[list[tuple[int, int, int]]]
) -> np.ndarray:
    """Energy change for each mutation list (``(column, wt, mt)`` triples); NaN when a column is -1."""
    wt = np.asarray(wild_type)
    reference = model.energy(wt[None])[0]
    out = np.full(len(mutations), np.nan)
    seqs, where = mutant_batch(wt, mutations)
    if seqs:
        out[where] = model.energy(np.stack(seqs)) - reference
    return out


def spearman(predicted: np.ndarray, measured: np.ndarray) -> float:
    """Spearman rank correlation over pairs where both are finite (NaN when fewer than 3)."""
    predicted, measured = np.asarray(predicted, float), np.asarray(measured, float)
    ok = np.isfinite(predicted) & np.isfinite(measured)
    if ok.sum() < 3:
        return float("nan")
    return float(stats.spearmanr(predicted[ok], measured[ok]).statistic)
