"""GC-content bias: does the model respond to GC itself, and do motif effects depend on the GC around them?

Two designs: ``controlled`` draws i.i.d. backgrounds at fixed GC levels (GC is the only thing varied);
``binned`` splits the given backgrounds into GC quantile bins (real composition, GC confounded with it).
Rows with ``motif`` empty and ``measure`` background give the model's score on the backgrounds (relative
to the mean score over all of them); ``measure`` effect rows are motif effects within that GC level.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..data.onehot import from_indices, gc_content
from .batches import Scorer, child_seed, condition_effects
from .embed import embed_into
from .importance import as_patterns, start_of
from .patterns import Pattern
from .stats import STAT_COLUMNS, tidy

GC_COLUMNS = ("gc", "gc_mean", "motif", "measure", "task", *STAT_COLUMNS)


def gc_backgrounds(n: int, length: int, gc: float, seed: int = 0) -> np.ndarray:
    """(n, L, 4) i.i.d. sequences with P(C) = P(G) = gc / 2 and P(A) = P(T) = (1 - gc) / 2."""
    p = np.array([(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2])
    return from_indices(np.random.default_rng(seed).choice(4, size=(n, length), p=p))


def _level_rows(
    score: Scorer,
    backgrounds: np.ndarray,
    items: list[Pattern],
    tasks: Sequence[str],
    reference: float | np.ndarray,
    label: float,
    position: str | int,
    seed: int,
    max_batch: int,
) -> pd.DataFrame:
    base = score(backgrounds)
    length = backgrounds.shape[1]

    def build(c: int, out: np.ndarray) -> None:
        p = items[c]
        embed_into(
            out, p.instances(len(out), seed=child_seed(seed, p.name)), start_of(position, length, p.width)
        )

    effects = condition_effects(score, backgrounds, base, build, len(items), max_batch=max_batch)
    rows = [{"motif": p.name, "measure": "effect"} for p in items]
    frame = pd.concat(
        [
            tidy([{"motif": "", "measure": "background"}], tasks, (base - reference)[None]),
            tidy(rows, tasks, effects, keys=["motif", "measure"]),
        ],
        ignore_index=True,
    )
    frame.insert(0, "gc_mean", float(gc_content(backgrounds).mean()))
    frame.insert(0, "gc", label)
    return frame[list(GC_COLUMNS)]


def gc_bias(
    score: Scorer,
    backgrounds: np.ndarray,
    patterns: Mapping[str, Pattern] | Sequence[Pattern],
    tasks: Sequence[str],
    *,
    mode: str = "controlled",
    levels: Sequence[float] = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8),
    bins: int = 5,
    position: str | int = "center",
    seed: int = 0,
    max_batch: int = 8192,
) -> pd.DataFrame:
    """Background score and motif effects per GC level (``controlled``) or GC quantile bin (``binned``).

    ``controlled`` draws len(backgrounds) sequences per level (of the backgrounds' length); the
    background rows are relative to the mean score of the given backgrounds in both modes.
    """
    items = as_patterns(patterns)
    n, length = backgrounds.shape[:2]
    reference = score(backgrounds).mean(axis=0)
    frames = []
    if mode == "controlled":
        for gc in levels:
            level = gc_backgrounds(n, length, float(gc), seed=child_seed(seed, "gc", str(gc)))
            frames.append(
                _level_rows(score, level, items, tasks, reference, float(gc), position, seed, max_batch)
            )
    elif mode == "binned":
        gc = gc_content(backgrounds)
        edges = np.quantile(gc, np.linspace(0, 1, bins + 1))
        which = np.clip(np.searchsorted(edges, gc, side="right") - 1, 0, bins - 1)
        for b in range(bins):
            members = backgrounds[which == b]
            if len(members) < 2:
                continue
            label = round(float((edges[b] + edges[b + 1]) / 2), 4)
            frames.append(
                _level_rows(score, members, items, tasks, reference, label, position, seed, max_batch)
            )
    else:
        raise ValueError(f"GC mode must be 'controlled' or 'binned', got {mode!r}")
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(GC_COLUMNS))
