"""Plots the workflow writes beside its tables (PNG, atomic)."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .io import atomic_path


def save_figure(fig: plt.Figure, path: str | os.PathLike, dpi: int = 150) -> None:
    """Save and close a figure atomically; the format follows the path's suffix."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format=str(path).rsplit(".", 1)[-1])
    plt.close(fig)


def plot_history(history: pd.DataFrame, path: str | os.PathLike) -> None:
    """Loss and validation metrics per epoch, with the restored (best) epoch marked."""
    metrics = [c for c in ("val_auroc", "val_aupr", "val_pearson", "val_spearman") if c in history]
    fig, axes = plt.subplots(1, 1 + bool(metrics), figsize=(4.2 * (1 + bool(metrics)), 3.0))
    axes = [axes] if not metrics else list(axes)
    epochs = history["epoch"] if "epoch" in history else range(1, len(history) + 1)
    axes[0].plot(epochs, history["loss"], label="train")
    if "val_loss" in history:
        axes[0].plot(epochs, history["val_loss"], label="valid")
    if "best" in history and history["best"].any():  # the epoch whose weights were restored
        best = int(np.flatnonzero(history["best"].to_numpy(bool))[-1])
        for ax in axes:
            ax.axvline(list(epochs)[best], color="grey", ls=":", lw=1, label="restored")
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel("loss")
    axes[0].legend(frameon=False)
    if metrics:
        for column in metrics:
            axes[1].plot(epochs, history[column], label=column.removeprefix("val_").upper())
        axes[1].set_xlabel("epoch")
        axes[1].set_ylabel("validation")
        axes[1].legend(frameon=False)
    for ax in axes:
        ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    save_figure(fig, path)
