"""The plain fit loop: Adam, early stopping that really restores the best weights, LR decay."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import pandas as pd

from ..errors import InputError


def task_type_of(model: keras.Model) -> str:
    """``binary`` when the ``output`` layer is a sigmoid, else ``regression``."""
    try:
        activation = model.get_layer("output").activation
    except (ValueError, AttributeError):
        return "binary"
    return "binary" if getattr(activation, "__name__", "") == "sigmoid" else "regression"


def compile_model(model: keras.Model, *, learning_rate: float = 3e-4, task_type: str | None = None) -> None:
    """Compile with the losses and metrics every regime shares (AUROC/AUPR or MSE)."""
    task_type = task_type or task_type_of(model)
    n_tasks = int(model.output.shape[-1])
    if task_type == "binary":
        loss: Any = keras.losses.BinaryCrossentropy()
        multi = n_tasks > 1
        metrics: list[Any] = [
            keras.metrics.AUC(
                curve="ROC", multi_label=multi, num_labels=n_tasks if multi else None, name="auroc"
            ),
            keras.metrics.AUC(
                curve="PR", multi_label=multi, num_labels=n_tasks if multi else None, name="aupr"
            ),
        ]
    elif task_type == "regression":
        loss = keras.losses.MeanSquaredError()
        metrics = [keras.metrics.PearsonCorrelation(name="pearson")]
    else:
        raise InputError(f"unknown task_type {task_type!r}; valid: binary, regression")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss=loss, metrics=metrics)


class _LearningRateLogger(keras.callbacks.Callback):
    """Log the learning rate used during the epoch (runs before ReduceLROnPlateau changes it)."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["lr"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))


def _mode(monitor: str) -> str:
    return "min" if "loss" in monitor else "max"


def train(
    model: keras.Model,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_valid: np.ndarray,
    y_valid: np.ndarray,
    *,
    epochs: int = 100,
    batch_size: int = 100,
    learning_rate: float = 3e-4,
    patience: int = 10,
    monitor: str = "val_loss",
    seed: int = 0,
    verbose: int = 2,
    class_weight: dict[int, float] | None = None,
    lr_decay: bool = True,
    task_type: str | None = None,
) -> pd.DataFrame:
    """Train in place and return one history row per epoch (``best`` marks the restored epoch).

    The weights left in ``model`` are those of the best ``monitor`` epoch, whether training stopped
    early or ran out of epochs (the reference code kept the last epoch's weights).
    """
    keras.utils.set_random_seed(int(seed))
    compile_model(model, learning_rate=learning_rate, task_type=task_type)
    mode = _mode(monitor)
    stopper = keras.callbacks.EarlyStopping(
        monitor=monitor, mode=mode, patience=patience, restore_best_weights=True, verbose=0
    )
    callbacks: list[keras.callbacks.Callback] = [_LearningRateLogger(), keras.callbacks.TerminateOnNaN()]
    if lr_decay:
        callbacks.insert(
            1,
            keras.callbacks.ReduceLROnPlateau(
                monitor=monitor, mode=mode, factor=0.2, patience=5, min_lr=1e-7, verbose=0
            ),
        )
    callbacks.append(stopper)
    fit = model.fit(
        np.asarray(x_train, dtype=np.float32),
        np.asarray(y_train, dtype=np.float32),
        validation_data=(np.asarray(x_valid, dtype=np.float32), np.asarray(y_valid, dtype=np.float32)),
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
        callbacks=callbacks,
        verbose=verbose,
        class_weight=class_weight,
    )
    if stopper.best_weights is not None:  # idempotent; guards against Keras versions that skip it
        model.set_weights(stopper.best_weights)
    history = pd.DataFrame(fit.history).drop(columns=["learning_rate"], errors="ignore")
    history.insert(0, "epoch", np.arange(1, len(history) + 1))
    if monitor not in history:
        raise InputError(f"monitor {monitor!r} is not a logged metric; logged: {', '.join(history.columns)}")
    best = int(history[monitor].idxmin() if mode == "min" else history[monitor].idxmax())
    history["best"] = history.index == best
    history.attrs["best_epoch"] = best + 1
    return history
