"""Ground-truth synthetic datasets: 12-TF multitask (Koo & Eddy 2019), regulatory code (Koo & Ploenzke 2021).

Every sequence is sampled column by column from a known (L, 4) probability matrix: 0.25 background
with motif PPMs pasted in. That matrix is kept as ``truth`` so attribution maps can be scored against
the planted positions (information > 0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError
from .dataset import SPLITS, Dataset, Split

# Koo & Eddy 2019: the 12 planted TFs (task order) and their JASPAR 2016 CORE vertebrate IDs (the config
# schema's default `motifs` of a synthetic_multitask dataset; tests/unit/test_plan.py keeps them equal).
MULTITASK_MOTIFS: dict[str, str] = {
    "Arid3a": "MA0151.1",
    "CEBPB": "MA0466.2",
    "FOSL1": "MA0477.1",
    "Gabpa": "MA0062.2",
    "MAFK": "MA0496.1",
    "MAX": "MA0058.3",
    "MEF2A": "MA0052.3",
    "NFYB": "MA0502.1",
    "SP1": "MA0079.3",
    "SRF": "MA0083.3",
    "STAT1": "MA0137.3",
    "YY1": "MA0095.2",
}
# Koo & Ploenzke 2021: the regulatory-code core (the schema's default `core` of a synthetic_code dataset).
CODE_CORE_MOTIFS: dict[str, str] = {
    "SP1": "MA0079.3",
    "Gabpa": "MA0062.2",
    "CEBPB": "MA0466.2",
    "MAX": "MA0058.3",
    "YY1": "MA0095.2",
}
DEFAULT_MULTITASK_IDS = MULTITASK_MOTIFS
DEFAULT_CODE_CORE = CODE_CORE_MOTIFS
K_PROBS = (0.50, 0.25, 0.17, 0.05, 0.03)


def _as_ppm(motif: Any) -> np.ndarray:
    ppm = np.asarray(getattr(motif, "ppm", motif), dtype=np.float64)
    if ppm.ndim != 2 or ppm.shape[1] != 4:
        raise InputError(f"motif must be a (W, 4) PPM, got {ppm.shape}")
    return ppm


def _pwm_bank(motifs: Mapping[str, Any]) -> tuple[list[np.ndarray], np.ndarray]:
    """Each motif and its reverse complement; returns the PPMs and the motif index of each."""
    ppms, owner = [], []
    for j, motif in enumerate(motifs.values()):
        ppm = _as_ppm(motif)
        ppms += [ppm, ppm[::-1, ::-1].copy()]
        owner += [j, j]
    return ppms, np.array(owner)


def _choose(
    rng: np.random.Generator, widths: np.ndarray, k: int, length: int, reserved: int = 0
) -> np.ndarray:
    """Draw k PWMs uniformly (with replacement) until they fit beside ``reserved`` columns."""
    while True:
        choice = rng.integers(0, len(widths), size=k)
        if int(widths[choice].sum()) + reserved < length:
            return choice


def _starts(rng: np.random.Generator, unit_widths: np.ndarray, length: int) -> np.ndarray:
    """Starts of consecutive units of the given widths with k+1 random gaps filling the free space."""
    k = len(unit_widths)
    total = int(unit_widths.sum())
    u = rng.uniform(size=k + 1)
    # Round cumulative gap ends so the gaps sum exactly to the free space (rounding each drifts).
    ends = np.rint(np.cumsum(u / u.sum() * (length - total))).astype(np.int64)
    ends[-1] = length - total
    gaps = np.diff(np.concatenate([[0], ends]))
    return np.cumsum(gaps[:k]) + np.concatenate([[0], np.cumsum(unit_widths)[:-1]])


def _layout(
    rng: np.random.Generator, widths: np.ndarray, k: int, length: int
) -> tuple[np.ndarray, np.ndarray]:
    """Draw k PWMs uniformly (with replacement) until they fit, then gap sizes; returns (choices, starts)."""
    choice = _choose(rng, widths, k, length)
    return choice, _starts(rng, widths[choice], length)


def _sample(rng: np.random.Generator, truth: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """One base per column by inverse CDF over all columns at once -> uint8 one-hot (chunked for memory)."""
    out = np.zeros(truth.shape, dtype=np.uint8)
    for lo in range(0, len(truth), chunk):
        cdf = np.cumsum(truth[lo : lo + chunk], axis=-1, dtype=np.float64)
        u = rng.random(cdf.shape[:-1])[..., None]
        idx = np.minimum((u >= cdf).sum(axis=-1), 3)
        np.put_along_axis(out[lo : lo + chunk], idx[..., None], 1, axis=-1)
    return out


def _plant(
    rng: np.random.Generator,
    ppms: list[np.ndarray],
    n: int,
    length: int,
    k_values: np.ndarray,
    k_probs: Sequence[float],
) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """Probability matrices (n, L, 4) with motifs planted; PWM indices used per sequence; k per sequence."""
    probs = np.asarray(k_probs, dtype=np.float64)
    if len(probs) != len(k_values) or not np.isclose(probs.sum(), 1.0):
        raise InputError(f"k_probs must have {len(k_values)} probabilities summing to 1, got {list(k_probs)}")
    widths = np.array([len(p) for p in ppms])
    if int(k_values.max()) * int(widths.min()) >= length:  # else the retry loop could never end
        raise InputError(f"{k_values.max()} motifs of width >= {widths.min()} never fit in length {length}")
    ks = rng.choice(k_values, size=n, p=probs)
    truth = np.full((n, length, 4), 0.25, dtype=np.float32)
    used = []
    for i, k in enumerate(ks):
        choice, starts = _layout(rng, widths, int(k), length)
        for c, s in zip(choice, starts, strict=True):
            truth[i, s : s + widths[c]] = ppms[c]
        used.append(choice)
    return truth, used, ks


def _split(rng: np.random.Generator, n: int, split: Sequence[float]) -> dict[str, np.ndarray]:
    if len(split) != 3 or not np.isclose(sum(split), 1.0):
        raise InputError(f"split must be 3 fractions summing to 1, got {list(split)}")
    order = rng.permutation(n)
    n_train, n_valid = round(n * split[0]), round(n * split[1])
    cuts = [0, n_train, n_train + n_valid, n]
    return {name: np.sort(order[cuts[i] : cuts[i + 1]]) for i, name in enumerate(SPLITS)}


def _assemble(x: np.ndarray, y: np.ndarray, truth: np.ndarray, parts: dict[str, np.ndarray]) -> dict:
    names = np.array([f"seq{i:06d}" for i in range(len(x))])
    return {name: Split(x=x[idx], y=y[idx], truth=truth[idx], name=names[idx]) for name, idx in parts.items()}


def make_multitask(
    motifs: Mapping[str, Any],
    *,
    n: int = 30000,
    length: int = 200,
    k_probs: Sequence[float] = K_PROBS,
    split: Sequence[float] = (0.7, 0.1, 0.2),
    seed: int = 0,
    interactions: Sequence[Mapping[str, Any]] = (),
) -> Dataset:
    """Koo & Eddy 2019: k in 1..len(k_probs) motifs from motifs + reverse complements; label = TF present.

    ``interactions`` (see :func:`parse_interactions`) add one task per planted pair; without them the
    data are exactly those of the reference setup (same draws, byte-identical files).
    """
    if not motifs:
        raise InputError("make_multitask needs at least one motif")
    if interactions:
        return _make_interacting(motifs, parse_interactions(interactions, list(motifs)), n, length, k_probs,
                                 split, seed)  # fmt: skip
    rng = np.random.default_rng(seed)
    ppms, owner = _pwm_bank(motifs)
    truth, used, ks = _plant(rng, ppms, n, length, np.arange(1, len(k_probs) + 1), k_probs)
    y = np.zeros((n, len(motifs)), dtype=np.float32)
    for i, choice in enumerate(used):
        y[i, owner[choice]] = 1
    x = _sample(rng, truth)
    parts = _split(rng, n, split)
    summary = {
        "n": n,
        "length": length,
        "k_counts": np.bincount(ks, minlength=len(k_probs) + 1)[1:].tolist(),
        "label_counts": y.sum(axis=0).astype(int).tolist(),
        "sizes": {k: len(v) for k, v in parts.items()},
    }
    return Dataset(
        splits=_assemble(x, y, truth, parts),
        tasks=list(motifs),
        kind="synthetic_multitask",
        seed=seed,
        summary=summary,
    )


@dataclass(frozen=True)
class Interaction:
    """A planted pair: task ``task`` is positive when motifs ``a`` and ``b`` (indices into the motif map,
    either strand) lie within ``max_distance`` bases of each other (bases between them; 0 = adjacent).

    ``fraction`` of sequences get the pair within that distance, ``decoy_fraction`` get it farther apart
    (both motifs present, label 0), so a model must read the distance, not just co-occurrence.
    """

    a: int
    b: int
    task: str
    max_distance: int = 20
    fraction: float = 0.25
    decoy_fraction: float = 0.25


def parse_interactions(specs: Sequence[Mapping[str, Any]], names: Sequence[str]) -> list[Interaction]:
    """Config entries ``{motifs: [A, B], task: name, max_distance, fraction, decoy_fraction}`` checked."""
    out = []
    for spec in specs:
        pair = list(spec.get("motifs", []))
        if len(pair) != 2 or any(m not in names for m in pair):
            raise InputError(f"interactions: motifs {pair} must be two of {', '.join(names)}")
        out.append(
            Interaction(
                names.index(pair[0]),
                names.index(pair[1]),
                str(spec["task"]),
                int(spec.get("max_distance", 20)),
                float(spec.get("fraction", 0.25)),
                float(spec.get("decoy_fraction", 0.25)),
            )
        )
    tasks = [i.task for i in out]
    if len(set(tasks)) != len(tasks) or set(tasks) & set(names):
        raise InputError(f"interactions: task names {tasks} must be unique and differ from the motif names")
    if sum(i.fraction + i.decoy_fraction for i in out) > 1 + 1e-9:
        raise InputError("interactions: fractions and decoy fractions sum to more than 1")
    return out


def _far_range(inter: Interaction, width: int, length: int) -> tuple[int, int]:
    """Gap range of a decoy pair: just beyond max_distance up to about twice it, as long as it fits."""
    low = inter.max_distance + 1
    return low, min(2 * inter.max_distance + 10, length - 1 - width)


def pair_within(instances: Sequence[tuple[int, int, int]], a: int, b: int, max_distance: int) -> bool:
    """Whether two distinct placed instances (motif, start, end) of motifs a and b are at most
    ``max_distance`` bases apart."""
    for p, (mp, sp, ep) in enumerate(instances):
        for q, (mq, sq, eq) in enumerate(instances):
            if p != q and mp == a and mq == b and max(sq - ep, sp - eq) <= max_distance:
                return True
    return False


def _make_interacting(
    motifs: Mapping[str, Any],
    interactions: list[Interaction],
    n: int,
    length: int,
    k_probs: Sequence[float],
    split: Sequence[float],
    seed: int,
) -> Dataset:
    """§1a layout where chosen sequences carry an interacting pair as one unit (A, gap, B), near or far."""
    rng = np.random.default_rng(seed)
    ppms, owner = _pwm_bank(motifs)
    widths = np.array([len(p) for p in ppms])
    k_values = np.arange(1, len(k_probs) + 1)
    probs = np.asarray(k_probs, dtype=np.float64)
    if len(probs) != len(k_values) or not np.isclose(probs.sum(), 1.0):
        raise InputError(f"k_probs must have {len(k_values)} probabilities summing to 1, got {list(k_probs)}")
    for inter in interactions:
        pair_width = int(widths[2 * inter.a] + widths[2 * inter.b])
        low, high = _far_range(inter, pair_width, length)
        longest = pair_width + (high if inter.decoy_fraction > 0 else inter.max_distance)
        if (inter.decoy_fraction > 0 and high < low) or longest + max(
            len(k_values) - 2, 0
        ) * widths.min() >= length:
            raise InputError(
                f"interactions: task {inter.task}: pairs up to {longest} bp leave no room in length {length}"
            )
    ks = rng.choice(k_values, size=n, p=probs)
    bounds = np.cumsum([f for i in interactions for f in (i.fraction, i.decoy_fraction)])
    roles = np.searchsorted(bounds, rng.random(n), side="right")  # 2j: pair j near, 2j+1: far, else none
    truth = np.full((n, length, 4), 0.25, dtype=np.float32)
    placed: list[list[tuple[int, int, int]]] = []
    for i, k in enumerate(ks):
        if roles[i] >= 2 * len(interactions):
            choice, starts = _layout(rng, widths, int(k), length)
            units = [[(int(c), 0)] for c in choice]
        else:
            inter = interactions[roles[i] // 2]
            first, second = 2 * inter.a + rng.integers(0, 2), 2 * inter.b + rng.integers(0, 2)
            if rng.random() < 0.5:
                first, second = second, first
            pair_width = int(widths[first] + widths[second])
            if roles[i] % 2 == 0:
                gap = int(rng.integers(0, min(inter.max_distance, length - 1 - pair_width) + 1))
            else:
                low, high = _far_range(inter, pair_width, length)
                gap = int(rng.integers(low, high + 1))
            block = pair_width + gap
            choice = _choose(rng, widths, max(int(k) - 2, 0), length, reserved=block)
            units = [[(int(first), 0), (int(second), int(widths[first]) + gap)]] + [
                [(int(c), 0)] for c in choice
            ]
            unit_widths = np.array([block] + [int(widths[c]) for c in choice])
            order = rng.permutation(len(units))
            units = [units[j] for j in order]
            starts = _starts(rng, unit_widths[order], length)
        here = []
        for unit, start in zip(units, starts, strict=True):
            for c, offset in unit:
                s0 = int(start) + offset
                truth[i, s0 : s0 + widths[c]] = ppms[c]
                here.append((int(owner[c]), s0, s0 + int(widths[c])))
        placed.append(here)
    n_motifs = len(motifs)
    y = np.zeros((n, n_motifs + len(interactions)), dtype=np.float32)
    for i, here in enumerate(placed):
        y[i, [m for m, _, _ in here]] = 1
        for j, inter in enumerate(interactions):
            y[i, n_motifs + j] = pair_within(here, inter.a, inter.b, inter.max_distance)
    x = _sample(rng, truth)
    parts = _split(rng, n, split)
    counts = np.array([len(h) for h in placed])
    summary = {
        "n": n,
        "length": length,
        "k_counts": np.bincount(counts, minlength=len(k_probs) + 1)[1:].tolist(),
        "label_counts": y.sum(axis=0).astype(int).tolist(),
        "interactions": [
            {
                "task": inter.task,
                "motifs": [list(motifs)[inter.a], list(motifs)[inter.b]],
                "max_distance": inter.max_distance,
                "planted_near": int((roles == 2 * j).sum()),
                "planted_far": int((roles == 2 * j + 1).sum()),
                "positives": int(y[:, n_motifs + j].sum()),
            }
            for j, inter in enumerate(interactions)
        ],
        "sizes": {k: len(v) for k, v in parts.items()},
    }
    return Dataset(
        splits=_assemble(x, y, truth, parts),
        tasks=list(motifs) + [inter.task for inter in interactions],
        kind="synthetic_multitask",
        seed=seed,
        summary=summary,
    )


def make_code(
    core: Mapping[str, Any],
    pool: Mapping[str, Any],
    *,
    n_pos: int = 10000,
    n_neg: int = 10000,
    k_range: tuple[int, int] = (3, 7),
    k_probs: Sequence[float] = K_PROBS,
    length: int = 200,
    split: Sequence[float] = (0.7, 0.1, 0.2),
    seed: int = 0,
) -> Dataset:
    """Koo & Ploenzke 2021: positives from core (+RC) only; negatives from core + pool (+RC); label "code".

    ``pool`` may or may not include the core motifs: negatives draw from their union (by key).
    """
    if not core:
        raise InputError("make_code needs core motifs")
    rng = np.random.default_rng(seed)
    k_values = np.arange(k_range[0], k_range[1] + 1)
    core_ppms, _ = _pwm_bank(core)
    pool_ppms, _ = _pwm_bank({**core, **pool})
    pos, _, k_pos = _plant(rng, core_ppms, n_pos, length, k_values, k_probs)
    neg, _, k_neg = _plant(rng, pool_ppms, n_neg, length, k_values, k_probs)
    truth = np.concatenate([pos, neg])
    y = np.concatenate([np.ones(n_pos), np.zeros(n_neg)]).astype(np.float32)[:, None]
    x = _sample(rng, truth)
    parts = _split(rng, n_pos + n_neg, split)
    summary = {
        "n_pos": n_pos,
        "n_neg": n_neg,
        "length": length,
        "n_core_pwms": len(core_ppms),
        "n_pool_pwms": len(pool_ppms),
        "k_counts_pos": np.bincount(k_pos - k_range[0], minlength=len(k_values)).tolist(),
        "k_counts_neg": np.bincount(k_neg - k_range[0], minlength=len(k_values)).tolist(),
        "sizes": {k: len(v) for k, v in parts.items()},
    }
    return Dataset(
        splits=_assemble(x, y, truth, parts),
        tasks=["code"],
        kind="synthetic_code",
        seed=seed,
        summary=summary,
    )


def random_pool_ids(
    release: str = "JASPAR2016", n: int = 50, exclude: Sequence[str] = (), seed: int = 0
) -> list[str]:
    """n JASPAR CORE vertebrate IDs chosen reproducibly, skipping any whose base ID is in ``exclude``."""
    from ..jaspar import load_jaspar

    excluded = {e.split(".")[0] for e in exclude}
    ids = [m.id for m in load_jaspar(release) if m.id.split(".")[0] not in excluded]
    if n > len(ids):
        raise InputError(f"asked for {n} pool motifs but only {len(ids)} are available in {release}")
    rng = np.random.default_rng(seed)
    return sorted(ids[i] for i in rng.choice(len(ids), size=n, replace=False))
