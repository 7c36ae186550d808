"""benchmarks/train.py's side of the peer rows: where the benchmark environment is, how a peer worker runs.

The peers (CREsted, gReLU) live in their own environment, ``.bench-venv`` (``make bench-env``, pins in
benchmarks/requirements-peers.txt), so their pins never touch the workflow's ``.venv``. Standard library
only: benchmarks/train.py imports this from ``.venv``.
"""

from __future__ import annotations

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCH_ENV = Path(os.environ.get("CISLENS_BENCH_ENV", HERE.parent.parent / ".bench-venv"))
STAMP = BENCH_ENV / ".cislens-bench-installed"  # written by `make bench-env` once the install succeeded

# kind -> (row label, worker script)
PEERS = {
    "crested": ("CREsted {version} (own Crested.fit)", "train_crested.py"),
    "grelu": ("gReLU {version} (own Lightning loop)", "train_grelu.py"),
}


def python() -> Path:
    return BENCH_ENV / "bin" / "python"


def available() -> bool:
    """Whether ``make bench-env`` has built the benchmark environment."""
    return STAMP.is_file() and python().is_file()


def skip_line(kinds: list[str]) -> str:
    return f"{', '.join(kinds)}: skipped (no benchmark environment {BENCH_ENV}; run make bench-env)"


def command(kind: str, n: int, epochs: int, threads: int) -> list[str]:
    """The worker command line for a peer row; it prints one JSON line as benchmarks/train.py's workers."""
    script = HERE / PEERS[kind][1]
    return [str(python()), str(script), "--n", str(n), "--epochs", str(epochs), "--threads", str(threads)]
