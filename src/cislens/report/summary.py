"""Collect each genomics trial's metrics into one row, then mean and sd per variant (any kind's trials).

A protein family's rows come from :mod:`.protein_summary`; :func:`aggregate` serves both."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

STAT_KEYS = ("match_fraction", "match_any", "fpr", "coverage")


def concat_tables(paths: Sequence[str | os.PathLike]) -> pd.DataFrame:
    """Row-bind TSV tables with the same columns; empty tables (no ground truth) add nothing."""
    frames = [pd.read_csv(path, sep="\t") for path in paths]
    filled = [f for f in frames if len(f)]
    return pd.concat(filled, ignore_index=True) if filled else frames[0]


def trial_row(
    trial_dir: str | os.PathLike,
    truth_threshold: float = 0.1,
    amplitudes: Mapping[str, float] | None = None,
) -> dict[str, float | str]:
    """Metrics of results/{dataset}/{variant}/{trial} as a flat record; with the planted ``amplitudes``
    of a synthetic signal, how well the GIA effects rank the motifs (``gia_amplitude_spearman``)."""
    path = Path(trial_dir)
    metrics = json.loads((path / "metrics.json").read_text())
    row: dict[str, float | str] = {"variant": path.parent.name, "trial": path.name}
    for key, value in metrics.items():  # auroc/aupr for classification, pearson/spearman for regression
        if key.endswith("_mean"):
            row[f"test_{key.removesuffix('_mean')}"] = value if value is not None else np.nan
    row["epochs"] = metrics.get("epochs_trained", np.nan)
    robust = metrics.get("robustness") or {}
    for key in ("adversarial_accuracy", "adversarial_auroc", "adversarial_pearson"):
        if key in robust:
            row[key] = robust[key]
    stats_path = path / "filters" / "match_stats.json"
    if stats_path.exists():
        stats = json.loads(stats_path.read_text())
        for key in STAT_KEYS:
            if key in stats:
                row[key] = stats[key]
    interp_path = path / "attribution" / "interpretability.tsv"
    if interp_path.exists():
        interp = pd.read_csv(interp_path, sep="\t")
        if len(interp):
            chosen = interp[np.isclose(interp["threshold"], truth_threshold)]
            for rec in chosen.itertuples():
                row[f"attr_auroc_{rec.method}"] = rec.auroc_mean
                row[f"attr_aupr_{rec.method}"] = rec.aupr_mean
                if "cosine_mean" in chosen.columns:
                    row[f"attr_cosine_{rec.method}"] = rec.cosine_mean
            for column in (c for c in chosen.columns if c.startswith("angle_pct_above_")):
                values = chosen[column].dropna()
                if len(values):
                    row[f"grad_{column}"] = values.iloc[0]
    occupancy = path / "gia" / "occupancy.tsv"
    if amplitudes and occupancy.exists():
        from ..gia.importance import amplitude_agreement

        rho = amplitude_agreement(pd.read_csv(occupancy, sep="\t"), amplitudes)
        row["gia_amplitude_spearman"] = np.nan if rho is None else rho
    return row


def trial_table(
    trial_dirs: Sequence[str | os.PathLike],
    truth_threshold: float = 0.1,
    amplitudes: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    return pd.DataFrame([trial_row(d, truth_threshold, amplitudes) for d in trial_dirs])


def aggregate(trials: pd.DataFrame) -> pd.DataFrame:
    """Per variant: n_trials and, for every numeric metric, its mean and sample sd over trials."""
    numeric = [c for c in trials.columns if c not in ("variant", "trial")]
    rows = []
    for variant, group in trials.groupby("variant", sort=False):
        row: dict[str, float | str | int] = {"variant": variant, "n_trials": len(group)}
        for column in numeric:
            values = pd.to_numeric(group[column], errors="coerce")
            row[f"{column}_mean"] = values.mean()
            row[f"{column}_sd"] = values.std(ddof=1) if len(values) > 1 else 0.0
        rows.append(row)
    return pd.DataFrame(rows)


# modisco/truth.json keys -> summary.tsv columns (one value per variant: its trials are ensembled).
MODISCO_COLUMNS = {
    "n_patterns": "modisco_patterns",
    "n_seqlets_called": "modisco_seqlets_called",
    "n_recovered": "modisco_recovered",
    "n_recovered_family": "modisco_recovered_family",
    "n_recovered_any": "modisco_recovered_any",
    "n_spurious": "modisco_spurious",
    "seqlet_precision": "seqlet_precision",
    "seqlet_recall": "seqlet_recall",
}


def modisco_rows(truth_paths: Sequence[str | os.PathLike]) -> pd.DataFrame:
    """One row per variant from results/{dataset}/{variant}/modisco/truth.json."""
    rows = []
    for path in truth_paths:
        record = json.loads(Path(path).read_text())
        row: dict[str, object] = {"variant": Path(path).parent.parent.name}
        row.update({column: record.get(key) for key, column in MODISCO_COLUMNS.items() if key in record})
        rows.append(row)
    return pd.DataFrame(rows)


def with_modisco(summary: pd.DataFrame, truth_paths: Sequence[str | os.PathLike]) -> pd.DataFrame:
    """The per-variant summary with its motif-discovery columns (unchanged without modisco results)."""
    rows = modisco_rows(truth_paths)
    if rows.empty or summary.empty:
        return summary
    return summary.merge(rows, on="variant", how="left")
