"""The attribution method suite against exact identities: completeness, brute force, invariances."""

import inspect
import logging
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import pytest
import yaml

from cislens.attribution import deeplift, evaluate, gradients, run
from cislens.attribution.ism import ism
from cislens.attribution.methods import CORRECTABLE, METHODS
from cislens.attribution.references import make_baselines
from cislens.errors import InputError
from cislens.models import zoo
from cislens.runtime import set_seed

from ..conftest import ROOT

L, T = 40, 2
TINY = {
    "filters": 4,
    "kernel_size": 5,
    "first_pool": 4,
    "pool_total": 8,
    "conv2_filters": 4,
    "dense_units": 8,
}


def _onehot(n, length=L, seed=0):
    rng = np.random.default_rng(seed)
    return np.eye(4, dtype=np.float32)[rng.integers(0, 4, size=(n, length))]


def _tiny(arch="cnn", activation="relu", seed=0, **hp):
    """A zoo model with random batch-norm statistics, so BN is a real affine map and not identity."""
    set_seed(seed)
    model = zoo.build_model(arch, L, T, activation=activation, **{**(TINY if arch == "cnn" else {}), **hp})
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, gamma.shape),
                    rng.normal(0, 0.3, beta.shape),
                    rng.normal(0, 0.3, mean.shape),
                    rng.uniform(0.5, 2.0, var.shape),
                ]
            )
    return model


@pytest.fixture(scope="module")
def relu_model():
    return _tiny(activation="relu")


@pytest.fixture(scope="module")
def exp_model():
    return _tiny(activation="exponential", seed=1)


@pytest.fixture(scope="module")
def x():
    return _onehot(6, seed=2)


# --- integrated and expected gradients -----------------------------------------------------------


@pytest.fixture(scope="module")
def smooth_model():
    """Softplus, average pooling, tanh: a smooth integrand, so the midpoint rule converges as 1/steps^2."""
    set_seed(3)
    inputs = keras.Input((L, 4))
    h = keras.layers.Conv1D(4, 5, padding="same", name="first_conv")(inputs)
    h = keras.layers.BatchNormalization(name="first_bn")(h)
    h = keras.layers.Activation("softplus", name="first_activation")(h)
    h = keras.layers.Flatten()(keras.layers.AveragePooling1D(4)(h))
    h = keras.layers.Dense(8, activation="tanh")(h)
    return keras.Model(inputs, keras.layers.Dense(T, name="logits")(h))


@pytest.mark.parametrize(("baseline", "correct"), [("zero", False), ("shuffle", False), ("shuffle", True)])
def test_integrated_gradients_complete(smooth_model, x, baseline, correct):
    """sum(attr) = f(x) - f(baseline); correction keeps it for one-hot baselines (sum_a (x - b)_a = 0)."""
    attr = gradients.integrated_gradients(
        smooth_model, x, baseline=baseline, steps=128, n_baselines=3, correct=correct, progress=False
    )
    gap = gradients.completeness_gap(smooth_model, x, attr, baseline, n_baselines=3)
    assert attr.shape == x.shape and attr.dtype == np.float32
    assert gap.max() < 1e-2


@pytest.mark.parametrize("baseline", ["zero", "shuffle"])
def test_integrated_gradients_complete_on_relu_max_pool_model(relu_model, x, baseline):
    """ReLU and max-pool make the path gradient jump, so the error falls only as 1/steps."""
    attr = gradients.integrated_gradients(
        relu_model, x, baseline=baseline, steps=1024, n_baselines=3, batch_size=2048, progress=False
    )
    assert gradients.completeness_gap(relu_model, x, attr, baseline, n_baselines=3).max() < 1e-2


def test_integrated_gradients_multiply_by_input_difference():
    """On a linear model the path average is the gradient, so IG = grad * (x - 0) exactly."""
    set_seed(0)
    inputs = keras.Input((L, 4))
    h = keras.layers.Flatten()(keras.layers.Conv1D(3, 5, padding="same")(inputs))
    model = keras.Model(inputs, keras.layers.Dense(T, name="logits")(h))
    x = _onehot(3)
    attr = gradients.integrated_gradients(model, x, steps=4, task=1, progress=False)
    expected = gradients.saliency(model, x, task=1, progress=False) * x
    np.testing.assert_allclose(attr, expected, atol=1e-6)
    assert np.all(attr[x == 0] == 0)


