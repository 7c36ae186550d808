"""Gradient attributions behind plain functions f(model, x, ...) -> np.ndarray (N, L, 4).

The target defaults to the pre-sigmoid logit: gradients of the sigmoid vanish for confident
predictions and rescale every sequence differently (the reference code's bug).

Every method evaluates its gradients through one ``tf.function`` with a fixed input signature (so it
traces once per call, never per batch). ``batch_size`` counts model inputs per forward pass; the
methods that evaluate many points per sequence (SmoothGrad, integrated and expected gradients)
process whole sequences, at least one per pass. ``correct=True`` removes the per-position mean over
A, C, G, T from every raw gradient before it is multiplied by the input or by (x - baseline).
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from ..errors import InputError
from ..models.predict import _COMPILED, memo  # noqa: F401  (re-exported)
from ..models.predict import run_batches as _run
from ..models.predict import score_fn as score_fn
from ..models.predict import sequence_chunks as _sequence_chunks
from ..models.predict import setup as _setup
from ..models.zoo import TARGETS, target_model  # noqa: F401  (re-exported)
from .references import baseline_chunk, reference_count, sequence_rng


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


def _check_count(name: str, value: int) -> int:
    if int(value) < 1:
        raise InputError(f"{name} must be >= 1, got {value}")
    return int(value)


def saliency(
    model: keras.Model,
    x: np.ndarray,
    *,
    target: str = "logit",
    task: int | np.ndarray | None = None,
    batch_size: int = 128,
    progress: bool = True,
    correct: bool = False,
) -> np.ndarray:
    """d target / d input, (N, L, 4).

    ``task``: an output index, None for the sum over tasks, or (N, T) weights per sequence (e.g. its
    labels, so each multitask sequence is explained by the tasks it is positive for).
    """
    x, net, weights = _setup(model, x, target, task)
    shape = tuple(x.shape[1:])
    grad = memo(model, ("grad", target, shape), lambda: _gradient_fn(net, shape))
    out = np.empty_like(x)
    starts = range(0, len(x), batch_size)
    for start in tqdm(starts, desc="saliency", unit="batch", disable=not progress):
        stop = start + batch_size
        out[start:stop] = grad(tf.constant(x[start:stop]), tf.constant(weights[start:stop])).numpy()
    return correct_gradients(out) if correct else out


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
    grad = saliency(
        model, x, target=target, task=task, batch_size=batch_size, progress=progress, correct=correct
    )
    return grad * np.asarray(x, dtype=np.float32)


def smoothgrad(
    model: keras.Model,
    x: np.ndarray,
    *,
    n_samples: int = 25,
    sigma: float = 0.1,
    seed: int = 0,
    target: str = "logit",
    task: int | np.ndarray | None = None,
    batch_size: int = 256,
    progress: bool = True,
    correct: bool = False,
) -> np.ndarray:
    """Mean gradient over ``n_samples`` copies of x + N(0, sigma^2) noise, (N, L, 4).

    Averaging over a noise ball smooths the local gradient's shattering; sigma = 0.1 is the input
    noise scale of robust training in Koo et al. 2019 (bioRxiv 657437). Returned as a gradient
    (multiply by x to score).
    """
    x, net, weights = _setup(model, x, target, task)
    n_samples = _check_count("n_samples", n_samples)
    if sigma < 0:
        raise InputError(f"sigma must be >= 0, got {sigma}")
    shape = tuple(x.shape[1:])
    grad = memo(model, ("grad", target, shape), lambda: _gradient_fn(net, shape))
    out = np.empty_like(x)
    for start, stop in _sequence_chunks(len(x), n_samples, batch_size, "smoothgrad", progress):
        noise = np.stack(
            [sequence_rng(seed, i).normal(0.0, sigma, (n_samples, *x.shape[1:])) for i in range(start, stop)]
        ).astype(np.float32)
        points = (x[start:stop, None] + noise).reshape(-1, *x.shape[1:])
        w = np.repeat(weights[start:stop], n_samples, axis=0)
        g = _run(grad, points, w, batch_size).reshape(stop - start, n_samples, *x.shape[1:])
        out[start:stop] = g.mean(axis=1)
    return correct_gradients(out) if correct else out


def integrated_gradients(
    model: keras.Model,
    x: np.ndarray,
    *,
    baseline: str | np.ndarray = "zero",
    steps: int = 50,
    n_baselines: int = 10,
    seed: int = 0,
    target: str = "logit",
    task: int | np.ndarray | None = None,
    batch_size: int = 256,
    progress: bool = True,
    correct: bool = False,
    hypothetical: bool = False,
) -> np.ndarray:
    """Integrated gradients (x - b) * mean_k grad(b + a_k (x - b)), averaged over baselines b.

    ``hypothetical=True``: hypothetical contributions g_b - sum_c g_c b_c of the path-averaged
    gradient g (TF-MoDISco's input), which times x give the attribution; not with "expected".

    Midpoint rule, a_k = (k + 1/2) / steps. The path-averaged gradient IS multiplied by (x - b), so
    sum(attr) = f(x) - mean_b f(b) up to the quadrature error (the reference code returned the bare
    average; see ``completeness_gap``). ``baseline``: "zero", "shuffle" (``n_baselines``
    dinucleotide shuffles of each sequence), "expected" (expected gradients with ``steps *
    n_baselines`` samples, references drawn from ``x``) or an array (see ``references``).
    Correction keeps completeness for one-hot baselines: sum_a (x - b)_a = 0 at every position.
    """
    if isinstance(baseline, str) and baseline == "expected":
        if hypothetical:
            raise InputError("integrated_gradients: hypothetical contributions need a fixed baseline")
        return _expected_gradients(
            model,
            x,
            n_samples=_check_count("steps", steps) * _check_count("n_baselines", n_baselines),
            seed=seed,
            target=target,
            task=task,
            batch_size=batch_size,
            progress=progress,
            correct=correct,
            desc="integrated_gradients",
            background=None,
        )
    x, net, weights = _setup(model, x, target, task)
    steps = _check_count("steps", steps)
    n_baselines = _check_count("n_baselines", n_baselines)
    shape = tuple(x.shape[1:])
    grad = memo(model, ("grad", target, shape), lambda: _gradient_fn(net, shape))
    alphas = ((np.arange(steps) + 0.5) / steps).astype(np.float32)[:, None, None]
    n_refs = reference_count(baseline, n_baselines)
    out = np.empty_like(x)
    for start, stop in _sequence_chunks(len(x), n_refs * steps, batch_size, "integrated_gradients", progress):
        refs = baseline_chunk(x, baseline, n_baselines, seed, start, stop)  # (S, K, L, 4)
        diff = x[start:stop, None] - refs
        points = refs[:, :, None] + alphas * diff[:, :, None]  # (S, K, steps, L, 4)
        k = refs.shape[1]
        w = np.repeat(weights[start:stop], k * steps, axis=0)
        g = _run(grad, points.reshape(-1, *shape), w, batch_size).reshape(stop - start, k, steps, *shape)
        g = g.mean(axis=2)
        if correct:
            g = correct_gradients(g)
        contrib = g - (g * refs).sum(axis=-1, keepdims=True) if hypothetical else g * diff
        out[start:stop] = contrib.mean(axis=1)
    return out


def expected_gradients(
    model: keras.Model,
    x: np.ndarray,
    *,
    background: np.ndarray | None = None,
    n_samples: int = 200,
    seed: int = 0,
    target: str = "logit",
    task: int | np.ndarray | None = None,
    batch_size: int = 256,
    progress: bool = True,
    correct: bool = False,
) -> np.ndarray:
    """Expected gradients (Erion et al. 2021): E_{x' ~ D, a ~ U(0, 1)} (x - x') * grad(x' + a (x - x')).

    Integrated gradients averaged over a distribution of baselines, estimated with one random point
    per random reference, so no single arbitrary baseline decides what counts as signal. D is
    ``background`` (R, L, 4) or, by default, the other sequences of ``x``. sum(attr) estimates
    f(x) - E f(x') (unbiased, not exact).
    """
    return _expected_gradients(
        model,
        x,
        background=background,
        n_samples=n_samples,
        seed=seed,
        target=target,
        task=task,
        batch_size=batch_size,
        progress=progress,
        correct=correct,
        desc="expected_gradients",
    )


def _expected_gradients(
    model: keras.Model,
    x: np.ndarray,
    *,
    background: np.ndarray | None,
    n_samples: int,
    seed: int,
    target: str,
    task: int | np.ndarray | None,
    batch_size: int,
    progress: bool,
    correct: bool,
    desc: str,
) -> np.ndarray:
    x, net, weights = _setup(model, x, target, task)
    n_samples = _check_count("n_samples", n_samples)
    shape = tuple(x.shape[1:])
    own = background is None
    bg = x if own else np.asarray(background, dtype=np.float32)
    if bg.ndim != 3 or bg.shape[1:] != shape or len(bg) == 0:
        raise InputError(f"background of shape {bg.shape} does not fit sequences of shape {shape}")
    if own and len(x) < 2:
        raise InputError("expected gradients over x itself needs >= 2 sequences; pass a background set")
    grad = memo(model, ("grad", target, shape), lambda: _gradient_fn(net, shape))
    out = np.empty_like(x)
    for start, stop in _sequence_chunks(len(x), n_samples, batch_size, desc, progress):
        refs, alphas = [], []
        for i in range(start, stop):
            rng = sequence_rng(seed, i)
            if own:  # the other sequences: drawing x itself would only add zeros
                idx = rng.integers(0, len(bg) - 1, n_samples)
                idx = idx + (idx >= i)
            else:
                idx = rng.integers(0, len(bg), n_samples)
            refs.append(bg[idx])
            alphas.append(rng.random(n_samples, dtype=np.float32))
        refs_a = np.stack(refs)  # (S, n, L, 4)
        diff = x[start:stop, None] - refs_a
        points = refs_a + np.stack(alphas)[:, :, None, None] * diff
        w = np.repeat(weights[start:stop], n_samples, axis=0)
        g = _run(grad, points.reshape(-1, *shape), w, batch_size).reshape(diff.shape)
        if correct:
            g = correct_gradients(g)
        out[start:stop] = (g * diff).mean(axis=1)
    return out


def completeness_gap(
    model: keras.Model,
    x: np.ndarray,
    attr: np.ndarray,
    baseline: str | np.ndarray = "zero",
    target: str = "logit",
    task: int | np.ndarray | None = None,
    *,
    n_baselines: int = 10,
    seed: int = 0,
    batch_size: int = 256,
    floor: float = 1e-6,
) -> np.ndarray:
    """(N,) relative gap |sum(attr) - (f(x) - mean_b f(b))| / max(|f(x) - mean_b f(b)|, floor).

    The summation-to-delta check for integrated gradients and DeepLIFT/DeepSHAP. ``baseline`` takes
    the values the methods take; with "shuffle", the same ``n_baselines`` and ``seed`` give the same
    references the method used.
    """
    x, net, weights = _setup(model, x, target, task)
    shape = tuple(x.shape[1:])
    score = memo(model, ("score", target, shape), lambda: score_fn(net, shape))
    fx = _run(score, x, weights, batch_size)
    refs = baseline_chunk(x, baseline, n_baselines, seed, 0, len(x))
    k = refs.shape[1]
    fb = _run(score, np.reshape(refs, (-1, *x.shape[1:])), np.repeat(weights, k, axis=0), batch_size)
    delta = fx.astype(np.float64) - fb.reshape(len(x), k).mean(axis=1)
    total = np.asarray(attr, dtype=np.float64).reshape(len(x), -1).sum(axis=1)
    return np.abs(total - delta) / np.maximum(np.abs(delta), floor)


def correct_gradients(grad: np.ndarray) -> np.ndarray:
    """Remove the per-position mean over A,C,G,T: the gradient component off the one-hot simplex."""
    grad = np.asarray(grad)
    return grad - grad.mean(axis=-1, keepdims=True)


def gradient_angles(grad: np.ndarray, thresholds: tuple[float, ...] = (30, 45, 60)) -> dict[str, float]:
    """% of positions whose gradient lies more than 30 / 45 / 60 degrees off the simplex plane.

    sin(theta) = sum_a g_a / (2 ||g||) (Majdandzic et al. 2023, Genome Biol). Keys ``pct_above_30``
    etc.; per-position angles are ``evaluate.gradient_angles``.
    """
    from .evaluate import angle_summary

    return angle_summary(grad, thresholds)
