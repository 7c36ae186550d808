"""The one place GIA calls a model (TensorFlow), plus the original single-motif entry points.

Every experiment takes a *scorer*, a plain function from one-hot sequences (N, L, 4) to scores (N, T),
so the experiments are pure numpy and testable with any function; :func:`scorer` makes one from a Keras
model. Global importance = mean over backgrounds of f(embedded) - f(background).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import keras
import numpy as np
import pandas as pd

from ..errors import InputError
from ..models.zoo import target_model
from .batches import Scorer
from .importance import OCCUPANCY_COLUMNS, motif_importance
from .patterns import from_ppms

__all__ = ["OCCUPANCY_COLUMNS", "plot_occupancy", "predict", "scorer", "single_motif_occupancy"]


def scorer(model: keras.Model, target: str = "logit", batch_size: int = 1024) -> Scorer:
    """A function x (N, L, 4) -> float64 scores (N, T) of ``target`` (logits by default: additive effects).

    One traced ``tf.function`` with an open batch dimension is reused for every call: ``model.predict``
    rebuilds its data pipeline per call, which costs more than the forward pass on GIA's many small calls.
    """
    net = target_model(model, target)
    n_out = int(np.prod(net.outputs[0].shape[1:]))
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        spec = tf.TensorSpec((None, *net.inputs[0].shape[1:]), tf.float32)
        forward = tf.function(lambda x: net(x, training=False), input_signature=[spec])
    else:  # pragma: no cover - other Keras backends
        forward = lambda x: net.predict_on_batch(x)  # noqa: E731

    def score(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        chunks = [np.asarray(forward(x[i : i + batch_size])) for i in range(0, len(x), batch_size)]
        out = np.concatenate(chunks) if chunks else np.zeros((0, n_out))
        return out.astype(np.float64).reshape(len(x), n_out)

    return score


def predict(
    model: keras.Model,
    x: np.ndarray,
    *,
    target: str = "logit",
    task: int | None = None,
    batch_size: int = 256,
) -> np.ndarray:
    """Model scores (N, T), or (N,) for one ``task``; logits by default (additive effects)."""
    out = scorer(model, target, batch_size)(x)
    return out if task is None else out[:, task]


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
    if not (position == "center" or isinstance(position, int | np.integer)):
        raise InputError(f"position must be 'center' or an integer, got {position!r}")
    score = scorer(model, target, batch_size)
    return motif_importance(score, backgrounds, from_ppms(motifs), task_names, position=position)


def plot_occupancy(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Heat map motif x task of the mean effect (bars with 95% CIs for one task; a note when empty)."""
    from .plots import plot_occupancy as _plot

    _plot(df, path)
