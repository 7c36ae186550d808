"""Contact maps from couplings, and their precision against true contacts.

Coupling blocks are only defined up to a gauge (adding a function of one state to a block and taking
it from a field leaves the model unchanged), so blocks are first put in the zero-sum gauge over the 20
amino acids, with the gap state left out -- CCMpred's choice, which makes the Frobenius norm a property
of the model rather than of the parameterisation. APC then removes the per-column background (entropy
and phylogeny) as in Dunn et al. 2008.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .msa import GAP


def zero_sum_gauge(couplings: np.ndarray, states: int = GAP) -> np.ndarray:
    """Centre each ``(L, L, q, q)`` block over its first ``states`` states: rows and columns sum to 0."""
    block = couplings[:, :, :states, :states]
    return (
        block
        - block.mean(axis=2, keepdims=True)
        - block.mean(axis=3, keepdims=True)
        + block.mean(axis=(2, 3), keepdims=True)
    )


def frobenius(couplings: np.ndarray, states: int = GAP, center: bool = True) -> np.ndarray:
    """``(L, L)`` Frobenius norm of each (centred) 20x20 block, zero diagonal."""
    block = zero_sum_gauge(couplings, states) if center else couplings[:, :, :states, :states]
    norms = np.sqrt((block.astype(np.float64) ** 2).sum(axis=(2, 3)))
    np.fill_diagonal(norms, 0.0)
    return norms


def apc(scores: np.ndarray) -> np.ndarray:
    """Average product correction; means include the (zero) diagonal, matching CCMpred's output."""
    scores = np.asarray(scores, dtype=np.float64)
    mean = scores.mean(axis=0)
    return scores - np.outer(mean, mean) / scores.mean()


def contact_map(couplings: np.ndarray, correct: bool = True) -> np.ndarray:
    """The contact score: APC-corrected Frobenius norms of the zero-sum-gauge 20x20 blocks."""
    norms = frobenius(couplings)
    return apc(norms) if correct else norms


def ranked_pairs(
    scores: np.ndarray,
    known: np.ndarray | None = None,
    min_separation: int = 6,
    index: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``i < j`` with ``|index_i - index_j| >= min_separation`` and a known truth, best first."""
    length = scores.shape[0]
    index = np.arange(length) if index is None else np.asarray(index)
    i, j = np.triu_indices(length, k=1)
    keep = np.abs(index[i] - index[j]) >= min_separation
    if known is not None:
        keep &= known[i, j]
    i, j = i[keep], j[keep]
    order = np.argsort(-scores[i, j], kind="stable")
    return i[order], j[order]


def precision_at(
    scores: np.ndarray,
    contacts: np.ndarray,
    k: int,
    *,
    known: np.ndarray | None = None,
    min_separation: int = 6,
    index: np.ndarray | None = None,
) -> float:
    """Fraction of true contacts among the top ``k`` scored pairs (NaN if no pair qualifies)."""
    i, j = ranked_pairs(scores, known, min_separation, index)
    top = slice(0, max(int(k), 1))
    return float(contacts[i[top], j[top]].mean()) if i.size else float("nan")


def precision_table(
    scores: np.ndarray,
    contacts: np.ndarray,
    *,
    known: np.ndarray | None = None,
    index: np.ndarray | None = None,
    length: int | None = None,
    separations: tuple[int, ...] = (6, 12, 24),
    fractions: tuple[int, ...] = (1, 2, 5),
) -> pd.DataFrame:
    """Precision at L, L/2, L/5 (``fractions``) for each minimum separation, one row each.

    ``length`` defaults to the number of columns scored; ``index`` gives each column's residue index
    for separations (alignment columns by default).
    """
    length = scores.shape[0] if length is None else int(length)
    rows = []
    for sep in separations:
        for frac in fractions:
            k = max(1, length // frac)
            label = "L" if frac == 1 else f"L/{frac}"
            p = precision_at(scores, contacts, k, known=known, min_separation=sep, index=index)
            rows.append({"min_separation": sep, "top": label, "k": k, "precision": p})
    return pd.DataFrame(rows)


def precision_curve(
    scores: np.ndarray,
    contacts: np.ndarray,
    *,
    known: np.ndarray | None = None,
    min_separation: int = 6,
    index: np.ndarray | None = None,
    max_k: int | None = None,
) -> np.ndarray:
    """Precision of the top 1..max_k pairs (a curve, for plots)."""
    i, j = ranked_pairs(scores, known, min_separation, index)
    hits = contacts[i, j][: max_k or i.size].astype(float)
    return np.cumsum(hits) / np.arange(1, hits.size + 1)


def contact_table(
    scores: np.ndarray,
    distances: np.ndarray | None = None,
    *,
    threshold: float = 8.0,
    columns: np.ndarray | None = None,
    positions: np.ndarray | None = None,
) -> pd.DataFrame:
    """All pairs i < j ranked by score: ``i, j, column_i, column_j, position_i, position_j, score,
    distance, contact`` (1-based columns; focus residue numbers; distance and contact when known)."""
    length = scores.shape[0]
    i, j = np.triu_indices(length, k=1)
    order = np.argsort(-scores[i, j], kind="stable")
    i, j = i[order], j[order]
    columns = np.arange(length) if columns is None else np.asarray(columns)
    frame = pd.DataFrame({"i": i, "j": j, "column_i": columns[i] + 1, "column_j": columns[j] + 1})
    if positions is not None:
        frame["position_i"], frame["position_j"] = positions[i], positions[j]
    frame["score"] = scores[i, j]
    if distances is not None:
        dist = distances[i, j]
        frame["distance"] = dist
        frame["contact"] = pd.array(np.where(np.isfinite(dist), dist < threshold, pd.NA), dtype="boolean")
    return frame
