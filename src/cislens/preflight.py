"""Checks run while Snakemake builds its DAG, so bad input fails in one line before any job starts.

Each dataset kind picks its checks in :mod:`cislens.plan` (``Kind.preflight``); this module holds them.

Peak files are parsed in full (format errors name file and line) and their contigs are checked
against the genome's FASTA index when one exists; a FASTA without an index is indexed by the
prepare rule, which repeats the contig check. Results are cached by file size and mtime so a
workflow with hundreds of datasets does not re-read unchanged files on every invocation.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .config import downloaded_inputs
from .errors import InputError

CACHE = Path(".snakemake") / "cislens-preflight.json"


def _stamp(path: str) -> list[int]:
    stat = os.stat(path)
    return [stat.st_size, stat.st_mtime_ns]


def require_file(path: str, what: str, dataset: str) -> None:
    if not os.path.exists(path):
        raise InputError(f"datasets.{dataset}: {what} {path} does not exist")
    if os.path.getsize(path) == 0:
        raise InputError(f"datasets.{dataset}: {what} {path} is empty")


def _load_cache() -> dict[str, Any]:
    try:
        return json.loads(CACHE.read_text())
    except (OSError, ValueError):
        return {}


def _save_cache(cache: dict[str, Any]) -> None:
    try:
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        tmp = CACHE.with_suffix(".tmp")
        tmp.write_text(json.dumps(cache))
        os.replace(tmp, CACHE)
    except OSError:
        pass  # a read-only working directory only costs the cache


def check_peak_inputs(dataset: str, settings: Mapping[str, Any]) -> None:
    """Raise InputError (one line) for a missing, empty or malformed peak file or genome FASTA."""
    from .data.genome import validated_index  # pandas imports only when real peaks are configured
    from .data.peaks import is_gzip, peak_files, read_peaks
    from .data.windows import filter_chroms

    # ENCODE files and genomes are downloaded by rules: checked here once they exist, by prepare always.
    pending = {path for path in downloaded_inputs(settings) if not os.path.exists(path)}
    genome = settings["genome"]
    if genome not in pending:
        require_file(genome, "genome FASTA", dataset)
        opener = gzip.open if is_gzip(genome) else open
        with opener(genome, "rt") as handle:
            if not handle.readline().startswith(">"):
                raise InputError(
                    f"datasets.{dataset}: genome FASTA {genome} does not start with a '>' header"
                )
    fai = f"{genome}.fai"
    # The index prepare reads, checked against the FASTA; a missing or stale one (or a gzipped genome)
    # leaves the contig check to prepare, which rebuilds it, rather than trusting it here.
    entries = validated_index(genome, build=False) if genome not in pending else None
    sizes = {name: entry[0] for name, entry in entries.items()} if entries else None
    if sizes is not None:  # the hold-out must name contigs of the genome, or a split comes out empty
        for key in ("valid_chroms", "test_chroms"):
            absent = [chrom for chrom in settings[key] if chrom not in sizes]
            if absent:
                raise InputError(
                    f"config: datasets.{dataset}.{key}: {', '.join(absent)} not in the genome {genome} "
                    f"(its index has {len(sizes)} contigs, e.g. {', '.join(list(sizes)[:3])})"
                )
    for task, path in (settings.get("signal") or {}).items():
        if path not in pending:
            require_file(path, f"signal bigWig for task {task!r}:", dataset)
    for path in settings.get("exclude_regions") or []:
        if path not in pending:
            require_file(path, "exclude_regions BED", dataset)
    cache = _load_cache()
    changed = False
    for task, path in peak_files(settings).items():
        if path in pending:
            continue
        require_file(path, f"peak file for task {task!r}:", dataset)
        key = os.path.abspath(path)
        stamp = [*_stamp(path), settings["exclude_chroms"], *(_stamp(fai) if sizes is not None else [])]
        if cache.get(key) == stamp:
            continue
        peaks, _ = filter_chroms(read_peaks(path), settings["exclude_chroms"])
        if sizes is not None:
            missing = sorted(set(peaks["chrom"]) - set(sizes))
            if missing:
                raise InputError(
                    f"{path}: contig {missing[0]!r} is not in the genome FASTA {genome}"
                    + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
                )
            cache[key] = stamp
            changed = True
    if changed:
        _save_cache(cache)


def check_msa_inputs(dataset: str, settings: Mapping[str, Any]) -> None:
    """Alignment, structure and DMS files exist; a DMS table's mutants match the focus sequence (a
    numbering offset fails here, in one line, not after the models are fitted)."""
    require_file(settings["alignment"], "alignment", dataset)
    for key, what in (("pdb", "PDB file"), ("distance_table", "distance table"), ("dms", "DMS table")):
        if settings.get(key):
            require_file(settings[key], what, dataset)
    if not settings.get("dms"):
        return
    options = ("format", "focus", "first_residue", "max_gap_fraction", "drop_focus_gaps", "dms_score")
    stamp = [*_stamp(settings["alignment"]), *_stamp(settings["dms"]), *(settings.get(k) for k in options)]
    key = f"dms:{os.path.abspath(settings['dms'])}"
    cache = _load_cache()
    if cache.get(key) == stamp:
        return
    from .protein.dms import read_dms
    from .protein.msa import read_msa

    try:
        msa = read_msa(
            settings["alignment"],
            fmt=settings.get("format"),
            focus=settings.get("focus", 0),
            first_residue=settings.get("first_residue"),
            max_gap_fraction=settings.get("max_gap_fraction"),
            drop_focus_gaps=settings.get("drop_focus_gaps", False),
        )
        read_dms(settings["dms"], msa, score_column=settings.get("dms_score", "score"))
    except InputError as error:
        raise InputError(f"datasets.{dataset}: {error}") from None
    cache[key] = stamp
    _save_cache(cache)
