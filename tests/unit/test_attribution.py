"""Gradients against exact finite differences; ground-truth scoring against known answers."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from cislens.attribution import evaluate, gradients
from cislens.errors import InputError
from cislens.ppm import information
from cislens.runtime import set_seed

L, T = 12, 2


def _onehot(n, length=L, seed=0):
    rng = np.random.default_rng(seed)
    return np.eye(4, dtype=np.float32)[rng.integers(0, 4, size=(n, length))]


@pytest.fixture(scope="module")
def linear_model():
    """Logits are linear in x, so finite differences give the gradient exactly."""
    set_seed(0)
    inputs = keras.Input((L, 4))
    h = keras.layers.Conv1D(3, 5, padding="same", name="first_conv")(inputs)
    h = keras.layers.Flatten()(h)
    logits = keras.layers.Dense(T, name="logits")(h)
    return keras.Model(inputs, keras.layers.Activation("sigmoid", name="output")(logits))


def _finite_difference_gradient(model):
    logit = gradients.target_model(model, "logit")
    basis = np.eye(L * 4, dtype=np.float32).reshape(L * 4, L, 4)
    zero = logit.predict(np.zeros((1, L, 4), np.float32), verbose=0)
    return (logit.predict(basis, verbose=0) - zero).reshape(L, 4, T)  # d logit_t / d x[l, a]


def test_saliency_matches_exact_gradient_of_logits(linear_model):
    x = _onehot(7)
    exact = _finite_difference_gradient(linear_model)
    for task in (0, 1):
        grad = gradients.saliency(linear_model, x, task=task, batch_size=3, progress=False)
        assert grad.shape == x.shape
        np.testing.assert_allclose(grad, np.broadcast_to(exact[..., task], x.shape), atol=1e-5)
    total = gradients.saliency(linear_model, x, progress=False)
    np.testing.assert_allclose(total, np.broadcast_to(exact.sum(-1), x.shape), atol=1e-5)


def test_per_sequence_task_weights_explain_each_sequence_by_its_own_tasks(linear_model):
    x = _onehot(4, seed=3)
    exact = _finite_difference_gradient(linear_model)
    weights = np.array([[1, 0], [0, 1], [1, 1], [0, 0]], dtype=np.float32)
    grad = gradients.saliency(linear_model, x, task=weights, batch_size=3, progress=False)
    expected = np.einsum("lat,nt->nla", exact, weights)
    np.testing.assert_allclose(grad, expected, atol=1e-5)
    with pytest.raises(InputError, match="do not match"):
        gradients.saliency(linear_model, x, task=weights[:2], progress=False)


def test_probability_target_is_logit_gradient_times_sigmoid_derivative(linear_model):
    x = _onehot(5, seed=1)
    g_logit = gradients.saliency(linear_model, x, task=1, progress=False)
    g_prob = gradients.saliency(linear_model, x, target="probability", task=1, progress=False)
    p = linear_model.predict(x, verbose=0)[:, 1]
    np.testing.assert_allclose(g_prob, g_logit * (p * (1 - p))[:, None, None], rtol=1e-4, atol=1e-7)
    assert not np.allclose(g_prob, g_logit)


def test_grad_times_input_is_zero_off_the_observed_base(linear_model):
    x = _onehot(4, seed=2)
    gxi = gradients.grad_times_input(linear_model, x, task=0, progress=False)
    assert np.all(gxi[x == 0] == 0)
    np.testing.assert_allclose(
        gxi.sum(-1), (gradients.saliency(linear_model, x, task=0, progress=False) * x).sum(-1), rtol=1e-6
    )


def test_correct_gradients_removes_per_position_offsets():
    rng = np.random.default_rng(0)
    grad, x = rng.normal(size=(3, L, 4)), _onehot(3)
    offset = rng.normal(size=(3, L, 1))
    corrected = gradients.correct_gradients(grad)
    np.testing.assert_allclose(corrected.mean(-1), 0, atol=1e-12)
    np.testing.assert_allclose(gradients.correct_gradients(grad + offset) * x, corrected * x, atol=1e-12)
    assert not np.allclose((grad + offset) * x, grad * x)
    # correction moves every gradient onto the simplex plane: zero angle
    np.testing.assert_allclose(evaluate.gradient_angles(corrected), 0, atol=1e-6)
    assert evaluate.gradient_angles(np.ones((1, 1, 4)))[0, 0] == pytest.approx(90)
    assert evaluate.angle_summary(np.ones((1, 2, 4)))["pct_above_60"] == 100.0


def _truth(n, length=50, seed=0):
    """Uniform background with one 8-wide motif (one base at 0.97) per sequence."""
    rng = np.random.default_rng(seed)
    truth = np.full((n, length, 4), 0.25, np.float32)
    for i, start in enumerate(rng.integers(0, length - 8, size=n)):
        cols = np.full((8, 4), 0.01, np.float32)
        cols[np.arange(8), rng.integers(0, 4, 8)] = 0.97
        truth[i, start : start + 8] = cols
    return truth


def test_truth_positions_threshold_information():
    truth = _truth(3)
    mask = evaluate.truth_positions(truth, threshold=0.0)
    assert mask.sum() == 3 * 8  # uniform columns carry exactly 0 bits and never count
    info = information(truth)
    assert np.allclose(info[~mask], 0) and np.all(info[mask] > 1.7)
    assert not evaluate.truth_positions(truth, threshold=1.9).any()


def test_interpretability_perfect_and_random():
    truth, x = _truth(60), _onehot(60, length=50, seed=3)
    perfect = evaluate.truth_positions(truth)[..., None] * x + 0.0
    table = evaluate.interpretability(perfect, x, truth, top_k=5)
    assert list(table["threshold"]) == [0.0, 0.01, 0.1]
    assert np.allclose(table["auroc_mean"], 1.0) and np.allclose(table["aupr_mean"], 1.0)
    assert (table["n_sequences"] == 60).all() and table["snr_mean"].isna().all()  # no positive background
    rng = np.random.default_rng(1)
    noisy = evaluate.interpretability(rng.normal(size=x.shape), x, truth, thresholds=(0.1,))
    assert noisy["auroc_mean"].iloc[0] == pytest.approx(0.5, abs=0.06)
    assert 8 / 50 < noisy["aupr_mean"].iloc[0] < 0.35  # random AP sits a little above prevalence
    # SNR: motif scores 1, top-5 positive background scores 0.1 -> 10
    background = (~evaluate.truth_positions(truth))[..., None] * x * 0.1
    snr = evaluate.interpretability(perfect + background, x, truth, thresholds=(0.1,), top_k=5)
    assert snr["snr_mean"].iloc[0] == pytest.approx(10.0)


def test_per_sequence_curves_match_sklearn_with_ties():
    rng = np.random.default_rng(2)
    for _ in range(20):
        scores = rng.integers(0, 5, size=40).astype(float)  # many ties
        labels = rng.random(40) < 0.3
        if labels.all() or not labels.any():
            continue
        auroc, aupr = evaluate._curves(scores, labels)
        assert auroc == pytest.approx(roc_auc_score(labels, scores))
        assert aupr == pytest.approx(average_precision_score(labels, scores))
