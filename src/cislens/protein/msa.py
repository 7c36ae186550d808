"""Protein multiple sequence alignments: read, encode over 21 states, filter columns, weight sequences.

Every reader reduces a file to *match columns*: lowercase letters and ``.`` are insertions (a2m/a3m,
HMMER Stockholm) and are dropped, so the columns left are the uppercase / ``-`` ones -- for a2m files
these are exactly the focus (first) sequence's uppercase columns. Letters outside the 20 amino acids
(X, B, Z, U, O, ...) become gaps. The focus sequence keeps its full residue numbering (insertions
included) so that DMS positions and structure residues can be matched to columns later.
"""

from __future__ import annotations

import gzip
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..errors import InputError

#: The 20 amino acids in one-letter alphabetical order, then the gap: state k is ALPHABET[k].
ALPHABET = "ACDEFGHIKLMNPQRSTVWY-"
Q = len(ALPHABET)  # 21 states
GAP = Q - 1  # the gap is the last state, so ``[:, :GAP]`` slices the amino acids

_LOOKUP = np.full(256, GAP, dtype=np.uint8)
for _state, _letter in enumerate(ALPHABET[:GAP]):
    _LOOKUP[ord(_letter)] = _state

FORMATS = ("fasta", "a2m", "a3m", "stockholm", "aln")
_SUFFIXES = {
    ".fa": "fasta", ".fas": "fasta", ".fasta": "fasta", ".faa": "fasta", ".a2m": "a2m", ".a3m": "a3m",
    ".sto": "stockholm", ".stk": "stockholm", ".stockholm": "stockholm", ".aln": "aln", ".psc": "aln",
}  # fmt: skip
_RANGE = re.compile(r"/(\d+)-(\d+)$")


@dataclass(frozen=True)
class MSA:
    """An integer-encoded alignment and the maps that tie its columns back to the focus sequence.

    ``seqs`` is ``(N, L)`` uint8 over :data:`ALPHABET`. ``columns[k]`` is column k's index (0-based) in
    the alignment as read (after insertions are dropped, before any column filter); ``positions[k]``
    is the focus residue number in column k (``first_residue``-based, counting insertions) or 0 where
    the focus sequence has a gap. ``focus_sequence`` is the focus's full ungapped sequence, uppercase.
    ``match_positions`` holds ``positions`` of every match column as read (before column filters), so a
    residue can be told apart as an insertion (in no match column) or a filtered-out column.
    """

    seqs: np.ndarray
    names: tuple[str, ...]
    focus: int
    focus_sequence: str
    positions: np.ndarray
    columns: np.ndarray
    first_residue: int = 1
    match_positions: np.ndarray | None = None

    @property
    def n_seqs(self) -> int:
        return int(self.seqs.shape[0])

    @property
    def length(self) -> int:
        return int(self.seqs.shape[1])

    def select_columns(self, keep: np.ndarray) -> MSA:
        """The same alignment restricted to the columns where ``keep`` is true (or to those indices)."""
        keep = np.asarray(keep)
        idx = np.flatnonzero(keep) if keep.dtype == bool else keep.astype(int)
        return replace(
            self,
            seqs=np.ascontiguousarray(self.seqs[:, idx]),
            positions=self.positions[idx],
            columns=self.columns[idx],
        )

    def select_sequences(self, rows: np.ndarray) -> MSA:
        """A subset of sequences (the focus must stay in it; it becomes the row it moved to)."""
        rows = np.flatnonzero(rows) if np.asarray(rows).dtype == bool else np.asarray(rows, dtype=int)
        where = np.flatnonzero(rows == self.focus)
        if where.size == 0:
            raise InputError("a sequence subset must keep the focus sequence")
        return replace(
            self, seqs=self.seqs[rows], names=tuple(self.names[r] for r in rows), focus=int(where[0])
        )


# ------------------------------------------------------------------------------------------ reading
def _open_text(path: Path) -> list[str]:
    with open(path, "rb") as handle:
        magic = handle.read(2)
    opener = gzip.open if magic == b"\x1f\x8b" else open
    with opener(path, "rt") as handle:  # type: ignore[operator]
        return handle.read().splitlines()


