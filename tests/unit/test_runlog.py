"""Rule scripts log to the rule's log file (C-level writes too) and turn bad input into one line."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from cislens.errors import InputError
from cislens.runlog import logged


def _fake(log: Path) -> SimpleNamespace:
    return SimpleNamespace(log=[str(log)], rule="demo", wildcards={"dataset": "d"})


def test_output_and_fd_writes_go_to_the_log(tmp_path: Path) -> None:
    log = tmp_path / "demo.log"
    with logged(_fake(log)) as logger:
        logger.info("from the logger")
        print("from print")
        os.write(2, b"from a C library\n")
    text = log.read_text()
    for line in ("rule demo", "from the logger", "from print", "from a C library", "done in"):
        assert line in text


def test_input_error_is_one_line_in_log_and_terminal(tmp_path: Path, capfd: pytest.CaptureFixture) -> None:
    log = tmp_path / "demo.log"
    with pytest.raises(SystemExit) as info, logged(_fake(log)):
        raise InputError("peaks.bed:3: end before start")
    assert info.value.code == 1
    assert "cislens error: peaks.bed:3: end before start" in log.read_text()
    assert capfd.readouterr().err.strip() == "cislens error: peaks.bed:3: end before start"


def _raise_deep() -> None:
    {}["missing"]  # a bug, not bad input


def test_any_failure_is_one_line_in_the_terminal_and_whole_in_the_log(
    tmp_path: Path, capfd: pytest.CaptureFixture
) -> None:
    """An unexpected exception: the traceback lands in the rule's log, one line on the terminal."""
    log = tmp_path / "demo.log"
    with pytest.raises(SystemExit) as info, logged(_fake(log)):
        _raise_deep()
    assert info.value.code == 1
    text = log.read_text()
    assert "Traceback (most recent call last)" in text and "_raise_deep" in text, text
    assert "cislens error: KeyError at test_runlog.py:" in text  # outside the package: the last frame
    terminal = capfd.readouterr().err.strip().splitlines()
    assert len(terminal) == 1, terminal
    assert terminal[0].startswith("cislens error: KeyError at test_runlog.py:"), terminal
    assert terminal[0].endswith(f"'missing' (log: {log})"), terminal
