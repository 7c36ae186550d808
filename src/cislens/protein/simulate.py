"""Planted Potts models and Gibbs-sampled alignments: data where contacts and mutation effects are known.

A planted model has couplings only on a random contact graph, so contact recovery has an exact answer,
and the true effect of any mutation is its energy change under the planted parameters.
"""

from __future__ import annotations

import numpy as np

from .msa import GAP, Q
from .params import PottsModel


def planted_potts(
    length: int = 50,
    *,
    n_contacts: int | None = None,
    q: int = Q,
    coupling_scale: float = 0.5,
    field_scale: float = 2.0,
    gap_penalty: float = 2.0,
    seed: int = 0,
) -> tuple[PottsModel, np.ndarray]:
    """A Potts model with Gaussian ``q x q`` couplings on ``n_contacts`` random pairs (default 2 L).

    Fields are Gaussian with the gap state's lowered by ``gap_penalty`` so gaps stay rare, as in real
    alignments. The defaults are protein-like: fields dominate (a few likely residues per column) and
    couplings are a sparse correction, strong per block (Frobenius ~ 0.5 * q = 10, every contact is
    recoverable from 5,000 sequences) but moderate per entry, so that 5,000 sequences also pin down
    single-mutant energy changes (with entries ~ 1, the 441 entries of each block cannot be estimated
    from 5,000 sequences and every model's effects, even the exact-likelihood optimum's, stay noisy).
    Returns the model and its ``(L, L)`` boolean contact graph.
    """
    rng = np.random.default_rng(seed)
    n_contacts = 2 * length if n_contacts is None else int(n_contacts)
    i_all, j_all = np.triu_indices(length, k=1)
    pick = rng.choice(i_all.size, size=min(n_contacts, i_all.size), replace=False)
    contacts = np.zeros((length, length), dtype=bool)
    contacts[i_all[pick], j_all[pick]] = True
    contacts |= contacts.T
    couplings = np.zeros((length, length, q, q), dtype=np.float32)
    for i, j in zip(i_all[pick], j_all[pick], strict=True):
        block = rng.normal(0.0, coupling_scale, size=(q, q))
        couplings[i, j], couplings[j, i] = block, block.T
    h = rng.normal(0.0, field_scale, size=(length, q))
    if q > GAP:
        h[:, GAP] -= gap_penalty
    info = {"model": "planted", "seed": int(seed), "n_contacts": int(pick.size)}
    return PottsModel(h=h.astype(np.float32), J=couplings, info=info), contacts


def gibbs_sample(
    model: PottsModel,
    n: int,
    *,
    burn_in: int = 200,
    thin: int = 20,
    n_chains: int | None = None,
    seed: int = 0,
    progress: bool = False,
) -> np.ndarray:
    """``(n, L)`` sequences from ``P(x) ~ exp(E(x))`` by Gibbs sampling, vectorised over chains.

    ``n_chains`` chains (default min(n, 500)) start from uniform random states, run ``burn_in`` sweeps,
    then record every ``thin``-th sweep until n samples exist. Each site update only reads the blocks
    that are non-zero for that site, so sparse planted models sample fast; dense ones work too.
    """
    from tqdm.auto import tqdm

    rng = np.random.default_rng(seed)
    length, q = model.length, model.q
    n_chains = min(int(n), 500) if n_chains is None else int(n_chains)
    per_chain = -(-int(n) // n_chains)
    h = model.h.astype(np.float64)
    couplings = model.J
    if couplings is None:
        neighbours = [np.zeros(0, dtype=int)] * length
    else:
        nonzero = np.abs(couplings).reshape(length, length, -1).max(axis=2) > 0
        neighbours = [np.flatnonzero(nonzero[i]) for i in range(length)]
    blocks = [couplings[i, nb].astype(np.float64) if nb.size else None for i, nb in enumerate(neighbours)]
    x = rng.integers(0, q, size=(n_chains, length))
    which = np.arange(n_chains)
    samples = []
    total = burn_in + per_chain * thin
    for sweep in tqdm(range(total), desc="gibbs", disable=not progress, leave=False):
        for i in range(length):
            logits = np.broadcast_to(h[i], (n_chains, q)).copy()
            nb = neighbours[i]
            if nb.size:
                # blocks[i][k, :, x[c, nb[k]]] summed over k, for every chain c: (C, k, q) -> (C, q)
                logits += blocks[i][np.arange(nb.size)[None, :], :, x[:, nb]].sum(axis=1)
            gumbel = -np.log(-np.log(rng.random((n_chains, q))))
            x[which, i] = np.argmax(logits + gumbel, axis=1)
        if sweep >= burn_in and (sweep - burn_in + 1) % thin == 0:
            samples.append(x.copy())
    out = np.stack(samples, axis=1).reshape(-1, length)  # chain-major
    return out[: int(n)].astype(np.uint8)
