"""DeepSequence's variational autoencoder over one-hot sequences (Riesselman et al. 2018; Keras 3).

The decoder outputs independent per-position softmaxes given a latent code, so the ELBO is a lower
bound on log p(x) and ``ELBO(mutant) - ELBO(wild type)`` estimates a mutation's effect, capturing
higher-order dependencies through the latent space instead of explicit couplings. As in DeepSequence
the decoder is Bayesian (variational weights, sparsity priors over groups of positions, a dictionary,
a global temperature) and effects average many draws of both the code and the decoder. Batches are
drawn with probability proportional to the sequence weights, so redundant clusters do not dominate
the gradient. Building, training, the ELBO and the model file are in :mod:`cislens.protein.vae_model`
(TensorFlow kept there), re-exported here; this module imports no TensorFlow until they are called.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .dms import mutant_batch
from .msa import Q

__all__ = ["SequenceVAE", "elbo", "fit", "load_vae", "mutation_effects", "save_vae"]


def fit(*args: object, **kwargs: object) -> SequenceVAE:
    """:func:`cislens.protein.vae_model.fit_vae`."""
    from .vae_model import fit_vae

    return fit_vae(*args, **kwargs)


def elbo(*args: object, **kwargs: object) -> np.ndarray:
    """:func:`cislens.protein.vae_model.vae_elbo`."""
    from .vae_model import vae_elbo

    return vae_elbo(*args, **kwargs)


def save_vae(model: SequenceVAE, path: object) -> None:
    from .vae_model import save_vae as save

    save(model, path)


def load_vae(path: object) -> SequenceVAE:
    from .vae_model import load_vae as load

    return load(path)


@dataclass
class SequenceVAE:
    """Encoder ``(L, q) -> [mu, logvar]``, Bayesian decoder ``z -> (L, q) logits``, the training losses."""

    encoder: object
    decoder: object
    length: int
    q: int = Q
    history: list[float] = field(default_factory=list)

    @property
    def latent(self) -> int:
        return int(self.decoder.latent)


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
