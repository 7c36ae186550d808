"""Planted Potts models and the Gibbs sampler, checked against exact enumeration on a tiny model."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from cislens.protein import simulate
from cislens.protein.params import PottsModel


def test_planted_model_is_symmetric_sparse_and_seeded():
    model, contacts = simulate.planted_potts(20, n_contacts=15, seed=5)
    assert contacts.sum() == 30 and np.array_equal(contacts, contacts.T) and not contacts.diagonal().any()
    J = model.J
    np.testing.assert_allclose(J, J.transpose(1, 0, 3, 2))
    nonzero = np.abs(J).sum(axis=(2, 3)) > 0
    np.testing.assert_array_equal(nonzero, contacts)
    again, _ = simulate.planted_potts(20, n_contacts=15, seed=5)
    np.testing.assert_array_equal(again.J, model.J)
    assert model.h[:, 20].mean() < model.h[:, :20].mean() - 1.0  # gaps kept rare


def test_gibbs_shapes_and_seed():
    model, _ = simulate.planted_potts(10, seed=1)
    a = simulate.gibbs_sample(model, 130, burn_in=5, thin=2, n_chains=40, seed=3)
    b = simulate.gibbs_sample(model, 130, burn_in=5, thin=2, n_chains=40, seed=3)
    assert a.shape == (130, 10) and a.dtype == np.uint8 and a.max() < 21
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, simulate.gibbs_sample(model, 130, burn_in=5, thin=2, n_chains=40, seed=4))


def test_gibbs_matches_exact_distribution_of_tiny_model():
    """L = 3, q = 3 with strong couplings: all 27 states enumerated; sample frequencies must match."""
    rng = np.random.default_rng(0)
    q, length = 3, 3
    J = np.zeros((length, length, q, q))
    for i, j in ((0, 1), (1, 2)):
        block = rng.normal(0, 1.5, (q, q))
        J[i, j], J[j, i] = block, block.T
    model = PottsModel(h=rng.normal(0, 1, (length, q)), J=J)
    states = np.array(list(itertools.product(range(q), repeat=length)))
    p = np.exp(model.energy(states))
    p /= p.sum()
    samples = simulate.gibbs_sample(model, 20_000, burn_in=20, thin=2, n_chains=2000, seed=1)
    codes = (samples.astype(int) * q ** np.arange(length)[::-1]).sum(axis=1)
    freq = np.bincount(codes, minlength=q**length) / len(codes)
    assert np.abs(freq - p).max() < 0.015
    total_variation = 0.5 * np.abs(freq - p).sum()
    assert total_variation < 0.03


def test_fields_only_model_samples_independent_sites():
    model = PottsModel(h=np.log(np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])))
    samples = simulate.gibbs_sample(model, 5000, burn_in=1, thin=1, seed=0)
    np.testing.assert_allclose(np.bincount(samples[:, 0], minlength=3) / 5000, [0.7, 0.2, 0.1], atol=0.03)
    np.testing.assert_allclose(np.bincount(samples[:, 1], minlength=3) / 5000, [0.1, 0.1, 0.8], atol=0.03)
    assert pytest.approx(0.0, abs=0.05) == np.corrcoef(samples[:, 0] == 0, samples[:, 1] == 2)[0, 1]
