"""Score attributions against ground truth: per-sequence AUROC/AUPR, SNR, gradient angles.

A position's score is the attribution at the observed base (attr * x summed over bases), signed:
a model that explains a motif by negative evidence is penalised, as in the published benchmarks.
Attributions already multiplied by (x - baseline) (integrated and expected gradients, DeepSHAP) are
read the same way, at the observed base; ISM deltas first go through ``ism_position_map``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..ppm import information

_EPS = 1e-6  # float slack so uniform background columns (exactly 0 bits) never count as motif


def position_scores(attr: np.ndarray, x: np.ndarray) -> np.ndarray:
    """(N, L) attribution at the observed base."""
    return (np.asarray(attr, dtype=np.float64) * np.asarray(x, dtype=np.float64)).sum(axis=-1)


ISM_SCORES = ("l2", "centered")


def ism_position_map(delta: np.ndarray, x: np.ndarray, kind: str = "l2") -> np.ndarray:
    """ISM deltas (N, L, 4) -> a map non-zero only at the observed base, for ``position_scores``.

    "l2" (default): ||delta||_2 over the 4 bases, the per-position ISM score of the exponential-
    activation paper's code, behind its ISM AUROCs (Koo & Ploenzke 2021); unsigned, as a position matters
    whichever way its mutations move the prediction. "centered" (tangermeme's convention): delta
    minus its per-position mean, read at the observed base: -sum_b delta_b / 4, i.e. 3/4 of the mean
    over the 3 mutants of -delta; signed, positive where mutations lower the prediction.
    """
    delta = np.asarray(delta, dtype=np.float32)
    x = np.asarray(x, dtype=np.float32)
    if kind == "l2":
        return np.sqrt(np.sum(delta**2, axis=-1, keepdims=True)) * x
    if kind == "centered":
        return (delta - delta.mean(axis=-1, keepdims=True)) * x
    raise InputError(f"unknown ISM score {kind!r}; valid: {', '.join(ISM_SCORES)}")


def truth_positions(truth: np.ndarray, threshold: float = 0.1) -> np.ndarray:
    """(N, L) bool: positions whose true column carries more than ``threshold`` bits."""
    return information(truth) > threshold + _EPS


def _curves(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """AUROC and average precision for one sequence (scikit-learn's definitions, ties grouped)."""
    order = np.argsort(-scores, kind="mergesort")
    s, y = scores[order], labels[order].astype(np.float64)
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tps = np.cumsum(y)[last]
    fps = last + 1 - tps
    tpr = np.r_[0.0, tps / tps[-1]]
    fpr = np.r_[0.0, fps / fps[-1]]
    auroc = float(np.trapezoid(tpr, fpr))
    precision = tps / (tps + fps)
    aupr = float(np.sum(np.diff(tpr) * precision))
    return auroc, aupr


def _snr(scores: np.ndarray, labels: np.ndarray, top_k: int) -> float:
    background = scores[~labels]
    background = np.sort(background[background > 0])[::-1][:top_k]
    if background.size == 0:
        return float("nan")
    return float(scores[labels].mean() / background.mean())


def per_sequence(
    attr: np.ndarray, x: np.ndarray, truth: np.ndarray, *, threshold: float = 0.1, top_k: int = 10
) -> pd.DataFrame:
    """One row per sequence that has both motif and background positions: index, auroc, aupr, snr."""
    scores = position_scores(attr, x)
    labels = truth_positions(truth, threshold)
    rows = []
    for i in range(len(scores)):
        n_pos = int(labels[i].sum())
        if n_pos == 0 or n_pos == labels.shape[1]:
            continue
        auroc, aupr = _curves(scores[i], labels[i])
        rows.append({"index": i, "auroc": auroc, "aupr": aupr, "snr": _snr(scores[i], labels[i], top_k)})
    return pd.DataFrame(rows, columns=["index", "auroc", "aupr", "snr"])


def cosine_similarity(attr: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(N,) cosine between each (L, 4) map and its centred truth (truth - 0.25: zero off-motif).

    Reads the whole map, not only the observed base, so it sees what gradient correction changes:
    the centred truth sums to zero per position, so removing a map's per-position mean can only
    raise the cosine where the map agrees with the truth at all.
    """
    a = np.asarray(attr, dtype=np.float64).reshape(len(attr), -1)
    t = (np.asarray(truth, dtype=np.float64) - 0.25).reshape(len(truth), -1)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(t, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(norms > 0, (a * t).sum(axis=1) / norms, np.nan)


def interpretability(
    attr: np.ndarray,
    x: np.ndarray,
    truth: np.ndarray,
    *,
    thresholds: Sequence[float] = (0.0, 0.01, 0.1),
    top_k: int = 10,
) -> pd.DataFrame:
    """One row per information threshold: mean/sd of per-sequence AUROC and AUPR, mean SNR, and the
    mean cosine similarity of the whole map to the centred truth (the same on every row)."""
    cosine = cosine_similarity(attr, truth)
    cosine_mean = float(np.nanmean(cosine)) if np.isfinite(cosine).any() else float("nan")
    rows = []
    for threshold in thresholds:
        table = per_sequence(attr, x, truth, threshold=threshold, top_k=top_k)
        rows.append(
            {
                "threshold": float(threshold),
                "auroc_mean": float(table["auroc"].mean()) if len(table) else float("nan"),
                "auroc_sd": float(table["auroc"].std()) if len(table) > 1 else float("nan"),
                "aupr_mean": float(table["aupr"].mean()) if len(table) else float("nan"),
                "aupr_sd": float(table["aupr"].std()) if len(table) > 1 else float("nan"),
                "snr_mean": float(np.nanmean(table["snr"])) if table["snr"].notna().any() else float("nan"),
                "cosine_mean": cosine_mean,
                "n_sequences": len(table),
            }
        )
    return pd.DataFrame(rows)


def gradient_angles(grad: np.ndarray) -> np.ndarray:
    """(N, L) angle in degrees between each position's gradient and the simplex plane.

    sin(theta) = sum_a g_a / (2 ||g||); large angles mean much of the gradient points off the
    simplex, where one-hot inputs can never go, and is noise that correction removes.
    """
    g = np.asarray(grad, dtype=np.float64)
    norm = np.linalg.norm(g, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        sin = np.where(norm > 0, g.sum(axis=-1) / (2.0 * norm), 0.0)
    return np.degrees(np.arcsin(np.clip(sin, -1.0, 1.0)))


def angle_summary(grad: np.ndarray, thresholds: Sequence[float] = (30, 45, 60)) -> dict[str, float]:
    """Percentage of positions whose |angle| exceeds each threshold."""
    angles = np.abs(gradient_angles(grad))
    return {f"pct_above_{int(t)}": float(100.0 * (angles > t).mean()) for t in thresholds}
