"""Read zoo models by their fixed layer names: the first convolutional layer and attention maps."""

from __future__ import annotations

import keras
import numpy as np

from ..errors import InputError
from . import layers as _layers  # noqa: F401  (registers custom layers so saved models load)


def _layer(model: keras.Model, name: str) -> keras.layers.Layer:
    try:
        return model.get_layer(name)
    except ValueError as err:
        raise InputError(f"model {model.name!r} has no layer named {name!r}") from err


def first_layer_model(model: keras.Model) -> keras.Model:
    """Sub-model from the input to ``first_activation``: after the activation, before pooling."""
    return keras.Model(model.inputs, _layer(model, "first_activation").output)


def first_layer_activations(model: keras.Model, x: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
    """(N, L, F) output of ``first_activation`` for all of ``x`` (mind the memory on large sets)."""
    sub = first_layer_model(model)
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


def attention_weights(model: keras.Model, x: np.ndarray, *, batch_size: int = 128) -> np.ndarray:
    """(N, heads, L', L') self-attention probabilities of the ``mha`` layer (each row sums to 1).

    The layer is re-called on its own input with ``return_attention_scores=True``, so this works on a
    model loaded from ``.keras`` too (the scores are not a model output).
    """
    mha = _layer(model, "mha")
    feed = keras.Model(model.input, _query_tensor(mha))
    x = np.asarray(x, dtype=np.float32)
    chunks = []
    for start in range(0, len(x), batch_size):
        h = feed(x[start : start + batch_size], training=False)
        _, scores = mha(h, h, return_attention_scores=True, training=False)
        chunks.append(keras.ops.convert_to_numpy(scores))
    return np.concatenate(chunks) if chunks else np.zeros((0,), dtype=np.float32)


def _query_tensor(layer: keras.layers.Layer) -> object:
    """The symbolic tensor the layer was called on as its query (its first input)."""
    inputs = layer.input
    return inputs[0] if isinstance(inputs, (list, tuple)) else inputs
