"""Motif interactions read from attention (arch ``cnn_attention``, layer ``mha``), checked against GIA.

For each motif pair embedded in backgrounds, the interaction score is the attention between the two
motifs' positions (max over heads, either direction), averaged over backgrounds; ``snr`` divides it by
the attention between the same positions in the backgrounds without motifs. Known interacting pairs
(from the dataset's ``interactions``) then give an AUROC for attention and for GIA cooperativity alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .batches import Scorer, child_seed
from .embed import embed
from .importance import as_patterns
from .patterns import Pattern
from .spacing import all_pairs, pair_scan, pair_starts
from .stats import STAT_COLUMNS

ATTENTION_COLUMNS = (
    "motif_a",
    "motif_b",
    "distance",
    "interacting",
    "attention_mean",
    "attention_sd",
    "attention_background",
    "snr",
    "task",
    *STAT_COLUMNS,
    "coop_rank",
)


def has_attention(model: object) -> bool:
    """Whether the model has the zoo's ``mha`` layer."""
    try:
        model.get_layer("mha")  # type: ignore[attr-defined]
    except (ValueError, AttributeError):
        return False
    return True


def attention_between(
    model: object, x: np.ndarray, pos_a: int, pos_b: int, batch_size: int = 64
) -> np.ndarray:
    """(N,) attention between sequence positions ``pos_a`` and ``pos_b``: max over heads and directions.

    Positions map onto the attention grid by scaling (L' = L / first-layer pool); maps are read a batch
    at a time so memory holds one batch of (heads, L', L') maps.
    """
    from ..models.zoo import attention_weights

    length = x.shape[1]
    out = []
    for lo in range(0, len(x), batch_size):
        maps = attention_weights(model, x[lo : lo + batch_size], batch_size=batch_size)  # (b, H, L', L')
        grid = maps.shape[-1]
        i, j = (min(int(p * grid / length), grid - 1) for p in (pos_a, pos_b))
        out.append(np.maximum(maps[:, :, i, j], maps[:, :, j, i]).max(axis=1))
    return np.concatenate(out) if out else np.zeros(0)


def attention_pairs(
    model: object,
    score: Scorer,
    backgrounds: np.ndarray,
    patterns: Mapping[str, Pattern] | Sequence[Pattern],
    tasks: Sequence[str],
    *,
    pairs: Sequence[tuple[str, str]] | None = None,
    distance: int = 10,
    interacting: Sequence[tuple[str, str]] = (),
    seed: int = 0,
    base: np.ndarray | None = None,
) -> pd.DataFrame:
    """Attention at each embedded pair (A left, ``distance`` bases, B right, both forward) with the
    same pair's GIA cooperativity; one row per pair and task (attention columns repeat across tasks)."""
    items = {p.name: p for p in as_patterns(patterns)}
    pairs = all_pairs(list(items)) if pairs is None else [tuple(p) for p in pairs]
    known = {frozenset(p) for p in interacting}
    n, length = backgrounds.shape[:2]
    _, coop = pair_scan(
        score,
        backgrounds,
        items,
        tasks,
        pairs=pairs,
        distances=[distance],
        orientations=["++"],
        interacting=interacting,
        seed=seed,
        base=base,
    )
    coop = coop.set_index(["motif_a", "motif_b", "task"])
    rows = []
    for a, b in pairs:
        start_a, start_b = pair_starts(length, items[a].width, items[b].width, distance)
        center_a, center_b = start_a + items[a].width // 2, start_b + items[b].width // 2
        x = embed(backgrounds, items[a].instances(n, seed=child_seed(seed, a, "+")), start_a)
        x = embed(x, items[b].instances(n, seed=child_seed(seed, b, "+")), start_b)
        signal = attention_between(model, x, center_a, center_b)
        noise = float(attention_between(model, backgrounds, center_a, center_b).mean())
        for task in tasks:
            c = coop.loc[(a, b, str(task))]
            rows.append(
                {
                    "motif_a": a,
                    "motif_b": b,
                    "distance": distance,
                    "interacting": frozenset((a, b)) in known,
                    "attention_mean": float(signal.mean()),
                    "attention_sd": float(signal.std(ddof=1)) if n > 1 else float("nan"),
                    "attention_background": noise,
                    "snr": float(signal.mean()) / noise if noise > 0 else float("nan"),
                    "task": str(task),
                    **{k: c[k] for k in STAT_COLUMNS},
                    "coop_rank": int(c["rank"]),
                }
            )
    return pd.DataFrame(rows, columns=list(ATTENTION_COLUMNS))


def interaction_aurocs(table: pd.DataFrame, task: str | None = None) -> dict[str, float]:
    """AUROC of attention and of cooperativity (on ``task``, default the first) for the known pairs."""
    from sklearn.metrics import roc_auc_score

    if table.empty:
        return {"attention_auroc": float("nan"), "cooperativity_auroc": float("nan")}
    task = str(table["task"].iloc[0]) if task is None else task
    block = table[table["task"] == task]
    labels = block["interacting"].astype(bool).to_numpy()
    if labels.all() or not labels.any():
        return {"attention_auroc": float("nan"), "cooperativity_auroc": float("nan")}
    return {
        "attention_auroc": float(roc_auc_score(labels, block["attention_mean"])),
        "cooperativity_auroc": float(roc_auc_score(labels, block["effect_mean"])),
    }
