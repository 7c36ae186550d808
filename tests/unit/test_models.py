"""Model zoo: fixed layer names, parameter count, validation, `.keras` round trip."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import pytest

from cislens.errors import InputError
from cislens.models import inspect, zoo
from cislens.seeding import set_seed


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
    assert inspect.first_layer_kernel_size(model) == 7
    assert inspect.first_layer_padding(model) == "same"
    x, _ = _data()
    acts = inspect.first_layer_activations(model, x, batch_size=8)
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
