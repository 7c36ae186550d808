"""One training job end to end: dataset -> model -> files. Kept out of the rule so it is testable."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from ..data.dataset import read_dataset
from ..io import atomic_path, write_json, write_tsv
from ..threads import limit_threads


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
    """Train and evaluate; writes outputs['model'|'history'|'metrics'|'curve'] atomically."""
    limit_threads(threads)
    from ..models.zoo import build_model
    from ..report.plots import plot_history
    from ..seeding import set_seed
    from .fit import train
    from .metrics import evaluate_model

    set_seed(seed, deterministic=bool(training.get("deterministic", True)))
    data = read_dataset(dataset_path, truth=False)
    train_split, valid_split, test_split = (data.splits[s] for s in ("train", "valid", "test"))
    hp = {k: v for k, v in model_settings.items() if k != "arch"}
    model = build_model(model_settings["arch"], data.length, len(data.tasks), **hp)
    log.info("model %s: %d parameters; regime %s", model_settings["arch"], model.count_params(), dict(regime))
    log.info("train/valid/test: %d/%d/%d", len(train_split), len(valid_split), len(test_split))
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
        monitor=training.get("monitor", "val_loss"),
        lr_decay=bool(training.get("lr_decay", True)),
        seed=seed,
        verbose=2,
    )
    seconds = time.time() - start
    metrics = evaluate_model(model, test_split.x, test_split.y, data.tasks)
    metrics.update(
        seed=seed,
        epochs_trained=len(history),
        train_seconds=round(seconds, 1),
        parameters=int(model.count_params()),
        model=dict(model_settings),
        regime=dict(regime),
    )
    log.info("test AUROC %.4f, AUPR %.4f", metrics["auroc_mean"], metrics["aupr_mean"])
    with atomic_path(outputs["model"]) as tmp:
        model.save(tmp)
    write_tsv(outputs["history"], history)
    plot_history(history, outputs["curve"])
    write_json(outputs["metrics"], metrics)  # last: its presence means the trial is complete
    return metrics
