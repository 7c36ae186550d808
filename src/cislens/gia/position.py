"""Positional bias: the effect of one motif as it slides along the sequence (pooling and edges show)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .batches import Scorer, child_seed, condition_effects
from .embed import embed_into
from .importance import as_patterns
from .patterns import Pattern
from .stats import tidy


def slide_positions(length: int, width: int, step: int) -> np.ndarray:
    """Starts 0, step, ... up to the last start that fits (always included)."""
    last = length - width
    starts = np.arange(0, last + 1, max(1, int(step)))
    return starts if starts[-1] == last else np.append(starts, last)


def positional_bias(
    score: Scorer,
    backgrounds: np.ndarray,
    patterns: Mapping[str, Pattern] | Sequence[Pattern],
    tasks: Sequence[str],
    *,
    step: int = 10,
    seed: int = 0,
    base: np.ndarray | None = None,
    max_batch: int = 8192,
) -> pd.DataFrame:
    """Rows (motif, position, center, task, effect stats) for every start on a ``step`` grid."""
    items = as_patterns(patterns)
    base = score(backgrounds) if base is None else base
    length = backgrounds.shape[1]
    conditions, plan = [], []
    for p in items:
        instance = p.instances(len(backgrounds), seed=child_seed(seed, p.name))
        for start in slide_positions(length, p.width, step):
            plan.append((instance, int(start)))
            conditions.append({"motif": p.name, "position": int(start), "center": start + p.width / 2})

    def build(c: int, out: np.ndarray) -> None:
        embed_into(out, *plan[c])

    effects = condition_effects(
        score, backgrounds, base, build, len(plan), max_batch=max_batch, desc="GIA positions"
    )
    return tidy(conditions, tasks, effects, keys=["motif", "position", "center"])
