"""Read the first convolutional layer of a zoo model by its fixed names."""

from __future__ import annotations

import keras
import numpy as np

from ..errors import InputError


def _layer(model: keras.Model, name: str) -> keras.layers.Layer:
    try:
        return model.get_layer(name)
    except ValueError as err:
        raise InputError(f"model {model.name!r} has no layer named {name!r}") from err


def first_layer_activations(model: keras.Model, x: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
    """(N, L, F) output of ``first_activation``: after the activation, before pooling."""
    layer = _layer(model, "first_activation")
    sub = keras.Model(model.inputs, layer.output)
    out = sub.predict(np.asarray(x, dtype=np.float32), batch_size=batch_size, verbose=0)
    return np.asarray(out)


def first_layer_kernel_size(model: keras.Model) -> int:
    """Filter width of ``first_conv`` (the PPM window size depends on it)."""
    return int(_layer(model, "first_conv").kernel_size[0])


def first_layer_padding(model: keras.Model) -> str:
    """``same`` or ``valid``: decides how activation positions map back to sequence windows."""
    return str(_layer(model, "first_conv").padding)


def first_layer_weights(model: keras.Model) -> np.ndarray:
    """(K, 4, F) kernel of ``first_conv``."""
    return np.asarray(_layer(model, "first_conv").get_weights()[0])
