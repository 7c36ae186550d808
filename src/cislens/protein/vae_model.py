"""The sequence VAE's TensorFlow half, built as DeepSequence built it (Riesselman, Ingraham & Marks 2018,
Nature Methods 15:816): a deterministic MLP encoder and a Bayesian decoder, trained on the ELBO with the
decoder's KL divided by the effective number of sequences, effects scored as ELBO differences averaged
over many draws of the latent code *and* of the decoder.

:class:`BayesianDecoder` is a Keras layer: every decoder parameter has a factorised Gaussian posterior
``N(mu, sigma^2)`` against a standard normal prior, and the output weights are built as DeepSequence's:

* ``w_out (H, L, C) @ dictionary (C, q)``: each hidden unit writes a C-dimensional code per position
  that a shared dictionary turns into amino-acid logits;
* a gate ``sigmoid(sparsity)`` per (group of hidden units, position), tiled over ``tile`` groups, whose
  prior ``N(m, s^2)`` puts probability ``sparsity_p`` on a gate above one half: each hidden unit
  learns to touch few positions (the sparsity prior over groups of positions);
* logits scaled by ``softplus(temperature)``, one global scalar.

Its ``call`` uses the posterior means (what a saved model's ``decoder(mu)`` shows); :meth:`sample`
draws one decoder, :meth:`decode` runs a drawn decoder and :meth:`kl` is ``KL(q(theta) || p(theta))``.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

import keras
import numpy as np
import tensorflow as tf
from scipy.special import erfinv
from tqdm.auto import tqdm

from ..errors import InputError
from ..io import atomic_path
from .msa import Q
from .pll import check_inputs

if TYPE_CHECKING:
    from .vae import SequenceVAE


def sparsity_prior_mean(p: float, sigma: float) -> float:
    """Mean ``m`` of ``N(m, sigma^2)`` with ``P(x > 0) = p``: a gate is open with prior probability p."""
    return float(math.sqrt(2.0) * sigma * erfinv(2.0 * p - 1.0))


@keras.saving.register_keras_serializable(package="cislens")
class BayesianDecoder(keras.layers.Layer):
    """``z (B, latent) -> logits (B, L, q)`` with variational weights; see the module docstring."""

    def __init__(
        self,
        length: int,
        q: int,
        latent: int,
        hidden: tuple[int, int] = (100, 500),
        dictionary: int = 40,
        tile: int = 4,
        sparsity_p: float = 0.001,
        sparsity_sigma: float = 4.0,
        init_log_sigma: float = -5.0,
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)
        self.length, self.q, self.latent = int(length), int(q), int(latent)
        self.hidden = (int(hidden[0]), int(hidden[1]))
        self.dictionary, self.tile = int(dictionary), int(tile)
        if self.tile and self.hidden[1] % self.tile:
            raise ValueError(f"decoder width {self.hidden[1]} is not a multiple of tile {self.tile}")
        self.sparsity_p, self.sparsity_sigma = float(sparsity_p), float(sparsity_sigma)
        self.init_log_sigma = float(init_log_sigma)
        self.shapes = self._shapes()
        self.mu: dict[str, object] = {}
        self.log_sigma: dict[str, object] = {}
        for name, shape in self.shapes.items():
            if name == "temperature":
                init = keras.initializers.Constant(math.log(math.e - 1.0))  # softplus = 1
            elif name == "sparsity" or name.startswith("b"):
                init = "zeros"
            else:
                init = "glorot_normal"
            self.mu[name] = self.add_weight(shape=shape, initializer=init, name=f"{name}_mu")
            self.log_sigma[name] = self.add_weight(
                shape=shape, initializer=keras.initializers.Constant(self.init_log_sigma), name=f"{name}_ls"
            )

    def _shapes(self) -> dict[str, tuple[int, ...]]:
        h0, h1 = self.hidden
        code = self.dictionary or self.q
        shapes = {
            "w1": (self.latent, h0),
            "b1": (h0,),
            "w2": (h0, h1),
            "b2": (h1,),
            "w_out": (h1, self.length, code),
            "b_out": (self.length, self.q),
            "temperature": (1,),
        }
        if self.dictionary:
            shapes["dictionary"] = (self.dictionary, self.q)
        if self.tile:
            shapes["sparsity"] = (h1 // self.tile, self.length)
        return shapes

    def means(self) -> dict[str, object]:
        return {name: tf.convert_to_tensor(v) for name, v in self.mu.items()}

    def noise(self, seed: object) -> dict[str, object]:
        """Standard normal draws for every parameter from a stateless ``(2,)`` seed (one stream each)."""
        seed = tf.cast(seed, tf.int32)
        return {
            name: tf.random.stateless_normal(shape, seed=tf.stack([seed[0] * 64 + k, seed[1]]))
            for k, (name, shape) in enumerate(self.shapes.items())
        }

    def sample(self, noise: dict[str, object]) -> dict[str, object]:
        """One decoder ``mu + sigma * eps`` for standard normal ``eps`` per parameter (:meth:`noise`)."""
        return {name: self.mu[name] + tf.exp(self.log_sigma[name]) * noise[name] for name in self.shapes}

    def output_weights(self, theta: dict[str, object]) -> object:
        """``(H, L * q)``: gated codes through the dictionary."""
        w = theta["w_out"]
        if self.tile:
            gate = tf.tile(tf.sigmoid(theta["sparsity"]), (self.tile, 1))  # (H, L)
            w = w * gate[:, :, None]
        if self.dictionary:
            w = tf.einsum("hlc,ca->hla", w, theta["dictionary"])
        return tf.reshape(w, (self.hidden[1], self.length * self.q))

    def decode(self, z: object, theta: dict[str, object], weights: object | None = None) -> object:
        """Logits ``(B, L, q)``; pass ``weights`` (from :meth:`output_weights`) to reuse them."""
        h = tf.nn.relu(tf.matmul(z, theta["w1"]) + theta["b1"])
        h = tf.sigmoid(tf.matmul(h, theta["w2"]) + theta["b2"])
        if weights is None:
            weights = self.output_weights(theta)
        logits = tf.reshape(tf.matmul(h, weights), (-1, self.length, self.q)) + theta["b_out"]
        return logits * tf.nn.softplus(theta["temperature"][0])

    def kl(self) -> object:
        """``KL(q(theta) || p(theta))`` summed over every parameter (standard normal prior; the sparsity
        gates' prior is ``N(m, sparsity_sigma^2)`` with ``P(open) = sparsity_p``)."""
        total = tf.constant(0.0)
        for name in self.shapes:
            mu, log_sigma = self.mu[name], self.log_sigma[name]
            if name == "sparsity":
                mean = sparsity_prior_mean(self.sparsity_p, self.sparsity_sigma)
                scale = self.sparsity_sigma
            else:
                mean, scale = 0.0, 1.0
            var = tf.exp(2.0 * log_sigma)
            term = math.log(scale) - log_sigma + (var + tf.square(mu - mean)) / (2.0 * scale**2) - 0.5
            total = total + tf.reduce_sum(term)
        return total

    def call(self, z: object) -> object:
        return self.decode(z, self.means())

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], self.length, self.q)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            length=self.length,
            q=self.q,
            latent=self.latent,
            hidden=list(self.hidden),
            dictionary=self.dictionary,
            tile=self.tile,
            sparsity_p=self.sparsity_p,
            sparsity_sigma=self.sparsity_sigma,
            init_log_sigma=self.init_log_sigma,
        )
        return config


