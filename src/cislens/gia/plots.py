"""One figure per GIA experiment, drawn from its tidy table (so a figure can be redrawn from the TSV).

With many tasks, each motif is drawn on its *top task* (where its effect is largest): for the synthetic
sets that is the motif's own task, and the full grid stays in the table.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..plots import save_figure

_MAX_PANELS = 12


def _empty(path: str | os.PathLike, note: str) -> None:
    fig, ax = plt.subplots(figsize=(4.0, 2.0))
    ax.text(0.5, 0.5, note, ha="center", va="center", wrap=True)
    ax.set_axis_off()
    save_figure(fig, path)


def top_task(frame: pd.DataFrame, column: str, value: str) -> str:
    """The task on which rows with ``frame[column] == value`` reach their largest mean effect."""
    rows = frame[frame[column] == value]
    return str(rows.loc[rows["effect_mean"].idxmax(), "task"])


def _band(ax: plt.Axes, x: np.ndarray, rows: pd.DataFrame, label: str, **kw: object) -> None:
    line = ax.plot(x, rows["effect_mean"], marker="o", markersize=3, label=label, **kw)[0]
    ax.fill_between(x, rows["ci95_low"], rows["ci95_high"], color=line.get_color(), alpha=0.2, linewidth=0)


def plot_occupancy(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Heat map motif x task of the mean effect (bars with 95% CIs for one task; a note when empty)."""
    tasks = list(dict.fromkeys(df["task"]))
    motifs = sorted(dict.fromkeys(df["motif"]))
    if not len(df):
        return _empty(path, "no motifs tested")
    if len(tasks) == 1:
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
    save_figure(fig, path)


def _motif_panels(df: pd.DataFrame, path: str | os.PathLike, x: str, xlabel: str, title: str) -> None:
    """One panel per motif (its top task): effect with 95% CI against ``x``."""
    motifs = list(dict.fromkeys(df["motif"]))[:_MAX_PANELS]
    if not motifs:
        return _empty(path, "no motifs tested")
    cols = min(4, len(motifs))
    rows = -(-len(motifs) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.5 * rows), squeeze=False)
    for ax, motif in zip(axes.flat, motifs, strict=False):
        task = top_task(df, "motif", motif)
        sub = df[(df["motif"] == motif) & (df["task"] == task)].sort_values(x)
        _band(ax, sub[x].to_numpy(dtype=float), sub, task)
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_title(f"{motif} on {task}", fontsize=8)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(motifs) :]:
        ax.set_axis_off()
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)


def plot_position(df: pd.DataFrame, path: str | os.PathLike) -> None:
    _motif_panels(df, path, "center", "motif centre (bp)", "GIA: positional bias")


def plot_sites(df: pd.DataFrame, path: str | os.PathLike) -> None:
    _motif_panels(df, path, "sites", "number of sites", "GIA: number of sites")


def plot_spacing(detail: pd.DataFrame, path: str | os.PathLike) -> None:
    """Cooperativity against distance per orientation, one panel per pair (task of largest |coop|)."""
    coop = detail[detail["measure"] == "cooperativity"]
    pairs = list(dict.fromkeys(zip(coop["motif_a"], coop["motif_b"], strict=True)))[:_MAX_PANELS]
    if not pairs:
        return _empty(path, "no motif pairs tested")
    cols = min(3, len(pairs))
    rows = -(-len(pairs) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.8 * rows), squeeze=False)
    for ax, (a, b) in zip(axes.flat, pairs, strict=False):
        sub = coop[(coop["motif_a"] == a) & (coop["motif_b"] == b)]
        task = str(sub.loc[sub["effect_mean"].abs().idxmax(), "task"])
        for orientation, rows_o in sub[sub["task"] == task].groupby("orientation", sort=True):
            rows_o = rows_o.sort_values("distance")
            _band(ax, rows_o["distance"].to_numpy(dtype=float), rows_o, orientation)
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_title(f"{a} + {b} on {task}", fontsize=8)
        ax.set_xlabel("bases between motifs", fontsize=8)
        ax.set_ylabel("cooperativity", fontsize=8)
        ax.legend(fontsize=6, title="strands", title_fontsize=6)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(pairs) :]:
        ax.set_axis_off()
    fig.suptitle("GIA: spacing and orientation")
    fig.tight_layout()
    save_figure(fig, path)


def plot_cooperativity(summary: pd.DataFrame, path: str | os.PathLike, task: str | None = None) -> None:
    """Heat map of pair cooperativity on one task (default: each pair's largest over the tasks)."""
    if summary.empty:
        return _empty(path, "no motif pairs tested")
    if task is None:
        sub = summary.loc[summary.groupby(["motif_a", "motif_b"], sort=False)["effect_mean"].idxmax()]
        task = "largest over tasks"
    else:
        sub = summary[summary["task"] == task]
    motifs = list(dict.fromkeys([*sub["motif_a"], *sub["motif_b"]]))
    grid = pd.DataFrame(np.nan, index=motifs, columns=motifs)
    for _, r in sub.iterrows():
        grid.loc[r["motif_a"], r["motif_b"]] = grid.loc[r["motif_b"], r["motif_a"]] = r["effect_mean"]
    limit = float(np.nanmax(np.abs(grid.to_numpy()))) or 1.0
    fig, ax = plt.subplots(figsize=(max(4.0, 0.45 * len(motifs) + 2.5), max(3.5, 0.45 * len(motifs) + 1.5)))
    image = ax.imshow(grid.to_numpy(dtype=float), cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_xticks(range(len(motifs)), motifs, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(motifs)), motifs, fontsize=7)
    for _, r in sub[sub["interacting"].astype(bool)].iterrows():
        i, j = motifs.index(r["motif_a"]), motifs.index(r["motif_b"])
        for row, col in ((i, j), (j, i)):
            ax.add_patch(
                plt.Rectangle((col - 0.5, row - 0.5), 1, 1, fill=False, edgecolor="black", linewidth=1.5)
            )
    fig.colorbar(image, ax=ax, label=f"cooperativity ({task})")
    ax.set_title("GIA: pairwise cooperativity (boxed: known interactions)", fontsize=9)
    save_figure(fig, path)