def test_expected_gradients_estimate_the_difference_to_the_background(smooth_model, relu_model, x):
    background = _onehot(1, seed=9)
    attr = gradients.expected_gradients(smooth_model, x, background=background, n_samples=256, progress=False)
    gap = gradients.completeness_gap(smooth_model, x, attr, background[0])
    assert np.median(gap) < 0.02 and gap.max() < 0.1  # Monte Carlo: unbiased, not exact
    # baseline="expected" is expected gradients with steps x n_baselines samples, drawn from x
    via_ig = gradients.integrated_gradients(
        relu_model, x, baseline="expected", steps=3, n_baselines=2, seed=4, progress=False
    )
    direct = gradients.expected_gradients(relu_model, x, n_samples=6, seed=4, progress=False)
    np.testing.assert_allclose(via_ig, direct, atol=1e-7)


# --- DeepLIFT / DeepSHAP -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["relu_model", "exp_model"])
def test_deep_lift_shap_sums_to_delta(request, x, name):
    """Conv, BN, max-pool, dense: every sequence's attributions sum to f(x) - mean f(ref) (1e-3)."""
    model = request.getfixturevalue(name)
    attr = deeplift.deep_lift_shap(model, x, n_references=4, progress=False)
    gap = gradients.completeness_gap(model, x, attr, "shuffle", n_baselines=4)
    assert gap.max() < 1e-3
    # not the plain gradient: gradient x (x - ref) misses the difference by far
    refs = make_baselines(x, "shuffle", n=4)
    plain = np.mean(
        [gradients.saliency(model, x, progress=False) * (x - refs[:, k]) for k in range(4)], axis=0
    )
    assert gradients.completeness_gap(model, x, plain, "shuffle", n_baselines=4).max() > 1e-2


@pytest.mark.parametrize("activation", [a for a in zoo.ACTIVATIONS if a not in ("relu", "exponential")])
def test_deep_lift_shap_every_zoo_activation(x, activation):
    model = _tiny(activation=activation, activation_shift=0.5, activation_scale=2.0)
    attr = deeplift.deep_lift_shap(model, x[:3], n_references=2, progress=False)
    assert gradients.completeness_gap(model, x[:3], attr, "shuffle", n_baselines=2).max() < 1e-3


_BLOCK = {"conv2_filters": 4, "conv2_kernel": 3, "conv2_pool": 2, "dense_units": 8}
_DEEP = {
    **_BLOCK,
    **{f"conv{i}_{k}": v for i in (3, 4) for k, v in (("filters", 4), ("kernel", 3), ("pool", 2))},
}


@pytest.mark.parametrize(
    ("arch", "hp"),
    [
        ("cnn_deep", {**_DEEP, "activation": "exp_shift_scale"}),
        ("cnn_local", {**_BLOCK, "first_pool": 8}),
        ("cnn_dist", {**_DEEP, "dilation": 2}),
        ("residualbind", {"res_kernel": 3, "avg_pool": 4, "dense_units": 8, "activation": "exponential"}),
        ("basset", {**_BLOCK, "first_pool": 2, "conv3_filters": 4, "conv3_kernel": 3, "dense2_units": 8}),
    ],
)
def test_deep_lift_shap_every_zoo_architecture(x, arch, hp):
    model = _tiny(arch, filters=4, kernel_size=5, **hp)
    attr = deeplift.deep_lift_shap(model, x[:2], n_references=2, progress=False)
    assert gradients.completeness_gap(model, x[:2], attr, "shuffle", n_baselines=2).max() < 1e-3


def test_deep_lift_shap_splits_activations_built_into_conv_and_dense(x):
    """A Sequential model explained on its probability: Conv1D/Dense activations become rescaled twins."""
    set_seed(2)
    model = keras.Sequential(
        [
            keras.Input((L, 4)),
            keras.layers.Conv1D(4, 5, padding="same", activation="exponential"),
            keras.layers.MaxPooling1D(4),
            keras.layers.Flatten(),
            keras.layers.Dense(8, activation="elu"),
            keras.layers.Dense(T, name="logits"),
            keras.layers.Activation("sigmoid", name="output"),
        ]
    )
    attr = deeplift.deep_lift_shap(model, x[:3], target="probability", n_references=2, progress=False)
    gap = gradients.completeness_gap(model, x[:3], attr, "shuffle", "probability", n_baselines=2)
    assert gap.max() < 1e-3


