"""Two motifs at controlled spacing and orientation: joint effect and cooperativity.

Cooperativity (per background) = [f(A+B) - f(bg)] - [f(A) - f(bg)] - [f(B) - f(bg)], with A and B alone
at exactly the positions and strands they hold in the pair; it is 0 for a model additive in motifs.
The pair is centred (A left, ``distance`` bases, then B) so both motifs stay in the model's view.
The scale is the scorer's: the workflow uses probabilities for pairs (``gia.cooperativity.target``), since
in logits an AND of two motifs can be additive (-c + a + b) and saturating negative effects look cooperative.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..errors import InputError
from .batches import Scorer, child_seed, condition_effects
from .embed import embed_into
from .importance import as_patterns
from .patterns import Pattern
from .stats import STAT_COLUMNS, rank_within, summarise, tidy

ORIENTATIONS = ("++", "+-", "-+", "--")
MEASURES = ("joint", "single_a", "single_b", "cooperativity")
DETAIL_KEYS = ("motif_a", "motif_b", "orientation", "distance", "measure")


def pair_starts(length: int, width_a: int, width_b: int, distance: int) -> tuple[int, int]:
    """Starts of A and B with ``distance`` bases between them, the pair centred in the sequence."""
    span = width_a + distance + width_b
    if distance < 0 or span > length:
        raise InputError(
            f"motifs of widths {width_a} and {width_b} at distance {distance} exceed length {length}"
        )
    start_a = (length - span) // 2
    return start_a, start_a + width_a + distance


def _pair_effects(
    score: Scorer,
    backgrounds: np.ndarray,
    base: np.ndarray,
    a: Pattern,
    b: Pattern,
    distances: Sequence[int],
    orientations: Sequence[str],
    seed: int,
    max_batch: int,
) -> tuple[list[dict], np.ndarray]:
    """Conditions (orientation, distance) and effects (C, 4 measures, n, T) for one pair."""
    n, length = backgrounds.shape[:2]
    instances = {  # one instance per background per (motif, strand): identical in pair and alone
        (key, p.name, s): p.on(s).instances(n, seed=child_seed(seed, p.name, s))
        for key, p in (("a", a), ("b", b))
        for s in "+-"
    }
    singles: dict[tuple, int] = {}
    plan: list[list[tuple[np.ndarray, int]]] = []
    layout = []
    for orientation in orientations:
        for d in distances:
            start_a, start_b = pair_starts(length, a.width, b.width, int(d))
            one_a = (instances[("a", a.name, orientation[0])], start_a)
            one_b = (instances[("b", b.name, orientation[1])], start_b)
            index = []
            for ident, writes in (
                (("joint", orientation, d), [one_a, one_b]),
                (("a", orientation[0], d), [one_a]),  # A alone depends on its own strand only
                (("b", orientation[1], d), [one_b]),
            ):
                if ident not in singles:
                    singles[ident] = len(plan)
                    plan.append(writes)
                index.append(singles[ident])
            layout.append(({"orientation": orientation, "distance": int(d)}, index))

    def build(c: int, out: np.ndarray) -> None:
        for pattern, start in plan[c]:
            embed_into(out, pattern, start)

    effects = condition_effects(score, backgrounds, base, build, len(plan), max_batch=max_batch)
    joint, alone_a, alone_b = (np.stack([effects[idx[i]] for _, idx in layout]) for i in range(3))
    coop = joint - alone_a - alone_b
    return [cond for cond, _ in layout], np.stack([joint, alone_a, alone_b, coop], axis=1)


def all_pairs(names: Sequence[str], homotypic: bool = False) -> list[tuple[str, str]]:
    """Unordered pairs of distinct names (plus (A, A) when ``homotypic``), in list order."""
    pairs = list(itertools.combinations(names, 2))
    return [(m, m) for m in names] + pairs if homotypic else pairs


def pair_scan(
    score: Scorer,
    backgrounds: np.ndarray,
    patterns: Mapping[str, Pattern] | Sequence[Pattern],
    tasks: Sequence[str],
    *,
    pairs: Sequence[tuple[str, str]] | None = None,
    distances: Sequence[int] = (0, 5, 10, 15, 20),
    orientations: Sequence[str] = ORIENTATIONS,
    interacting: Sequence[tuple[str, str]] = (),
    seed: int = 0,
    base: np.ndarray | None = None,
    max_batch: int = 8192,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Spacing/orientation scan of motif pairs (all unordered pairs by default).

    Returns (detail, summary). ``detail``: one row per pair, orientation, distance, task and measure
    (joint, single_a, single_b, cooperativity). ``summary``: one row per pair and task with the
    cooperativity averaged over all tested configurations per background (its mean, sd, CI), its
    largest configuration mean (``coop_max`` at ``best_orientation``/``best_distance``), whether the pair
    is a known interaction, and its rank among pairs on that task (1 = most cooperative).
    """
    items = {p.name: p for p in as_patterns(patterns)}
    unknown = [o for o in orientations if o not in ORIENTATIONS]
    if unknown:
        raise InputError(f"orientations must be among {ORIENTATIONS}, got {unknown}")
    pairs = all_pairs(list(items)) if pairs is None else [tuple(p) for p in pairs]
    missing = sorted({m for p in pairs for m in p if m not in items})
    if missing:
        raise InputError(f"pairs name motifs that are not tested: {', '.join(missing)}")
    known = {frozenset(p) for p in interacting}
    base = score(backgrounds) if base is None else base
    details, summaries = [], []
    for a, b in tqdm(pairs, desc="GIA pairs", unit="pair", disable=len(pairs) < 4, mininterval=5):
        conditions, effects = _pair_effects(
            score, backgrounds, base, items[a], items[b], distances, orientations, seed, max_batch
        )
        for m, measure in enumerate(MEASURES):
            rows = [{"motif_a": a, "motif_b": b, **c, "measure": measure} for c in conditions]
            details.append(tidy(rows, tasks, effects[:, m], keys=DETAIL_KEYS))
        coop = effects[:, 3]  # (C, n, T)
        overall = summarise(coop.mean(axis=0), axis=0)  # per background: mean over configurations
        config_means = coop.mean(axis=1)  # (C, T)
        best = config_means.argmax(axis=0)
        for t, task in enumerate(tasks):
            summaries.append(
                {
                    "motif_a": a,
                    "motif_b": b,
                    "task": str(task),
                    **{k: overall[k][t] for k in STAT_COLUMNS},
                    "coop_max": config_means[best[t], t],
                    "best_orientation": conditions[best[t]]["orientation"],
                    "best_distance": conditions[best[t]]["distance"],
                    "interacting": frozenset((a, b)) in known,
                }
            )
    detail = (
        pd.concat(details, ignore_index=True)
        if details
        else pd.DataFrame(columns=[*DETAIL_KEYS, "task", *STAT_COLUMNS])
    )
    summary = pd.DataFrame(
        summaries,
        columns=[
            "motif_a",
            "motif_b",
            "task",
            *STAT_COLUMNS,
            "coop_max",
            "best_orientation",
            "best_distance",
            "interacting",
        ],
    )
    summary["rank"] = rank_within(summary, ["task"]) if len(summary) else pd.Series(dtype=int)
    return detail, summary


def pair_rank(summary: pd.DataFrame, pair: tuple[str, str], task: str, value: str = "effect_mean") -> int:
    """Rank (1 = largest) of ``pair``'s cooperativity on ``task`` among every pair in the summary."""
    block = summary[summary["task"] == task]
    hit = block[
        ((block["motif_a"] == pair[0]) & (block["motif_b"] == pair[1]))
        | ((block["motif_a"] == pair[1]) & (block["motif_b"] == pair[0]))
    ]
    if hit.empty:
        raise InputError(f"pair {pair} on task {task!r} is not in the cooperativity table")
    return int((block[value] > hit[value].iloc[0]).sum() + 1)
