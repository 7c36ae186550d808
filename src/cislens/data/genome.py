"""Genome FASTA handling: make any FASTA indexable, read chromosome sizes, check peak contigs.

Gzipped FASTA (plain gzip or bgzip) is decompressed once into the work directory: random access
into a plain file is what makes whole-chromosome slicing fast, and pyfaidx cannot index plain gzip.
The decompressed copy is named by a hash of the compressed file's bytes, so a changed source (even
one copied with its old mtime) gets a new copy; a ``.fai``/``.gzi`` beside a bgzip FASTA is not used.

Every reader gets its index from ``validated_index``: an index is trusted only when it describes the
FASTA beside it (checked against the file's bytes, never its mtime, see ``index_problem``) and is
rebuilt otherwise, so a stale ``.fai`` (from ``cp -p``, ``rsync -a``, ``tar x``, or an index copied
beside a new FASTA) can neither shift the bases read nor hide a contig.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pyfaidx

from ..errors import InputError
from ..io import atomic_path
from .peaks import is_gzip


def _fai_path(fasta: Path) -> Path:
    return fasta.with_name(fasta.name + ".fai")


def build_index(fasta: str | os.PathLike) -> Path:
    """Create ``fasta.fai`` unless a valid index (see ``validated_index``) exists; returns its path."""
    validated_index(fasta)
    return _fai_path(Path(fasta))


def _rebuild_index(fasta: Path) -> None:
    """Index ``fasta`` with pyfaidx, atomically.

    pyfaidx writes the index in place, so it indexes a link to the FASTA in a private temporary
    folder and the finished index is renamed into place: an interrupted run leaves no partial
    index that a later run would trust, and two jobs indexing one genome do not collide.
    """
    with tempfile.TemporaryDirectory(prefix=".fai-", dir=fasta.parent) as tmp:
        link = Path(tmp) / fasta.name
        link.symlink_to(fasta.resolve())
        try:
            pyfaidx.Faidx(str(link), rebuild=True).close()
        except (pyfaidx.FastaIndexingError, ValueError) as err:
            raise InputError(f"{fasta}: cannot index FASTA: {err}") from None
        os.replace(_fai_path(link), _fai_path(fasta))


def validated_index(
    fasta: str | os.PathLike, *, build: bool = True
) -> dict[str, tuple[int, int, int, int]] | None:
    """``{contig: (length, offset, bases per line, bytes per line)}`` of a FASTA, from an index that
    has been checked against the FASTA's bytes (``index_problem``); the one way to read an index.

    A missing or stale index is rebuilt when ``build`` (a freshly built index is trusted); with
    ``build=False`` (DAG time, where indexing a genome would stall the plan) the answer is ``None``
    instead, and for a gzipped FASTA, which has no plain index to check, always ``None``.
    """
    fasta = Path(fasta)
    fai = _fai_path(fasta)
    if is_gzip(fasta):
        if build:
            raise InputError(f"{fasta}: a gzipped FASTA is indexed through ensure_fasta")
        return None
    if fai.exists():
        try:
            entries = read_fai(fai)
        except (OSError, ValueError, UnicodeDecodeError):
            entries = {}
        if entries and index_problem(fasta, entries) is None:
            return entries
    if not build:
        return None
    _rebuild_index(fasta)
    entries = read_fai(fai)
    if not entries:
        raise InputError(f"{fasta}: genome FASTA has no sequences")
    return entries


_MAX_GAP = 1 << 16  # bytes between a contig's end and the next contig's first base (blank lines + header)


def _seq_end(length: int, offset: int, line_bases: int, line_bytes: int) -> int:
    """Byte offset just past a contig's last sequence line (its line terminator included)."""
    if length == 0:
        return offset
    n_full, rest = divmod(length, line_bases)
    return offset + n_full * line_bytes + (rest + line_bytes - line_bases if rest else 0)


def _check_lines(chunk: bytes, bases: list[int], terminator: int) -> bool:
    """``chunk`` is exactly lines of ``bases[i]`` non-newline bytes, each ended by ``terminator`` bytes."""
    pos = 0
    for n in bases:
        line = chunk[pos : pos + n]
        end = chunk[pos + n : pos + n + terminator]
        if len(line) != n or b"\n" in line or b"\r" in line or end != (b"\r\n" if terminator == 2 else b"\n"):
            return False
        pos += n + terminator
    return pos == len(chunk)


