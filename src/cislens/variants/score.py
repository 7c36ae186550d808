"""Ensemble scoring of sequences and allele pairs through the one batched forward (models/predict).

Every trial's model scores the logits of each window (both strands averaged on the logit scale when
the dataset trains with reverse complements); probabilities are their sigmoid (identity for
regression). Across trials: mean, sd (ddof=1; 0 for a single trial) and, for effects, the number of
trials whose change has the sign of the mean change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..data import onehot


def trial_logits(
    models: Sequence[Any], x: np.ndarray, *, reverse_complement: bool = False, batch_size: int = 2048
) -> np.ndarray:
    """(K trials, N, T) logits of ``x`` (N, L, 4); strand-averaged when ``reverse_complement``."""
    from ..models.predict import memo, scorer

    x = np.asarray(x, dtype=np.float32)
    out = []
    for model in models:
        score = memo(
            model,
            ("scorer", "logit", batch_size, "frozen"),
            lambda m=model: scorer(m, "logit", batch_size, frozen=True),
        )
        if reverse_complement and len(x):
            both = score(np.concatenate([x, onehot.reverse_complement(x)]))
            out.append((both[: len(x)] + both[len(x) :]) / 2)
        else:
            out.append(score(x))
    return np.stack(out)


def to_probability(logits: np.ndarray, task_type: str = "binary") -> np.ndarray:
    return logits if task_type == "regression" else 1.0 / (1.0 + np.exp(-logits))


def _sd(values: np.ndarray) -> np.ndarray:
    return values.std(axis=0, ddof=1) if len(values) > 1 else np.zeros(values.shape[1:])


def ensemble_table(logits: np.ndarray, tasks: Sequence[str], task_type: str = "binary") -> pd.DataFrame:
    """Per task: mean and sd over trials of the logit and the probability (the predict rule's table)."""
    prob = to_probability(logits, task_type)
    cols: dict[str, np.ndarray] = {}
    for t, task in enumerate(tasks):
        cols[f"{task}_logit"] = logits[:, :, t].mean(axis=0)
        cols[f"{task}_logit_sd"] = _sd(logits[:, :, t])
        cols[f"{task}_prob"] = prob[:, :, t].mean(axis=0)
        cols[f"{task}_prob_sd"] = _sd(prob[:, :, t])
    return pd.DataFrame(cols)


def effect_table(
    ref_logits: np.ndarray, alt_logits: np.ndarray, tasks: Sequence[str], task_type: str = "binary"
) -> pd.DataFrame:
    """One row per variant: the headline effect (the task with the largest |mean log-odds change|:
    effect, effect_sd, effect_agree, effect_task) and per task the mean reference and alternative logit
    and probability, the probability difference (mean, sd) and the log-odds change (mean, sd, trials
    agreeing in sign)."""
    ref_p, alt_p = to_probability(ref_logits, task_type), to_probability(alt_logits, task_type)
    d_logit, d_prob = alt_logits - ref_logits, alt_p - ref_p
    mean = d_logit.mean(axis=0)  # (N, T)
    agree = (np.sign(d_logit) == np.sign(mean)[None]).sum(axis=0)
    sd = _sd(d_logit)
    n = mean.shape[0]
    best = np.abs(mean).argmax(axis=1) if n else np.zeros(0, dtype=int)
    rows = np.arange(n)
    cols: dict[str, Any] = {
        "effect": mean[rows, best],
        "effect_sd": sd[rows, best],
        "effect_agree": agree[rows, best],
        "effect_task": [tasks[b] for b in best],
        "n_trials": np.full(n, len(ref_logits)),
    }
    for t, task in enumerate(tasks):
        cols[f"{task}_ref_logit"] = ref_logits[:, :, t].mean(axis=0)
        cols[f"{task}_alt_logit"] = alt_logits[:, :, t].mean(axis=0)
        cols[f"{task}_ref_prob"] = ref_p[:, :, t].mean(axis=0)
        cols[f"{task}_alt_prob"] = alt_p[:, :, t].mean(axis=0)
        cols[f"{task}_delta_prob"] = d_prob[:, :, t].mean(axis=0)
        cols[f"{task}_delta_prob_sd"] = _sd(d_prob[:, :, t])
        cols[f"{task}_delta_logit"] = mean[:, t]
        cols[f"{task}_delta_logit_sd"] = sd[:, t]
        cols[f"{task}_agree"] = agree[:, t]
    return pd.DataFrame(cols)


def score_alleles(
    models: Sequence[Any],
    ref: np.ndarray,
    alt: np.ndarray,
    *,
    reverse_complement: bool = False,
    batch_size: int = 2048,
) -> tuple[np.ndarray, np.ndarray]:
    """(ref, alt) logits, each (K, N, T), through each model's batched (frozen) forward."""
    kwargs = {"reverse_complement": reverse_complement, "batch_size": batch_size}
    return trial_logits(models, ref, **kwargs), trial_logits(models, alt, **kwargs)
