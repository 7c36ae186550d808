"""benchmarks/attribution.py: the PyTorch port of CNN-25 and the like-for-like map comparisons."""

import importlib.util
import os
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from tests.conftest import ROOT

torch = pytest.importorskip("torch")
pytest.importorskip("tangermeme")


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_attribution", ROOT / "benchmarks" / "attribution.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def models(bench):
    """An untrained CNN-25 with non-trivial BatchNorm statistics, and its torch port."""
    import keras

    from cislens.models.zoo import build_model

    keras.utils.set_random_seed(0)
    model = build_model("cnn", bench.LENGTH, bench.N_TASKS, first_pool=bench.FIRST_POOL)
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            c = layer.gamma.shape[0]
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, c).astype("float32"),
                    rng.normal(0, 0.1, c).astype("float32"),
                    rng.normal(0, 0.1, c).astype("float32"),
                    rng.uniform(0.5, 2.0, c).astype("float32"),
                ]
            )
    return model, bench.torch_port(bench.keras_weights(model))


def _x(n, seed=1):
    rng = np.random.default_rng(seed)
    return np.eye(4, dtype=np.float32)[rng.integers(0, 4, size=(n, 200))]


def _cf(x):
    return torch.from_numpy(np.ascontiguousarray(np.swapaxes(x, -1, -2)))


def test_torch_port_reproduces_the_keras_logits(models):
    from cislens.models.zoo import logit_model

    model, port = models
    x = _x(16)
    with torch.no_grad():
        ours = port(_cf(x)).numpy()
    np.testing.assert_allclose(ours, logit_model(model).predict(x, verbose=0), atol=1e-4)


def test_saliency_deepshap_and_ism_match_tangermeme_like_for_like(models):
    from tangermeme.deep_lift_shap import deep_lift_shap as tm_deep_lift_shap
    from tangermeme.saliency import saliency as tm_saliency
    from tangermeme.saturation_mutagenesis import saturation_mutagenesis

    from cislens.attribution.deeplift import deep_lift_shap
    from cislens.attribution.gradients import saliency
    from cislens.attribution.ism import ism
    from cislens.attribution.references import make_baselines

    model, port = models
    x = _x(3)
    grad = saliency(model, x, task=0, progress=False)
    peer = tm_saliency(port, _cf(x), target=0, hypothetical=True, gradient_correction=False, device="cpu")
    np.testing.assert_allclose(grad, np.swapaxes(peer.numpy(), 1, 2), atol=1e-5)

    refs = make_baselines(x, "shuffle", 4, seed=0)
    ours = deep_lift_shap(model, x, references=refs, task=0, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = tm_deep_lift_shap(port, _cf(x), target=0, references=_cf(refs), device="cpu")
    np.testing.assert_allclose(ours.sum(-1, keepdims=True) * x, np.swapaxes(peer.numpy(), 1, 2), atol=1e-5)

    y0, y_hat = saturation_mutagenesis(port, _cf(x), target=0, raw_outputs=True, device="cpu", fast=False)
    delta = (y_hat[..., 0] - y0[:, None, None, 0]).numpy()
    np.testing.assert_allclose(ism(model, x, task=0, progress=False), np.swapaxes(delta, 1, 2), atol=1e-5)