def detect_format(path: str | os.PathLike, lines: list[str] | None = None) -> str:
    """The format from the file's first line (``# STOCKHOLM``, ``>``), else from its suffix."""
    path = Path(path)
    lines = _open_text(path) if lines is None else lines
    first = next((line for line in lines if line.strip()), "")
    if first.startswith("# STOCKHOLM"):
        return "stockholm"
    suffixes = [s for s in path.suffixes if s != ".gz"]
    by_suffix = _SUFFIXES.get(suffixes[-1].lower()) if suffixes else None
    if first.startswith(">"):
        return by_suffix if by_suffix in ("fasta", "a2m", "a3m") else "fasta"
    return "aln"


def _fasta_records(lines: list[str], path: Path) -> list[tuple[str, str]]:
    records: list[tuple[str, str]] = []
    name, chunks = None, []
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(">"):
            if name is not None:
                records.append((name, "".join(chunks)))
            name, chunks = line[1:].strip() or f"seq{len(records)}", []
        elif name is None:
            raise InputError(f"{path}:{number}: sequence data before the first '>' header")
        else:
            chunks.append(line.replace(" ", ""))
    if name is not None:
        records.append((name, "".join(chunks)))
    return records


def _stockholm_records(lines: list[str], path: Path) -> list[tuple[str, str]]:
    """Sequence lines of the first alignment, blocks concatenated by name; markup lines skipped."""
    order: list[str] = []
    parts: dict[str, list[str]] = {}
    for number, line in enumerate(lines, 1):
        if line.startswith("//"):
            break
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) != 2:
            raise InputError(f"{path}:{number}: expected 'name sequence' in a Stockholm alignment line")
        name, chunk = fields
        if name not in parts:
            order.append(name)
            parts[name] = []
        parts[name].append(chunk)
    return [(name, "".join(parts[name])) for name in order]


def _aln_records(lines: list[str]) -> list[tuple[str, str]]:
    rows = [line.strip() for line in lines if line.strip()]
    return [(f"seq{k}", row) for k, row in enumerate(rows)]


def read_records(path: str | os.PathLike, fmt: str | None = None) -> list[tuple[str, str]]:
    """``(name, aligned row as written)`` pairs from a FASTA / a2m / a3m / Stockholm / aln file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"alignment file {path} does not exist")
    lines = _open_text(path)
    fmt = fmt or detect_format(path, lines)
    if fmt not in FORMATS:
        raise InputError(f"unknown alignment format {fmt!r}; valid: {', '.join(FORMATS)}")
    if fmt == "stockholm":
        records = _stockholm_records(lines, path)
    elif fmt == "aln":
        records = _aln_records(lines)
    else:
        records = _fasta_records(lines, path)
    if not records:
        raise InputError(f"{path}: no sequences found ({fmt})")
    return records


_INSERTIONS = str.maketrans("", "", "abcdefghijklmnopqrstuvwxyz.")


def match_columns(row: str) -> str:
    """The row's match columns: insertions (lowercase, ``.``) dropped; unknown letters kept (gaps later)."""
    return row.translate(_INSERTIONS)


def encode(rows: list[str]) -> np.ndarray:
    """Encode equal-length match-column strings to ``(N, L)`` uint8 states (unknown letters -> gap)."""
    if not rows:
        return np.zeros((0, 0), dtype=np.uint8)
    raw = np.frombuffer("".join(rows).upper().encode("ascii", "replace"), dtype=np.uint8)
    return _LOOKUP[raw].reshape(len(rows), -1)


def decode(seq: np.ndarray) -> str:
    """States back to letters (one sequence)."""
    return "".join(ALPHABET[int(s)] for s in np.asarray(seq).ravel())


def _focus_numbering(row: str, first_residue: int) -> tuple[str, np.ndarray]:
    """The focus's residues (insertions included) and the residue number of each match column."""
    residues: list[str] = []
    numbers: list[int] = []
    for ch in row:
        if ch in "-.":
            if ch == "-":
                numbers.append(0)
            continue
        number = first_residue + len(residues)
        residues.append(ch.upper())
        if not ch.islower():
            numbers.append(number)
    return "".join(residues), np.asarray(numbers, dtype=np.int64)


def _find_focus(names: list[str], focus: int | str) -> int:
    if isinstance(focus, str):
        hits = [k for k, name in enumerate(names) if name == focus or name.split()[0] == focus]
        if not hits:
            raise InputError(f"focus sequence {focus!r} is not in the alignment")
        return hits[0]
    if not -len(names) <= int(focus) < len(names):
        raise InputError(f"focus index {focus} is out of range for {len(names)} sequences")
    return int(focus) % len(names)


