"""Filter-to-ground-truth match statistics from a Tomtom table (Koo & Eddy 2019; Koo & Ploenzke 2021).

A filter *matches* when ANY of its significant Tomtom hits is an accepted ID of a ground-truth TF (not
only its best hit): the reference counted a filter as matched when any significant hit was a planted
motif's ID. Filters are identified by Query_ID, never by position, so filter 0 counts like any other
(the reference returned 0 when only filter 0 matched, from a truthiness test on the index).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from ..meme import Motif

# Ground truth of the 12-TF synthetic set (Koo & Eddy 2019) with the IDs accepted as the same TF: every
# version of the planted base ID in pyjaspar's releases 2014-2026, plus the reference's alternatives.
# MA0660.1 (MEF2B) and MA0773.1 (MEF2D) sit under MEF2A, not STAT1 as in the reference list: they are
# MEF2 paralogs, and under STAT1 a MEF2A filter would mark STAT1 as covered. match_fraction is the
# same either way (it uses the union of accepted IDs).
ACCEPTED_IDS: dict[str, list[str]] = {
    "Arid3a": ["MA0151.1", "MA0601.1", "MA0601.2", "PB0001.1"],
    "CEBPB": ["MA0466.1", "MA0466.2", "MA0466.3", "MA0466.4"],
    "FOSL1": ["MA0477.1", "MA0477.2", "MA0477.3"],
    "Gabpa": ["MA0062.1", "MA0062.2", "MA0062.3", "MA0062.4"],
    "MAFK": ["MA0496.1", "MA0496.2", "MA0496.3", "MA0496.4"],
    "MAX": ["MA0058.1", "MA0058.2", "MA0058.3", "MA0058.4"],
    "MEF2A": ["MA0052.1", "MA0052.2", "MA0052.3", "MA0052.4", "MA0052.5", "MA0660.1", "MA0773.1"],
    "NFYB": ["MA0502.1", "MA0502.2", "MA0502.3", "MA0060.1", "MA0060.2", "MA0060.3", "MA0060.4"],
    "SP1": ["MA0079.1", "MA0079.2", "MA0079.3", "MA0079.4", "MA0079.5"],
    "SRF": ["MA0083.1", "MA0083.2", "MA0083.3"],
    "STAT1": ["MA0137.1", "MA0137.2", "MA0137.3", "MA0137.4"],
    "YY1": ["MA0095.1", "MA0095.2", "MA0095.3", "MA0095.4"],
}


def accepts(accepted: Iterable[str], target_id: str) -> bool:
    """Exact ID, or a bare base ID ("MA0079") accepting every version."""
    base = target_id.split(".")[0]
    return any(a == target_id or ("." not in a and a == base) for a in accepted)


def accepted_ids(
    truth: Mapping[str, str], known: Mapping[str, list[str]] = ACCEPTED_IDS
) -> dict[str, list[str]]:
    """Planted TF -> the IDs that count as finding it: the curated list for that TF when the planted ID
    is on it (other versions, paralogous matrices), else any version of the planted ID itself."""
    out = {}
    for tf, motif_id in truth.items():
        base = motif_id.split(".")[0]
        out[tf] = list(known[tf]) if motif_id in known.get(tf, []) else [f"{base}.{v}" for v in range(1, 10)]
    return out


def paralog_ids(
    planted: Mapping[str, str],
    tomtom_df: pd.DataFrame,
    families: Mapping[str, str],
    q_threshold: float = 0.05,
) -> dict[str, list[str]]:
    """Planted TF -> database IDs of its *indistinguishable paralogs*: matrices of the planted matrix's
    JASPAR TF family that Tomtom matches to the planted matrix itself (q < ``q_threshold``).

    ``planted`` maps TF -> planted matrix ID, ``tomtom_df`` is the planted matrices (Query_ID = their
    IDs) against the database, ``families`` maps matrix ID -> TF family. Paralogs such as CEBPB/CEBPD or
    MAX/MYCN share one motif, so which of them Tomtom ranks first for a discovered pattern is arbitrary;
    the reference's accepted lists already count paralogs this way (NFYA for NFYB, MEF2B/D for MEF2A).
    A matrix without a family (a user database) is nobody's paralog.
    """
    significant = tomtom_df[tomtom_df["q-value"] < q_threshold]
    out: dict[str, list[str]] = {}
    for tf, motif_id in planted.items():
        family = families.get(motif_id, "")
        targets = significant.loc[significant["Query_ID"].astype(str) == motif_id, "Target_ID"].astype(str)
        out[tf] = sorted({t for t in targets if family and families.get(t, "") == family} | {motif_id})
    return out


def match_statistics(
    tomtom_df: pd.DataFrame, n_filters: int, truth: Mapping[str, Sequence[str]]
) -> dict[str, Any]:
    """match_fraction, match_any, fpr (= match_any - match_fraction), coverage over TFs, n_filters.

    ``tomtom_df`` must already be thresholded (as ``run_tomtom`` returns it); ``n_filters`` counts every
    filter, including those absent from the table.
    """
    n = max(int(n_filters), 1)
    hits = tomtom_df[["Query_ID", "Target_ID"]].drop_duplicates()
    with_hit = set(hits["Query_ID"])
    matched: set[str] = set()
    tfs_hit: set[str] = set()
    for query, target in hits.itertuples(index=False):
        for tf, ids in truth.items():
            if accepts(ids, str(target)):
                matched.add(query)
                tfs_hit.add(tf)
    match_fraction = len(matched) / n
    match_any = len(with_hit) / n
    return {
        "n_filters": int(n_filters),
        "match_fraction": match_fraction,
        "match_any": match_any,
        "fpr": match_any - match_fraction,
        "coverage": len(tfs_hit) / len(truth) if truth else 0.0,
        "n_matched": len(matched),
        "n_with_hit": len(with_hit),
        "tfs_hit": sorted(tfs_hit),
    }


def best_hits(tomtom_df: pd.DataFrame, targets: Sequence[Motif]) -> pd.DataFrame:
    """One row per query with a hit: its lowest-p target (IDs, name, p/E/q, Tomtom offset and orientation)."""
    columns = ["query_id", "target_id", "target_name", "p_value", "e_value", "q_value"]
    columns += ["offset", "orientation"]
    if len(tomtom_df) == 0:
        dtypes = {c: float if c.endswith("value") else (int if c == "offset" else object) for c in columns}
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in dtypes.items()})
    names = {m.id: m.name for m in targets}
    order = pd.unique(tomtom_df["Query_ID"])
    best = tomtom_df.sort_values(["p-value", "Target_ID"], kind="stable").drop_duplicates("Query_ID")
    best = best.set_index("Query_ID").loc[order].reset_index()
    return pd.DataFrame(
        {
            "query_id": best["Query_ID"].astype(str),
            "target_id": best["Target_ID"].astype(str),
            "target_name": [names.get(t, t) for t in best["Target_ID"]],
            "p_value": best["p-value"].astype(float),
            "e_value": best["E-value"].astype(float),
            "q_value": best["q-value"].astype(float),
            "offset": best["Optimal_offset"].astype(int),
            "orientation": best["Orientation"].astype(str),
        }
    )
