"""Figures for the protein branch (PNG or PDF by suffix, written atomically via ``save_figure``)."""

from __future__ import annotations

import os
from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from ..plots import save_figure
from .contacts import ranked_pairs


def plot_contact_map(
    scores: np.ndarray,
    contacts: np.ndarray,
    path: str | os.PathLike,
    *,
    known: np.ndarray | None = None,
    top: int | None = None,
    min_separation: int = 6,
    index: np.ndarray | None = None,
    title: str = "",
) -> None:
    """Upper triangle: the top predicted pairs (true positive / false positive); lower: true contacts."""
    length = scores.shape[0]
    top = length if top is None else int(top)
    i, j = ranked_pairs(scores, known, min_separation, index)
    i, j = i[:top], j[:top]
    hit = contacts[i, j]
    where = np.arange(length) if index is None else np.asarray(index)
    ti, tj = np.nonzero(np.triu(contacts, k=1))
    far = np.abs(where[ti] - where[tj]) >= min_separation
    ti, tj = ti[far], tj[far]
    fig, ax = plt.subplots(figsize=(4.6, 4.6))
    ax.scatter(ti, tj, s=14, marker="s", color="0.8", label="true contact", linewidths=0)
    ax.scatter(j[hit], i[hit], s=10, color="tab:blue", label="predicted, correct")
    ax.scatter(j[~hit], i[~hit], s=10, color="tab:red", marker="x", label="predicted, wrong")
    ax.plot([0, length - 1], [0, length - 1], color="0.5", lw=0.8)
    ax.set_xlim(-0.5, length - 0.5)
    ax.set_ylim(length - 0.5, -0.5)
    ax.set_aspect("equal")
    ax.set_xlabel("column j")
    ax.set_ylabel("column i")
    precision = float(hit.mean()) if hit.size else float("nan")
    ax.set_title(f"{title} top {top}, sep >= {min_separation}: precision {precision:.2f}".strip(), fontsize=9)
    ax.legend(loc="lower left", fontsize=7, frameon=False)
    save_figure(fig, path)


def plot_precision_curves(
    curves: Mapping[str, np.ndarray], path: str | os.PathLike, *, length: int | None = None, title: str = ""
) -> None:
    """Precision of the top-k pairs against k, one line per model; L, L/2, L/5 marked when given."""
    fig, ax = plt.subplots(figsize=(4.6, 3.2))
    for name, curve in curves.items():
        ax.plot(np.arange(1, len(curve) + 1), curve, label=name, lw=1.2)
    if length:
        for frac, style in ((1, "-"), (2, "--"), (5, ":")):
            ax.axvline(length / frac, color="0.6", ls=style, lw=0.8)
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("top k predicted pairs")
    ax.set_ylabel("precision")
    ax.set_title(title, fontsize=9)
    ax.legend(frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    save_figure(fig, path)


def plot_dms_scatter(
    predicted: np.ndarray,
    measured: np.ndarray,
    path: str | os.PathLike,
    *,
    rho: float | None = None,
    label: str = "model",
) -> None:
    """Predicted effect against the measured score, with the Spearman correlation in the title."""
    predicted, measured = np.asarray(predicted, float), np.asarray(measured, float)
    ok = np.isfinite(predicted) & np.isfinite(measured)
    fig, ax = plt.subplots(figsize=(3.8, 3.4))
    ax.scatter(predicted[ok], measured[ok], s=6, alpha=0.5, linewidths=0)
    ax.set_xlabel(f"{label} effect")
    ax.set_ylabel("measured")
    ax.set_title(f"n = {int(ok.sum())}" + (f", Spearman {rho:.3f}" if rho is not None else ""), fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    save_figure(fig, path)


def plot_attention_heads(
    maps: np.ndarray, path: str | os.PathLike, *, order: np.ndarray | None = None, max_heads: int = 8
) -> None:
    """The first ``max_heads`` attention maps (in ``order``, e.g. by contact precision)."""
    order = np.arange(len(maps)) if order is None else np.asarray(order)
    shown = order[:max_heads]
    cols = min(4, len(shown))
    rows = -(-len(shown) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.2 * cols, 2.2 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, head in zip(axes.ravel(), shown, strict=False):
        ax.imshow(maps[head], cmap="viridis")
        ax.set_title(f"head {int(head)}", fontsize=8)
    save_figure(fig, path)
