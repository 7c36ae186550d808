"""In silico saturation mutagenesis: the effect of every single-base substitution, (N, L, 4).

Mutants are built inside the compiled function from (sequence, position, base) indices, so only one
batch of mutants ever exists: N x 3L mutants of length L would not fit for long sequences.
"""

from __future__ import annotations

import numpy as np

from ..models.predict import Model, memo, mutant_scorer, run_batches, score_fn, sequence_chunks, setup


def ism(
    model: Model,
    x: np.ndarray,
    *,
    target: str = "logit",
    task: int | np.ndarray | None = None,
    batch_size: int = 256,
    progress: bool = True,
) -> np.ndarray:
    """delta[n, i, b] = f(x_n with base b at position i) - f(x_n); 0 at the observed base.

    Only the 3L real substitutions are evaluated (all 4 bases at an N, an all-zero row). ISM is not
    a gradient and needs no correction; to score it per position against ground truth, see
    ``evaluate.ism_position_map`` (L2 norm over the substitutions, the convention behind the
    ISM numbers of Koo & Ploenzke 2021, Nat Mach Intell).
    """
    x, net, weights = setup(model, x, target, task)
    shape = tuple(x.shape[1:])
    score = memo(model, ("score", target, shape), lambda: score_fn(net, shape))
    wild = run_batches(score, x, weights, batch_size)
    mutants = mutant_scorer(model, net, target, shape)
    out = np.zeros_like(x)
    per_sequence = int(np.prod(shape)) - shape[0]  # 3L for one-hot sequences
    for start, stop in sequence_chunks(len(x), per_sequence, batch_size, "ism", progress):
        seq, pos, base = np.nonzero(x[start:stop] != 1.0)
        mutant_scores = mutants(x[start:stop], weights[start:stop])
        for s in range(0, len(seq), batch_size):
            sl = slice(s, s + batch_size)
            scores = mutant_scores(seq[sl], pos[sl], base[sl])
            out[start + seq[sl], pos[sl], base[sl]] = scores - wild[start + seq[sl]]
    return out
