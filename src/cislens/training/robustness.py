"""Adversarial examples on the one-hot input (PGD / FGSM) and the robustness numbers we report.

The same projected-gradient core serves adversarial training (inside the train step) and the
post-hoc evaluation, so the attack a model was trained against is the one it is scored on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from ..errors import InputError

TARGETS = ("loss",)


def default_step_size(epsilon: float, steps: int) -> float:
    """Madry et al.'s 2.5 * eps / steps: enough to reach the ball's boundary from any start."""
    return 2.5 * float(epsilon) / max(int(steps), 1)


def pgd_perturb(
    loss_fn: Callable[[tf.Tensor], tf.Tensor],
    x: Any,
    *,
    epsilon: float,
    steps: int,
    step_size: float,
    random_start: bool,
    seed: Any,
) -> tf.Tensor:
    """L_inf PGD maximising ``loss_fn``: signed-gradient ascent, projected back onto |x_adv - x| <= eps.

    FGSM is the special case steps=1, step_size=epsilon, no random start. The result carries no
    gradient (the training step must not differentiate through the attack).
    """
    x = tf.stop_gradient(tf.convert_to_tensor(x, dtype=tf.float32))
    start = x
    if random_start:
        seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
        start = tf.clip_by_value(
            x + tf.random.stateless_uniform(tf.shape(x), seed, -epsilon, epsilon), 0.0, 1.0
        )

    def body(i: tf.Tensor, x_adv: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        with tf.GradientTape() as tape:
            tape.watch(x_adv)
            loss = loss_fn(x_adv)
        grad = tape.gradient(loss, x_adv)
        x_adv = x_adv + step_size * tf.sign(grad)
        x_adv = x + tf.clip_by_value(x_adv - x, -epsilon, epsilon)
        x_adv = tf.clip_by_value(x_adv, 0.0, 1.0)  # a base can be more or less present, never negative
        return i + 1, tf.stop_gradient(x_adv)

    _, x_adv = tf.while_loop(lambda i, _: i < steps, body, (tf.constant(0), start))
    return tf.stop_gradient(x_adv)


def is_binary(model: keras.Model) -> bool:
    """Binary tasks end in a sigmoid ``output`` layer (zoo convention); anything else is regression."""
    try:
        activation = model.get_layer("output").activation
    except (ValueError, AttributeError):
        return True
    return getattr(activation, "__name__", "") == "sigmoid"


def _task_loss(model: keras.Model, binary: bool) -> Callable[[tf.Tensor, tf.Tensor], tf.Tensor]:
    # Keras' binary cross-entropy recovers the logits behind a sigmoid layer, so saturated
    # probabilities still give useful input gradients (checked: loss 30 at logit 30, not clipped).
    def loss(x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        pred = model(x, training=False)
        # pred goes in unsliced: slicing would drop the logits Keras keeps on the sigmoid output
        per_example = (
            keras.losses.binary_crossentropy(y, pred) if binary else tf.reduce_mean(tf.square(pred - y), -1)
        )
        return tf.reduce_sum(per_example)

    return loss


def pgd_attack(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    *,
    epsilon: float = 0.1,
    steps: int = 20,
    step_size: float | None = None,
    target: str = "loss",
    seed: int = 0,
    batch_size: int = 256,
    random_start: bool = True,
    attack: str = "pgd",
) -> np.ndarray:
    """Adversarial copies of ``x`` (numpy, float32) that raise the task loss of ``model`` on ``y``.

    ``attack="fgsm"`` takes one step of size ``epsilon`` from x. Batch b uses seed (seed, b), so
    results do not depend on other batches.
    """
    if target not in TARGETS:
        raise InputError(f"unknown attack target {target!r}; valid: {', '.join(TARGETS)}")
    if attack not in ("pgd", "fgsm"):
        raise InputError(f"unknown attack {attack!r}; valid: pgd, fgsm")
    if epsilon <= 0 or steps < 1:
        raise InputError(f"attack needs epsilon > 0 and steps >= 1; got epsilon={epsilon}, steps={steps}")
    if attack == "fgsm":
        steps, step_size, random_start = 1, float(epsilon), False
    step = default_step_size(epsilon, steps) if step_size is None else float(step_size)
    task_loss = _task_loss(model, is_binary(model))

    @tf.function(reduce_retracing=True)
    def run(xb: tf.Tensor, yb: tf.Tensor, sb: tf.Tensor) -> tf.Tensor:
        return pgd_perturb(
            lambda xa: task_loss(xa, yb),
            xb,
            epsilon=float(epsilon),
            steps=int(steps),
            step_size=step,
            random_start=random_start,
            seed=sb,
        )

    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32).reshape(len(x), -1)
    out = np.empty_like(x)
    for b, lo in enumerate(range(0, len(x), batch_size)):
        hi = lo + batch_size
        sb = tf.constant([int(seed), b], dtype=tf.int64)
        out[lo:hi] = run(tf.constant(x[lo:hi]), tf.constant(y[lo:hi]), sb).numpy()
    return out


def _mean_auroc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    scores = [roc_auc_score(y[:, t], p[:, t]) for t in range(y.shape[1]) if len(np.unique(y[:, t])) == 2]
    return float(np.mean(scores)) if scores else float("nan")


def _mean_pearson(y: np.ndarray, p: np.ndarray) -> float:
    rs = [np.corrcoef(y[:, t], p[:, t])[0, 1] for t in range(y.shape[1])]
    return float(np.nanmean(rs)) if rs else float("nan")


def adversarial_accuracy(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    *,
    epsilon: float = 0.1,
    steps: int = 20,
    step_size: float | None = None,
    seed: int = 0,
    batch_size: int = 256,
    attack: str = "pgd",
) -> dict[str, float]:
    """Clean vs adversarial performance for metrics.json.

    Binary: accuracy (mean over tasks of agreement at threshold 0.5) and mean per-task AUROC.
    Regression: mean per-task Pearson r instead.
    """
    y = np.asarray(y, dtype=np.float32).reshape(len(x), -1)
    x_adv = pgd_attack(
        model, x, y, epsilon=epsilon, steps=steps, step_size=step_size, seed=seed,
        batch_size=batch_size, attack=attack,
    )  # fmt: skip
    clean = np.asarray(model.predict(np.asarray(x, np.float32), batch_size=batch_size, verbose=0))
    adv = np.asarray(model.predict(x_adv, batch_size=batch_size, verbose=0))
    clean, adv = clean.reshape(len(x), -1), adv.reshape(len(x), -1)
    result: dict[str, float] = {"epsilon": float(epsilon), "steps": int(steps) if attack == "pgd" else 1}
    if is_binary(model):
        truth = y > 0.5
        result["clean_accuracy"] = float(np.mean((clean > 0.5) == truth))
        result["adversarial_accuracy"] = float(np.mean((adv > 0.5) == truth))
        result["clean_auroc"] = _mean_auroc(y, clean)
        result["adversarial_auroc"] = _mean_auroc(y, adv)
    else:
        result["clean_pearson"] = _mean_pearson(y, clean)
        result["adversarial_pearson"] = _mean_pearson(y, adv)
    return result
