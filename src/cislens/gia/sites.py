"""Number of sites: the effect of 1..k non-overlapping copies of a motif (additive, saturating or not)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .batches import Scorer, child_seed, condition_effects
from .embed import embed_into, random_site_starts
from .importance import as_patterns
from .patterns import Pattern
from .stats import tidy


def number_of_sites(
    score: Scorer,
    backgrounds: np.ndarray,
    patterns: Mapping[str, Pattern] | Sequence[Pattern],
    tasks: Sequence[str],
    *,
    max_sites: int = 4,
    min_gap: int = 1,
    seed: int = 0,
    base: np.ndarray | None = None,
    max_batch: int = 8192,
) -> pd.DataFrame:
    """Rows (motif, sites, task, effect stats) for 1..max_sites copies at random non-overlapping starts.

    Each background gets its own layout (seeded), so the effect of k sites is averaged over positions;
    ``min_gap`` bases between copies keep adjacent copies from reading as one longer site.
    """
    items = as_patterns(patterns)
    base = score(backgrounds) if base is None else base
    n, length = backgrounds.shape[:2]
    conditions, plan = [], []
    for p in items:
        for k in range(1, max_sites + 1):
            rng = np.random.default_rng(child_seed(seed, p.name, k))
            starts = random_site_starts(rng, n, k, p.width, length, min_gap=min_gap)
            copies = [p.instances(n, seed=child_seed(seed, p.name, k, j)) for j in range(k)]
            plan.append((copies, starts))
            conditions.append({"motif": p.name, "sites": k})

    def build(c: int, out: np.ndarray) -> None:
        copies, starts = plan[c]
        for j, copy in enumerate(copies):
            embed_into(out, copy, starts[:, j])

    effects = condition_effects(
        score, backgrounds, base, build, len(plan), max_batch=max_batch, desc="GIA sites"
    )
    return tidy(conditions, tasks, effects, keys=["motif", "sites"])
