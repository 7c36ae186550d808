"""Contact scores: zero-sum gauge, Frobenius norms, APC, precision at k, gauge invariance."""

from __future__ import annotations

import numpy as np
import pytest

from cislens.protein import contacts as C


def test_apc_on_known_matrix():
    s = np.array([[0.0, 2.0, 4.0], [2.0, 0.0, 6.0], [4.0, 6.0, 0.0]])
    # column means (diagonal zeros included, as CCMpred): 2, 8/3, 10/3; overall mean 8/3
    mean = np.array([2.0, 8 / 3, 10 / 3])
    expected = s - np.outer(mean, mean) / (8 / 3)
    np.testing.assert_allclose(C.apc(s), expected)
    assert C.apc(s)[0, 1] == pytest.approx(2.0 - 2.0 * (8 / 3) / (8 / 3))


def test_precision_at_k_hand_made():
    length = 10
    scores = np.zeros((length, length))
    truth = np.zeros((length, length), dtype=bool)
    # ranked pairs with separation >= 6: (0,9) 0.9 true, (1,8) 0.8 false, (0,7) 0.7 true, (2,9) 0.6 false
    for (i, j), value, hit in (
        ((0, 9), 0.9, True),
        ((1, 8), 0.8, False),
        ((0, 7), 0.7, True),
        ((2, 9), 0.6, False),
    ):
        scores[i, j] = scores[j, i] = value
        truth[i, j] = truth[j, i] = hit
    scores[0, 1] = scores[1, 0] = 5.0  # best score but separation 1: never ranked at sep >= 6
    truth[0, 1] = truth[1, 0] = True
    assert C.precision_at(scores, truth, 1) == 1.0
    assert C.precision_at(scores, truth, 2) == 0.5
    assert C.precision_at(scores, truth, 3) == pytest.approx(2 / 3)
    assert C.precision_at(scores, truth, 1, min_separation=1) == 1.0  # now (0,1) ranks first
    known = np.ones_like(truth)
    known[0, 9] = known[9, 0] = False  # unknown pairs are left out, not counted as wrong
    assert C.precision_at(scores, truth, 1, known=known) == 0.0
    table = C.precision_table(scores, truth, separations=(6,), fractions=(5,))
    assert table.loc[0, "k"] == 2 and table.loc[0, "precision"] == 0.5 and table.loc[0, "top"] == "L/5"
    np.testing.assert_allclose(C.precision_curve(scores, truth, max_k=4), [1, 0.5, 2 / 3, 0.5])


def test_separation_uses_given_index():
    scores = np.array([[0, 1.0, 0], [1.0, 0, 0], [0, 0, 0]])
    truth = scores > 0
    assert np.isnan(C.precision_at(scores, truth, 1, min_separation=6))
    assert C.precision_at(scores, truth, 1, min_separation=6, index=np.array([0, 10, 20])) == 1.0


def _random_couplings(length=6, q=21, seed=0):
    """Random couplings as a fitted model has them: J[i, j, a, b] == J[j, i, b, a], zero diagonal blocks."""
    rng = np.random.default_rng(seed)
    couplings = rng.normal(size=(length, length, q, q))
    couplings = 0.5 * (couplings + couplings.transpose(1, 0, 3, 2))
    couplings[np.arange(length), np.arange(length)] = 0.0
    return couplings


def test_zero_sum_gauge_blocks_sum_to_zero():
    z = C.zero_sum_gauge(_random_couplings())
    assert z.shape[2:] == (20, 20)
    np.testing.assert_allclose(z.sum(axis=2), 0, atol=1e-10)
    np.testing.assert_allclose(z.sum(axis=3), 0, atol=1e-10)


def test_contact_score_is_gauge_invariant():
    """Adding u_ij(a) + v_ij(b) to block (i, j) (moved into the fields in a gauge change) leaves the
    centred Frobenius norms and APC scores unchanged; uncentred norms do change."""
    couplings = _random_couplings()
    length, q = couplings.shape[0], couplings.shape[2]
    rng = np.random.default_rng(1)
    shifted = couplings.copy()
    for i in range(length):
        for j in range(i + 1, length):
            u, v = rng.normal(size=q) * 3, rng.normal(size=q) * 3
            shifted[i, j] += u[:, None] + v[None, :]
            shifted[j, i] = shifted[i, j].T
    np.testing.assert_allclose(C.contact_map(shifted), C.contact_map(couplings), atol=1e-9)
    assert not np.allclose(C.frobenius(shifted, center=False), C.frobenius(couplings, center=False))


def test_gap_state_excluded_from_score():
    couplings = _random_couplings()
    changed = couplings.copy()
    changed[:, :, 20, :] += 7.0
    changed[:, :, :, 20] -= 2.0
    np.testing.assert_allclose(C.frobenius(changed), C.frobenius(couplings))
    assert np.all(np.diag(C.frobenius(couplings)) == 0)


def test_contact_table_ranks_pairs_and_marks_truth():
    scores = np.array([[0, 0.2, 0.9], [0.2, 0, 0.5], [0.9, 0.5, 0]])
    distances = np.array([[0, 3.0, np.nan], [3.0, 0, 9.0], [np.nan, 9.0, 0]])
    table = C.contact_table(scores, distances, threshold=8.0, columns=np.array([0, 2, 5]))
    assert list(zip(table["column_i"], table["column_j"], strict=True)) == [(1, 6), (3, 6), (1, 3)]
    assert table["contact"].isna().tolist() == [True, False, False]
    assert table["contact"].tolist()[1:] == [False, True]
