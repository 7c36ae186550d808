"""Model zoo: fixed layer names, parameter counts, validation, `.keras` round trips, attention."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import pytest

from cislens.errors import InputError
from cislens.models import zoo
from cislens.runtime import set_seed


def _data(n=32, length=40, tasks=3, seed=0):
    rng = np.random.default_rng(seed)
    x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, size=(n, length))]
    y = (rng.random((n, tasks)) > 0.5).astype(np.float32)
    return x, y


def test_cnn_parameter_count_matches_hand_arithmetic():
    model = zoo.build_model("cnn", 200, 12, first_pool=25)
    conv1 = 19 * 4 * 30 + 30  # 2,310 kernel + bias
    bn1 = 4 * 30  # gamma, beta, moving mean, moving variance
    # length 200 -> pool 25 -> 8 positions; second pool 100 // 25 = 4 -> 2 positions
    conv2 = 5 * 30 * 128 + 128  # 19,328
    bn2 = 4 * 128
    dense = (2 * 128) * 512 + 512  # flatten 256 -> 512: 131,584
    bn3 = 4 * 512
    logits = 512 * 12 + 12  # 6,156
    assert model.count_params() == conv1 + bn1 + conv2 + bn2 + dense + bn3 + logits == 162_058
    assert model.get_layer("conv2_pool").pool_size == (4,)


def test_first_layer_found_by_name_and_activations_are_before_pooling():
    model = zoo.build_model(
        "cnn",
        40,
        3,
        first_pool=4,
        pool_total=8,
        filters=6,
        kernel_size=7,
        conv2_filters=8,
        dense_units=16,
        activation="exponential",
    )
    assert zoo.first_layer_kernel_size(model) == 7
    assert zoo.first_layer_padding(model) == "same"
    x, _ = _data()
    acts = zoo.first_layer_activations(model, x, batch_size=8)
    assert acts.shape == (32, 40, 6)  # full length: taken before the pool
    assert (acts > 0).all()  # exponential activation is strictly positive
    conv = model.get_layer("first_conv")(x).numpy()
    bn = model.get_layer("first_bn")(conv, training=False).numpy()
    np.testing.assert_allclose(acts, np.exp(bn), rtol=1e-4)


@pytest.mark.parametrize(
    "kwargs",
    [{"arch": "transformer"}, {"arch": "cnn", "activation": "swish"}, {"arch": "cnn", "bogus_hp": 3}],
)
def test_unknown_names_raise_input_error(kwargs):
    arch = kwargs.pop("arch")
    with pytest.raises(InputError) as err:
        zoo.build_model(arch, 100, 2, **kwargs)
    assert "\n" not in str(err.value) and "valid" in str(err.value)


def test_regression_output_is_linear():
    model = zoo.build_model("cnn", 40, 2, task_type="regression", first_pool=4, pool_total=8)
    assert model.get_layer("output").activation.__name__ == "linear"
    with pytest.raises(InputError):
        zoo.build_model("cnn", 40, 2, task_type="ordinal")


@pytest.mark.slow
def test_one_epoch_then_keras_round_trip(tmp_path):
    set_seed(1)
    x, y = _data()
    model = zoo.build_model(
        "cnn",
        40,
        3,
        first_pool=4,
        pool_total=8,
        filters=6,
        conv2_filters=8,
        dense_units=16,
        activation="exponential",
    )
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    logits = zoo.logit_model(loaded).predict(x, verbose=0)
    np.testing.assert_allclose(1 / (1 + np.exp(-logits)), loaded.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


# --- model zoo: every architecture -------------------------------------------------------------------

# Small hyperparameters so each architecture trains in a second or two; length fits its pools.
TINY = {
    "cnn": (40, {"first_pool": 4, "pool_total": 8, "filters": 6, "conv2_filters": 8, "dense_units": 16}),
    "cnn_deep": (
        48,
        {"filters": 6, "conv2_filters": 8, "conv3_filters": 8, "conv4_filters": 8, "dense_units": 16},
    ),
    "cnn_local": (40, {"filters": 6, "first_pool": 10, "conv2_filters": 8, "dense_units": 16}),
    "cnn_dist": (
        48,
        {
            "filters": 6,
            "conv2_filters": 8,
            "conv3_filters": 8,
            "conv4_filters": 8,
            "dense_units": 16,
            "dilation": 2,
        },
    ),
    "cnn_attention": (
        40,
        {"filters": 8, "num_heads": 2, "key_dim": 4, "dense_units": 16, "positional_encoding": True},
    ),
    "residualbind": (41, {"filters": 8, "dense_units": 16}),
    "basset": (
        48,
        {"filters": 8, "conv2_filters": 8, "conv3_filters": 8, "dense_units": 16, "dense2_units": 16},
    ),
}

# Natural input length and first layer (filters, width) of each architecture, from the papers.
NATURAL = {
    "cnn": (200, 30, 19),
    "cnn_deep": (200, 32, 19),
    "cnn_local": (200, 24, 19),
    "cnn_dist": (200, 24, 19),
    "cnn_attention": (200, 32, 19),
    "residualbind": (41, 96, 11),
    "basset": (200, 300, 19),
}


def _tiny(arch, task_type="binary", **extra):
    length, hp = TINY[arch]
    return zoo.build_model(arch, length, 3, task_type=task_type, **{**hp, **extra}), length


def test_every_architecture_has_tests():
    assert set(TINY) == set(NATURAL) == set(zoo.ARCHITECTURES)
    assert "exp_shift_scale" in zoo.ACTIVATIONS


@pytest.mark.parametrize("arch", sorted(NATURAL))
def test_defaults_build_at_natural_length(arch):
    length, filters, width = NATURAL[arch]
    model = zoo.build_model(arch, length, 12)
    conv = model.get_layer("first_conv")
    assert (conv.filters, conv.kernel_size[0], conv.padding) == (filters, width, "same")
    assert model.get_layer("first_activation").output.shape == (None, length, filters)
    assert model.get_layer("logits").units == 12
    assert model.get_layer("output").activation.__name__ == "sigmoid"


@pytest.mark.parametrize("arch", sorted(TINY))
def test_regression_head_is_linear(arch):
    model, _ = _tiny(arch, task_type="regression")
    assert model.get_layer("logits").activation.__name__ == "linear"
    assert model.get_layer("output").activation.__name__ == "linear"


@pytest.mark.slow
@pytest.mark.parametrize("arch", sorted(TINY))
def test_each_arch_trains_and_round_trips(arch, tmp_path):
    set_seed(2)
    task_type = "regression" if arch == "residualbind" else "binary"
    model, length = _tiny(arch, task_type, activation="exp_shift_scale", activation_scale=0.5)
    x, y = _data(n=64, length=length)
    model.compile(optimizer="adam", loss="mse" if task_type == "regression" else "binary_crossentropy")
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    path = tmp_path / f"{arch}.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    filters = TINY[arch][1]["filters"]
    assert loaded.get_layer("first_conv").filters == filters
    acts = zoo.first_layer_activations(loaded, x, batch_size=16)
    assert acts.shape == (64, length, filters) and (acts > 0).all()  # exponential, before pooling


def test_unknown_hp_and_short_input_raise_input_error():
    with pytest.raises(InputError, match="num_heads"):
        zoo.build_model("cnn_deep", 200, 2, num_heads=4)
    with pytest.raises(InputError, match="too short"):
        zoo.build_model("basset", 40, 2)  # pools 3 x 4 x 4 = 48 > 40
    with pytest.raises(InputError, match="too short"):
        zoo.build_model("residualbind", 9, 2)


# --- first-layer activation ------------------------------------------------------------------------


def test_exp_shift_scale_matches_formula():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 10, 3)).astype(np.float32)
    layer = zoo.ExpShiftScale(shift=0.5, scale=2.0)
    np.testing.assert_allclose(layer(x).numpy(), np.exp(2.0 * (x - 0.5)), rtol=1e-5)
    np.testing.assert_allclose(zoo.ExpShiftScale()(x).numpy(), np.exp(x), rtol=1e-5)  # defaults: exp


def test_exp_shift_scale_model_round_trips_and_reads_before_pooling(tmp_path):
    model, length = _tiny("cnn", activation="exp_shift_scale", activation_shift=0.3, activation_scale=1.7)
    path = tmp_path / "exp.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    act = loaded.get_layer("first_activation")
    assert isinstance(act, zoo.ExpShiftScale) and (act.shift, act.scale) == (0.3, 1.7)
    x, _ = _data(n=8, length=length)
    conv = loaded.get_layer("first_conv")(x).numpy()
    bn = loaded.get_layer("first_bn")(conv, training=False).numpy()
    acts = zoo.first_layer_activations(loaded, x)
    np.testing.assert_allclose(acts, np.exp(1.7 * (bn - 0.3)), rtol=1e-4)


# --- attention --------------------------------------------------------------------------------------


def test_attention_weights_shape_rows_and_round_trip(tmp_path):
    model, length = _tiny("cnn_attention")
    mha = model.get_layer("mha")
    assert mha.get_config()["use_bias"] is False  # query/key/value projections without bias
    assert not any("bias" in w.path for w in mha.weights)
    x, _ = _data(n=10, length=length)
    weights = zoo.attention_weights(model, x, batch_size=4)
    assert weights.shape == (10, 2, length // 4, length // 4)  # first_pool 4 by default
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-5)
    path = tmp_path / "attn.keras"
    model.save(path)
    np.testing.assert_allclose(zoo.attention_weights(keras.models.load_model(path), x), weights, atol=1e-6)


def test_sinusoidal_encoding_table():
    table = zoo.sinusoidal_encoding(5, 6)
    np.testing.assert_allclose(table[0], [0, 1, 0, 1, 0, 1], atol=1e-7)
    np.testing.assert_allclose(table[3, :2], [np.sin(3), np.cos(3)], rtol=1e-6)


def test_residualbind_block_uses_dilations_and_skip():
    model = zoo.build_model("residualbind", 41, 1, task_type="regression")
    assert [model.get_layer(f"res{i}_conv").dilation_rate[0] for i in (1, 2, 3)] == [2, 4, 8]
    assert model.get_layer("pool").pool_size == (10,)
    assert model.get_layer("dense").units == 256


# --- CNN-x parameter counts by hand ----------------------------------------------------------------


def _cnn_x_param_count(x, length=200, tasks=12):
    """Layer table of CNN-x: conv 30x19, BN, pool x; conv 128x5, BN, pool 100 // x; dense 512, BN."""
    conv1 = 19 * 4 * 30 + 30
    bn1 = 4 * 30
    conv2 = 5 * 30 * 128 + 128
    bn2 = 4 * 128
    flat = 128 * (length // x // (100 // x))
    dense = flat * 512 + 512
    bn3 = 4 * 512
    logits = 512 * tasks + tasks
    return conv1 + bn1 + conv2 + bn2 + dense + bn3 + logits


@pytest.mark.parametrize("pool", [1, 2, 4, 10, 25, 50, 100])
def test_cnn_x_parameter_counts(pool):
    model = zoo.build_model("cnn", 200, 12, first_pool=pool)
    assert model.count_params() == _cnn_x_param_count(pool)
    assert model.get_layer("first_pool").pool_size == (pool,)
    assert model.get_layer("conv2_pool").pool_size == (100 // pool,)


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("shape", [(16, 40, 6), (24, 10)])
def test_batch_norm_trains_as_keras_batch_normalization(shape, compiled, monkeypatch):
    """zoo.BatchNorm: the same outputs, gradients (input, gamma, beta) and moving statistics as Keras'
    layer in a training step, and the same outputs at inference; it loads back from a config."""
    import tensorflow as tf

    monkeypatch.setattr(zoo, "_compiled_here", lambda x: compiled)  # the CPU (XLA) and the GPU form
    rng = np.random.default_rng(3)
    x = tf.constant(rng.normal(2.0, 3.0, shape).astype(np.float32))  # a mean off zero: centring matters
    upstream = tf.constant(rng.normal(0.0, 1.0, shape).astype(np.float32))
    ours, theirs = zoo.BatchNorm(momentum=0.9), keras.layers.BatchNormalization(momentum=0.9)
    for layer in (ours, theirs):
        layer.build(shape)
        layer.gamma.assign(rng.normal(1.0, 0.3, shape[-1]).astype(np.float32))
        layer.beta.assign(rng.normal(0.0, 0.3, shape[-1]).astype(np.float32))
    theirs.set_weights(ours.get_weights())
    results = []
    for layer in (ours, theirs):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
            loss = tf.reduce_sum(tf.sin(y) * upstream)
        grads = tape.gradient(loss, [x, layer.gamma, layer.beta])
        results.append([y, *grads, layer.moving_mean, layer.moving_variance, layer(x, training=False)])
    for mine, reference in zip(*results, strict=True):
        np.testing.assert_allclose(np.asarray(mine), np.asarray(reference), rtol=2e-4, atol=2e-5)
    assert isinstance(ours, keras.layers.BatchNormalization)
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(ours))
    assert type(again) is zoo.BatchNorm


def test_batch_norm_compiles_the_training_pass_for_large_inputs_on_cpu():
    """XLA only where the tensor is large (CNN-25's first batch norm) and no GPU is visible; small or
    variable-length inputs keep the kernels (no compile)."""
    cpu = not any(d.startswith("gpu") for d in keras.distribution.list_devices())
    assert zoo._compiled_here(np.empty((2, 200, 30))) is cpu  # 6,000 values per example
    assert not zoo._compiled_here(np.empty((2, 8, 128)))  # CNN-25's second block: 1,024
    assert not zoo._compiled_here(np.empty((2, 512)))  # its dense layer
    assert not zoo._compiled_here(keras.KerasTensor((None, None, 300)))  # length unknown
