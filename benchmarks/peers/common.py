"""What the peer workers share: benchmarks/train.py's CNN-25 constants and data, and core pinning.

The workers run with the benchmark environment's python (``make bench-env``), which has the peers but
not cislens: benchmarks/train.py imports cislens only inside ``main``, so its constants and ``make_data``
load here with numpy alone. ``pin`` does what ``cislens.runtime.pin_cores`` does for our workers.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
from collections.abc import Callable
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


def epoch_seconds(
    peer: str, begin: list[float], last_batch: list[float], steps: list[int], epochs: int, n: int, batch: int
) -> list[float]:
    """Each timed epoch's seconds, from its start to its last training batch (the warm-up epoch
    dropped), after checking that the peer ran the epochs and steps it was asked for."""
    if len(begin) != epochs + 1 or steps[-1] != n // batch:
        expected = f"expected {epochs + 1} of {n // batch}"
        raise SystemExit(f"{peer} ran {len(begin)} epochs of {steps} steps, {expected}")
    return [end - start for start, end in zip(begin[1:], last_batch[1:], strict=True)]


def worker_main(run: Callable[[int, int, int], dict], description: str | None) -> None:
    """A peer worker's command line: ``--n --epochs --threads``; prints ``run``'s result as one JSON line."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--threads", type=int, required=True)
    args = parser.parse_args()
    print(json.dumps(run(args.n, args.epochs, args.threads)))
