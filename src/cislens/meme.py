"""MEME v4 motif files: the exchange format between filter extraction, JASPAR and Tomtom."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import InputError
from .io import atomic_open

ALPHABET = "ACGT"


@dataclass
class Motif:
    """A position probability matrix (W, 4) in ACGT order with its identity."""

    id: str
    name: str
    ppm: np.ndarray
    nsites: int = 20
    url: str | None = None
    other: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ppm = np.asarray(self.ppm, dtype=np.float64)
        if self.ppm.ndim != 2 or self.ppm.shape[1] != 4:
            raise InputError(f"motif {self.id}: ppm must be (W, 4), got {self.ppm.shape}")

    @property
    def width(self) -> int:
        return int(self.ppm.shape[0])

    def reverse_complement(self) -> Motif:
        """The motif read on the other strand (flip columns, swap A<->T and C<->G)."""
        return Motif(self.id, self.name, self.ppm[::-1, ::-1].copy(), self.nsites, self.url, dict(self.other))


_LETTERS = np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)


def consensus(ppm: np.ndarray) -> str:
    """Most probable letter per column (what Tomtom prints as a consensus)."""
    return _LETTERS[np.asarray(ppm).argmax(axis=1)].tobytes().decode("ascii")


def consensus_many(ppms: Sequence[np.ndarray]) -> list[str]:
    """:func:`consensus` of each PPM, with one argmax over them all (a table's worth at once)."""
    if not ppms:
        return []
    letters = _LETTERS[np.concatenate(ppms).argmax(axis=1)].tobytes().decode("ascii")
    ends = np.cumsum([len(ppm) for ppm in ppms]).tolist()
    return [letters[start:end] for start, end in zip([0, *ends[:-1]], ends, strict=True)]


def write_meme(
    path: str | os.PathLike, motifs: Sequence[Motif], background: Sequence[float] = (0.25, 0.25, 0.25, 0.25)
) -> None:
    """Write motifs as MEME v4 text atomically; probabilities with 6 decimals."""
    if len(background) != 4:
        raise InputError(f"background needs 4 frequencies (ACGT), got {len(background)}")
    lines = [
        "MEME version 4",
        "",
        f"ALPHABET= {ALPHABET}",
        "",
        "strands: + -",
        "",
        "Background letter frequencies",
        " ".join(f"{b} {f:.6f}" for b, f in zip(ALPHABET, background, strict=True)),
        "",
    ]
    for motif in motifs:
        ident = _token(motif.id)
        name = _token(motif.name) if motif.name else ""
        lines.append(f"MOTIF {ident} {name}".rstrip())
        lines.append("")
        lines.append(
            f"letter-probability matrix: alength= 4 w= {motif.width} nsites= {int(motif.nsites)} E= 0"
        )
        lines.extend(" ".join(f"{v:.6f}" for v in row) for row in motif.ppm)
        if motif.url:
            lines.extend(["", f"URL {motif.url}"])
        lines.append("")
    with atomic_open(path) as handle:
        handle.write("\n".join(lines) + "\n")


def read_meme(path: str | os.PathLike) -> list[Motif]:
    """Read MEME (v4/v5) motif files: ours, JASPAR exports and MEME-suite output.

    Lines outside MOTIF blocks (version, alphabet, strands, background, command lines) are ignored.
    A regular file (every matrix with its ``w=`` and then ``w`` lines of 4 numbers) is read in one pass
    over its header lines with every number parsed at once; anything else, malformed input included,
    goes through the line-by-line reader, which says what is wrong and where.
    """
    with open(path) as handle:
        text = handle.read()
    motifs = _read_regular(text)
    return motifs if motifs is not None else _read_lines(text.splitlines(), path)


# str.split and str.splitlines also split at these; a text holding one goes to the line-by-line reader
_OTHER_SPACE = "\r\v\f\x1c\x1d\x1e\x1f"
# a header line (MOTIF, matrix or URL) with its newline before it, in the text behind a newline
_HEADER = re.compile(r"\n[ \t]*(?:MOTIF|letter-probability matrix|URL)[^\n]*")
_INFO = re.compile(r"(\w+)=\s*(\S+)")  # a matrix line's fields: alength= 4 w= 12 nsites= 20 E= 0


def _read_regular(text: str) -> list[Motif] | None:
    """The motifs of a regular MEME file, or None where the line-by-line reader must decide.

    Gives the same motifs as :func:`_read_lines` wherever it answers. It declines a text that is not
    ASCII or has line breaks other than newlines, a MOTIF line without an identifier or without a
    matrix after it, a matrix without ``w=``, rows that are not the ``w`` lines right after the matrix
    line with 4 fields each, and fields that are not numbers (a header line among the rows is one).
    """
    if not text.isascii() or any(char in text for char in _OTHER_SPACE):
        return None
    text = "\n" + text  # line i of the file is line i + 1 here, behind the newline at breaks[i]
    data = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    breaks = np.flatnonzero(data == 10)
    space = (data == 32) | (data == 9) | (data == 10)
    field_starts = np.append(~space & np.insert(space[:-1], 0, True), False)
    fields = np.add.reduceat(field_starts, np.append(0, breaks + 1))  # per line

    headers: list[tuple[str, str]] = []
    infos: list[dict[str, str]] = []
    matrix_ends: list[int] = []
    urls: dict[int, str] = {}
    header: tuple[str, str] | None = None
    for match in _HEADER.finditer(text):
        line = match.group().strip()
        if line.startswith("MOTIF"):
            if header is not None:
                return None
            header = _identity(line)
            if header is None:
                return None
        elif line.startswith("letter-probability matrix"):
            if header is None:
                continue
            info = dict(_INFO.findall(line.partition(":")[2]))
            if not info.get("w", "").isdigit():
                return None
            matrix_ends.append(match.end())
            headers.append(header)
            infos.append(info)
            header = None
        elif line.startswith("URL") and headers and header is None and _url(line):
            urls[len(headers) - 1] = _url(line)
    if header is not None:
        return None
    if not headers:
        return []
    widths = np.array([int(info["w"]) for info in infos])
    first = np.searchsorted(breaks, matrix_ends) + 1  # each matrix's first row (line)
    rows = np.repeat(first - np.cumsum(np.append(0, widths[:-1])), widths) + np.arange(widths.sum())
    if len(rows) and (rows.max() >= len(fields) or (fields[rows] != 4).any()):
        return None
    ends = np.append(breaks, len(text))  # line i ends at ends[i]
    spans = zip((ends[first - 1] + 1).tolist(), ends[first + widths - 1].tolist(), strict=True)
    try:
        values = np.array(" ".join([text[a:b] for a, b in spans]).split(), dtype=np.float64)
        bounds = np.cumsum(np.append(0, widths)).tolist()
        motifs = [
            _motif(head, info, values[4 * start : 4 * end].reshape(-1, 4))
            for head, info, start, end in zip(headers, infos, bounds[:-1], bounds[1:], strict=True)
        ]
    except (ValueError, OverflowError):  # a field that is not a number, an E= or nsites= not one
        return None
    for index, url in urls.items():
        motifs[index].url = url
    return motifs


def _identity(line: str) -> tuple[str, str] | None:
    """A MOTIF line's identifier and name (the identifier when it has none); None without either."""
    parts = line.split()
    return None if len(parts) < 2 else (parts[1], parts[2] if len(parts) > 2 else parts[1])


def _url(line: str) -> str | None:
    """What follows the keyword on a (stripped) URL line, None when nothing does."""
    parts = line.split(None, 1)
    return parts[1] if len(parts) > 1 else None


def _motif(header: tuple[str, str], info: dict[str, str], rows: np.ndarray) -> Motif:
    """A motif from its MOTIF line's identifier and name, its matrix line's fields and its rows."""
    other = {"E": float(info["E"])} if "E" in info else {}
    return Motif(header[0], header[1], rows, round(float(info.get("nsites", 20))), None, other)


def _read_lines(lines: list[str], path: str | os.PathLike) -> list[Motif]:
    """The line-by-line reader: any MEME-like text, with an error naming the file and line."""
    motifs: list[Motif] = []
    header: tuple[str, str] | None = None
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        i += 1
        if line.startswith("MOTIF"):
            if header is not None:
                raise InputError(f"{path}:{i}: motif {header[0]} has no letter-probability matrix")
            header = _identity(line)
            if header is None:
                raise InputError(f"{path}:{i}: MOTIF line without an identifier")
        elif line.startswith("letter-probability matrix") and header is not None:
            info, at = dict(_INFO.findall(line.partition(":")[2])), i
            rows, i = _read_rows(lines, i, int(info["w"]) if "w" in info else None, path)
            if "w" in info and len(rows) != int(info["w"]):
                raise InputError(f"{path}: motif {header[0]} declares w= {info['w']}, has {len(rows)} rows")
            try:
                motifs.append(_motif(header, info, rows))
            except (ValueError, OverflowError) as error:
                raise InputError(f"{path}:{at}: motif {header[0]}: {error}") from None
            header = None
        elif line.startswith("URL") and motifs and header is None and _url(line):
            motifs[-1].url = _url(line)
    if header is not None:
        raise InputError(f"{path}: motif {header[0]} has no letter-probability matrix")
    return motifs


def _read_rows(
    lines: list[str], i: int, width: int | None, path: str | os.PathLike
) -> tuple[np.ndarray, int]:
    """Numeric rows (R, 4) from line ``i`` on: ``width`` of them, or up to the first non-numeric line."""
    rows: list[list[float]] = []
    while i < len(lines) and (width is None or len(rows) < width):
        text = lines[i].strip()
        if not text:
            if width is None and rows:
                break
            i += 1
            continue
        try:
            values = [float(v) for v in text.split()]
        except ValueError:
            break
        if len(values) != 4:
            raise InputError(f"{path}:{i + 1}: expected 4 probabilities, got {len(values)}")
        rows.append(values)
        i += 1
    return np.array(rows, dtype=np.float64).reshape(-1, 4), i


def _token(text: str) -> str:
    """MEME identifiers and names are whitespace-delimited tokens."""
    return re.sub(r"\s+", "_", str(text).strip())
