"""The process runtime, ground floor: one seed per trial, TensorFlow's thread pools, and core limits.

* :func:`set_seed`: one seed threaded through Python, numpy, Keras and TensorFlow (op determinism on).
* :func:`limit_threads`: TensorFlow's pools, set once before any op runs (a rule's ``threads``), and
  :func:`thread_limit`, the same count for numba kernels, and :func:`numba_threads`, numba's pool size
  for one block.
* :func:`allowed_cores`, :func:`pin_cores`: the cores a process may use (benchmarks give both frameworks
  the very same cores).
* :func:`device_line`, :func:`check_devices`: the devices a TensorFlow job sees, logged at its start, and
  one clear failure when its rule asked for a GPU that TensorFlow cannot see.

TensorFlow and Keras are imported inside the functions that need them, so importing this module is cheap.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from .errors import InputError


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


_thread_limit: int | None = None  # the count of the last limit_threads call


def limit_threads(threads: int, *, tensorflow: bool = True) -> None:
    """TensorFlow's pools (unless ``tensorflow`` is False: a job that never loads it), and the count
    :func:`thread_limit` reports to the numba kernels."""
    global _thread_limit
    _thread_limit = max(1, int(threads))
    if not tensorflow:
        return
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(max(1, int(threads)))
        tf.config.threading.set_inter_op_parallelism_threads(max(1, min(2, int(threads))))
    except RuntimeError:
        pass  # already initialised (e.g. in tests); the existing pool is kept


def thread_limit() -> int | None:
    """The count given to :func:`limit_threads`, or None: numba kernels (the Potts fit) follow it, so a
    rule's ``threads`` bounds them too (``numba.set_num_threads``) without asking TensorFlow."""
    return _thread_limit


@contextlib.contextmanager
def numba_threads(count: int) -> Iterator[None]:
    """numba's thread count set to ``count`` for the block and restored after it (-1: left as it is)."""
    if count == -1:
        yield
        return
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(count)
    try:
        yield
    finally:
        numba.set_num_threads(before)


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


# --- devices: what TensorFlow sees, and a job that asked for a GPU but got none ---------------------------

ALLOW_CPU = "CISLENS_ALLOW_CPU"  # set to 1: a job that asked for a GPU may run on CPU (tests, fake GPUs)


class NoGPUError(InputError):
    """A job asked for a GPU and TensorFlow sees none: fail in one line rather than train on CPU for hours."""


def device_line() -> str:
    """``devices: CPU:0, GPU:0 (NVIDIA H100 80GB HBM3, compute 9.0)``: every device TensorFlow sees.

    Logged at the start of every TensorFlow job, so a log shows where it ran (chrombpnet's most common
    support question is a job that silently trained on CPU)."""
    import tensorflow as tf

    names = []
    for device in tf.config.list_physical_devices():
        name = device.name.removeprefix("/physical_device:")
        details: dict[str, Any] = {}
        if device.device_type == "GPU":
            try:
                details = tf.config.experimental.get_device_details(device)
            except (ValueError, RuntimeError):  # pragma: no cover - older drivers
                details = {}
        extra = [str(details["device_name"])] if details.get("device_name") else []
        if details.get("compute_capability"):
            extra.append("compute " + ".".join(map(str, details["compute_capability"])))
        names.append(f"{name} ({', '.join(extra)})" if extra else name)
    return "devices: " + (", ".join(names) or "none")


def _resource(resources: Any, key: str) -> Any:
    """One Snakemake resource (a ``Resources`` namedlist, a mapping, or absent)."""
    if resources is None:
        return None
    getter = getattr(resources, "get", None)
    return getter(key) if callable(getter) else getattr(resources, key, None)


def gpu_request(resources: Any, environ: Mapping[str, str] | None = None) -> str | None:
    """How this job asked for a GPU (``resources gpu=1``, ``resources gres=gpu:a100:1``,
    ``SLURM_JOB_GPUS=0``, ``CUDA_VISIBLE_DEVICES=0``), or None when it did not.

    ``gpu`` and ``gres`` are snakemake-executor-plugin-slurm's resources (the profile's GPU tagging);
    the variables are what a scheduler or a user sets to hand a process its GPUs. An empty
    ``CUDA_VISIBLE_DEVICES`` or ``-1`` hides every GPU: that is no request."""
    environ = os.environ if environ is None else environ
    gpu = _resource(resources, "gpu")
    try:
        if gpu is not None and int(gpu) >= 1:
            return f"resources gpu={gpu}"
    except (TypeError, ValueError):
        pass
    gres = _resource(resources, "gres")
    if isinstance(gres, str) and "gpu" in gres.lower():
        return f"resources gres={gres.strip(chr(39) + chr(34))}"
    for variable in ("SLURM_JOB_GPUS", "SLURM_STEP_GPUS", "CUDA_VISIBLE_DEVICES"):
        value = environ.get(variable, "").strip()
        if value and value not in ("-1", "NoDevFiles"):
            return f"{variable}={value}"
    return None


def _cpu_hint() -> str:
    """Why TensorFlow may see no GPU: a CPU-only build, or a CUDA build without driver or libraries."""
    import tensorflow as tf

    if not tf.test.is_built_with_cuda():
        return "this TensorFlow is a CPU-only build (tensorflow-cpu?); install tensorflow[and-cuda]"
    return "the CUDA driver or libraries are missing or do not match (see nvidia-smi)"


def check_devices(
    rule: str, resources: Any, log: logging.Logger, environ: Mapping[str, str] | None = None
) -> str:
    """Log the device line; raise :class:`NoGPUError` when the job asked for a GPU and sees none.

    ``CISLENS_ALLOW_CPU=1`` lets such a job run on CPU anyway (a warning instead), e.g. on a cluster
    whose GPU is declared but not real. Returns the device line."""
    environ = os.environ if environ is None else environ
    line = device_line()
    log.info("%s", line)
    request = gpu_request(resources, environ)
    if request is None or "GPU:" in line:
        return line
    message = f"rule {rule} asked for a GPU ({request}) but TensorFlow sees none ({_cpu_hint()})"
    if environ.get(ALLOW_CPU, "").strip().lower() in ("1", "true", "yes"):
        log.warning("%s; running on CPU as %s is set", message, ALLOW_CPU)
        return line
    raise NoGPUError(f"{message}; set {ALLOW_CPU}=1 to run on CPU anyway")
