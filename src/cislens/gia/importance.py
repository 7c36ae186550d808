"""Single-motif global importance for a list of motifs, ranked per task, and the own-task check."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from .batches import Scorer, child_seed, condition_effects
from .embed import center_position, embed_into
from .patterns import Pattern
from .stats import STAT_COLUMNS, rank_within, tidy

OCCUPANCY_COLUMNS = ("motif", "task", "position", "strand", *STAT_COLUMNS, "rank")


def as_patterns(patterns: Mapping[str, Pattern] | Sequence[Pattern]) -> list[Pattern]:
    """Patterns from a {name: Pattern} mapping or a sequence, names unique."""
    items = list(patterns.values()) if isinstance(patterns, Mapping) else list(patterns)
    names = [p.name for p in items]
    if len(set(names)) != len(names):
        raise InputError(f"pattern names must be unique, got {names}")
    return items


def start_of(position: str | int, length: int, width: int) -> int:
    """Start index of a ``width`` pattern placed at ``position`` ('center' or an index)."""
    if position == "center":
        return center_position(length, width)
    if isinstance(position, int | np.integer):
        return int(position)
    raise InputError(f"position must be 'center' or an integer, got {position!r}")


def motif_importance(
    score: Scorer,
    backgrounds: np.ndarray,
    patterns: Mapping[str, Pattern] | Sequence[Pattern],
    tasks: Sequence[str],
    *,
    position: str | int = "center",
    seed: int = 0,
    base: np.ndarray | None = None,
    max_batch: int = 8192,
) -> pd.DataFrame:
    """Effect of each pattern at one position on every task; ``rank`` 1 = the largest effect on that
    task among all patterns tested. Rows sorted by motif, then effect (largest first)."""
    items = as_patterns(patterns)
    base = score(backgrounds) if base is None else base
    if base.shape[1] != len(tasks):
        raise InputError(f"model has {base.shape[1]} outputs but {len(tasks)} task names were given")
    length = backgrounds.shape[1]
    starts = [start_of(position, length, p.width) for p in items]

    def build(c: int, out: np.ndarray) -> None:
        pattern = items[c].instances(len(out), seed=child_seed(seed, items[c].name))
        embed_into(out, pattern, starts[c])

    effects = condition_effects(score, backgrounds, base, build, len(items), max_batch=max_batch)
    conditions = [
        {"motif": p.name, "position": s, "strand": p.strand} for p, s in zip(items, starts, strict=True)
    ]
    frame = tidy(conditions, tasks, effects, keys=["motif", "position", "strand"])
    frame["rank"] = rank_within(frame, ["task"]) if len(frame) else pd.Series(dtype=int)
    frame = frame[list(OCCUPANCY_COLUMNS)]
    return frame.sort_values(
        ["motif", "effect_mean"], ascending=[True, False], kind="mergesort", ignore_index=True
    )


def own_task_rank(table: pd.DataFrame, own: Mapping[str, str] | None = None) -> tuple[int, pd.DataFrame]:
    """How many motifs have the largest effect on their own task among the motifs that have one.

    ``own`` maps motif -> its task (default: motifs named like a task, as in the synthetic sets); other
    patterns in the table (extra k-mers, the other strand) are left out of the comparison.
    Returns (count ranked first, one row per motif: motif, task, rank, effect_mean, runner_up).
    """
    tasks = set(table["task"])
    own = dict(own) if own is not None else {m: m for m in dict.fromkeys(table["motif"]) if m in tasks}
    table = table[table["motif"].isin(list(own))]
    rows = []
    for motif, task in own.items():
        block = table[table["task"] == task].sort_values("effect_mean", ascending=False, kind="mergesort")
        mine = block[block["motif"] == motif]
        if mine.empty:
            raise InputError(f"no effect of {motif!r} on task {task!r} in the table")
        others = block[block["motif"] != motif]
        rows.append(
            {
                "motif": motif,
                "task": task,
                "rank": int((block["effect_mean"] > mine["effect_mean"].iloc[0]).sum() + 1),
                "effect_mean": float(mine["effect_mean"].iloc[0]),
                "runner_up": others["motif"].iloc[0] if len(others) else "",
                "runner_up_effect": float(others["effect_mean"].iloc[0]) if len(others) else float("nan"),
            }
        )
    frame = pd.DataFrame(
        rows, columns=["motif", "task", "rank", "effect_mean", "runner_up", "runner_up_effect"]
    )
    return int((frame["rank"] == 1).sum()), frame


def amplitude_agreement(occupancy: pd.DataFrame, amplitudes: Mapping[str, float]) -> float | None:
    """Spearman correlation between each motif's mean GIA effect (over tasks, strands and positions)
    and the amplitude its sites add to a synthetic signal: does the model rank the motifs as the data
    were made? None with fewer than three of the motifs tested."""
    from scipy.stats import spearmanr

    tested = occupancy[occupancy["motif"].isin(list(amplitudes))]
    effects = tested.groupby("motif")["effect_mean"].mean()
    if len(effects) < 3:
        return None
    return float(spearmanr(effects.to_numpy(), [amplitudes[m] for m in effects.index]).statistic)
