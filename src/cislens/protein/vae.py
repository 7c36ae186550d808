"""A small DeepSequence-like variational autoencoder over one-hot sequences (Keras 3 / TensorFlow).

Encoder and decoder are MLPs; the decoder outputs independent per-position softmaxes, so the ELBO is
a lower bound on log p(x) and ``ELBO(mutant) - ELBO(wild type)`` estimates a mutation's effect, capturing
higher-order dependencies through the latent space instead of explicit couplings. Weighting: batches are
drawn with probability proportional to the sequence weights (DeepSequence's scheme), so the expected
loss is the weighted ELBO without redundant clusters dominating the gradient. The decoder gets an L2
penalty (a MAP stand-in for DeepSequence's Bayesian decoder).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io import atomic_path
from .dms import mutant_batch
from .msa import Q
from .pll import check_inputs


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


def build(
    length: int, q: int = Q, hidden: tuple[int, int] = (256, 128), latent: int = 16, l2: float = 1e-4
) -> tuple[object, object]:
    """The encoder and decoder models (named ``encoder`` / ``decoder`` so a saved file finds them)."""
    import keras

    x = keras.Input((length, q), name="onehot")
    a = keras.layers.Flatten()(x)
    a = keras.layers.Dense(hidden[0], activation="relu", name="enc1")(a)
    a = keras.layers.Dense(hidden[1], activation="relu", name="enc2")(a)
    mu = keras.layers.Dense(latent, name="mu")(a)
    logvar = keras.layers.Dense(latent, name="logvar")(a)
    encoder = keras.Model(x, [mu, logvar], name="encoder")
    reg = keras.regularizers.L2(l2) if l2 else None
    z = keras.Input((latent,), name="z")
    b = keras.layers.Dense(hidden[1], activation="relu", kernel_regularizer=reg, name="dec1")(z)
    b = keras.layers.Dense(hidden[0], activation="relu", kernel_regularizer=reg, name="dec2")(b)
    b = keras.layers.Dense(length * q, kernel_regularizer=reg, name="dec_out")(b)
    decoder = keras.Model(z, keras.layers.Reshape((length, q))(b), name="decoder")
    return encoder, decoder


def _elbo_terms(model: SequenceVAE, onehot: object, eps: object) -> object:
    """Per-sequence ELBO ``(S, B)`` for noise ``eps`` of shape ``(S, latent)`` shared by the batch."""
    import tensorflow as tf

    mu, logvar = model.encoder(onehot)
    z = mu[None] + tf.exp(0.5 * logvar)[None] * eps[:, None, :]  # (S, B, latent)
    samples, batch = tf.shape(z)[0], tf.shape(z)[1]
    logits = model.decoder(tf.reshape(z, (-1, model.latent)))
    logp = tf.nn.log_softmax(logits, axis=-1)
    target = tf.tile(onehot, (samples, 1, 1))
    recon = tf.reshape(tf.reduce_sum(logp * target, axis=(1, 2)), (samples, batch))
    kl = 0.5 * tf.reduce_sum(tf.exp(logvar) + tf.square(mu) - 1.0 - logvar, axis=-1)
    return recon - kl[None]


def fit(
    seqs: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    hidden: tuple[int, int] = (256, 128),
    latent: int = 16,
    l2: float = 1e-4,
    steps: int = 2000,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    seed: int = 0,
    progress: bool = True,
) -> SequenceVAE:
    """Train by Adam on weight-proportional batches for ``steps`` steps (seeded)."""
    import keras
    import tensorflow as tf
    from tqdm.auto import tqdm

    seqs, weights = check_inputs(seqs, weights)
    keras.utils.set_random_seed(int(seed))
    length = seqs.shape[1]
    encoder, decoder = build(length, Q, hidden, latent, l2)
    model = SequenceVAE(encoder, decoder, length, Q)
    variables = encoder.trainable_variables + decoder.trainable_variables
    optimizer = keras.optimizers.Adam(learning_rate)
    data = tf.constant(seqs.astype(np.int32))

    @tf.function
    def step(index: object) -> object:
        onehot = tf.one_hot(tf.gather(data, index), Q)
        eps = tf.random.normal((1, latent))
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(_elbo_terms(model, onehot, eps)) + tf.add_n(decoder.losses or [0.0])
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    rng = np.random.default_rng(seed)
    p = weights / weights.sum()
    bar = tqdm(range(int(steps)), desc="vae", disable=not progress, leave=False)
    for k in bar:
        model.history.append(float(step(rng.choice(len(seqs), size=batch_size, p=p))))
        if progress and k % 50 == 0:
            bar.set_postfix(loss=f"{model.history[-1]:.2f}", refresh=False)
    return model


def elbo(
    model: SequenceVAE, seqs: np.ndarray, *, n_samples: int = 50, seed: int = 0, batch: int = 256
) -> np.ndarray:
    """ELBO of each sequence averaged over ``n_samples`` latent draws (the same draws for every
    sequence: common random numbers make differences between sequences far less noisy)."""
    import tensorflow as tf

    seqs = np.atleast_2d(np.asarray(seqs))
    eps = tf.constant(np.random.default_rng(seed).normal(size=(n_samples, model.latent)).astype(np.float32))
    out = []
    for start in range(0, len(seqs), batch):
        onehot = tf.one_hot(seqs[start : start + batch].astype(np.int32), model.q)
        out.append(tf.reduce_mean(_elbo_terms(model, onehot, eps), axis=0).numpy())
    return np.concatenate(out).astype(np.float64)


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


def save_vae(model: SequenceVAE, path: str | os.PathLike) -> None:
    """One ``.keras`` file holding both halves (``x -> [mu, logvar, decoder(mu)]``)."""
    import keras

    x = keras.Input((model.length, model.q), name="onehot")
    mu, logvar = model.encoder(x)
    whole = keras.Model(x, [mu, logvar, model.decoder(mu)], name="sequence_vae")
    with atomic_path(path) as tmp:
        whole.save(tmp)


def load_vae(path: str | os.PathLike) -> SequenceVAE:
    import keras

    path = Path(path)
    if not path.is_file():
        raise InputError(f"model file {path} does not exist")
    whole = keras.saving.load_model(path, compile=False)
    encoder, decoder = whole.get_layer("encoder"), whole.get_layer("decoder")
    length, q = encoder.inputs[0].shape[1:]
    return SequenceVAE(encoder, decoder, int(length), int(q))
