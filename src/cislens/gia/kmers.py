"""Optimal k-mer search (all 4^k k-mers embedded in the same backgrounds), k-mer mutagenesis of the best
k-mer, and an alignment of the top k-mers into a logo: what the model wants, without a motif database."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..data.onehot import ALPHABET
from ..errors import InputError
from .batches import Scorer, condition_effects, iter_scores
from .importance import start_of
from .stats import STAT_COLUMNS, summarise, tidy

MAX_K = 8


def kmer_codes(k: int, lo: int = 0, hi: int | None = None) -> np.ndarray:
    """(m, k) base codes of k-mers lo..hi-1 in lexicographic ACGT order (index = base-4 number)."""
    hi = 4**k if hi is None else hi
    idx = np.arange(lo, hi, dtype=np.int64)
    return (idx[:, None] // 4 ** np.arange(k - 1, -1, -1)[None, :]) % 4


def kmer_string(codes: np.ndarray) -> str:
    return "".join(ALPHABET[int(c)] for c in codes)


def kmer_search(
    score: Scorer,
    backgrounds: np.ndarray,
    tasks: Sequence[str],
    *,
    k: int = 6,
    position: str | int = "center",
    top: int | None = 50,
    base: np.ndarray | None = None,
    max_batch: int = 16384,
) -> pd.DataFrame:
    """Effect of every k-mer at one position; the ``top`` k-mers per task (all when None), ranked.

    Streams over k-mers in batches of about ``max_batch`` sequences and keeps only each k-mer's
    mean and sd per task, so memory is O(4^k x tasks) whatever k and the number of backgrounds.
    """
    if not 1 <= k <= MAX_K:
        raise InputError(f"k-mer length must be 1..{MAX_K}, got {k}")
    base = score(backgrounds) if base is None else base
    length = backgrounds.shape[1]
    start = start_of(position, length, k)
    eye = np.eye(4, dtype=np.float32)
    total = 4**k
    stats = {name: np.empty((total, len(tasks))) for name in STAT_COLUMNS}

    def build(c: int, out: np.ndarray) -> None:
        out[:, start : start + k] = eye[kmer_codes(k, c, c + 1)[0]]

    for lo, hi, scores in iter_scores(
        score, backgrounds, build, total, max_batch=max_batch, desc=f"GIA {k}-mers"
    ):
        for name, values in summarise(scores - base[None], axis=1).items():
            stats[name][lo:hi] = values
    rows = []
    for t, task in enumerate(tasks):
        order = np.argsort(-stats["effect_mean"][:, t], kind="stable")[: top or total]
        for rank, c in enumerate(order, start=1):
            rows.append(
                {
                    "kmer": kmer_string(kmer_codes(k, c, c + 1)[0]),
                    "task": str(task),
                    **{name: stats[name][c, t] for name in STAT_COLUMNS},
                    "rank": rank,
                }
            )
    return pd.DataFrame(rows, columns=["kmer", "task", *STAT_COLUMNS, "rank"])


def kmer_mutagenesis(
    score: Scorer,
    backgrounds: np.ndarray,
    tasks: Sequence[str],
    best: dict[str, str],
    *,
    position: str | int = "center",
    base: np.ndarray | None = None,
    max_batch: int = 8192,
) -> pd.DataFrame:
    """Every single substitution of each task's best k-mer (``best``: task -> k-mer), on that task.

    Rows (task, kmer, offset, base, mutant, effect stats, delta_mean = mutant - k-mer mean effect); the
    k-mer's own base at each offset is a row with delta 0, so the table is a full (k x 4) matrix.
    """
    base = score(backgrounds) if base is None else base
    length = backgrounds.shape[1]
    variants: list[tuple[str, str, int, str]] = []  # (task, mutant, offset, base)
    for task, kmer in best.items():
        for offset in range(len(kmer)):
            for letter in ALPHABET:
                variants.append((task, kmer[:offset] + letter + kmer[offset + 1 :], offset, letter))
    unique = list(dict.fromkeys(v[1] for v in variants))
    eye = np.eye(4, dtype=np.float32)

    def build(c: int, out: np.ndarray) -> None:
        seq = unique[c]
        start = start_of(position, length, len(seq))
        out[:, start : start + len(seq)] = eye[[ALPHABET.index(b) for b in seq]]

    effects = condition_effects(score, backgrounds, base, build, len(unique), max_batch=max_batch)
    table = tidy([{"mutant": s} for s in unique], tasks, effects).set_index(["mutant", "task"])
    rows = []
    for task, mutant, offset, letter in variants:
        kmer = best[task]
        row = table.loc[(mutant, str(task))]
        rows.append(
            {
                "task": str(task),
                "kmer": kmer,
                "offset": offset,
                "base": letter,
                "mutant": mutant,
                **{name: row[name] for name in STAT_COLUMNS},
                "delta_mean": row["effect_mean"] - table.loc[(kmer, str(task)), "effect_mean"],
            }
        )
    return pd.DataFrame(
        rows, columns=["task", "kmer", "offset", "base", "mutant", *STAT_COLUMNS, "delta_mean"]
    )


def _revcomp(codes: np.ndarray) -> np.ndarray:
    return 3 - codes[::-1]


def align_kmers(kmers: Sequence[str], max_shift: int | None = None, min_coverage: float = 0.5) -> np.ndarray:
    """(W, 4) PPM of k-mers aligned to the first one (shifts up to ``max_shift``, either strand).

    Each k-mer takes the shift and strand with the most matching bases over the overlap (ties: forward
    strand, smaller shift); columns covered by fewer than ``min_coverage`` of the k-mers are trimmed.
    """
    if not kmers:
        raise InputError("no k-mers to align")
    codes = [np.array([ALPHABET.index(b) for b in s]) for s in kmers]
    k = len(codes[0])
    shift = k // 2 if max_shift is None else int(max_shift)
    width = k + 2 * shift
    counts = np.zeros((width, 4))
    cover = np.zeros(width)
    ref = codes[0]
    for seq in codes:
        best, best_key = None, None
        for strand, oriented in enumerate((seq, _revcomp(seq))):
            for s in range(-shift, shift + 1):
                lo, hi = max(0, s), min(k, k + s)  # overlap in reference coordinates
                matches = int((oriented[lo - s : hi - s] == ref[lo:hi]).sum())
                key = (matches, -strand, -abs(s))
                if best_key is None or key > best_key:
                    best, best_key = (oriented, s), key
        oriented, s = best
        cols = np.arange(k) + s + shift
        counts[cols, oriented] += 1
        cover[cols] += 1
    keep = np.flatnonzero(cover >= min_coverage * len(codes))
    counts = counts[keep.min() : keep.max() + 1]
    return counts / counts.sum(axis=1, keepdims=True).clip(min=1)
