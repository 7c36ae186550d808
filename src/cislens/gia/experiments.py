"""GIA experiments: global importance = mean over backgrounds of f(embedded) - f(background)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import keras
import numpy as np
import pandas as pd

from ..errors import InputError
from ..io import atomic_path
from ..models.zoo import target_model
from .embed import center_position, consensus_onehot, embed

OCCUPANCY_COLUMNS = ("motif", "task", "position", "effect_mean", "effect_sd", "ci95_low", "ci95_high", "n")


def _predict(net: keras.Model, x: np.ndarray, batch_size: int) -> np.ndarray:
    out = net.predict(np.asarray(x, dtype=np.float32), batch_size=batch_size, verbose=0)
    return np.asarray(out, dtype=np.float64).reshape(len(x), -1)


def predict(
    model: keras.Model,
    x: np.ndarray,
    *,
    target: str = "logit",
    task: int | None = None,
    batch_size: int = 256,
) -> np.ndarray:
    """Model scores (N, T), or (N,) for one ``task``; logits by default (additive effects)."""
    out = _predict(target_model(model, target), x, batch_size)
    return out if task is None else out[:, task]


def _summarise(effect: np.ndarray) -> dict[str, float]:
    n = len(effect)
    mean = float(effect.mean())
    sd = float(effect.std(ddof=1)) if n > 1 else float("nan")
    half = 1.96 * sd / np.sqrt(n) if n > 1 else float("nan")
    return {"effect_mean": mean, "effect_sd": sd, "ci95_low": mean - half, "ci95_high": mean + half, "n": n}


def single_motif_occupancy(
    model: keras.Model,
    backgrounds: np.ndarray,
    motifs: dict[str, np.ndarray],
    *,
    position: str | int = "center",
    task_names: Sequence[str],
    target: str = "logit",
    batch_size: int = 256,
) -> pd.DataFrame:
    """Effect of embedding each motif's consensus at one position, per motif and task.

    Rows are sorted by motif, then by effect (largest first), so a motif's own task leads its block.
    """
    net = target_model(model, target)
    base = _predict(net, backgrounds, batch_size)
    if base.shape[1] != len(task_names):
        raise InputError(f"model has {base.shape[1]} outputs but {len(task_names)} task names were given")
    rows = []
    for name, ppm in motifs.items():
        pattern = consensus_onehot(ppm)
        if position == "center":
            start = center_position(backgrounds.shape[1], len(pattern))
        elif isinstance(position, int | np.integer):
            start = int(position)
        else:
            raise InputError(f"position must be 'center' or an integer, got {position!r}")
        effect = _predict(net, embed(backgrounds, pattern, start), batch_size) - base
        for t, task in enumerate(task_names):
            rows.append({"motif": name, "task": str(task), "position": start, **_summarise(effect[:, t])})
    frame = pd.DataFrame(rows, columns=list(OCCUPANCY_COLUMNS))
    return frame.sort_values(
        ["motif", "effect_mean"], ascending=[True, False], kind="mergesort", ignore_index=True
    )


def plot_occupancy(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Heat map motif x task of the mean effect (bars with 95% CIs for one task; a note when empty)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(dict.fromkeys(df["task"]))
    motifs = sorted(dict.fromkeys(df["motif"]))
    if not len(df):
        fig, ax = plt.subplots(figsize=(4.0, 2.0))
        ax.text(0.5, 0.5, "no motifs tested", ha="center", va="center")
        ax.set_axis_off()
    elif len(tasks) == 1:
        sub = df.set_index("motif").loc[motifs]
        fig, ax = plt.subplots(figsize=(max(4.0, 0.5 * len(motifs) + 2), 3.5))
        err = np.vstack([sub["effect_mean"] - sub["ci95_low"], sub["ci95_high"] - sub["effect_mean"]])
        ax.bar(motifs, sub["effect_mean"], yerr=err, color="#4878a8", capsize=3)
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_ylabel(f"global importance ({tasks[0]})")
        ax.tick_params(axis="x", rotation=60)
    else:
        grid = df.pivot(index="motif", columns="task", values="effect_mean").loc[motifs, tasks]
        limit = float(np.nanmax(np.abs(grid.to_numpy()))) or 1.0
        fig, ax = plt.subplots(figsize=(max(4.0, 0.45 * len(tasks) + 2.5), max(3.0, 0.4 * len(motifs) + 1.5)))
        image = ax.imshow(grid.to_numpy(), cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
        ax.set_xticks(range(len(tasks)), tasks, rotation=60, ha="right")
        ax.set_yticks(range(len(motifs)), motifs)
        ax.set_xlabel("task")
        ax.set_ylabel("embedded motif")
        fig.colorbar(image, ax=ax, label="global importance")
    ax.set_title("GIA: single-motif occupancy")
    fig.tight_layout()
    suffix = os.fspath(path).rsplit(".", 1)[-1].lower()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=suffix if suffix in ("png", "pdf", "svg") else "png", dpi=150)
    plt.close(fig)
