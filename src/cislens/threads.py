"""Thread limits for TensorFlow, set once before any op runs (a rule's `threads`)."""

from __future__ import annotations


def limit_threads(threads: int) -> None:
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(max(1, int(threads)))
        tf.config.threading.set_inter_op_parallelism_threads(max(1, min(2, int(threads))))
    except RuntimeError:
        pass  # already initialised (e.g. in tests); the existing pool is kept
