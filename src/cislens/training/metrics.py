"""Held-out performance with scikit-learn (exact, unlike Keras' binned AUC)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats
from sklearn.metrics import average_precision_score, roc_auc_score

from ..models.predict import Model, predict_output


def _nanmean(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return float(np.mean(finite)) if finite else float("nan")


def evaluate_predictions(
    y: np.ndarray, pred: np.ndarray, task_names: Sequence[str], task_type: str = "binary"
) -> dict[str, Any]:
    """Per-task and mean metrics; a task whose labels have one class gets NaN and is left out of the mean."""
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    pred = np.asarray(pred, dtype=np.float64).reshape(len(pred), -1)
    if y.shape != pred.shape or y.shape[1] != len(task_names):
        raise ValueError(f"shapes differ: y {y.shape}, predictions {pred.shape}, {len(task_names)} tasks")
    per_task: list[dict[str, Any]] = []
    for t, name in enumerate(task_names):
        yt, pt = y[:, t], pred[:, t]
        if task_type == "binary":
            n_pos = int((yt > 0.5).sum())
            two_classes = 0 < n_pos < len(yt)
            per_task.append(
                {
                    "task": str(name),
                    "auroc": float(roc_auc_score(yt > 0.5, pt)) if two_classes else float("nan"),
                    "aupr": float(average_precision_score(yt > 0.5, pt)) if two_classes else float("nan"),
                    "n_pos": n_pos,
                }
            )
        else:
            varied = np.std(yt) > 0 and np.std(pt) > 0
            per_task.append(
                {
                    "task": str(name),
                    "pearson": float(stats.pearsonr(yt, pt)[0]) if varied else float("nan"),
                    "spearman": float(stats.spearmanr(yt, pt)[0]) if varied else float("nan"),
                    "mse": float(np.mean((yt - pt) ** 2)),
                }
            )
    keys = ("auroc", "aupr") if task_type == "binary" else ("pearson", "spearman", "mse")
    record: dict[str, Any] = {f"{k}_mean": _nanmean([row[k] for row in per_task]) for k in keys}
    record["per_task"] = per_task
    record["n"] = len(y)
    return record


def evaluate_model(
    model: Model,
    x: np.ndarray,
    y: np.ndarray,
    task_names: Sequence[str],
    task_type: str = "binary",
    batch_size: int = 256,
) -> dict[str, Any]:
    """Predict ``x`` (the model's final output) and score it against ``y``."""
    pred = predict_output(model, x, batch_size)
    return evaluate_predictions(y, pred, task_names, task_type)
