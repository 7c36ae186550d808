"""Run a workflow script with its output going to the rule's log and bad input reported in one line."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
import traceback
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


def _one_line(error: BaseException) -> str:
    """What went wrong in one line: InputError's own message, else the exception type, its first
    message line and where it was raised in our code (file:line), so the terminal names the place."""
    if isinstance(error, InputError):
        return str(error)
    message = (str(error).strip().splitlines() or [""])[0]
    if len(message) > 300:
        message = message[:300] + "..."
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename != __file__]
    ours = [f for f in frames if f"{os.sep}cislens{os.sep}" in f.filename or "scripts" in f.filename]
    where = ours[-1] if ours else (frames[-1] if frames else None)
    place = f" at {os.path.basename(where.filename)}:{where.lineno}" if where else ""
    return f"{type(error).__name__}{place}: {message}" if message else f"{type(error).__name__}{place}"


@contextlib.contextmanager
def logged(snakemake: Any, *, tensorflow: bool = False) -> Iterator[logging.Logger]:
    """Send all output to ``snakemake.log[0]`` (when set); any failure ends in one line and exit 1.

    ``tensorflow``: the job runs TensorFlow, so its first lines name the devices TensorFlow sees, and a
    rule that asked for a GPU which TensorFlow cannot see fails at once
    (:func:`cislens.runtime.check_devices`) rather than training on CPU for hours.

    Warnings (``logger.warning``) go to the log and, as ``cislens warning:`` lines, to the terminal.
    Every exception takes the same path: its full traceback goes to the rule's log (what debugging
    needs), and one ``cislens error:`` line goes to the log and to the terminal, so a user sees what
    is wrong, and where, without opening the log. Bad input (InputError) says what and where itself;
    anything else is named by its type, message and the line of our code that raised it.
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
            if log_path:  # warnings also reach the terminal, not only the rule's log
                warn = logging.StreamHandler(terminal)
                warn.setLevel(logging.WARNING)
                warn.setFormatter(logging.Formatter("cislens warning: %(message)s"))
                logger.handlers.append(warn)
            try:
                logger.info("rule %s, wildcards %s", snakemake.rule, dict(snakemake.wildcards.items()))
                if tensorflow:
                    from .runtime import check_devices

                    check_devices(snakemake.rule, getattr(snakemake, "resources", None), logger)
                yield logger
                logger.info("done in %.1f s", time.time() - start)
            except (Exception, KeyboardInterrupt) as error:
                traceback.print_exc(file=sys.stderr)
                line = f"cislens error: {_one_line(error)}"
                print(line, file=sys.stderr)
                if log_path:
                    where = "" if isinstance(error, InputError) else f" (log: {log_path})"
                    print(line + where, file=terminal)
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
