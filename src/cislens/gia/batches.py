"""Score many embedding conditions over one set of backgrounds, a bounded number of sequences at a time."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator

import numpy as np
from tqdm.auto import tqdm

Scorer = Callable[[np.ndarray], np.ndarray]  # (N, L, 4) one-hot -> (N, T) model scores
Builder = Callable[[int, np.ndarray], None]  # (condition, (n, L, 4) copy of the backgrounds) -> in place


def child_seed(seed: int, *keys: int | str) -> int:
    """A stable seed for one part of a run (an experiment, a motif), independent of the order run."""
    words = [int(seed)] + [k if isinstance(k, int) else zlib.crc32(str(k).encode()) for k in keys]
    return int(np.random.SeedSequence(words).generate_state(1)[0])


def iter_scores(
    score: Scorer,
    backgrounds: np.ndarray,
    build: Builder,
    n_conditions: int,
    *,
    max_batch: int = 8192,
    desc: str | None = None,
) -> Iterator[tuple[int, int, np.ndarray]]:
    """Yield (lo, hi, scores (hi - lo, n, T)) for conditions lo..hi-1.

    Each condition's sequences start as a copy of the backgrounds that ``build`` edits in place, so the
    memory held is one buffer of about ``max_batch`` sequences, whatever the number of conditions.
    """
    backgrounds = np.asarray(backgrounds, dtype=np.float32)
    n, length = backgrounds.shape[:2]
    per = max(1, max_batch // max(n, 1))
    buffer = np.empty((min(per, max(n_conditions, 1)), n, length, 4), dtype=np.float32)
    starts = range(0, n_conditions, per)
    for lo in tqdm(starts, desc=desc, unit="batch", disable=desc is None or len(starts) < 2, mininterval=5):
        hi = min(lo + per, n_conditions)
        view = buffer[: hi - lo]
        view[...] = backgrounds[None]
        for c in range(lo, hi):
            build(c, view[c - lo])
        yield lo, hi, score(view.reshape(-1, length, 4)).reshape(hi - lo, n, -1)


def condition_effects(
    score: Scorer,
    backgrounds: np.ndarray,
    base: np.ndarray,
    build: Builder,
    n_conditions: int,
    *,
    max_batch: int = 8192,
    desc: str | None = None,
) -> np.ndarray:
    """(C, n, T) paired effects f(condition c on background i) - f(background i)."""
    base = np.asarray(base, dtype=np.float64)
    out = np.empty((n_conditions, len(backgrounds), base.shape[-1]), dtype=np.float64)
    for lo, hi, scores in iter_scores(
        score, backgrounds, build, n_conditions, max_batch=max_batch, desc=desc
    ):
        out[lo:hi] = scores - base[None]
    return out
