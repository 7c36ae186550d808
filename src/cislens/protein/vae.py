"""A small DeepSequence-like variational autoencoder over one-hot sequences (Keras 3 / TensorFlow).

Encoder and decoder are MLPs; the decoder outputs independent per-position softmaxes, so the ELBO is
a lower bound on log p(x) and ``ELBO(mutant) - ELBO(wild type)`` estimates a mutation's effect, capturing
higher-order dependencies through the latent space instead of explicit couplings. Weighting: batches are
drawn with probability proportional to the sequence weights (DeepSequence's scheme), so the expected
loss is the weighted ELBO without redundant clusters dominating the gradient. The decoder gets an L2
penalty (a MAP stand-in for DeepSequence's Bayesian decoder). Building, training, the ELBO and the model file
are in :mod:`cislens.protein.fit` (TensorFlow kept there), re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .dms import mutant_batch
from .fit import build_vae as build
from .fit import fit_vae as fit
from .fit import load_vae, save_vae
from .fit import vae_elbo as elbo
from .msa import Q

__all__ = ["SequenceVAE", "build", "elbo", "fit", "load_vae", "mutation_effects", "save_vae"]


@dataclass
class SequenceVAE:
    """Encoder ``(L, q) -> [mu, logvar]``, decoder ``z -> (L, q) logits``, and the training losses."""

    encoder: object
    decoder: object
    length: int
    q: int = Q
    history: list[float] = field(default_factory=list)

    @property
    def latent(self) -> int:
        return int(self.decoder.inputs[0].shape[-1])


def mutation_effects(
    model: SequenceVAE,
    wild_type: np.ndarray,
    mutations: list[list[tuple[int, int, int]]],
    *,
    n_samples: int = 50,
    seed: int = 0,
) -> np.ndarray:
    """``ELBO(mutant) - ELBO(wild type)`` per mutation list; NaN where a column was filtered out."""
    wt = np.asarray(wild_type)
    out = np.full(len(mutations), np.nan)
    seqs, where = mutant_batch(wt, mutations)
    values = elbo(model, np.stack([wt, *seqs]), n_samples=n_samples, seed=seed)
    out[where] = values[1:] - values[0]
    return out