def test_deep_lift_shap_refuses_attention_with_one_line(x):
    model = zoo.build_model(
        "cnn_attention", L, T, filters=4, kernel_size=5, num_heads=2, key_dim=4, dense_units=8
    )
    with pytest.raises(InputError, match="MultiHeadAttention") as err:
        deeplift.deep_lift_shap(model, x[:1], progress=False)
    assert "\n" not in str(err.value) and "integrated_gradients" in str(err.value)


def test_deep_lift_shap_task_handling_is_linear_in_the_task_weights(relu_model, x):
    kw = {"n_references": 2, "progress": False}
    per_task = [deeplift.deep_lift_shap(relu_model, x, task=t, **kw) for t in range(T)]
    np.testing.assert_allclose(deeplift.deep_lift_shap(relu_model, x, **kw), sum(per_task), atol=1e-5)
    weights = np.array([[1, 0], [0, 1], [1, 1], [0, 0], [2, 0], [0.5, 1]], dtype=np.float32)
    mixed = deeplift.deep_lift_shap(relu_model, x, task=weights, **kw)
    np.testing.assert_allclose(mixed, np.einsum("tnla,nt->nla", np.stack(per_task), weights), atol=1e-5)
    with pytest.raises(InputError, match="out of range"):
        deeplift.deep_lift_shap(relu_model, x, task=T, **kw)


# --- ISM -----------------------------------------------------------------------------------------


def test_ism_equals_brute_force_prediction_differences(relu_model):
    x = _onehot(3, seed=5)
    weights = np.array([[1, 0], [0, 1], [1, 1]], dtype=np.float32)
    delta = ism(relu_model, x, task=weights, batch_size=50, progress=False)
    logit = zoo.target_model(relu_model, "logit")
    wild = (logit.predict(x, verbose=0) * weights).sum(-1)
    mutants = np.repeat(x[:, None, None], L, axis=1).repeat(4, axis=2)  # (N, L, 4, L, 4)
    for i in range(L):
        mutants[:, i, :, i, :] = np.eye(4, dtype=np.float32)
    pred = logit.predict(mutants.reshape(-1, L, 4), verbose=0).reshape(3, L, 4, T)
    expected = (pred * weights[:, None, None]).sum(-1) - wild[:, None, None]
    np.testing.assert_allclose(delta, expected, atol=1e-5)
    assert np.all(delta[x == 1] == 0)


@pytest.mark.parametrize(
    ("arch", "hp"),
    [
        ("cnn", {}),
        ("cnn", {"kernel_size": 4, "first_pool": 3}),
        ("cnn", {"first_pool": 1}),
        ("residualbind", {}),
    ],
)
def test_ism_from_the_first_block_matches_whole_mutants(arch, hp):
    """The first-block path (kernel differences added to the sequence's own first-layer output, only
    the pool windows they reach recomputed) gives the whole-mutant forward's deltas: pools that do not
    divide the length, no pool, even kernels ('same' pads one more on the right), an N column and a
    column that is not one-hot included; a network without the zoo's first block falls back."""
    from cislens.models import predict

    model = _tiny(arch, seed=2, **hp)
    x = _onehot(3, seed=7)
    x[0, 0] = 0.0  # an N at the left edge
    x[1, L - 1] = 0.25  # a soft column at the right edge
    net = predict._target_net(model, "logit")
    assert predict._first_block(net) is not None
    fast = ism(model, x, batch_size=64, progress=False)
    predict._COMPILED[model][("mutant", "logit", (L, 4))] = predict._mutant_fn(net, (L, 4), T)
    np.testing.assert_allclose(fast, ism(model, x, batch_size=64, progress=False), atol=2e-5)
    plain = keras.Sequential([keras.Input((L, 4)), keras.layers.Conv1D(3, 5, padding="same"),
                              keras.layers.Flatten(), keras.layers.Dense(T, name="logits")])  # fmt: skip
    assert predict._first_block(predict._target_net(plain, "logit")) is None
    assert ism(plain, x, progress=False).shape == x.shape


