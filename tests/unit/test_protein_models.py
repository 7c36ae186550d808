"""Protein models on tiny alignments: PSSM, pseudo-likelihood Potts, MG, factored attention, VAE,
mutation effects and model files."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from cislens.errors import InputError
from cislens.protein import effects, factored_attention, mg, pll, potts, pssm, simulate, vae
from cislens.protein import fit as protein_fit
from cislens.protein.msa import Q, one_hot
from cislens.protein.params import PottsModel, load_potts, save_potts


@pytest.fixture(scope="module")
def planted():
    model, contacts = simulate.planted_potts(12, n_contacts=10, coupling_scale=1.0, seed=3)
    seqs = simulate.gibbs_sample(model, 1000, burn_in=100, thin=10, seed=4)
    return model, contacts, seqs


def test_pssm_frequencies_and_fields():
    seqs = np.array([[0, 1], [0, 2], [3, 1]])
    weights = np.array([1.0, 1.0, 2.0])
    f = pssm.frequencies(seqs, weights)
    assert f[0, 0] == pytest.approx(0.5) and f[0, 3] == pytest.approx(0.5) and f[1, 1] == pytest.approx(0.75)
    np.testing.assert_allclose(f.sum(axis=1), 1.0)
    model = pssm.fit(seqs, weights, pseudocount=1.0)
    # h = log((count + 1/q) / (Neff + 1)) up to a per-position constant
    expected = np.log((f[1] * 4 + 1 / Q) / 5)
    np.testing.assert_allclose(model.h[1] - model.h[1, 0], expected - expected[0], rtol=1e-5)
    np.testing.assert_allclose(model.h.sum(axis=1), 0, atol=1e-4)
    assert model.J is None


def test_penalty_conventions():
    ccm = pll.penalty(75, 1000.0, convention="ccmpred")
    assert ccm.j == pytest.approx(0.01 * 20 * 74 / 1000) and ccm.h == pytest.approx(0.01 / 1000)
    ours = pll.penalty(75, 1000.0)
    assert ours.j == pytest.approx(0.02) and ours.h == pytest.approx(0.01 / 1000)
    assert pll.penalty(75, 1000.0, convention="plmdca").h == pytest.approx(0.01)
    assert pll.penalty(75, 1000.0, lambda_j=50.0).j == pytest.approx(0.05)
    with pytest.raises(InputError, match="unknown penalty convention"):
        pll.penalty(75, 1000.0, convention="x")


def test_segment_sum_fields_and_gradient_match_dense_one_hot():
    import tensorflow as tf

    rng = np.random.default_rng(0)
    seqs = rng.integers(0, Q, size=(40, 5))
    seqs[10:20] = seqs[0]  # duplicates are collapsed into one weighted row
    weights = rng.uniform(0.2, 1.0, size=40)
    data = protein_fit.PseudoLikelihood(seqs, weights)
    assert data.n_unique == len(np.unique(seqs, axis=0)) <= 31
    free = tf.Variable(rng.normal(size=(5 * Q, 5 * Q)).astype(np.float32))
    h = tf.Variable(rng.normal(size=(5, Q)).astype(np.float32))
    with tf.GradientTape() as tape:
        loss = data.nll(h, data.couplings(free))
    g_free, g_h = tape.gradient(loss, [free, h])
    # the same objective written densely over all 40 rows
    x = tf.constant(one_hot(seqs))
    with tf.GradientTape() as tape:
        couplings = data.couplings(free)
        logits = tf.reshape(x @ couplings, (40, 5, Q)) + h
        site = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=seqs.astype(np.int32), logits=logits)
        dense = tf.reduce_sum(weights.astype(np.float32) * tf.reduce_sum(site, 1)) / weights.sum()
    d_free, d_h = tape.gradient(dense, [free, h])
    assert float(loss) == pytest.approx(float(dense), rel=1e-5)
    np.testing.assert_allclose(g_free.numpy(), d_free.numpy(), atol=1e-5)
    np.testing.assert_allclose(g_h.numpy(), d_h.numpy(), atol=1e-5)
    for chunks in (1, 7, 100):  # the parallel split changes nothing but the op count
        other = protein_fit.PseudoLikelihood(seqs, weights, chunks=chunks)
        with tf.GradientTape() as tape:
            value = other.nll(h, other.couplings(free))
        assert float(value) == pytest.approx(float(loss), rel=1e-6)
        np.testing.assert_allclose(tape.gradient(value, free).numpy(), g_free.numpy(), atol=1e-6)


def test_potts_fit_structure_and_recovery(planted):
    _, contacts, seqs = planted
    fit = potts.fit(seqs, None, iterations=60, progress=False)
    assert fit.J.shape == (12, 12, Q, Q) and fit.h.shape == (12, Q)
    np.testing.assert_allclose(fit.J, fit.J.transpose(1, 0, 3, 2), atol=1e-6)
    assert np.all(fit.J[np.arange(12), np.arange(12)] == 0)
    assert fit.info["model"] == "potts" and np.isfinite(fit.info["final_loss"])
    from cislens.protein.contacts import contact_map, precision_at

    assert precision_at(contact_map(fit.J), contacts, 10, min_separation=1) >= 0.7


def test_bad_inputs_are_input_errors():
    with pytest.raises(InputError, match="states must lie in"):
        potts.fit(np.array([[0, 25]]), progress=False)
    with pytest.raises(InputError, match="non-negative sequence weights"):
        pssm.fit(np.zeros((3, 4), dtype=int), np.array([1.0, -1.0, 1.0]))


def test_mg_couplings_are_symmetric_inverse_covariance(planted):
    _, _, seqs = planted
    fit = mg.fit(seqs)
    assert fit.J.shape == (12, 12, Q, Q)
    np.testing.assert_allclose(fit.J, fit.J.transpose(1, 0, 3, 2), atol=1e-4)
    assert np.all(fit.J[np.arange(12), np.arange(12)] == 0)
    assert fit.info["shrinkage"] == pytest.approx(4.5 / np.sqrt(1000))


def test_blockwise_covariance_matches_direct_formula():
    rng = np.random.default_rng(0)
    seqs, weights = rng.integers(0, Q, size=(300, 7)), rng.random(300)
    x = one_hot(seqs, Q, np.float64)
    p = weights / weights.sum()
    centred = x - p @ x
    direct = (centred * p[:, None]).T @ centred
    np.testing.assert_allclose(mg.weighted_covariance(seqs, weights, block=64), direct, atol=1e-7)
    np.testing.assert_allclose(pssm.frequencies(seqs, weights).ravel(), p @ x, atol=1e-12)


def test_factored_attention_shapes_and_heads(planted):
    _, _, seqs = planted
    fit = factored_attention.fit(seqs, heads=4, dim=8, iterations=20, progress=False, seed=1)
    attention = fit.arrays["attention"]
    assert attention.shape == (4, 12, 12) and fit.arrays["values"].shape == (4, Q, Q)
    np.testing.assert_allclose(attention.sum(axis=-1), 1.0, atol=1e-5)
    assert np.all(np.diagonal(attention, axis1=1, axis2=2) < 1e-6)  # no self-attention
    np.testing.assert_allclose(fit.J, fit.J.transpose(1, 0, 3, 2), atol=1e-6)
    assert factored_attention.head_maps(fit).shape == (4, 12, 12)


def test_mutation_effects_are_energy_differences_and_gauge_invariant(planted):
    model, _, seqs = planted
    wt = seqs[0]
    muts = [[(i, int(wt[i]), a)] for i in range(12) for a in range(Q)]
    scan = effects.mutation_effects(model, wt, muts).reshape(12, Q)
    np.testing.assert_allclose(scan[np.arange(12), wt], 0, atol=1e-5)  # the wild type's own "mutants"
    mutant = wt.copy()
    mutant[4] = (wt[4] + 1) % Q
    assert scan[4, mutant[4]] == pytest.approx(model.energy(mutant[None])[0] - model.energy(wt[None])[0])
    # gauge change: move u(a) from block (i, j) into field i; every energy difference is unchanged
    rng = np.random.default_rng(0)
    J, h = model.J.astype(np.float64).copy(), model.h.astype(np.float64).copy()
    for i, j in ((0, 3), (2, 5), (1, 7)):
        u = rng.normal(size=Q)
        J[i, j] += u[:, None]
        J[j, i] += u[None, :]
        h[i] -= u
    other = PottsModel(h=h, J=J)
    np.testing.assert_allclose(effects.mutation_effects(other, wt, muts).reshape(12, Q), scan, atol=1e-4)
    double = [[(0, int(wt[0]), 1), (3, int(wt[3]), 2)], [(5, int(wt[5]), 4), (-1, 0, 0)]]
    got = effects.mutation_effects(other, wt, double)
    assert got[0] == pytest.approx(effects.mutation_effects(model, wt, double)[0], abs=1e-4)
    assert np.isnan(got[1])  # a filtered-out column gives NaN, not an error


def test_spearman_ignores_non_finite():
    assert effects.spearman([1, 2, 3, np.nan], [2, 4, 9, 1]) == pytest.approx(1.0)
    assert np.isnan(effects.spearman([1, np.nan], [1, 2]))


def test_potts_file_round_trip(tmp_path, planted):
    model, _, _ = planted
    model.arrays["attention"] = np.ones((2, 12, 12), dtype=np.float32)
    model.info["note"] = "x"
    save_potts(model, tmp_path / "m.h5")
    back = load_potts(tmp_path / "m.h5")
    np.testing.assert_allclose(back.J, model.J)
    np.testing.assert_allclose(back.h, model.h)
    assert back.info["note"] == "x" and back.arrays["attention"].shape == (2, 12, 12)
    del model.arrays["attention"]


TINY_VAE = {"encoder": (32,), "decoder": (8, 16), "latent": 4, "dictionary": 8, "tile": 4}


def test_vae_trains_saves_and_scores_mutants(tmp_path, planted):
    _, _, seqs = planted
    model = vae.fit(seqs, None, steps=60, batch_size=64, progress=False, seed=0, **TINY_VAE)
    assert len(model.history) == 60 and model.history[-1] < model.history[0]
    wt = seqs[0]
    muts = [[(0, int(wt[0]), (int(wt[0]) + 1) % 20)], [(-1, 0, 1)], []]
    delta = vae.mutation_effects(model, wt, muts, n_samples=8)
    assert np.isfinite(delta[0]) and np.isnan(delta[1]) and delta[2] == pytest.approx(0.0, abs=1e-5)
    vae.save_vae(model, tmp_path / "v.keras")
    back = vae.load_vae(tmp_path / "v.keras")
    assert back.latent == 4 and back.length == 12
    assert back.decoder.get_config() == model.decoder.get_config()
    # the posterior scales travel too: ELBOs averaged over drawn decoders agree, not only the means
    np.testing.assert_allclose(
        vae.elbo(back, seqs[:5], n_samples=4), vae.elbo(model, seqs[:5], n_samples=4), rtol=1e-5
    )
    again = vae.fit(seqs, None, steps=60, batch_size=64, progress=False, seed=0, **TINY_VAE)
    np.testing.assert_allclose(again.history, model.history, rtol=1e-4)


def test_vae_decoder_is_bayesian_sparse_and_tempered():
    import tensorflow as tf
    from scipy import stats

    from cislens.protein.vae_model import BayesianDecoder, sparsity_prior_mean

    # the gate prior N(m, 4^2) is open (x > 0) with probability p
    assert stats.norm.sf(0, loc=sparsity_prior_mean(0.001, 4.0), scale=4.0) == pytest.approx(0.001)
    dec = BayesianDecoder(6, Q, 3, (5, 8), dictionary=4, tile=2, sparsity_p=0.01)
    assert dec.shapes["w_out"] == (8, 6, 4) and dec.shapes["sparsity"] == (4, 6)
    # KL against the priors, by hand: standard normal for all but the gates
    total = 0.0
    for name in dec.shapes:
        mu, sigma = dec.mu[name].numpy(), np.exp(dec.log_sigma[name].numpy())
        m, s = (sparsity_prior_mean(0.01, 4.0), 4.0) if name == "sparsity" else (0.0, 1.0)
        total += np.sum(np.log(s / sigma) + (sigma**2 + (mu - m) ** 2) / (2 * s**2) - 0.5)
    assert float(dec.kl()) == pytest.approx(total, rel=1e-5)
    # drawn decoders differ from each other and from the means; one stateless seed gives one decoder
    one, two = dec.sample(dec.noise([1, 0])), dec.sample(dec.noise([1, 1]))
    assert not np.allclose(one["w_out"], two["w_out"])
    np.testing.assert_array_equal(dec.sample(dec.noise([1, 0]))["w_out"], one["w_out"])
    z = tf.constant(np.random.default_rng(0).normal(size=(3, 3)).astype(np.float32))
    np.testing.assert_allclose(dec(z), dec.decode(z, dec.means()), rtol=1e-6)
    # a closed gate silences its group of hidden units at every position it covers
    theta = dec.means()
    theta["sparsity"] = tf.tensor_scatter_nd_update(theta["sparsity"], [[1, 2]], [-50.0])
    weights = tf.reshape(dec.output_weights(theta), (8, 6, Q)).numpy()
    assert np.abs(weights[[1, 5], 2]).max() < 1e-12 and np.abs(weights[[0, 2, 3, 4, 6, 7], 2]).min() > 0
    # the global temperature multiplies every logit
    theta = dec.means()
    hot = dict(theta, temperature=tf.constant([np.log(np.expm1(2.0))], tf.float32))
    np.testing.assert_allclose(dec.decode(z, hot), 2.0 * dec.decode(z, theta), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="multiple of tile"):
        BayesianDecoder(6, Q, 3, (5, 7), tile=2)
