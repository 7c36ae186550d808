"""Custom Keras layers of the model zoo, registered so saved ``.keras`` files load again.

Registration happens on import: code that loads a saved model holding these layers must import this
module (``cislens.models.zoo`` and ``cislens.models.inspect`` already do) before ``load_model``.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="cislens")
class ExpShiftScale(keras.layers.Layer):
    """``exp(scale * (x - shift))``: the shifted / scaled exponential of the exponential-activation paper.

    One form covers both variants: ``shift`` moves the threshold below which activity is suppressed
    and ``scale`` sharpens (>1) or flattens (<1) the curve. ``scale * exp(x - shift)`` would add
    nothing, since it equals a pure shift by ``shift - log(scale)``. ``shift=0, scale=1`` is ``exp``.
    """

    def __init__(self, shift: float = 0.0, scale: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shift = float(shift)
        self.scale = float(scale)

    def call(self, inputs: Any) -> Any:
        return ops.exp(self.scale * (inputs - self.shift))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "shift": self.shift, "scale": self.scale}


def sinusoidal_encoding(length: int, depth: int) -> np.ndarray:
    """(length, depth) fixed sine/cosine table of the Transformer paper (no weights to learn)."""
    positions = np.arange(length, dtype=np.float64)[:, None]
    rates = 1.0 / np.power(10_000.0, (2 * (np.arange(depth) // 2)) / max(depth, 1))
    angles = positions * rates[None, :]
    table = np.where(np.arange(depth)[None, :] % 2 == 0, np.sin(angles), np.cos(angles))
    return table.astype(np.float32)


@keras.saving.register_keras_serializable(package="cislens")
class SinusoidalPositionEncoding(keras.layers.Layer):
    """Adds a fixed sinusoidal position code so self-attention can tell positions apart."""

    def build(self, input_shape: tuple) -> None:
        self._table = sinusoidal_encoding(int(input_shape[-2]), int(input_shape[-1]))

    def call(self, inputs: Any) -> Any:
        return inputs + ops.cast(self._table, inputs.dtype)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape
