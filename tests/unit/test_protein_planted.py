"""Acceptance on a planted Potts model (L = 50, 5,000 Gibbs samples): contacts and mutation effects
have exact answers, so the pseudo-likelihood fit is checked against the truth, not a reference tool."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from cislens.protein import contacts, effects, potts, pssm, simulate
from cislens.protein.msa import GAP, sequence_weights

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def planted_fit():
    model, truth = simulate.planted_potts(50, seed=0)
    seqs = simulate.gibbs_sample(model, 5000, seed=100)
    weights = sequence_weights(seqs)
    return model, truth, seqs, weights, potts.fit(seqs, weights, progress=False)


def test_planted_contacts_recovered(planted_fit):
    _, truth, _, _, fit = planted_fit
    scores = contacts.contact_map(fit.J)
    assert contacts.precision_at(scores, truth, 50, min_separation=6) >= 0.9
    table = contacts.precision_table(scores, truth)
    assert table.loc[(table.min_separation == 12) & (table.top == "L/2"), "precision"].item() >= 0.9


def test_planted_mutation_effects_match_true_energy_differences(planted_fit):
    model, _, seqs, weights, fit = planted_fit
    wild_type = seqs[np.argmax(model.energy(seqs))]  # a fit natural sequence, as DMS wild types are
    mutations = [[(i, int(wild_type[i]), a)] for i in range(50) for a in range(GAP) if a != wild_type[i]]
    true = effects.mutation_effects(model, wild_type, mutations)
    rho = effects.spearman(effects.mutation_effects(fit, wild_type, mutations), true)
    baseline = effects.spearman(effects.mutation_effects(pssm.fit(seqs, weights), wild_type, mutations), true)
    assert rho >= 0.9
    assert rho > baseline  # the couplings add information beyond the site-independent model