def build_encoder(
    length: int, q: int = Q, hidden: tuple[int, ...] = (1500, 1500), latent: int = 30
) -> object:
    """``(L, q)`` one-hot -> ``[mu, logvar]`` of the latent code (ReLU MLP, as DeepSequence)."""
    x = keras.Input((length, q), name="onehot")
    a = keras.layers.Flatten()(x)
    for k, width in enumerate(hidden):
        a = keras.layers.Dense(width, activation="relu", name=f"enc{k + 1}")(a)
    mu = keras.layers.Dense(latent, name="mu")(a)
    logvar = keras.layers.Dense(latent, name="logvar")(a)
    return keras.Model(x, [mu, logvar], name="encoder")


def _latent_kl(mu: object, logvar: object) -> object:
    return 0.5 * tf.reduce_sum(tf.exp(logvar) + tf.square(mu) - 1.0 - logvar, axis=-1)


def _log_likelihood(logits: object, onehot: object) -> object:
    return tf.reduce_sum(tf.nn.log_softmax(logits, axis=-1) * onehot, axis=(1, 2))


def fit_vae(
    seqs: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    encoder: tuple[int, ...] = (1500, 1500),
    decoder: tuple[int, int] = (100, 500),
    latent: int = 30,
    dictionary: int = 40,
    tile: int = 4,
    sparsity_p: float = 0.001,
    steps: int = 10000,
    warmup: int = 0,
    batch_size: int = 100,
    learning_rate: float = 1e-3,
    seed: int = 0,
    progress: bool = True,
) -> SequenceVAE:
    """Adam on the negative ELBO per sequence plus ``KL(decoder) / Neff``, one decoder and one latent
    code drawn per step, batches drawn with probability proportional to the sequence weights
    (DeepSequence's scheme); both KL terms are scaled up linearly over the first ``warmup`` steps.
    Seeded: the same inputs and seed give the same model on the same machine."""
    from .vae import SequenceVAE

    seqs, weights = check_inputs(seqs, weights)
    keras.utils.set_random_seed(int(seed))
    length = seqs.shape[1]
    enc = build_encoder(length, Q, tuple(encoder), latent)
    dec = BayesianDecoder(length, Q, latent, tuple(decoder), dictionary, tile, sparsity_p, name="decoder")
    model = SequenceVAE(enc, dec, length, Q)
    variables = enc.trainable_variables + dec.trainable_variables
    optimizer = keras.optimizers.Adam(learning_rate)
    data = tf.constant(seqs.astype(np.int32))
    neff = float(weights.sum())

    @tf.function
    def draw(counter: object) -> tuple[dict[str, object], object]:
        """This step's noise, stateless from (seed, step): XLA's own generator is slow on CPU."""
        z_seed = tf.stack([counter[0] * 64 + 63, counter[1]])
        return dec.noise(counter), tf.random.stateless_normal((batch_size, latent), seed=z_seed)

    @tf.function(jit_compile=True)  # XLA: 1.3x faster steps on CPU
    def step(index: object, beta: object, noise: dict[str, object], eps: object) -> object:
        onehot = tf.one_hot(tf.gather(data, index), Q)
        with tf.GradientTape() as tape:
            mu, logvar = enc(onehot)
            logits = dec.decode(mu + tf.exp(0.5 * logvar) * eps, dec.sample(noise))
            elbo = _log_likelihood(logits, onehot) - beta * _latent_kl(mu, logvar)
            loss = -tf.reduce_mean(elbo) + beta * dec.kl() / neff
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    rng = np.random.default_rng(seed)
    p = weights / weights.sum()
    bar = tqdm(range(int(steps)), desc="vae", disable=not progress, leave=False)
    for k in bar:
        beta = min(1.0, (k + 1) / warmup) if warmup else 1.0
        index = rng.choice(len(seqs), size=batch_size, p=p)
        noise, eps = draw(tf.constant([int(seed), k], tf.int32))
        loss = step(tf.constant(index, tf.int32), tf.constant(beta, tf.float32), noise, eps)
        model.history.append(float(loss))
        if progress and k % 100 == 0:
            bar.set_postfix(loss=f"{model.history[-1]:.2f}", refresh=False)
    return model