def read_msa(
    path: str | os.PathLike,
    *,
    fmt: str | None = None,
    focus: int | str = 0,
    first_residue: int | None = None,
    max_gap_fraction: float | None = 0.5,
    drop_focus_gaps: bool = False,
) -> MSA:
    """Read an alignment, drop insertions, encode, and filter gappy columns.

    ``focus`` is a row index or a name (first sequence by default). ``first_residue`` numbers the
    focus's first residue; by default it is read from a ``name/start-end`` header (Pfam, a3m) or 1.
    Columns with a gap fraction ``>= max_gap_fraction`` are dropped (None keeps all), as are, with
    ``drop_focus_gaps``, columns where the focus has a gap (the EVcouplings / DeepSequence choice).
    """
    path = Path(path)
    records = read_records(path, fmt)
    names = [name for name, _ in records]
    rows = [match_columns(row) for _, row in records]
    width = len(rows[0])
    for k, row in enumerate(rows):
        if len(row) != width:
            raise InputError(
                f"{path}: sequence {names[k]!r} (record {k + 1}) has {len(row)} aligned columns after "
                f"dropping insertions, the first has {width}"
            )
    if width == 0:
        raise InputError(f"{path}: the alignment has no match columns")
    focus_row = _find_focus(names, focus)
    if first_residue is None:
        match = _RANGE.search(names[focus_row].split()[0])
        first_residue = int(match.group(1)) if match else 1
    focus_sequence, positions = _focus_numbering(records[focus_row][1], first_residue)
    msa = MSA(
        seqs=encode(rows),
        names=tuple(names),
        focus=focus_row,
        focus_sequence=focus_sequence,
        positions=positions,
        columns=np.arange(width),
        first_residue=int(first_residue),
        match_positions=positions,
    )
    keep = np.ones(width, dtype=bool)
    if max_gap_fraction is not None:
        keep &= gap_fraction(msa.seqs) < max_gap_fraction
    if drop_focus_gaps:
        keep &= positions > 0
    if not keep.any():
        raise InputError(f"{path}: every column was filtered out (max_gap_fraction={max_gap_fraction})")
    return msa if keep.all() else msa.select_columns(keep)


def gap_fraction(seqs: np.ndarray) -> np.ndarray:
    """Fraction of gaps in each column (unweighted)."""
    return (np.asarray(seqs) == GAP).mean(axis=0)


# ------------------------------------------------------------------------------------------ weights
def one_hot(seqs: np.ndarray, q: int = Q, dtype: type = np.float32) -> np.ndarray:
    """``(N, L)`` states to ``(N, L * q)`` one-hot rows (position-major: column ``i * q + a``)."""
    seqs = np.asarray(seqs)
    n, length = seqs.shape
    out = np.zeros((n, length * q), dtype=dtype)
    out[np.arange(n)[:, None], np.arange(length)[None, :] * q + seqs] = 1
    return out


def sequence_weights(
    seqs: np.ndarray, identity: float = 0.8, block: int = 2048, cache_bytes: int = 512 * 2**20
) -> np.ndarray:
    """1 / (number of sequences at >= ``identity`` fraction identity, itself included).

    Identity counts identical states over all L columns, gap = gap included (CCMpred, GREMLIN). Counts
    come from one-hot matrix products over ``block`` x ``block`` tiles of the upper triangle, so memory
    stays at a few tiles (10^5 x 300 fits; the one-hot is cached whole only below ``cache_bytes``).
    """
    seqs = np.asarray(seqs)
    n, length = seqs.shape
    if identity is None or identity > 1:
        return np.ones(n, dtype=np.float64)
    threshold = identity * length - 1e-6  # identities are exact small integers in float32
    starts = list(range(0, n, block))
    cached = n * length * Q * 4 <= cache_bytes
    full = one_hot(seqs) if cached else None

    def tile(start: int) -> np.ndarray:
        return full[start : start + block] if full is not None else one_hot(seqs[start : start + block])

    counts = np.zeros(n, dtype=np.int64)
    for bi, a in enumerate(starts):
        left = tile(a)
        for b in starts[bi:]:
            right = left if b == a else tile(b)
            near = (left @ right.T) >= threshold
            counts[a : a + len(left)] += near.sum(axis=1)
            if b != a:
                counts[b : b + len(right)] += near.sum(axis=0)
    return 1.0 / counts


def neff(weights: np.ndarray) -> float:
    """Effective number of sequences: the sum of the weights."""
    return float(np.sum(weights))
