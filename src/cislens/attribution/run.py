"""One attribution job per trial: every configured method's maps for the same test sequences, their
ground-truth scores and logos of the top sequences.

One job runs all methods so the model, the test split and the framework are loaded once per trial: a
job's fixed cost (starting Python, importing TensorFlow, loading the model) is several seconds, often
more than a method's own work on a few hundred sequences.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import h5py
import numpy as np
import pandas as pd

from .. import schema
from ..data.dataset import read_info, read_split
from ..errors import InputError
from ..io import atomic_path, write_tsv
from ..runtime import limit_threads

# Keyword arguments the job sets itself; everything else a method takes may come from ``options``.
_JOB_ARGUMENTS = frozenset({"model", "x", "target", "task", "progress", "correct", "hypothetical"})


def select_sequences(y: np.ndarray, n: int) -> np.ndarray:
    """Indices of the first ``n`` test sequences with any positive label (as Koo & Ploenzke 2021 did)."""
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


def check_method(method: str) -> None:
    """Fail with one line on an unknown method name, before any data is read."""
    from .methods import METHODS

    if method not in METHODS:
        raise InputError(f"unknown attribution method {method!r} (known: {', '.join(METHODS)})")


def compute_attribution(
    model: Any,
    x: np.ndarray,
    method: str,
    settings: Mapping[str, Any],
    task: int | np.ndarray | None,
    *,
    progress: bool = True,
) -> np.ndarray:
    """Run one method by name with the job's target, task and correction plus its ``options``.

    ``settings["options"][method]`` holds method-specific keywords (steps, n_samples, ...); the
    gradient correction (``settings["correct"]``, default on) applies to every gradient method.
    """
    from .methods import CORRECTABLE, METHODS

    check_method(method)
    settings = schema.with_defaults("attribution", settings)  # the schema: the one source of defaults
    fn = METHODS[method]
    options = dict((settings["options"] or {}).get(method) or {})
    valid = sorted(set(inspect.signature(fn).parameters) - _JOB_ARGUMENTS)
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise InputError(
            f"unknown option(s) {', '.join(unknown)} for attribution method {method!r}; "
            f"valid: {', '.join(valid)}"
        )
    kwargs: dict[str, Any] = {"target": settings["target"], "task": task, "progress": progress}
    if method in CORRECTABLE:
        kwargs["correct"] = bool(settings["correct"])
    return fn(model, x, **kwargs, **options)


def scoring_map(method: str, attr: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The map that ground-truth scoring and logos read at the observed base.

    ISM deltas become per-position L2 norms (``evaluate.ism_position_map``); every other method is
    read as it is (``evaluate.position_scores`` multiplies by x).
    """
    from .evaluate import ism_position_map

    return ism_position_map(attr, x) if method == "ism" else attr


def attribute_trial(
    dataset_path: str,
    model_path: str,
    methods: Sequence[str],
    settings: Mapping[str, Any],
    threads: int,
    outputs: Mapping[str, Mapping[str, str]],
    log: logging.Logger,
) -> pd.DataFrame:
    """Run each of ``methods`` on the trial's selected test sequences; ``outputs[method]`` names its
    ``maps`` (HDF5), ``scores`` (TSV) and ``logos`` (figure). Returns every method's scores, stacked."""
    for method in methods:  # every name checked before any data is read
        check_method(method)
    missing = [m for m in methods if set(outputs.get(m, {})) != {"maps", "scores", "logos"}]
    if missing:
        raise InputError(f"attribution outputs (maps, scores, logos) not given for: {', '.join(missing)}")
    limit_threads(threads)
    from ..models.zoo import load_model

    settings = schema.with_defaults("attribution", settings)  # the schema: the one source of defaults
    test = read_split(dataset_path, "test")
    tasks = read_info(dataset_path)["tasks"]
    idx = select_sequences(test.y, int(settings["n_sequences"]))
    x = test.x[idx]
    truth = test.truth[idx] if test.truth is not None else None
    model = load_model(model_path)
    task = attribution_task(settings["task"], test.y[idx])
    tables = [
        _attribute_method(model, x, idx, truth, tasks, task, method, settings, outputs[method], log)
        for method in methods
    ]
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


def _attribute_method(
    model: Any,
    x: np.ndarray,
    idx: np.ndarray,
    truth: np.ndarray | None,
    tasks: Sequence[str],
    task: int | np.ndarray | None,
    method: str,
    settings: Mapping[str, Any],
    outputs: Mapping[str, str],
    log: logging.Logger,
) -> pd.DataFrame:
    """One method: its maps, ground-truth scores (when the truth is known) and logos, each written
    atomically."""
    from ..motifs.logos import plot_logo
    from ..plots import save_figure
    from .evaluate import interpretability, position_scores
    from .methods import CORRECTABLE

    attr = compute_attribution(model, x, method, settings, task)
    scored = scoring_map(method, attr, x)
    corrected = method in CORRECTABLE and bool(settings["correct"])
    options = dict((settings["options"] or {}).get(method) or {})
    log.info(
        "%s on %d test sequences (target %s of task %s, corrected %s, options %s)",
        method,
        len(x),
        settings["target"],
        settings["task"],
        corrected,
        options,
    )

    angles: dict[str, float] = {}
    raw = None
    if method == "saliency":  # the angle diagnostic (Majdandzic et al. 2023) reads the raw gradient
        from .gradients import gradient_angles

        raw = (
            attr
            if not corrected
            else compute_attribution(model, x, method, {**settings, "correct": False}, task, progress=False)
        )
        angles = {f"angle_{k}": v for k, v in gradient_angles(raw).items()}
        log.info("raw gradients off the simplex (%% of positions): %s", angles)

    if truth is not None:
        chosen = float(settings["truth_threshold"])
        thresholds = sorted({0.0, 0.01, 0.1, chosen})
        scores = interpretability(scored, x, truth, thresholds=thresholds)
        scores.insert(0, "method", method)
        if raw is not None and corrected:  # what the correction gained, measured on the same maps
            uncorrected = interpretability(raw, x, truth, thresholds=thresholds)
            uncorrected.insert(0, "method", f"{method}_uncorrected")
            scores = pd.concat([scores, uncorrected], ignore_index=True)
        for key, value in angles.items():
            scores[key] = value
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
        handle.create_dataset(
            "position_score",
            data=position_scores(scored, x).astype(np.float32),
            compression="gzip",
            track_times=False,
        )
        handle.create_dataset("x", data=x.astype(np.uint8), compression="gzip", track_times=False)
        handle.create_dataset("index", data=idx, track_times=False)
        handle.attrs.update(
            method=method,
            target=settings["target"],
            split="test",
            corrected=corrected,
            **angles,
            options=json.dumps(options, sort_keys=True),
            tasks=np.array(tasks, dtype="S"),
        )

    _plot_top(
        model,
        x,
        scored,
        truth,
        float(settings["truth_threshold"]),
        int(settings["n_logos"]),
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

    from ..models.predict import predict
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
