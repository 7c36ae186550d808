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
