"""Run a workflow script with its output going to the rule's log and bad input reported in one line."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

from .errors import InputError


@contextlib.contextmanager
def logged(snakemake: Any) -> Iterator[logging.Logger]:
    """Send stdout/stderr to ``snakemake.log[0]`` (when set); print InputError as one line and exit 1.

    Everything else propagates with its traceback in the log, which is what a user debugging a
    failed rule wants to read.
    """
    log_path = snakemake.log[0] if len(snakemake.log) else None
    handle = open(log_path, "w", buffering=1) if log_path else None
    old_out, old_err = sys.stdout, sys.stderr
    if handle is not None:
        sys.stdout = sys.stderr = handle
    logger = logging.getLogger("cislens")
    logger.handlers[:] = [logging.StreamHandler(sys.stderr)]
    logger.setLevel(logging.INFO)
    start = time.time()
    try:
        logger.info("rule %s, wildcards %s", snakemake.rule, dict(snakemake.wildcards.items()))
        yield logger
        logger.info("done in %.1f s", time.time() - start)
    except InputError as error:
        print(f"cislens error: {error}", file=sys.stderr)
        if handle is not None:
            print(f"cislens error: {error}", file=old_err)
        raise SystemExit(1) from None
    finally:
        sys.stdout, sys.stderr = old_out, old_err
        if handle is not None:
            handle.close()


def setup_environment() -> None:
    """Quiet TensorFlow's C++ logs and give numba a persistent cache (memelite compiles once)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.getcwd(), ".numba_cache"))
    os.environ.setdefault("MPLBACKEND", "Agg")