def test_ism_position_map_conventions():
    x = np.eye(4, dtype=np.float32)[[[0, 2]]]  # A, G
    delta = np.array([[[0.0, -3.0, -4.0, 0.0], [1.0, 1.0, 0.0, 2.0]]], dtype=np.float32)
    l2 = evaluate.ism_position_map(delta, x)
    np.testing.assert_allclose(evaluate.position_scores(l2, x), [[5.0, np.sqrt(6.0)]], rtol=1e-6)
    centered = evaluate.ism_position_map(delta, x, kind="centered")
    np.testing.assert_allclose(evaluate.position_scores(centered, x), [[7 / 4, -1.0]], rtol=1e-6)
    assert np.all(l2[x == 0] == 0)


# --- correction, SmoothGrad, seeds, angles -------------------------------------------------------


def test_correction_makes_grad_times_input_blind_to_per_position_offsets():
    rng = np.random.default_rng(0)
    grad, x = rng.normal(size=(3, L, 4)), _onehot(3)
    c = rng.normal(scale=5.0, size=(3, L))  # arbitrary per position
    shifted = gradients.correct_gradients(grad + c[:, :, None]) * x
    np.testing.assert_allclose(shifted, gradients.correct_gradients(grad) * x, atol=1e-12)
    assert not np.allclose((grad + c[:, :, None]) * x, grad * x)


def test_smoothgrad_without_noise_is_saliency(relu_model, x):
    for correct in (False, True):
        smooth = gradients.smoothgrad(relu_model, x, sigma=0.0, n_samples=3, correct=correct, progress=False)
        plain = gradients.saliency(relu_model, x, correct=correct, progress=False)
        np.testing.assert_allclose(smooth, plain, atol=1e-6)


def test_integrated_gradients_correct_the_path_gradient_before_multiplying(relu_model, x):
    steps = 4
    path = [gradients.saliency(relu_model, (k + 0.5) / steps * x, progress=False) for k in range(steps)]
    expected = gradients.correct_gradients(np.mean(path, axis=0)) * x  # zero baseline: x - b = x
    got = gradients.integrated_gradients(relu_model, x, steps=steps, correct=True, progress=False)
    np.testing.assert_allclose(got, expected, atol=1e-6)
    raw = gradients.integrated_gradients(relu_model, x, steps=steps, progress=False)
    np.testing.assert_allclose(raw, np.mean(path, axis=0) * x, atol=1e-6)


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        (gradients.smoothgrad, {"n_samples": 4}),
        (gradients.integrated_gradients, {"baseline": "shuffle", "steps": 4, "n_baselines": 2}),
        (gradients.expected_gradients, {"n_samples": 8}),
        (deeplift.deep_lift_shap, {"n_references": 2}),
    ],
)
def test_seeds_reproduce_whatever_the_batch_size(relu_model, x, method, kwargs):
    first = method(relu_model, x, seed=3, progress=False, **kwargs)
    again = method(relu_model, x, seed=3, batch_size=5, progress=False, **kwargs)
    other = method(relu_model, x, seed=4, progress=False, **kwargs)
    np.testing.assert_allclose(first, again, atol=1e-6)
    assert not np.allclose(first, other, atol=1e-6)


def test_gradient_angles_on_hand_built_gradients():
    rng = np.random.default_rng(1)
    assert gradients.gradient_angles(np.ones((1, 3, 4))) == {
        "pct_above_30": 100.0,
        "pct_above_45": 100.0,
        "pct_above_60": 100.0,
    }  # (1, 1, 1, 1) points straight off the simplex: 90 degrees
    corrected = gradients.correct_gradients(rng.normal(size=(4, 10, 4)))
    assert set(gradients.gradient_angles(corrected).values()) == {0.0}
    # (1, 0, 0, 0): sin = 1 / 2, 30 degrees; half of these positions at 90, half at 30
    half = np.concatenate([np.ones((1, 2, 4)), np.eye(4)[None, :2] * 3.0], axis=1)
    angles = gradients.gradient_angles(half)
    assert angles["pct_above_45"] == 50.0 and angles["pct_above_60"] == 50.0


