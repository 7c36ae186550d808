"""The process runtime, ground floor: one seed per trial, TensorFlow's thread pools, and core limits.

* :func:`set_seed`: one seed threaded through Python, numpy, Keras and TensorFlow (op determinism on).
* :func:`limit_threads`: TensorFlow's pools, set once before any op runs (a rule's ``threads``).
* :func:`allowed_cores`, :func:`pin_cores`: the cores a process may use (benchmarks give both frameworks
  the very same cores).

TensorFlow and Keras are imported inside the functions that need them, so importing this module is cheap.
"""

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


def limit_threads(threads: int) -> None:
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(max(1, int(threads)))
        tf.config.threading.set_inter_op_parallelism_threads(max(1, min(2, int(threads))))
    except RuntimeError:
        pass  # already initialised (e.g. in tests); the existing pool is kept


def allowed_cores() -> list[int]:
    """The cores this process may run on (its affinity: a SLURM job's cgroup, ``taskset``), sorted."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))  # pragma: no cover - non-Linux


def pin_cores(n: int) -> list[int]:
    """Confine this process (and the threads it starts later) to the first ``n`` cores it may use.

    A thread count alone does not bound the cores a framework occupies: TensorFlow runs independent ops
    on its inter-op pool and its input pipeline on threads of its own, so "1 thread" could still keep
    two cores busy. For benchmarks only: jobs running side by side would all take the same first cores
    (SLURM's cgroups already bound a cluster job). Returns the cores kept; without ``sched_setaffinity``
    (non-Linux) nothing changes.
    """
    if not hasattr(os, "sched_setaffinity"):
        return list(range(max(1, int(n))))
    allowed = allowed_cores()
    keep = allowed[: max(1, min(int(n), len(allowed)))]
    os.sched_setaffinity(0, keep)
    return keep
