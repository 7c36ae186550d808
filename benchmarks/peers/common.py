"""What the peer workers share: benchmarks/train.py's CNN-25 constants and data, and core pinning.

The workers run with the benchmark environment's python (``make bench-env``), which has the peers but
not cislens: benchmarks/train.py imports cislens only inside ``main``, so its constants and ``make_data``
load here with numpy alone. ``pin`` does what ``cislens.runtime.pin_cores`` does for our workers.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

TRAIN_PY = Path(__file__).resolve().parent.parent / "train.py"


def base() -> ModuleType:
    """benchmarks/train.py as a module (its worker code is not run, only its constants and make_data)."""
    spec = importlib.util.spec_from_file_location("cislens_train_benchmark", TRAIN_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pin(threads: int) -> list[int]:
    """Confine this process to the first ``threads`` cores it may use, as cislens.runtime.pin_cores."""
    if not hasattr(os, "sched_setaffinity"):
        return list(range(max(1, threads)))
    allowed = sorted(os.sched_getaffinity(0))
    keep = allowed[: max(1, min(threads, len(allowed)))]
    os.sched_setaffinity(0, keep)
    return keep


def one_hot_to_strings(x) -> list[str]:
    """(N, L, 4) one-hot -> ACGT strings (the alphabet order both peers use)."""
    import numpy as np

    letters = np.frombuffer(b"ACGT", dtype=np.uint8)
    return [row.tobytes().decode("ascii") for row in letters[x.argmax(-1)]]