# --- registry and the Snakemake job's dispatch ---------------------------------------------------


def test_registry_matches_schema_and_signatures():
    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    section = schema["properties"]["attribution"]["properties"]
    assert section["methods"]["items"]["enum"] == list(METHODS)
    options = section["options"]["properties"]
    assert set(options) == set(METHODS)
    for name, fn in METHODS.items():
        params = inspect.signature(fn).parameters
        assert {"target", "task", "batch_size", "progress"} <= set(params)
        assert set(options[name]["properties"]) <= set(params), name
        assert ("correct" in params) == (name in CORRECTABLE)


def test_dispatch_keeps_saliency_behaviour_and_rejects_unknown_names(relu_model, x):
    settings = {"target": "logit", "correct": True, "options": {"saliency": {"batch_size": 4}}}
    grad = gradients.correct_gradients(gradients.saliency(relu_model, x, task=0, progress=False))
    got = run.compute_attribution(relu_model, x, "saliency", settings, 0, progress=False)
    np.testing.assert_allclose(got, grad, atol=1e-6)
    gxi = run.compute_attribution(relu_model, x, "grad_times_input", settings, 0, progress=False)
    np.testing.assert_allclose(gxi, grad * x, atol=1e-6)
    with pytest.raises(InputError, match="unknown attribution method 'shap'") as err:
        run.compute_attribution(relu_model, x, "shap", settings, 0, progress=False)
    assert "\n" not in str(err.value)
    bad = {**settings, "options": {"ism": {"steps": 3}}}
    with pytest.raises(InputError, match="unknown option"):
        run.compute_attribution(relu_model, x, "ism", bad, 0, progress=False)


def test_trial_job_checks_every_method_and_its_outputs_before_reading_data(tmp_path):
    """One job runs all methods: a bad name or a method without outputs fails before any data is read
    (the dataset path does not exist here, so reading it would fail differently)."""
    missing = str(tmp_path / "absent.h5")
    files = {"maps": "a.h5", "scores": "a.tsv", "logos": "a.png"}
    log = logging.getLogger("test")
    with pytest.raises(InputError, match="unknown attribution method 'shap'"):
        run.attribute_trial(missing, missing, ["saliency", "shap"], {}, 1, {"saliency": files}, log)
    with pytest.raises(InputError, match="not given for: ism"):
        run.attribute_trial(missing, missing, ["saliency", "ism"], {}, 1, {"saliency": files}, log)


def test_compiled_functions_are_reused_and_released_with_the_model(x):
    import gc
    import weakref

    model = _tiny(seed=3)
    first = gradients.saliency(model, x, progress=False)
    cached = dict(gradients._COMPILED[model])
    np.testing.assert_array_equal(gradients.saliency(model, x, progress=False), first)
    assert gradients._COMPILED[model] == cached  # nothing traced or built a second time
    ism(model, x[:2], progress=False)
    assert len(gradients._COMPILED[model]) > len(cached)
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None  # the cache does not keep a model alive


def test_cosine_to_centred_truth_and_what_correction_does():
    rng = np.random.default_rng(2)
    truth = np.full((3, 20, 4), 0.25)
    truth[:, 5:9] = np.eye(4)[rng.integers(0, 4, (3, 4))]
    exact = truth - 0.25
    np.testing.assert_allclose(evaluate.cosine_similarity(exact, truth), 1.0)
    np.testing.assert_allclose(evaluate.cosine_similarity(-exact, truth), -1.0)
    noisy = exact + rng.normal(0, 0.3, exact.shape) + rng.normal(0, 1.0, (3, 20, 1))  # off-simplex part
    raw = evaluate.cosine_similarity(noisy, truth)
    corrected = evaluate.cosine_similarity(gradients.correct_gradients(noisy), truth)
    assert (corrected > raw).all()  # removing the per-position mean can only help a positive match
    table = evaluate.interpretability(noisy, np.eye(4)[rng.integers(0, 4, (3, 20))], truth)
    np.testing.assert_allclose(table["cosine_mean"], raw.mean())
