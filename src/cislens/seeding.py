"""One seed per trial, threaded through Python, numpy, Keras and TensorFlow."""

from __future__ import annotations

import os
import random

import numpy as np


def set_seed(seed: int, deterministic: bool = True) -> None:
    """Seed every RNG a trial touches; with ``deterministic`` also force deterministic TF kernels.

    Op determinism makes reruns of a trial reproduce the same model (at some speed cost on GPU).
    """
    seed = int(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - legacy global RNG still used by third-party code
    import keras

    keras.utils.set_random_seed(seed)
    if deterministic:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
