"""One attribution job: maps for test sequences, ground-truth scores, logos of the top sequences."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import h5py
import numpy as np
import pandas as pd

from ..data.dataset import read_info, read_split
from ..io import atomic_path, write_tsv
from ..threads import limit_threads

METHODS = ("saliency", "grad_times_input")


def select_sequences(y: np.ndarray, n: int) -> np.ndarray:
    """Indices of the first ``n`` test sequences with any positive label (anchors: first positives)."""
    positive = np.flatnonzero(np.asarray(y).max(axis=1) > 0.5) if y.size else np.arange(0)
    if positive.size == 0:
        positive = np.arange(len(y))
    return positive[:n]


def attribution_task(task: str | int, y: np.ndarray) -> np.ndarray | int | None:
    """Which outputs to explain: each sequence's positive tasks (default), all tasks, or one index."""
    if task == "positive":
        return (np.asarray(y) > 0.5).astype(np.float32)
    if task == "all":
        return None
    return int(task)


def attribute_trial(
    dataset_path: str,
    model_path: str,
    method: str,
    settings: Mapping[str, Any],
    threads: int,
    outputs: Mapping[str, str],
    log: logging.Logger,
) -> pd.DataFrame:
    limit_threads(threads)
    from ..models.zoo import load_model
    from ..motifs.logos import plot_logo
    from ..report.plots import save_figure
    from . import gradients
    from .evaluate import interpretability

    if method not in METHODS:
        from ..errors import InputError

        raise InputError(f"unknown attribution method {method!r} (known: {', '.join(METHODS)})")
    test = read_split(dataset_path, "test")
    tasks = read_info(dataset_path)["tasks"]
    idx = select_sequences(test.y, int(settings["n_sequences"]))
    x = test.x[idx]
    model = load_model(model_path)
    task = attribution_task(settings.get("task", "positive"), test.y[idx])
    grad = gradients.saliency(model, x, target=settings["target"], task=task)
    if settings.get("correct", True):
        grad = gradients.correct_gradients(grad)
    attr = grad * x if method == "grad_times_input" else grad
    log.info(
        "%s on %d test sequences (target %s of task %s, corrected %s)",
        method,
        len(x),
        settings["target"],
        settings.get("task", "positive"),
        settings.get("correct", True),
    )

    if test.truth is not None:
        chosen = float(settings.get("truth_threshold", 0.1))
        scores = interpretability(attr, x, test.truth[idx], thresholds=sorted({0.0, 0.01, 0.1, chosen}))
        scores.insert(0, "method", method)
        log.info("ground truth:\n%s", scores.to_string(index=False))
    else:
        scores = pd.DataFrame(
            columns=["method", "threshold", "auroc_mean", "aupr_mean", "snr_mean", "n_sequences"]
        )
    write_tsv(outputs["scores"], scores)

    with atomic_path(outputs["maps"]) as tmp, h5py.File(tmp, "w") as handle:
        handle.create_dataset(
            "attribution", data=attr.astype(np.float32), compression="gzip", track_times=False
        )
        handle.create_dataset("x", data=x.astype(np.uint8), compression="gzip", track_times=False)
        handle.create_dataset("index", data=idx, track_times=False)
        handle.attrs.update(
            method=method,
            target=settings["target"],
            split="test",
            corrected=bool(settings.get("correct", True)),
            tasks=np.array(tasks, dtype="S"),
        )

    _plot_top(
        model,
        x,
        attr,
        test.truth[idx] if test.truth is not None else None,
        float(settings.get("truth_threshold", 0.1)),
        int(settings.get("n_logos", 4)),
        outputs["logos"],
        plot_logo,
        save_figure,
    )
    return scores


def _plot_top(model, x, attr, truth, threshold, n_logos, path, plot_logo, save_figure) -> None:
    """Attribution logos (observed base only) of the sequences the model scores highest.

    Where the planted motifs are known, their positions are shaded so the eye can check the map.
    """
    import matplotlib.pyplot as plt

    from ..gia.experiments import predict
    from .evaluate import truth_positions

    n = min(n_logos, len(x))
    if n == 0:  # still write the declared output, as an empty figure that says so
        fig = plt.figure(figsize=(4, 0.6))
        fig.text(0.5, 0.5, "no attribution logos requested", ha="center", va="center")
        save_figure(fig, path)
        return
    pred = predict(model, x, target="logit")
    pred = pred.max(axis=1) if pred.ndim == 2 else pred
    top = np.argsort(-pred, kind="stable")[:n]
    motif = truth_positions(truth[top], threshold=threshold) if truth is not None else None
    fig, axes = plt.subplots(n, 1, figsize=(12, 1.5 * n), squeeze=False)
    for row, (ax, i) in enumerate(zip(axes[:, 0], top, strict=True)):
        if motif is not None:
            for start, stop in _runs(motif[row]):
                ax.axvspan(start - 0.5, stop - 0.5, color="#f4d35e", alpha=0.35, lw=0)
        plot_logo(attr[i] * x[i], ax, kind="weight")
        label = " (shaded: planted motifs)" if motif is not None else ""
        ax.set_title(f"test sequence {i}, logit {pred[i]:.2f}{label}", fontsize=8, loc="left")
    fig.tight_layout()
    save_figure(fig, path)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))
