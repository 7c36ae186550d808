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
def _redirect_fds(path: str) -> Iterator[None]:
    """Point file descriptors 1 and 2 at ``path``: TensorFlow's C++ logs bypass ``sys.stderr``."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    old_out, old_err = sys.stdout, sys.stderr
    try:
        os.dup2(target, 1)
        os.dup2(target, 2)
        sys.stdout = os.fdopen(os.dup(1), "w", buffering=1)
        sys.stderr = os.fdopen(os.dup(2), "w", buffering=1)
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
            stream.close()
        sys.stdout, sys.stderr = old_out, old_err
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, target):
            os.close(fd)


@contextlib.contextmanager
def logged(snakemake: Any) -> Iterator[logging.Logger]:
    """Send all output to ``snakemake.log[0]`` (when set); report InputError in one line and exit 1.

    The one line goes to the terminal too, so a user sees what is wrong without opening the log;
    any other exception keeps its traceback in the log, which is what debugging needs.
    """
    log_path = snakemake.log[0] if len(snakemake.log) else None
    terminal = os.fdopen(os.dup(2), "w", buffering=1)
    redirect = _redirect_fds(log_path) if log_path else contextlib.nullcontext()
    logger = logging.getLogger("cislens")
    logger.setLevel(logging.INFO)
    start = time.time()
    try:
        with redirect:
            logger.handlers[:] = [logging.StreamHandler(sys.stderr)]
            try:
                logger.info("rule %s, wildcards %s", snakemake.rule, dict(snakemake.wildcards.items()))
                yield logger
                logger.info("done in %.1f s", time.time() - start)
            except InputError as error:
                print(f"cislens error: {error}", file=sys.stderr)
                if log_path:
                    print(f"cislens error: {error}", file=terminal)
                raise SystemExit(1) from None
            finally:
                logger.handlers[:] = []
    finally:
        terminal.close()


def setup_environment() -> None:
    """Quiet TensorFlow's C++ logs and give numba a persistent cache (memelite compiles once)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.getcwd(), ".numba_cache"))
    os.environ.setdefault("MPLBACKEND", "Agg")
