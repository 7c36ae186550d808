"""training.precision: mixed_float16 trains in float16 on float32 weights and leaves float32 models behind."""

from __future__ import annotations

import logging
from pathlib import Path

import keras
import numpy as np
import pytest

from cislens.data.dataset import Dataset, Split, write_dataset
from cislens.errors import InputError
from cislens.models import zoo
from cislens.models.predict import predict_output, scorer
from cislens.runtime import set_seed
from cislens.training.fit import train
from cislens.training.run import train_variant

LENGTH = 40
SMALL = {"first_pool": 4, "pool_total": 8, "filters": 8, "conv2_filters": 16, "dense_units": 16}


def _data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, size=(n, LENGTH))]
    y = np.stack([x[:, 10:20, 0].sum(1) > 2.5, x[:, 20:30, 3].sum(1) > 2.5], axis=1).astype(np.float32)
    return x, y


def _assert_float32_policy() -> None:
    assert keras.config.dtype_policy().name == "float32"


def test_mixed_float16_trains_in_float16_and_saves_a_float32_model(tmp_path: Path) -> None:
    set_seed(0, deterministic=False)
    (x_train, y_train), (x_valid, y_valid) = _data(128, 1), _data(64, 2)
    with zoo.precision_policy("mixed_float16"):
        model = zoo.build_model("cnn", LENGTH, 2, **SMALL)
        history = train(model, x_train, y_train, x_valid, y_valid, epochs=2, batch_size=32, verbose=0)
    _assert_float32_policy()
    assert np.isfinite(history["loss"]).all() and np.isfinite(history["val_loss"]).all()
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert model.get_layer("first_conv").compute_dtype == "float16"
    assert {w.dtype for w in model.weights} == {"float32"}
    assert model.get_layer("logits").compute_dtype == model.output.dtype == "float32"
    assert zoo.first_layer_activations(model, x_valid[:4]).dtype == np.float32
    mixed = predict_output(model, x_valid)
    assert mixed.dtype == np.float32 and np.isfinite(mixed).all()

    copy = zoo.float32_copy(model)
    assert not zoo.uses_float16(copy) and zoo.float32_copy(copy) is copy
    np.testing.assert_allclose(predict_output(copy, x_valid), mixed, atol=2e-2)
    copy.save(tmp_path / "float32.keras")
    model.save(tmp_path / "mixed.keras")  # a mixed file from elsewhere loads as float32 too
    for name in ("float32.keras", "mixed.keras"):
        loaded = zoo.load_model(tmp_path / name)
        assert not zoo.uses_float16(loaded)
        np.testing.assert_allclose(predict_output(loaded, x_valid), predict_output(copy, x_valid), atol=1e-6)
        logits = scorer(loaded)(x_valid)
        assert np.isfinite(logits).all() and logits.shape == (64, 2)
    _assert_float32_policy()


def test_precision_policy_restores_the_global_policy_and_checks_its_name() -> None:
    with pytest.raises(RuntimeError), zoo.precision_policy("mixed_float16"):
        assert keras.config.dtype_policy().name == "mixed_float16"
        raise RuntimeError("a failed build")
    _assert_float32_policy()
    with pytest.raises(InputError, match="precision"), zoo.precision_policy("float8"):
        pass
    _assert_float32_policy()


def test_train_variant_with_mixed_float16(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    splits = {
        name: Split(*_data(n, seed))
        for name, n, seed in (("train", 128, 1), ("valid", 64, 2), ("test", 64, 3))
    }
    dataset = tmp_path / "dataset.h5"
    write_dataset(
        dataset, Dataset(splits=splits, tasks=["a", "b"], kind="h5", summary={"task_type": "binary"})
    )
    outputs = {
        k: str(tmp_path / f"{k}{ext}")
        for k, ext in (("model", ".keras"), ("history", ".tsv"), ("metrics", ".json"), ("curve", ".png"))
    }
    training = {"epochs": 2, "batch_size": 32, "precision": "mixed_float16", "robustness": {"n_sequences": 0}}
    log = logging.getLogger("test_precision")
    with caplog.at_level(logging.INFO, logger="test_precision"):
        metrics = train_variant(
            str(dataset),
            {"arch": "cnn", **SMALL},
            {"kind": "standard"},
            training,
            seed=0,
            threads=1,
            outputs=outputs,
            log=log,
        )
    _assert_float32_policy()
    assert metrics["precision"] == "mixed_float16" and np.isfinite(metrics["auroc_mean"])
    assert any("precision mixed_float16 (float16 compute" in r.getMessage() for r in caplog.records)
    saved = zoo.load_model(outputs["model"])
    assert not zoo.uses_float16(saved)
    assert np.isfinite(predict_output(saved, splits["test"].x)).all()
