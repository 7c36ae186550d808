"""Read peak files (narrowPeak, BED3..BED6+, gzip or plain) into one validated table.

Every malformed line is reported as ``file:line: what is wrong`` so a user can fix the input
instead of debugging a traceback deep in the workflow. One grammar serves both parsers (the
vectorised one for well-formed files and the line-by-line one that names the first bad line):
coordinates and summits are decimal integers (``3.2e4`` is not a BED coordinate, whichever parser
reads it), fields are tab-separated (whitespace when a line has fewer than three tabs), and blank,
``#``, ``track`` and ``browser`` lines are skipped, as is a first line that names its columns
(``chrom start end``, common in hand-made BEDs), with a note.
"""

from __future__ import annotations

import csv
import gzip
import logging
import os
import re
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError

COLUMNS = ("chrom", "start", "end", "name", "score", "summit")
_GZIP_MAGIC = b"\x1f\x8b"
# The grammar of an integer field (start, end, summit): optional sign, decimal digits, nothing else.
_INTEGER = re.compile(r"\s*[-+]?[0-9]+\s*")
_SKIPPED = ("#", "track", "browser")
_log = logging.getLogger("cislens")


def is_gzip(path: str | os.PathLike) -> bool:
    """Detect gzip by magic bytes, not by suffix (``.bed`` files are often gzipped and vice versa)."""
    with open(path, "rb") as handle:
        return handle.read(2) == _GZIP_MAGIC


def _read_text(path: Path) -> str:
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a peak file")
    gzipped = is_gzip(path)
    opener = gzip.open if gzipped else open
    try:
        with opener(path, "rb") as handle:
            return handle.read().decode("utf-8", errors="replace")
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        reason = str(error) or type(error).__name__
        raise InputError(f"{path}: truncated or corrupt gzip file ({reason})") from None
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror or error})") from None


def _parse_int(value: str, path: Path, lineno: int, what: str) -> int:
    if not _INTEGER.fullmatch(value):
        raise InputError(f"{path}:{lineno}: {what} {value!r} is not an integer")
    return int(value)


def _is_column_header(fields: list[str]) -> bool:
    """A line naming its columns (``chrom start end``): start and end are words, not numbers."""
    return (
        len(fields) >= 3
        and not any(_INTEGER.fullmatch(f) for f in fields[1:3])
        and all(f.strip().replace("_", "").isalpha() for f in fields[1:3])
    )


def _fields(line: str) -> list[str]:
    fields = line.rstrip("\r\n").split("\t")
    return fields if len(fields) >= 3 else line.split()


def _header_lines(lines: list[str], path: Path) -> int:
    """How many leading lines are not peaks: blank, comment, track/browser, and one column-name line."""
    skip = 0
    while skip < len(lines) and (not lines[skip].strip() or lines[skip].lstrip().startswith(_SKIPPED)):
        skip += 1
    if skip < len(lines) and _is_column_header(_fields(lines[skip])):
        _log.warning("%s:%d: skipped a column-name line %r", path, skip + 1, lines[skip].strip())
        skip += 1
    return skip


def _numeric(column: pd.Series, missing: str) -> np.ndarray:
    if column.dtype.kind in "iuf":
        return column.to_numpy()
    return pd.to_numeric(column.astype(str).replace({"": missing, ".": missing})).to_numpy()


def _head_lines(path: Path, gzipped: bool) -> list[str]:
    """The leading lines up to and including the first that is not blank, a comment or track/browser:
    all that :func:`_header_lines` looks at, without reading the rest of the file."""
    opener = gzip.open if gzipped else open
    head: list[str] = []
    with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as handle:
        for line in handle:
            head.append(line)
            if line.strip() and not line.lstrip().startswith(_SKIPPED):
                break
    return head


def _fast_parse(path: Path, gzipped: bool, skip: int) -> pd.DataFrame | None:
    """Vectorised parse of a well-formed file straight from disk (headers only at the top); None sends
    the caller to the line-by-line checker, which applies the same grammar and names the first bad
    line. Coordinates must come out as integers (pandas reads a signed or space-padded integer as one,
    which the grammar allows too; anything else makes the column text or float and is refused)."""
    try:
        raw = pd.read_csv(
            path,
            sep="\t",
            header=None,
            skiprows=skip,
            na_filter=False,
            engine="c",
            dtype={0: str, 3: str},  # names as written ("007" stays "007")
            quoting=csv.QUOTE_NONE,
            skip_blank_lines=True,
            compression="gzip" if gzipped else None,
            encoding_errors="replace",
        )
        n_cols = raw.shape[1]
        if n_cols < 3 or raw[1].dtype.kind != "i" or raw[2].dtype.kind != "i":
            return None
        score = np.zeros(len(raw)) if n_cols < 5 else _numeric(raw[4], "0").astype(np.float64)
        # Column 10 is the summit only in narrowPeak (exactly 10 columns); in BED12 it is blockCount.
        summit = np.full(len(raw), -1, dtype=np.int64) if n_cols != 10 else _numeric(raw[9], "-1")
    except (ValueError, TypeError, OverflowError, pd.errors.ParserError, OSError, EOFError, zlib.error):
        return None  # pandas' EmptyDataError is a ValueError; the text reader names read errors
    if summit.dtype.kind != "i":
        return None
    start, end = raw[1].to_numpy(np.int64), raw[2].to_numpy(np.int64)
    chrom = raw[0]
    if (start < 0).any() or (end <= start).any() or (chrom == "").any():
        return None
    if ((summit != -1) & ((summit < 0) | (summit > end - start))).any():
        return None
    if n_cols <= 3 or raw[3].isin(["", "."]).any():
        default = chrom + ":" + raw[1].astype(str) + "-" + raw[2].astype(str)
        name = default if n_cols <= 3 else raw[3].where(~raw[3].isin(["", "."]), default)
    else:
        name = raw[3]
    return pd.DataFrame(
        {
            "chrom": chrom.astype(str).to_numpy(),
            "start": start,
            "end": end,
            "name": name.astype(str).to_numpy(),
            "score": score,
            "summit": summit.astype(np.int64),
        }
    )