def index_problem(fasta: str | os.PathLike, entries: dict[str, tuple[int, int, int, int]]) -> str | None:
    """Why ``entries`` (a parsed .fai) does not describe ``fasta``, or ``None`` when it does.

    Cheap (a few small reads per contig, no pass over the sequence) and sound for reading: offsets
    in file order; between one contig's end and the next contig's offset only blank lines and a
    header line naming that contig (so the byte before each offset is the header's newline); the
    line layout (bases and bytes per line) holds at each contig's first, middle and last lines; and
    after the last contig only whitespace to the end of the file (the FASTA's size must match). A
    FASTA edited without changing any name, length or layout keeps every offset, so its index still
    reads the right bases; anything that moves a base fails here. mtime is not consulted: copies
    keep it.
    """
    fasta = Path(fasta)
    try:
        size = fasta.stat().st_size
        handle = open(fasta, "rb")
    except OSError as err:
        return f"cannot read FASTA: {err}"
    with handle:

        def read(start: int, n: int) -> bytes:
            handle.seek(start)
            return handle.read(n)

        previous_end = 0
        for number, (name, (length, offset, line_bases, line_bytes)) in enumerate(entries.items()):
            if length < 0 or offset < previous_end or offset - previous_end > _MAX_GAP:
                return f"{name}: offset {offset} out of order"
            gap = read(previous_end, offset - previous_end)
            if not gap.endswith(b"\n"):
                return f"{name}: no line break before offset {offset}"
            lines = gap[:-1].split(b"\n")
            header = lines[-1].rstrip(b"\r")
            if not header.startswith(b">") or header[1:].split()[:1] != [name.encode()]:
                return f"{name}: the line before offset {offset} is not its header"
            if any(line.strip() and not (number == 0 and line.startswith(b";")) for line in lines[:-1]):
                return f"{name}: unexpected text before its header"
            if length == 0:
                previous_end = offset
                continue
            terminator = line_bytes - line_bases
            if line_bases < 1 or terminator not in (1, 2):
                return f"{name}: line layout {line_bases}/{line_bytes} is not possible"
            end = _seq_end(length, offset, line_bases, line_bytes)
            n_lines = -(-length // line_bases)
            last = length - (n_lines - 1) * line_bases
            checks = {0, n_lines // 2, n_lines - 2, n_lines - 1}  # first, middle, last two lines
            for i in sorted(c for c in checks if 0 <= c < n_lines):
                n = last if i == n_lines - 1 else line_bases
                chunk = read(offset + i * line_bytes, n + terminator)
                if i == n_lines - 1 and number == len(entries) - 1 and end - terminator == size:
                    chunk += b"\r\n"[-terminator:]  # the file's last line may lack its line break
                if not _check_lines(chunk, [n], terminator):
                    return f"{name}: line {i + 1} does not have {n} bases and a line break"
            previous_end = end
        if previous_end - size in (1, 2) and previous_end > size:
            return None  # last line without its line break (checked above)
        if previous_end > size:
            return f"file is {size} bytes, shorter than its index says ({previous_end})"
        if size - previous_end > _MAX_GAP or read(previous_end, size - previous_end).strip():
            return f"{size - previous_end} bytes after the last indexed contig"
    return None


def read_fai(fai: str | os.PathLike) -> dict[str, tuple[int, int, int, int]]:
    """{contig: (length, offset, bases per line, bytes per line)} from a FASTA index, in file order."""
    entries: dict[str, tuple[int, int, int, int]] = {}
    with open(fai) as handle:
        for line in handle:
            fields = line.split("\t")
            if len(fields) >= 5:
                entries[fields[0]] = (int(fields[1]), int(fields[2]), int(fields[3]), int(fields[4]))
    return entries


def ensure_fasta(path: str | os.PathLike, workdir: str | os.PathLike) -> Path:
    """Return a plain, indexed FASTA for ``path``; gzip input is decompressed once into ``workdir``.

    The decompressed name depends only on the source's bytes, so reruns reuse it and a changed
    source never reuses a stale copy.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: genome FASTA does not exist")
    workdir = Path(workdir)
    if not is_gzip(path):
        if validated_index(path, build=False) is not None or os.access(path.parent, os.W_OK):
            build_index(path)
            return path
        # Read-only directory without a valid index: index a link in the work directory instead.
        workdir.mkdir(parents=True, exist_ok=True)
        link = workdir / path.name
        if not link.exists():
            link.symlink_to(path.resolve())
        build_index(link)
        return link
    workdir.mkdir(parents=True, exist_ok=True)
    with open(path, "rb") as handle:  # content, not size or mtime: a same-size copy keeps its mtime
        key = hashlib.file_digest(handle, "sha1").hexdigest()[:16]
    stem = path.name.removesuffix(".gz").removesuffix(".bgz")
    stem = stem.rsplit(".", 1)[0] if stem.endswith((".fa", ".fasta", ".fna")) else stem
    target = workdir / f"{stem}.{key}.fa"
    if not target.exists():
        with atomic_path(target) as tmp:
            try:
                with gzip.open(path, "rb") as src, open(tmp, "wb") as dst:
                    shutil.copyfileobj(src, dst, length=1 << 22)
            except (OSError, EOFError) as err:
                raise InputError(f"{path}: cannot decompress genome FASTA: {err}") from None
    build_index(target)
    return target


def chrom_sizes(fasta_path: str | os.PathLike) -> dict[str, int]:
    """Sequence lengths from the validated FASTA index, in file order (built if missing or stale)."""
    sizes = {name: entry[0] for name, entry in (validated_index(fasta_path) or {}).items()}
    if not sizes:
        raise InputError(f"{fasta_path}: genome FASTA has no sequences")
    return sizes


def check_contigs(
    peaks_df: pd.DataFrame, sizes: dict[str, int], source: str, fasta: str | os.PathLike | None = None
) -> None:
    """Fail before any sequence work when a peak sits on a contig the genome lacks.

    Mismatched naming (``1`` vs ``chr1``) is the usual cause, so the message shows one example peak
    and a few of the genome's contig names.
    """
    missing = ~peaks_df["chrom"].isin(list(sizes))
    if not missing.any():
        return
    bad = peaks_df[missing]
    first = bad.iloc[0]
    n_contigs = bad["chrom"].nunique()
    examples = ", ".join(list(sizes)[:5])
    raise InputError(
        f"{source}: contig {first['chrom']!r} (peak {first['name']!r} at "
        f"{first['chrom']}:{int(first['start'])}-{int(first['end'])}; {len(bad)} peaks on {n_contigs} "
        f"missing contig(s)) is not in the genome FASTA {fasta if fasta is not None else ''} "
        f"(its contigs include {examples})".replace("FASTA  (", "FASTA (")
    )
