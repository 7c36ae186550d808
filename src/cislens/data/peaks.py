"""Read peak files (narrowPeak, BED3..BED6+, gzip or plain) into one validated table.

Every malformed line is reported as ``file:line: what is wrong`` so a user can fix the input
instead of debugging a traceback deep in the workflow.
"""

from __future__ import annotations

import gzip
import io
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError

COLUMNS = ("chrom", "start", "end", "name", "score", "summit")
_GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(path: str | os.PathLike) -> bool:
    """Detect gzip by magic bytes, not by suffix (``.bed`` files are often gzipped and vice versa)."""
    with open(path, "rb") as handle:
        return handle.read(2) == _GZIP_MAGIC


def _read_text(path: Path) -> str:
    opener = gzip.open if is_gzip(path) else open
    with opener(path, "rb") as handle:
        return handle.read().decode("utf-8", errors="replace")


def _parse_int(value: str, path: Path, lineno: int, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise InputError(f"{path}:{lineno}: {what} {value!r} is not an integer") from None


def _numeric(column: pd.Series, missing: str) -> np.ndarray:
    if column.dtype.kind in "iuf":
        return column.to_numpy()
    return pd.to_numeric(column.astype(str).replace({"": missing, ".": missing})).to_numpy()


def _fast_parse(text: str) -> pd.DataFrame | None:
    """Vectorised parse of a well-formed file (headers only at the top); None sends the caller to the
    line-by-line checker, which accepts the same files and names the first bad line otherwise."""
    lines = text.splitlines(keepends=True)
    skip = 0
    while skip < len(lines) and (
        not lines[skip].strip() or lines[skip].lstrip().startswith(("#", "track", "browser"))
    ):
        skip += 1
    body = "".join(lines[skip:]) if skip else text
    if not body.strip():
        return None
    try:
        raw = pd.read_csv(
            io.StringIO(body),
            sep="\t",
            header=None,
            na_filter=False,
            engine="c",
            dtype={0: str, 1: np.int64, 2: np.int64, 3: str},
            skip_blank_lines=True,
        )
        n_cols = raw.shape[1]
        if n_cols < 3:
            return None
        score = np.zeros(len(raw)) if n_cols < 5 else _numeric(raw[4], "0").astype(np.float64)
        # Column 10 is the summit only in narrowPeak (exactly 10 columns); in BED12 it is blockCount.
        summit = np.full(len(raw), -1, dtype=np.int64) if n_cols != 10 else _numeric(raw[9], "-1")
    except (ValueError, TypeError, OverflowError, pd.errors.ParserError):
        return None
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
    frame = _fast_parse(_read_text(path))
    if frame is None:
        frame = _checked_parse(path)
    frame.attrs["source"] = str(path)
    return frame


def _checked_parse(path: Path) -> pd.DataFrame:
    """Line-by-line parse that names the first bad line; used when the fast parse refuses the file."""
    chroms: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    names: list[str] = []
    scores: list[float] = []
    summits: list[int] = []
    for lineno, line in enumerate(_read_text(path).splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "track", "browser")):
            continue
        fields = line.rstrip("\r\n").split("\t")
        if len(fields) < 3:
            fields = stripped.split()
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