def vae_elbo(
    model: SequenceVAE, seqs: np.ndarray, *, n_samples: int = 50, seed: int = 0, batch: int = 1024
) -> np.ndarray:
    """ELBO of each sequence averaged over ``n_samples`` draws of the decoder and the latent code. Every
    sequence sees the same draws (common random numbers), so differences between sequences, the
    mutation effects, are far less noisy than the ELBOs themselves."""
    seqs = np.atleast_2d(np.asarray(seqs))
    dec = model.decoder
    onehots = [tf.one_hot(seqs[a : a + batch].astype(np.int32), model.q) for a in range(0, len(seqs), batch)]
    codes = [model.encoder(x) for x in onehots]
    noise = np.random.default_rng(seed).normal(size=(n_samples, model.latent)).astype(np.float32)

    @tf.function
    def draw(s: object, eps: object) -> list:
        theta = dec.sample(dec.noise(tf.stack([tf.constant(int(seed), tf.int32), s])))
        out_weights = dec.output_weights(theta)
        out = []
        for x, (mu, logvar) in zip(onehots, codes, strict=True):
            logits = dec.decode(mu + tf.exp(0.5 * logvar) * eps, theta, out_weights)
            out.append(_log_likelihood(logits, x) - _latent_kl(mu, logvar))
        return tf.concat(out, axis=0)

    total = np.zeros(len(seqs))
    for s in range(int(n_samples)):
        total += draw(tf.constant(s, tf.int32), tf.constant(noise[s])).numpy()
    return total / int(n_samples)


def save_vae(model: SequenceVAE, path: str | os.PathLike) -> None:
    """One ``.keras`` file holding both halves (``x -> [mu, logvar, decoder(mu)]``)."""
    x = keras.Input((model.length, model.q), name="onehot")
    mu, logvar = model.encoder(x)
    whole = keras.Model(x, [mu, logvar, model.decoder(mu)], name="sequence_vae")
    with atomic_path(path) as tmp:
        whole.save(tmp)


def load_vae(path: str | os.PathLike) -> SequenceVAE:
    from .vae import SequenceVAE

    path = Path(path)
    if not path.is_file():
        raise InputError(f"model file {path} does not exist")
    whole = keras.saving.load_model(path, compile=False)
    encoder, decoder = whole.get_layer("encoder"), whole.get_layer("decoder")
    if not isinstance(decoder, BayesianDecoder):
        raise InputError(f"{path}: a VAE from an older cislens (no Bayesian decoder); fit it again")
    length, q = encoder.inputs[0].shape[1:]
    return SequenceVAE(encoder, decoder, int(length), int(q))
