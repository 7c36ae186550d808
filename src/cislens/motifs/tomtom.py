"""Tomtom motif comparison with one output table whichever engine runs it.

Backends: ``memelite`` (default; numba, in-process) and ``meme`` (the MEME suite's ``tomtom`` binary, used
when asked for and on PATH). Columns, E-values and q-values follow Tomtom's TSV:

- E-value = p-value x number of target motifs.
- q-value: Benjamini-Hochberg over the p-values of one query against every target (Tomtom estimates
  q-values from all match p-values of a query; ``q_scope="all"`` pools every (query, target) pair).
- Optimal_offset: how far the query's first column sits to the right of the (oriented) target's first
  column; Orientation '-' means the match is to the target's reverse complement.

memelite scores columns by negative Euclidean distance; its ``dist`` cannot be changed, so ``dist`` only
reaches the MEME binary. memelite does not restrict alignments by overlap: ``min_overlap`` drops rows
whose best alignment overlaps less than min(min_overlap, query width, target width).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io import atomic_open
from ..meme import Motif, consensus_many, write_meme

COLUMNS = [
    "Query_ID",
    "Target_ID",
    "Optimal_offset",
    "p-value",
    "E-value",
    "q-value",
    "Overlap",
    "Query_consensus",
    "Target_consensus",
    "Orientation",
]
_THRESHOLD_COLUMN = {"evalue": "E-value", "qvalue": "q-value", "pvalue": "p-value"}


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """BH-adjusted p-values (monotone, capped at 1)."""
    p = np.asarray(p, dtype=np.float64)
    if p.size == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    ranked = p[order] * p.size / np.arange(1, p.size + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty_like(p)
    out[order] = np.minimum(ranked, 1.0)
    return out


def _bh_rows(p: np.ndarray) -> np.ndarray:
    """:func:`benjamini_hochberg` of every row at once (one 2-D sort instead of a loop over queries).

    Tied p-values get different ranks, but the suffix minimum gives them all the q of the last one.
    """
    n = p.shape[1]
    if n == 0:
        return p.copy()
    order = np.argsort(p, axis=1, kind="stable")
    rows = np.arange(p.shape[0])[:, None]
    scaled = p[rows, order] * (n / np.arange(1, n + 1))
    out = np.empty_like(p, dtype=np.float64)
    out[rows, order] = np.minimum(np.minimum.accumulate(scaled[:, ::-1], axis=1)[:, ::-1], 1.0)
    return out


def run_tomtom(
    queries: Sequence[Motif],
    targets: Sequence[Motif],
    *,
    thresh: float = 0.1,
    threshold_on: str = "evalue",
    dist: str = "pearson",
    min_overlap: int = 5,
    backend: str = "memelite",
    q_scope: str = "query",
    n_jobs: int = -1,
) -> pd.DataFrame:
    """Compare queries with targets; rows passing ``thresh`` sorted by query (input order) then p-value."""
    if threshold_on not in _THRESHOLD_COLUMN:
        raise InputError(f"threshold_on must be one of {sorted(_THRESHOLD_COLUMN)}, got {threshold_on!r}")
    if q_scope not in ("query", "all"):
        raise InputError(f"q_scope must be 'query' or 'all', got {q_scope!r}")
    if not queries or not targets:
        return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in COLUMNS})
    if backend == "meme":
        if shutil.which("tomtom") is None:
            raise InputError("backend 'meme' needs the MEME suite's tomtom on PATH (envs/meme.yaml)")
        return _run_binary(queries, targets, thresh, threshold_on, dist, min_overlap)
    if backend != "memelite":
        raise InputError(f"unknown Tomtom backend {backend!r}; use 'memelite' or 'meme'")
    return _pairs(queries, targets, min_overlap, q_scope, n_jobs, threshold_on, thresh)


def _p_cutoff(threshold_on: str, thresh: float, n_targets: int) -> float:
    """The p-value under which a pair passes an E (= p x targets) or p threshold."""
    return thresh / n_targets if threshold_on == "evalue" else thresh


def _pairs(
    queries: Sequence[Motif],
    targets: Sequence[Motif],
    min_overlap: int,
    q_scope: str,
    n_jobs: int,
    threshold_on: str = "evalue",
    thresh: float = np.inf,
) -> pd.DataFrame:
    """(query, target) pairs scored by memelite with E- and q-values, those passing ``thresh`` only.

    Under an E or p threshold one compiled pass over memelite's matrices finds the pairs and their
    q-values (each BH over its query's whole row, :func:`~cislens.motifs.tomtom_kernel.kept_pairs`);
    q thresholds and ``q_scope="all"`` rank the whole matrix. Rows and consensus strings are built
    only for the pairs kept, so the table costs little next to memelite itself.
    """
    from memelite import tomtom

    # (4, W) views of the (W, 4) float64 PPMs, as memelite's own reader hands them over: copying them
    # to C order made its scoring ~5% slower (measured with benchmarks/tomtom.py)
    q_mats = [m.ppm.T for m in queries]
    t_mats = [m.ppm.T for m in targets]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="tomtom was given")
        p, _scores, offsets, overlaps, strands = tomtom(q_mats, t_mats, n_jobs=n_jobs)
    nt = p.shape[1]
    q_w = np.array([len(m.ppm) for m in queries])
    t_w = np.array([len(m.ppm) for m in targets])
    if threshold_on == "qvalue" or q_scope == "all":
        p = np.clip(p, 0.0, 1.0)
        keep = overlaps >= np.minimum(min_overlap, np.minimum(q_w[:, None], t_w[None, :]))
        q = benjamini_hochberg(p.ravel()).reshape(p.shape) if q_scope == "all" else _bh_rows(p)
        keep &= q <= thresh if threshold_on == "qvalue" else p <= _p_cutoff(threshold_on, thresh, nt)
        qi, ti = np.nonzero(keep)
        qv = q[qi, ti]
        pv = p[qi, ti]
    else:  # E or p thresholds: one compiled pass finds the few pairs and their q-values
        from ..runtime import numba_threads
        from .tomtom_kernel import kept_pairs

        cutoff = _p_cutoff(threshold_on, thresh, nt)
        with numba_threads(n_jobs):  # as memelite sets them
            qi, ti, pv, qv = kept_pairs(p, overlaps, q_w, t_w, int(min_overlap), float(cutoff))
    target_rank = np.argsort(np.argsort(np.array([m.id for m in targets], dtype=object), kind="stable"))
    order = np.lexsort((target_rank[ti], pv, qi))  # by query (input order), p-value, target ID
    qi, ti, pv, qv = qi[order], ti[order], pv[order], qv[order]
    rc = strands[qi, ti].astype(bool)
    q_used = np.unique(qi).tolist()
    q_cons = dict(zip(q_used, consensus_many([queries[i].ppm for i in q_used]), strict=True))
    t_used = sorted(set(zip(ti.tolist(), rc.tolist(), strict=True)))
    t_ppms = [targets[j].ppm[::-1, ::-1] if r else targets[j].ppm for j, r in t_used]
    t_cons = dict(zip(t_used, consensus_many(t_ppms), strict=True))
    q_ids = np.array([m.id for m in queries], dtype=object)
    t_ids = np.array([m.id for m in targets], dtype=object)
    frame = pd.DataFrame(
        {
            "Query_ID": q_ids[qi],
            "Target_ID": t_ids[ti],
            "Optimal_offset": offsets[qi, ti].astype(np.int64),
            "p-value": pv,
            "E-value": pv * nt,
            "q-value": qv,
            "Overlap": overlaps[qi, ti].astype(np.int64),
            "Query_consensus": [q_cons[i] for i in qi.tolist()],
            "Target_consensus": [t_cons[k] for k in zip(ti.tolist(), rc.tolist(), strict=True)],
            "Orientation": np.where(rc, "-", "+").astype(object),
        }
    )
    return frame


def _run_binary(
    queries: Sequence[Motif],
    targets: Sequence[Motif],
    thresh: float,
    threshold_on: str,
    dist: str,
    min_overlap: int,
) -> pd.DataFrame:
    """Run the MEME suite's tomtom in a scratch directory and parse its tomtom.tsv."""
    with tempfile.TemporaryDirectory(prefix="cislens_tomtom_") as tmp:
        qpath, tpath, out = Path(tmp, "query.meme"), Path(tmp, "target.meme"), Path(tmp, "out")
        write_meme(qpath, queries)
        write_meme(tpath, targets)
        # Tomtom thresholds E (-evalue) or q; a p-value threshold is applied here after a permissive run.
        value = str(thresh) if threshold_on != "pvalue" else "1"
        cmd = [
            "tomtom",
            "-no-ssc",
            "-oc",
            str(out),
            "-verbosity",
            "1",
            "-min-overlap",
            str(min_overlap),
            "-dist",
            dist,
            *(["-evalue"] if threshold_on == "evalue" else []),
            "-thresh",
            value,
            str(qpath),
            str(tpath),
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise InputError(f"tomtom failed ({result.returncode}): {result.stderr.strip()[-500:]}")
        frame = read_tomtom_tsv(out / "tomtom.tsv")
    if threshold_on == "pvalue":
        frame = frame[frame["p-value"] <= thresh]
    order = {m.id: i for i, m in enumerate(queries)}
    frame = frame.assign(_q=frame["Query_ID"].map(order))
    frame = frame.sort_values(["_q", "p-value", "Target_ID"], kind="stable").drop(columns="_q")
    return frame.reset_index(drop=True)


def _dtype(column: str) -> str:
    if column in ("Optimal_offset", "Overlap"):
        return "int64"
    if column in ("p-value", "E-value", "q-value"):
        return "float64"
    return "object"


def write_tomtom_tsv(path: str | os.PathLike, frame: pd.DataFrame) -> None:
    """Write a Tomtom table atomically with exactly Tomtom's columns (floats at full precision)."""
    row = "\t".join(["%s"] * len(COLUMNS)) + "\n"  # one C-level format per row; str() of each value
    columns = [frame[c].tolist() for c in COLUMNS]
    with atomic_open(path) as handle:
        handle.write("\t".join(COLUMNS) + "\n")
        handle.writelines(map(row.__mod__, zip(*columns, strict=True)))


def read_tomtom_tsv(path: str | os.PathLike) -> pd.DataFrame:
    """Read our tomtom.tsv or MEME's: a header (possibly '#'-prefixed), rows, trailing '#' comments."""
    lines = [line for line in Path(path).read_text().splitlines() if line.strip()]
    if not lines:
        return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in COLUMNS})
    header = lines[0].lstrip("#").split("\t")
    rows = [line.split("\t") for line in lines[1:] if not line.startswith("#")]
    frame = pd.DataFrame(rows, columns=header)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: not a Tomtom table, missing columns {missing}")
    return frame[COLUMNS].astype({c: _dtype(c) for c in COLUMNS if _dtype(c) != "object"})


def tomtom_against(
    queries: Sequence[Motif], database_meme: str | os.PathLike, settings: Mapping[str, Any] | None
) -> tuple[pd.DataFrame, list[Motif]]:
    """``queries`` against a MEME database with the workflow's ``tomtom:`` settings (the schema's
    defaults where absent): the thresholded table and the database's motifs."""
    from .. import schema
    from ..meme import read_meme

    settings = schema.with_defaults("tomtom", settings)
    targets = read_meme(database_meme)
    table = run_tomtom(
        queries,
        targets,
        thresh=float(settings["thresh"]),
        threshold_on=settings["threshold_on"],
        backend=settings["backend"],
    )
    return table, targets