def plot_kmers(
    table: pd.DataFrame, mutagenesis: pd.DataFrame, logos: Mapping[str, np.ndarray], path: str | os.PathLike
) -> None:
    """Per task: aligned logo of the top k-mers and the mutagenesis map of the best one."""
    from ..motifs.logos import plot_logo

    tasks = list(dict.fromkeys(table["task"]))[:_MAX_PANELS]
    if not tasks:
        return _empty(path, "no k-mers scored")
    fig, axes = plt.subplots(len(tasks), 2, figsize=(8.0, 1.9 * len(tasks)), squeeze=False)
    for (ax_logo, ax_mut), task in zip(axes, tasks, strict=True):
        best = table[(table["task"] == task) & (table["rank"] == 1)].iloc[0]
        plot_logo(logos[task], ax_logo, title=f"{task}: top k-mers aligned (best {best['kmer']})")
        sub = mutagenesis[mutagenesis["task"] == task]
        grid = sub.pivot(index="base", columns="offset", values="delta_mean").loc[list("ACGT")]
        limit = float(np.nanmax(np.abs(grid.to_numpy()))) or 1.0
        image = ax_mut.imshow(
            grid.to_numpy(dtype=float), cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto"
        )
        ax_mut.set_yticks(range(4), list("ACGT"), fontsize=7)
        ax_mut.set_xticks(range(grid.shape[1]), list(best["kmer"]), fontsize=7)
        ax_mut.set_title(f"mutagenesis of {best['kmer']} (effect change)", fontsize=8)
        fig.colorbar(image, ax=ax_mut)
    fig.tight_layout()
    save_figure(fig, path)


def plot_gc(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Background score against GC per task, and each motif's effect against GC on its top task."""
    if df.empty:
        return _empty(path, "no GC levels scored")
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.0, 3.4))
    back = df[df["measure"] == "background"]
    for task, rows in list(back.groupby("task", sort=False))[:_MAX_PANELS]:
        _band(left, rows["gc_mean"].to_numpy(dtype=float), rows, str(task))
    left.set_xlabel("GC content")
    left.set_ylabel("background score - mean")
    left.set_title("model response to GC", fontsize=9)
    left.legend(fontsize=6)
    effect = df[df["measure"] == "effect"]
    for motif in list(dict.fromkeys(effect["motif"]))[:_MAX_PANELS]:
        task = top_task(effect, "motif", motif)
        rows = effect[(effect["motif"] == motif) & (effect["task"] == task)]
        _band(right, rows["gc_mean"].to_numpy(dtype=float), rows, f"{motif} ({task})")
    right.set_xlabel("GC content")
    right.set_ylabel("motif effect")
    right.set_title("motif effect by background GC", fontsize=9)
    if len(effect):
        right.legend(fontsize=6)
    for ax in (left, right):
        ax.axhline(0, color="black", linewidth=0.6)
    fig.tight_layout()
    save_figure(fig, path)


def plot_flanks(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Spread of each motif's effect over random flanks (its top task), the core-alone effect marked."""
    motifs = list(dict.fromkeys(df["motif"]))[:_MAX_PANELS]
    if not motifs:
        return _empty(path, "no motifs tested")
    fig, ax = plt.subplots(figsize=(max(4.0, 0.6 * len(motifs) + 2), 3.5))
    data, cores, labels = [], [], []
    for motif in motifs:
        task = top_task(df[df["flank_id"] == -1], "motif", motif)
        rows = df[(df["motif"] == motif) & (df["task"] == task)]
        data.append(rows.loc[rows["flank_id"] >= 0, "effect_mean"].to_numpy())
        cores.append(float(rows.loc[rows["flank_id"] == -1, "effect_mean"].iloc[0]))
        labels.append(f"{motif}\n({task})")
    ax.boxplot(data, showfliers=True)
    ax.scatter(range(1, len(motifs) + 1), cores, marker="D", color="#c44e52", zorder=3, label="core alone")
    ax.set_xticks(range(1, len(motifs) + 1), labels, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("effect with random flanks")
    ax.set_title("GIA: flank sensitivity")
    ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)


def plot_attention(df: pd.DataFrame, path: str | os.PathLike, note: str = "") -> None:
    """Attention at each pair against its cooperativity (first task), known interactions in red."""
    if df.empty:
        return _empty(path, note or "no attention pairs scored")
    task = str(df["task"].iloc[0])
    sub = df[df["task"] == task]
    known = sub["interacting"].astype(bool)
    fig, ax = plt.subplots(figsize=(4.8, 3.8))
    ax.scatter(
        sub.loc[~known, "attention_mean"],
        sub.loc[~known, "effect_mean"],
        s=14,
        color="#4878a8",
        label="other pairs",
    )
    ax.scatter(
        sub.loc[known, "attention_mean"],
        sub.loc[known, "effect_mean"],
        s=30,
        color="#c44e52",
        label="known interaction",
    )
    ax.set_xlabel("attention between motifs (max over heads)")
    ax.set_ylabel(f"cooperativity ({task})")
    ax.set_title(f"attention vs GIA cooperativity{': ' + note if note else ''}", fontsize=8)
    ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)
