"""A protein family's trials.tsv rows (one per model and trial) from each trial's metrics.json.

:func:`.summary.aggregate` turns them into summary.tsv. The model's name stands in the ``variant``
column, so results/summary.tsv stacks genomics and protein datasets under one key.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

# metrics.json keys of a protein trial that are bookkeeping, not results.
SKIP = ("model", "kind", "seed", "length", "dms_total", "n_seqs")


def trial_row(trial_dir: str | os.PathLike) -> dict[str, float | str]:
    """Numeric metrics of results/{dataset}/{model}/{trial} (precision at L, L/2, L/5 per separation,
    DMS Spearman, best attention head, fit seconds, Neff) as a flat record."""
    path = Path(trial_dir)
    metrics = json.loads((path / "metrics.json").read_text())
    row: dict[str, float | str] = {"variant": path.parent.name, "trial": path.name}
    keys = [k for k, v in metrics.items() if k not in SKIP and (v is None or isinstance(v, int | float))]
    for key in sorted(keys, key=_order):
        row[key] = np.nan if metrics[key] is None else metrics[key]
    return row


def _order(key: str) -> tuple[int, int, int, str]:
    """Precision columns first (by separation, then L, L/2, L/5), then effects, then the rest."""
    match = re.fullmatch(r"precision_L(?:/(\d+))?_sep(\d+)", key)
    if match:
        return (0, int(match.group(2)), int(match.group(1) or 1), key)
    return (1 if key.startswith(("dms_", "best_head")) else 2, 0, 0, key)


def trial_table(trial_dirs: Sequence[str | os.PathLike]) -> pd.DataFrame:
    return pd.DataFrame([trial_row(d) for d in trial_dirs])


def ensemble_rows(trial_dirs: Sequence[str | os.PathLike]) -> pd.DataFrame:
    """One ``<model>_ensemble`` row per model with several differing trials that scored a DMS table:
    the Spearman correlation of the mean of its trials' predicted effects (DeepSequence's ensemble over
    seeds), over the mutants every trial scored. Columns follow :func:`.summary.aggregate` (``_mean``,
    ``_sd`` 0)."""
    from ..protein.effects import spearman

    by_model: dict[str, list[Path]] = {}
    for trial_dir in map(Path, trial_dirs):
        by_model.setdefault(trial_dir.parent.name, []).append(trial_dir)
    rows = []
    for model, dirs in by_model.items():
        tables = [d / "evaluation" / "dms.tsv" for d in dirs]
        if len(dirs) < 2 or not all(t.is_file() for t in tables):
            continue
        frames = [pd.read_csv(t, sep="\t") for t in tables]
        if any(len(f) != len(frames[0]) or not f["mutant"].equals(frames[0]["mutant"]) for f in frames):
            continue  # not the same table: nothing to average
        members = np.array([f["predicted"].to_numpy(dtype=float) for f in frames])
        if all(np.array_equal(m, members[0], equal_nan=True) for m in members[1:]):
            continue  # deterministic fits (PSSM, a converged Potts model): the ensemble is the model
        predicted = members.mean(axis=0)
        measured = frames[0]["score"].to_numpy(dtype=float)
        rows.append(
            {
                "variant": f"{model}_ensemble",
                "n_trials": len(dirs),
                "dms_spearman_mean": spearman(predicted, measured),
                "dms_spearman_sd": 0.0,
                "dms_n_mean": int((np.isfinite(predicted) & np.isfinite(measured)).sum()),
                "dms_n_sd": 0.0,
            }
        )
    return pd.DataFrame(rows)
