"""One training job end to end: dataset -> model -> files. Kept out of the rule so it is testable."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .. import schema
from ..data.dataset import read_dataset
from ..io import atomic_path, write_json, write_tsv
from ..runtime import limit_threads


def train_variant(
    dataset_path: str,
    model_settings: Mapping[str, Any],
    regime: Mapping[str, Any],
    training: Mapping[str, Any],
    seed: int,
    threads: int,
    outputs: Mapping[str, str],
    log: logging.Logger,
) -> dict[str, Any]:
    """Train and evaluate; writes outputs['model'|'history'|'metrics'|'curve'] atomically.

    ``training`` is the config's `training:` section; keys it lacks take the schema's defaults (filled
    already inside Snakemake; cislens.schema is their one source)."""
    limit_threads(threads)
    training = schema.with_defaults("training", training)
    from ..models.zoo import build_model, float32_copy, precision_policy
    from ..plots import plot_history
    from ..runtime import set_seed
    from .fit import compile_model, train
    from .metrics import evaluate_model
    from .regimes import adversarial_accuracy, check_regime, model_overrides

    set_seed(seed, deterministic=bool(training["deterministic"]))
    regime = check_regime(regime or {"kind": "standard"})
    data = read_dataset(dataset_path, truth=False)
    train_split, valid_split, test_split = (data.splits[s] for s in ("train", "valid", "test"))
    task_type = data.summary.get("task_type") or infer_task_type(train_split.y)  # h5: as declared/validated
    hp = {k: v for k, v in model_settings.items() if k != "arch"}
    hp.update(model_overrides(regime))
    precision = str(training["precision"])
    with precision_policy(precision):  # built and trained under it; the global policy is restored after
        model = build_model(model_settings["arch"], data.length, len(data.tasks), task_type=task_type, **hp)
        log.info(
            "model %s (%s): %d parameters; regime %s; precision %s",
            model_settings["arch"],
            task_type,
            model.count_params(),
            dict(regime),
            _precision_note(precision),
        )
        log.info("train/valid/test: %d/%d/%d", len(train_split), len(valid_split), len(test_split))
        checkpoint = Path(outputs["model"]).with_name("checkpoint.npz")
        if checkpoint.exists():
            log.info("resuming from %s", checkpoint)
        start = time.time()
        history = train(
            model,
            train_split.x,
            train_split.y,
            valid_split.x,
            valid_split.y,
            epochs=int(training["epochs"]),
            batch_size=int(training["batch_size"]),
            learning_rate=float(training["learning_rate"]),
            patience=int(training["patience"]),
            monitor=training["monitor"],
            lr_decay=bool(training["lr_decay"]),
            class_weight=training["class_weight"],
            task_type=task_type,
            regime=regime,
            checkpoint=checkpoint,
            seed=seed,
            verbose=2,
        )
    seconds = time.time() - start
    saved = float32_copy(model)  # mixed_float16: saved, scored and attributed in float32
    if saved is not model:
        rate = float(np.asarray(model.optimizer.learning_rate))
        compile_model(saved, learning_rate=rate, task_type=task_type)
        model = saved
    metrics = evaluate_model(model, test_split.x, test_split.y, data.tasks, task_type=task_type)
    robust = training["robustness"]
    if robust["n_sequences"] > 0:
        n = int(robust["n_sequences"])
        metrics["robustness"] = adversarial_accuracy(
            model,
            test_split.x[:n],
            test_split.y[:n],
            epsilon=float(robust["epsilon"]),
            steps=int(robust["steps"]),
        )
        log.info("under PGD attack: %s", metrics["robustness"])
    metrics.update(
        seed=seed,
        epochs_trained=len(history),
        train_seconds=round(seconds, 1),
        parameters=int(model.count_params()),
        model=dict(model_settings),
        regime=dict(regime),
        task_type=task_type,
        precision=precision,
    )
    headline = {k: v for k, v in metrics.items() if k.endswith("_mean")}
    log.info("test %s", ", ".join(f"{k.removesuffix('_mean')} {v:.4f}" for k, v in headline.items()))
    with atomic_path(outputs["model"]) as tmp:
        model.save(tmp)
    write_tsv(outputs["history"], history)
    plot_history(history, outputs["curve"])
    write_json(outputs["metrics"], metrics)  # last: its presence means the trial is complete
    checkpoint.unlink(missing_ok=True)  # the finished model supersedes it
    return metrics


def infer_task_type(y: np.ndarray) -> str:
    """``binary`` when every label is 0 or 1, else ``regression`` (e.g. RNAcompete intensities)."""
    return "binary" if np.isin(np.asarray(y), (0.0, 1.0)).all() else "regression"


def _precision_note(precision: str) -> str:
    """The log's precision: mixed_float16 computes in float16 on float32 weights, with loss scaling."""
    if precision == "mixed_float16":
        return "mixed_float16 (float16 compute, float32 weights and outputs, dynamic loss scaling)"
    return precision
