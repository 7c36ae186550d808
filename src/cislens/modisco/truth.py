"""Discovered motifs scored against the planted ones: which planted motifs a pattern recovered, which
patterns match nothing planted, and where seqlets fall relative to the planted sites.

A planted motif is *recovered* when some pattern's best Tomtom match (q below ``q_threshold``) is that
motif or one of its accepted alternatives, and *recovered with its family* when that best match may also
be an indistinguishable paralog (:func:`cislens.motifs.matching.paralog_ids`); a pattern is *spurious*
when none of its matches is a planted motif or such a paralog (or it has no match). A seqlet is
*correct* when its trimmed core overlaps a planted site by at least half the site's width; a planted
site is *found* when such a seqlet lies on it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..motifs.matching import accepts


def planted_sites(mask: np.ndarray) -> pd.DataFrame:
    """(example_idx, start, end) of every run of planted positions in an (N, L) boolean mask."""
    mask = np.asarray(mask, dtype=bool)
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    edges = np.diff(padded, axis=1)
    seq_on, start = np.nonzero(edges == 1)
    seq_off, end = np.nonzero(edges == -1)
    order_on, order_off = np.lexsort((start, seq_on)), np.lexsort((end, seq_off))
    return pd.DataFrame(
        {"example_idx": seq_on[order_on], "start": start[order_on], "end": end[order_off]}
    ).astype(np.int64)


def _overlaps(seqlets: pd.DataFrame, sites: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(seqlet correct, site found): a core overlapping a site by >= half the site's width."""
    correct = np.zeros(len(seqlets), dtype=bool)
    found = np.zeros(len(sites), dtype=bool)
    by_example = {k: v for k, v in sites.reset_index(drop=True).groupby("example_idx")}
    for i, row in enumerate(seqlets.itertuples(index=False)):
        candidates = by_example.get(row.example_idx)
        if candidates is None:
            continue
        overlap = np.minimum(candidates["end"], row.core_end) - np.maximum(
            candidates["start"], row.core_start
        )
        hit = overlap.to_numpy() >= 0.5 * (candidates["end"] - candidates["start"]).to_numpy()
        if hit.any():
            correct[i] = True
            found[candidates.index[hit]] = True
    return correct, found


def seqlet_scores(seqlets: pd.DataFrame, sites: pd.DataFrame) -> dict[str, Any]:
    """Seqlet precision and planted-site recall (over the sites of the sequences analysed)."""
    correct, found = _overlaps(seqlets, sites)
    return {
        "n_seqlets": len(seqlets),
        "n_planted_sites": len(sites),
        "seqlet_precision": float(correct.mean()) if len(seqlets) else None,
        "seqlet_recall": float(found.mean()) if len(sites) else None,
    }


def recovery(
    tomtom: pd.DataFrame,
    patterns: Sequence[str],
    accepted: Mapping[str, Sequence[str]],
    q_threshold: float = 0.05,
    paralogs: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """Planted motifs recovered and spurious patterns from a Tomtom table (its columns).

    ``recovered``: planted motifs some pattern's best match (lowest p, q < ``q_threshold``) is;
    ``recovered_family``: the same, where the best match may also be one of the planted motif's
    ``paralogs`` (CEBPD for CEBPB: Tomtom's pick among matrices of one motif is arbitrary);
    ``recovered_any``: planted motifs (or paralogs) among any pattern's significant matches;
    ``spurious``: patterns with no planted motif or paralog among those matches. ``per_pattern`` names
    the planted motifs each pattern's best match is or is a paralog of.
    """
    significant = tomtom[tomtom["q-value"] < q_threshold].sort_values(["p-value", "Target_ID"], kind="stable")
    by_query = {name: rows for name, rows in significant.groupby("Query_ID", sort=False)}
    wide = {tf: [*ids, *((paralogs or {}).get(tf) or [])] for tf, ids in accepted.items()}

    def planted(target: str, ids: Mapping[str, Sequence[str]]) -> set[str]:
        return {tf for tf, accepted_ids in ids.items() if accepts(accepted_ids, str(target))}

    recovered: set[str] = set()
    recovered_family: set[str] = set()
    recovered_any: set[str] = set()
    spurious = []
    per_pattern: dict[str, list[str]] = {}
    for name in patterns:
        rows = by_query.get(name)
        targets = list(rows["Target_ID"]) if rows is not None else []
        best = planted(targets[0], wide) if targets else set()
        anywhere = set().union(*(planted(t, wide) for t in targets))
        recovered |= planted(targets[0], accepted) if targets else set()
        recovered_family |= best
        recovered_any |= anywhere
        per_pattern[name] = sorted(best)
        if not anywhere:
            spurious.append(name)
    return {
        "n_planted": len(accepted),
        "n_recovered": len(recovered),
        "recovered": sorted(recovered),
        "missed": sorted(set(accepted) - recovered),
        "n_recovered_family": len(recovered_family),
        "recovered_family": sorted(recovered_family),
        "n_recovered_any": len(recovered_any),
        "recovered_any": sorted(recovered_any),
        "n_patterns": len(patterns),
        "n_spurious": len(spurious),
        "spurious": spurious,
        "q_threshold": q_threshold,
        "per_pattern": per_pattern,
    }
