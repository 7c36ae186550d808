"""Flank sensitivity: the same motif core with different flanking bases, in the same backgrounds.

A model that learned only the core gives the same effect whatever the flanks; spread across flanks (and
the per-position base preferences it implies) shows what the model reads beyond the motif's edges.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..data.onehot import ALPHABET
from .batches import Scorer, child_seed, condition_effects
from .embed import embed_into
from .importance import as_patterns, start_of
from .patterns import Pattern
from .stats import tidy


def flank_sensitivity(
    score: Scorer,
    backgrounds: np.ndarray,
    patterns: Mapping[str, Pattern] | Sequence[Pattern],
    tasks: Sequence[str],
    *,
    flank: int = 5,
    n_flanks: int = 50,
    position: str | int = "center",
    seed: int = 0,
    base: np.ndarray | None = None,
    max_batch: int = 8192,
) -> pd.DataFrame:
    """Rows (motif, flank_id, left, right, task, effect stats) for ``n_flanks`` random flank pairs.

    ``flank_id`` -1 is the core alone (flanks left as the backgrounds' own bases): the reference the
    flanked effects spread around. Flanks are uniform random ``flank``-mers, the same for every motif.
    """
    items = as_patterns(patterns)
    base = score(backgrounds) if base is None else base
    n, length = backgrounds.shape[:2]
    rng = np.random.default_rng(child_seed(seed, "flanks"))
    codes = rng.integers(0, 4, size=(n_flanks, 2, flank))
    eye = np.eye(4, dtype=np.float32)
    conditions, plan = [], []
    for p in items:
        core = p.instances(n, seed=child_seed(seed, p.name))
        start = start_of(position, length, p.width + 2 * flank) + flank
        conditions.append({"motif": p.name, "flank_id": -1, "left": "", "right": ""})
        plan.append((core, start, None))
        for j in range(n_flanks):
            left, right = ("".join(ALPHABET[c] for c in side) for side in codes[j])
            conditions.append({"motif": p.name, "flank_id": j, "left": left, "right": right})
            plan.append((core, start, (eye[codes[j, 0]], eye[codes[j, 1]])))

    def build(c: int, out: np.ndarray) -> None:
        core, start, sides = plan[c]
        embed_into(out, core, start)
        if sides is not None and flank:
            out[:, start - flank : start] = sides[0]
            out[:, start + core.shape[-2] : start + core.shape[-2] + flank] = sides[1]

    effects = condition_effects(
        score, backgrounds, base, build, len(plan), max_batch=max_batch, desc="GIA flanks"
    )
    return tidy(conditions, tasks, effects, keys=["motif", "flank_id", "left", "right"])


def flank_preferences(table: pd.DataFrame, motif: str, task: str) -> pd.DataFrame:
    """(2 x flank) x 4 mean effect given each base at each flank offset (-flank..-1, +1..+flank)."""
    rows = table[(table["motif"] == motif) & (table["task"] == task) & (table["flank_id"] >= 0)]
    if rows.empty:
        return pd.DataFrame(columns=list(ALPHABET))
    width = len(rows["left"].iloc[0])
    offsets = [*range(-width, 0), *range(1, width + 1)]
    flanks = (rows["left"] + rows["right"]).to_numpy()
    effect = rows["effect_mean"].to_numpy()
    out = pd.DataFrame(index=offsets, columns=list(ALPHABET), dtype=float)
    for i, offset in enumerate(offsets):
        letters = np.array([f[i] for f in flanks])
        for letter in ALPHABET:
            hit = letters == letter
            out.loc[offset, letter] = effect[hit].mean() if hit.any() else np.nan
    return out
