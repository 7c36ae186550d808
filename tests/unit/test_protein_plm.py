"""The compiled Potts fit (cislens.protein.plm): TensorFlow's iterates, the objective, the invariants."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from cislens import runtime
from cislens.errors import InputError
from cislens.protein import fit as protein_fit
from cislens.protein import pll, plm, potts, pssm
from cislens.protein.msa import Q
from cislens.protein.params import flat_to_blocks

LENGTH = 12


@pytest.fixture(scope="module")
def msa() -> tuple[np.ndarray, np.ndarray]:
    """60 random sequences, three low-entropy columns, ten copies of one sequence, uneven weights."""
    rng = np.random.default_rng(1)
    seqs = rng.integers(0, Q, size=(60, LENGTH))
    seqs[:, :3] = rng.integers(0, 3, size=(60, 3))
    seqs[40:50] = seqs[0]
    return seqs, rng.uniform(0.2, 1.5, size=60)


def tensorflow_fit(
    seqs: np.ndarray,
    weights: np.ndarray,
    iterations: int,
    learning_rate: float,
    optimiser: str,
    lambda_j: float | None,
) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """The former TensorFlow fit: fit.PseudoLikelihood's penalised loss through fit.optimise."""
    import tensorflow as tf

    data = protein_fit.PseudoLikelihood(seqs, weights)
    pen = pll.penalty(data.length, data.neff, lambda_j=lambda_j)
    h = tf.Variable(pssm.fit(seqs, weights).h)
    free = tf.Variable(tf.zeros((data.length * Q, data.length * Q)))
    history = protein_fit.optimise(
        lambda: data.penalised(h, data.couplings(free), pen),
        [h, free],
        iterations,
        learning_rate,
        optimiser=optimiser,
        progress=False,
    )
    return h.numpy(), flat_to_blocks(free.numpy(), data.length, Q), history


@pytest.mark.parametrize(
    ("optimiser", "learning_rate", "lambda_j"),
    [("gremlin_adam", 1.0, None), ("adam", 0.05, None), ("gremlin_adam", 1.0, 5.0)],
)
def test_iterates_match_tensorflow(msa, optimiser, learning_rate, lambda_j):
    """Same losses, fields and couplings as the TensorFlow path to float32 precision; a wrong
    projection (symmetrisation, diagonal blocks) or penalty would part them within a few steps."""
    seqs, weights = msa
    h_tf, J_tf, history_tf = tensorflow_fit(seqs, weights, 20, learning_rate, optimiser, lambda_j)
    data = plm.PseudoLikelihood(seqs, weights)
    pen = pll.penalty(LENGTH, data.neff, lambda_j=lambda_j)
    h, J, history = plm.optimise(
        data, pssm.fit(seqs, weights).h, pen, 20, learning_rate, optimiser=optimiser, progress=False
    )
    np.testing.assert_allclose(history, history_tf, rtol=1e-5)
    assert history[-1] < history[0] - 1.0
    np.testing.assert_allclose(h, h_tf, atol=5e-5)
    np.testing.assert_allclose(flat_to_blocks(J, LENGTH, Q), J_tf, atol=2e-5)
    assert np.abs(J).max() > 0.3  # the couplings moved far enough for the comparison to mean something


def test_fit_output_symmetric_zero_diagonal_and_loss_is_the_objective(msa):
    """J_ij(a, b) == J_ji(b, a) exactly, zero diagonal blocks; the loss reported at step k + 1 is the
    penalised objective (numpy, float64, the full symmetric matrix's penalty) at the model after k steps."""
    seqs, weights = msa
    model = potts.fit(seqs, weights, iterations=7, lambda_j=2.0, progress=False)
    J = model.J
    assert J.shape == (LENGTH, LENGTH, Q, Q) and J.dtype == np.float32
    assert np.array_equal(J, J.transpose(1, 0, 3, 2))
    assert not J[np.arange(LENGTH), np.arange(LENGTH)].any()
    one_hot = np.eye(Q)[seqs]  # (N, L, q)
    logits = model.h.astype(np.float64) + np.einsum("ijab,njb->nia", J.astype(np.float64), one_hot)
    top = logits.max(axis=2, keepdims=True)
    lse = np.log(np.exp(logits - top).sum(axis=2)) + top[..., 0]
    site = lse - np.take_along_axis(logits, seqs[..., None], axis=2)[..., 0]
    pen = pll.penalty(LENGTH, weights.sum(), lambda_j=2.0)
    objective = (weights @ site.sum(axis=1)) / weights.sum()
    objective += pen.h * np.sum(model.h.astype(np.float64) ** 2)
    objective += 0.5 * pen.j * np.sum(J.astype(np.float64) ** 2)  # over the full symmetric matrix
    after = potts.fit(seqs, weights, iterations=8, lambda_j=2.0, progress=False)
    assert after.info["final_loss"] == pytest.approx(objective, rel=1e-6)
    assert model.info["lambda_j"] == pytest.approx(2.0) and model.info["iterations"] == 7


def test_threads_change_nothing_and_chunks_only_rounding(msa, monkeypatch):
    """Each thread owns whole tiles and rows, so the thread count leaves every bit as it was (the fit
    needs no seed); sequences in chunks only change the order of the sums."""
    seqs, weights = msa
    # the limit is process-wide (limit_threads in another test may have set it): set both counts here
    monkeypatch.setattr(runtime, "_thread_limit", 2)
    if plm.thread_count() < 2:
        pytest.skip("numba's pool has one thread here: nothing to compare")
    whole = potts.fit(seqs, weights, iterations=10, progress=False)
    monkeypatch.setattr(runtime, "_thread_limit", 1)  # as limit_threads(1) sets it
    assert plm.thread_count() == 1
    one = potts.fit(seqs, weights, iterations=10, progress=False)
    assert np.array_equal(one.J, whole.J) and one.info["final_loss"] == whole.info["final_loss"]
    monkeypatch.setattr(plm, "CHUNK_BYTES", 7 * LENGTH * Q * 4)  # 7 sequences per chunk: 8 chunks
    assert len(plm.PseudoLikelihood(seqs, weights).chunks) == 8
    chunked = potts.fit(seqs, weights, iterations=10, progress=False)
    assert chunked.info["final_loss"] == pytest.approx(whole.info["final_loss"], rel=1e-6)
    np.testing.assert_allclose(chunked.J, whole.J, atol=1e-5)
    np.testing.assert_allclose(chunked.h, whole.h, atol=1e-5)


def test_unknown_optimiser_is_an_input_error(msa):
    with pytest.raises(InputError, match="unknown optimiser 'sgd'"):
        potts.fit(*msa, optimiser="sgd", progress=False)


def test_a_potts_fit_loads_neither_tensorflow_nor_keras():
    """What the fit's memory rests on (TensorFlow alone holds ~620 MB): the rule's path for a Potts
    model -- protein.run with the job's threads -- never imports TensorFlow or Keras."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from cislens.protein import run\n"
        "from cislens.runtime import limit_threads\n"
        "limit_threads(1, tensorflow='potts' in run.TF_MODELS)\n"
        "seqs = np.random.default_rng(0).integers(0, 21, size=(30, 8))\n"
        "model = run.fit_model('potts', seqs, np.ones(30), {'iterations': 2}, progress=False)\n"
        "assert model.J.shape == (8, 8, 21, 21)\n"
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr
