"""Mutation effects from fitted models, and their rank agreement with measurements.

For Potts-type models (PSSM, Potts, MG, factored attention) the effect is the change in statistical
energy ``E(mutant) - E(wild type)``, which is gauge invariant, so models fitted in different gauges
(or the planted model of a simulation) can be compared directly. For the PSSM that is the sum of
``log f(mutant) - log f(wild type)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .dms import mutant_batch
from .msa import ALPHABET, GAP
from .params import PottsModel


def single_mutant_scan(model: PottsModel, wild_type: np.ndarray) -> np.ndarray:
    """``(L, q)`` energy change of every single substitution of ``wild_type`` (0 at wild type).

    ``dE_i(a) = h_i(a) - h_i(w_i) + sum_j [J_ij(a, w_j) - J_ij(w_i, w_j)]``, vectorised over i and a.
    """
    wt = np.asarray(wild_type, dtype=np.intp)
    rows = np.arange(model.length)
    local = model.h.astype(np.float64).copy()
    if model.J is not None:
        # context[i, a] = sum_j J[i, j, a, w_j]; the advanced indices put (i, j) first: (L, L, q)
        local += model.J[rows[:, None], rows[None, :], :, wt[None, :]].sum(axis=1)
    return local - local[rows, wt][:, None]


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


def scan_table(model: PottsModel, wild_type: np.ndarray, positions: np.ndarray) -> pd.DataFrame:
    """All single substitutions to the 20 amino acids as a tidy table (column, position, wt, mt, effect)."""
    scan = single_mutant_scan(model, wild_type)
    wt = np.asarray(wild_type)
    rows = []
    for i in range(model.length):
        for a in range(GAP):
            if a != wt[i]:
                rows.append((i, int(positions[i]), ALPHABET[wt[i]], ALPHABET[a], float(scan[i, a])))
    return pd.DataFrame(rows, columns=["column", "position", "wt", "mt", "effect"])


def spearman(predicted: np.ndarray, measured: np.ndarray) -> float:
    """Spearman rank correlation over pairs where both are finite (NaN when fewer than 3)."""
    predicted, measured = np.asarray(predicted, float), np.asarray(measured, float)
    ok = np.isfinite(predicted) & np.isfinite(measured)
    if ok.sum() < 3:
        return float("nan")
    return float(stats.spearmanr(predicted[ok], measured[ok]).statistic)
