"""Thread and core limits: TensorFlow's pools set once before any op runs (a rule's `threads`), and the
cores a process may use (benchmarks give both frameworks the very same cores)."""

from __future__ import annotations

import os


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
