"""Genome FASTA handling: make any FASTA indexable, read chromosome sizes, check peak contigs.

Gzipped FASTA (plain gzip or bgzip) is decompressed once into the work directory: random access
into a plain file is what makes whole-chromosome slicing fast, and pyfaidx cannot index plain gzip.
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
    """Create ``fasta.fai`` unless an index newer than the FASTA exists.

    pyfaidx writes the index in place, so it indexes a link to the FASTA in a private temporary
    folder and the finished index is renamed into place: an interrupted run leaves no partial
    index that a later run would trust, and two jobs indexing one genome do not collide.
    """
    fasta = Path(fasta)
    fai = _fai_path(fasta)
    if fai.exists() and fai.stat().st_mtime >= fasta.stat().st_mtime:
        return fai
    with tempfile.TemporaryDirectory(prefix=".fai-", dir=fasta.parent) as tmp:
        link = Path(tmp) / fasta.name
        link.symlink_to(fasta.resolve())
        try:
            pyfaidx.Faidx(str(link), rebuild=True).close()
        except (pyfaidx.FastaIndexingError, ValueError) as err:
            raise InputError(f"{fasta}: cannot index FASTA: {err}") from None
        os.replace(_fai_path(link), fai)
    return fai


def read_fai(fai: str | os.PathLike) -> dict[str, tuple[int, int, int, int]]:
    """{contig: (length, offset, bases per line, bytes per line)} from a FASTA index, in file order."""
    entries = {}
    with open(fai) as handle:
        for line in handle:
            fields = line.split("\t")
            if len(fields) >= 5:
                entries[fields[0]] = (int(fields[1]), int(fields[2]), int(fields[3]), int(fields[4]))
    return entries


def ensure_fasta(path: str | os.PathLike, workdir: str | os.PathLike) -> Path:
    """Return a plain, indexed FASTA for ``path``; gzip input is decompressed once into ``workdir``.

    The decompressed name depends only on the source's absolute path and size, so reruns reuse it.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: genome FASTA does not exist")
    workdir = Path(workdir)
    if not is_gzip(path):
        if _fai_path(path).exists() or os.access(path.parent, os.W_OK):
            build_index(path)
            return path
        # Read-only directory without an index: index a link in the work directory instead.
        workdir.mkdir(parents=True, exist_ok=True)
        link = workdir / path.name
        if not link.exists():
            link.symlink_to(path.resolve())
        build_index(link)
        return link
    workdir.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha1(f"{path.resolve()}:{path.stat().st_size}".encode()).hexdigest()[:10]
    stem = path.name.removesuffix(".gz").removesuffix(".bgz")
    stem = stem.rsplit(".", 1)[0] if stem.endswith((".fa", ".fasta", ".fna")) else stem
    target = workdir / f"{stem}.{key}.fa"
    if not target.exists() or target.stat().st_mtime < path.stat().st_mtime:
        with atomic_path(target) as tmp:
            try:
                with gzip.open(path, "rb") as src, open(tmp, "wb") as dst:
                    shutil.copyfileobj(src, dst, length=1 << 22)
            except (OSError, EOFError) as err:
                raise InputError(f"{path}: cannot decompress genome FASTA: {err}") from None
    build_index(target)
    return target


def chrom_sizes(fasta_path: str | os.PathLike) -> dict[str, int]:
    """Sequence lengths from the FASTA index, in file order (the index is built if missing)."""
    sizes = {name: entry[0] for name, entry in read_fai(build_index(fasta_path)).items()}
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
