"""Gradient attributions behind plain functions f(model, x, ...) -> np.ndarray (N, L, 4).

The target defaults to the pre-sigmoid logit: gradients of the sigmoid vanish for confident
predictions and rescale every sequence differently (the reference code's bug).
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from ..errors import InputError
from ..models.zoo import TARGETS, target_model  # noqa: F401  (re-exported)


def _task_weights(task: int | np.ndarray | None, n: int, n_out: int) -> np.ndarray:
    """(N, T) weights on the outputs: one task, all tasks (None), or per-sequence weights as given."""
    if task is None:
        return np.ones((n, n_out), dtype=np.float32)
    if np.ndim(task) == 0:
        if not 0 <= int(task) < n_out:
            raise InputError(f"task index {task} out of range for a model with {n_out} outputs")
        weights = np.zeros((n, n_out), dtype=np.float32)
        weights[:, int(task)] = 1
        return weights
    weights = np.asarray(task, dtype=np.float32)
    if weights.shape != (n, n_out):
        raise InputError(f"task weights of shape {weights.shape} do not match ({n}, {n_out})")
    return weights


def _gradient_fn(net: keras.Model, shape: tuple[int, ...]) -> Callable:
    n_out = int(net.output.shape[-1])

    @tf.function(
        input_signature=[tf.TensorSpec((None, *shape), tf.float32), tf.TensorSpec((None, n_out), tf.float32)]
    )
    def grad(xb: tf.Tensor, wb: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            tape.watch(xb)
            out = net(xb, training=False)
            # Each output depends only on its own sequence, so the batch sum gives per-sequence grads.
            score = tf.reduce_sum(out * wb)
        return tape.gradient(score, xb)

    return grad


def saliency(
    model: keras.Model,
    x: np.ndarray,
    *,
    target: str = "logit",
    task: int | np.ndarray | None = None,
    batch_size: int = 128,
    progress: bool = True,
) -> np.ndarray:
    """d target / d input, (N, L, 4).

    ``task``: an output index, None for the sum over tasks, or (N, T) weights per sequence (e.g. its
    labels, so each multitask sequence is explained by the tasks it is positive for).
    """
    x = np.asarray(x, dtype=np.float32)
    net = target_model(model, target)
    weights = _task_weights(task, len(x), int(net.output.shape[-1]))
    grad = _gradient_fn(net, tuple(x.shape[1:]))
    out = np.empty_like(x)
    starts = range(0, len(x), batch_size)
    for start in tqdm(starts, desc="saliency", unit="batch", disable=not progress):
        stop = start + batch_size
        out[start:stop] = grad(tf.constant(x[start:stop]), tf.constant(weights[start:stop])).numpy()
    return out


def grad_times_input(
    model: keras.Model,
    x: np.ndarray,
    *,
    target: str = "logit",
    task: int | np.ndarray | None = None,
    batch_size: int = 128,
    progress: bool = True,
    correct: bool = False,
) -> np.ndarray:
    """Gradient x input (optionally gradient-corrected first): non-zero only at the observed bases."""
    grad = saliency(model, x, target=target, task=task, batch_size=batch_size, progress=progress)
    if correct:
        grad = correct_gradients(grad)
    return grad * np.asarray(x, dtype=np.float32)


def correct_gradients(grad: np.ndarray) -> np.ndarray:
    """Remove the per-position mean over A,C,G,T: the gradient component off the one-hot simplex."""
    grad = np.asarray(grad)
    return grad - grad.mean(axis=-1, keepdims=True)