def read_peaks(path: str | os.PathLike) -> pd.DataFrame:
    """Parse peaks into columns chrom, start, end, name, score, summit (offset from start, -1 if absent).

    A missing name (or ``.``) becomes ``chrom:start-end`` so every peak stays identifiable;
    a missing or ``.`` score becomes 0. Blank, ``track``, ``browser`` and ``#`` lines are skipped.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: peak file does not exist")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a peak file")
    gzipped = is_gzip(path)
    try:
        skip: int | None = _header_lines(_head_lines(path, gzipped), path)
    except (OSError, EOFError, zlib.error):
        skip = None  # unreadable or corrupt: the text reader below says so in one line
    frame = _fast_parse(path, gzipped, skip) if skip is not None else None
    if frame is None:
        lines = _read_text(path).splitlines(keepends=True)
        frame = _checked_parse(path, lines, _header_lines(lines, path) if skip is None else skip)
    frame.attrs["source"] = str(path)
    return frame


def _checked_parse(path: Path, lines: list[str], skip: int) -> pd.DataFrame:
    """Line-by-line parse that names the first bad line; used when the fast parse refuses the file."""
    chroms: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    names: list[str] = []
    scores: list[float] = []
    summits: list[int] = []
    for lineno, line in enumerate(lines[skip:], start=skip + 1):
        stripped = line.strip()
        if not stripped or stripped.startswith(_SKIPPED):
            continue
        fields = _fields(line)
        if len(fields) < 3:
            raise InputError(f"{path}:{lineno}: expected at least 3 tab-separated columns, got {len(fields)}")
        chrom = fields[0].strip()
        start = _parse_int(fields[1], path, lineno, "start")
        end = _parse_int(fields[2], path, lineno, "end")
        if start < 0:
            raise InputError(f"{path}:{lineno}: start {start} is negative")
        if end <= start:
            raise InputError(f"{path}:{lineno}: end {end} is not greater than start {start}")
        name = fields[3] if len(fields) > 3 and fields[3] not in ("", ".") else f"{chrom}:{start}-{end}"
        score = 0.0
        if len(fields) > 4 and fields[4] not in ("", "."):
            try:
                score = float(fields[4])
            except ValueError:
                raise InputError(f"{path}:{lineno}: score {fields[4]!r} is not a number") from None
        summit = -1
        if len(fields) == 10 and fields[9] not in ("", "."):
            summit = _parse_int(fields[9], path, lineno, "summit")
            # ENCODE (SPP) peaks put some summits exactly at ``end``, so the bound is inclusive.
            if summit != -1 and not 0 <= summit <= end - start:
                raise InputError(
                    f"{path}:{lineno}: summit offset {summit} is outside the peak (length {end - start})"
                )
        chroms.append(chrom)
        starts.append(start)
        ends.append(end)
        names.append(name)
        scores.append(score)
        summits.append(summit)
    if not chroms:
        raise InputError(f"{path}: no peaks found (file is empty or only has header/comment lines)")
    frame = pd.DataFrame(
        {
            "chrom": chroms,
            "start": np.asarray(starts, dtype=np.int64),
            "end": np.asarray(ends, dtype=np.int64),
            "name": names,
            "score": np.asarray(scores, dtype=np.float64),
            "summit": np.asarray(summits, dtype=np.int64),
        }
    )
    frame.attrs["source"] = str(path)
    return frame


def peak_files(settings: Mapping[str, Any]) -> dict[str, str]:
    """Peak files of a `peaks` dataset as {task: path}; a list names tasks after the file stems."""
    peaks = settings["peaks"]
    if isinstance(peaks, str):
        peaks = [peaks]
    if isinstance(peaks, list):
        named: dict[str, str] = {}
        for path in peaks:
            stem = Path(path).name
            for suffix in (".gz", ".narrowPeak", ".bed"):
                stem = stem.removesuffix(suffix)
            if stem in named:
                raise InputError(
                    f"peaks: {named[stem]} and {path} would both be task {stem!r}; "
                    "name the tasks with a mapping"
                )
            named[stem] = path
        return named
    return dict(peaks)
