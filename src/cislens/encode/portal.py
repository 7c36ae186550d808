"""ENCODE portal metadata: file and experiment objects, the peak file an experiment stands for, fetches.

The REST API's file object (``<base>/files/ENCFF.../?format=json``) carries ``accession``, ``href``
(the download path), ``md5sum``, ``file_format``, ``file_type``, ``output_type``, ``assembly`` and
``status``; an experiment object (``<base>/experiments/ENCSR.../?format=json``) lists its ``files``,
embedded as objects or as ``/files/ENCFF.../`` paths (fetched a few at a time, in parallel).

Each file gets one deadline for everything it takes: its metadata (an experiment's included), the
download and every retry; several accessions given together are fetched in parallel.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from ..errors import InputError
from ..io import atomic_open
from .download import (
    DEADLINE,
    GENOME_DEADLINE,
    RETRIES,
    TIMEOUT,
    Deadline,
    Log,
    _quiet,
    as_deadline,
    download,
    fetch_json,
)

FILE_RE = re.compile(r"^ENCFF\d{3}[A-Z]{3}$")
EXPERIMENT_RE = re.compile(r"^ENCSR\d{3}[A-Z]{3}$")
_DOWNLOAD_PATH_RE = re.compile(r"/files/([^/]+)/@@download/")
WORKERS = 4  # concurrent requests: enough to hide latency, few enough to be polite to the portal


def _url(base_url: str, path: str) -> str:
    return urljoin(base_url.rstrip("/") + "/", path)


def file_object(accession: str, base_url: str, **fetch: Any) -> dict[str, Any]:
    return fetch_json(_url(base_url, f"/files/{accession}/?format=json"), what=accession, **fetch)


def experiment_object(accession: str, base_url: str, **fetch: Any) -> dict[str, Any]:
    return fetch_json(_url(base_url, f"/experiments/{accession}/?format=json"), what=accession, **fetch)


def parallel_map(function: Any, items: Sequence[Any], workers: int = WORKERS) -> list[Any]:
    """``[function(x) for x in items]`` on up to ``workers`` threads; the first failure (in order)
    is raised once the calls already started have ended (each is bounded by its deadline)."""
    if len(items) <= 1 or workers <= 1:
        return [function(item) for item in items]
    pool = ThreadPoolExecutor(max_workers=min(workers, len(items)), thread_name_prefix="cislens-encode")
    try:
        futures = [pool.submit(function, item) for item in items]
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _released(entry: Mapping[str, Any]) -> bool:
    return entry.get("status", "released") == "released"


def choose_peak_file(
    experiment: Mapping[str, Any],
    files: Sequence[Mapping[str, Any]],
    assembly: str | None,
    output_types: Sequence[str],
) -> dict[str, Any]:
    """The experiment's released peak BED for ``assembly`` of the earliest listed output type.

    Among equals: narrowPeak before other BED types, ENCODE's ``preferred_default`` first, then the
    smallest accession, so the choice is stable.
    """
    name = experiment.get("accession", "experiment")
    candidates = [
        f
        for f in files
        if f.get("file_format") == "bed"
        and _released(f)
        and f.get("output_type") in output_types
        and (assembly is None or f.get("assembly") == assembly)
    ]
    if not candidates:
        where = f" for assembly {assembly}" if assembly else ""
        raise InputError(
            f"{name}: no released BED peak file with output type in {list(output_types)}{where} "
            f"(it has {len(files)} files)"
        )
    assemblies = sorted({str(f.get("assembly")) for f in candidates})
    if assembly is None and len(assemblies) > 1:
        raise InputError(f"{name}: peak files for assemblies {assemblies}: set the dataset's `assembly`")

    def rank(f: Mapping[str, Any]) -> tuple:
        return (
            list(output_types).index(f["output_type"]),
            "narrowPeak" not in str(f.get("file_type", "")),
            not f.get("preferred_default", False),
            str(f.get("accession")),
        )

    return dict(min(candidates, key=rank))


def resolve_peak_file(
    accession: str,
    assembly: str | None,
    base_url: str,
    output_types: Sequence[str],
    file_format: str = "bed",
    **fetch: Any,
) -> tuple[dict[str, Any], str | None]:
    """(file object to download, experiment accession or None) for a file or experiment accession;
    ``file_format`` "bigWig" takes a signal track's file accession (experiments name many tracks)."""
    if file_format != "bed" and not FILE_RE.match(accession):
        raise InputError(f"{accession}: name the {file_format} file by its ENCFF accession")
    if FILE_RE.match(accession):
        meta = file_object(accession, base_url, **fetch)
        experiment = None
    elif EXPERIMENT_RE.match(accession):
        exp = experiment_object(accession, base_url, **fetch)
        listed = exp.get("files", [])
        paths = [str(f) for f in listed if not isinstance(f, Mapping)]
        accessions = [path.strip("/").split("/")[-1] for path in paths]
        objects = parallel_map(lambda acc: file_object(acc, base_url, **fetch), accessions)
        fetched = dict(zip(paths, objects, strict=True))
        files = [f if isinstance(f, Mapping) else fetched[str(f)] for f in listed]
        meta = choose_peak_file(exp, files, assembly, output_types)
        if not meta.get("href") or not meta.get("md5sum"):  # a summary without the download fields
            meta = {**meta, **file_object(meta["accession"], base_url, **fetch)}
        experiment = accession
    else:
        raise InputError(f"{accession}: not an ENCODE file (ENCFF...) or experiment (ENCSR...) accession")
    if meta.get("file_format") != file_format:
        wanted = "a BED peak file" if file_format == "bed" else f"a {file_format} file"
        hint = "name the experiment's bed narrowPeak file, or the experiment" if file_format == "bed" else ""
        raise InputError(
            f"{meta.get('accession', accession)}: file_format {meta.get('file_format')!r} is not {wanted}"
            + (f" ({hint})" if hint else "")
        )
    if assembly is not None and meta.get("assembly") not in (None, assembly):
        raise InputError(f"{meta.get('accession', accession)}: assembly {meta['assembly']} is not {assembly}")
    if not meta.get("href"):
        raise InputError(f"{meta.get('accession', accession)}: the metadata has no download href")
    return meta, experiment


def fetch_peaks(
    accession: str,
    assembly: str | None,
    out: str | os.PathLike,
    metadata_out: str | os.PathLike,
    *,
    base_url: str,
    output_types: Sequence[str],
    retries: int = RETRIES,
    timeout: float = TIMEOUT,
    deadline: float | Deadline = DEADLINE,
    backoff: float = 1.0,
    log: Log = _quiet,
    file_format: str = "bed",
) -> Path:
    """Download an ENCODE peak file (or an experiment's chosen one; or, with ``file_format`` "bigWig",
    a signal track) to ``out``, md5-checked, metadata and download together within ``deadline``
    seconds."""
    deadline = as_deadline(deadline)
    fetch = {"retries": retries, "timeout": timeout, "deadline": deadline, "backoff": backoff, "log": log}
    meta, experiment = resolve_peak_file(accession, assembly, base_url, output_types, file_format, **fetch)
    url = _url(base_url, meta["href"])
    log(
        f"{accession}: {meta.get('accession')} ({meta.get('output_type')}, {meta.get('file_type')}, "
        f"{meta.get('assembly')}) from {url}"
    )
    if not meta.get("md5sum"):
        log(f"{meta.get('accession')}: ENCODE metadata has no md5sum")
    download(url, out, md5=meta.get("md5sum"), **fetch)
    record = {
        "requested": accession,
        "experiment": experiment,
        "url": url,
        **{
            key: meta.get(key)
            for key in (
                "accession",
                "md5sum",
                "file_size",
                "file_format",
                "file_type",
                "output_type",
                "assembly",
            )
        },
    }
    with atomic_open(metadata_out) as handle:
        json.dump(record, handle, indent=2, sort_keys=True)
        handle.write("\n")
    return Path(out)


def fetch_peaks_many(
    accessions: Sequence[str],
    assembly: str | None,
    out_dir: str | os.PathLike,
    *,
    workers: int = WORKERS,
    **options: Any,
) -> dict[str, Path | InputError]:
    """Several accessions in parallel, each to ``<out_dir>/<accession>.bed.gz`` (+ ``.json``) with its own
    deadline (``options["deadline"]`` seconds from when its fetch starts): {accession: path, or the
    InputError that stopped it}. One failure does not stop the others."""
    out_dir = Path(out_dir)

    def one(accession: str) -> Path | InputError:
        try:
            return fetch_peaks(
                accession, assembly, out_dir / f"{accession}.bed.gz", out_dir / f"{accession}.json", **options
            )
        except InputError as error:
            return error

    return dict(zip(accessions, parallel_map(one, list(accessions), workers), strict=True))


def genome_md5(url: str, **fetch: Any) -> str | None:
    """md5 of an ENCODE reference file from its metadata (``.../files/<id>/@@download/...``), else None."""
    match = _DOWNLOAD_PATH_RE.search(url)
    if match is None:
        return None
    accession = match.group(1)
    meta = fetch_json(url[: match.start()] + f"/files/{accession}/?format=json", what=accession, **fetch)
    return meta.get("md5sum")


def fetch_genome(
    assembly: str,
    url: str,
    out: str | os.PathLike,
    *,
    base_url: str,
    md5: str | None = None,
    retries: int = RETRIES,
    timeout: float = TIMEOUT,
    deadline: float | Deadline = GENOME_DEADLINE,
    backoff: float = 1.0,
    log: Log = _quiet,
) -> Path:
    """Download a reference FASTA for ``assembly`` within ``deadline`` seconds (metadata included);
    its md5 comes from ``md5`` or ENCODE's metadata."""
    deadline = as_deadline(deadline)
    fetch = {"retries": retries, "timeout": timeout, "deadline": deadline, "backoff": backoff, "log": log}
    url = _url(base_url, url)
    md5 = md5 or genome_md5(url, **fetch)
    log(f"{assembly}: {url} (md5 {md5 or 'unknown'})")
    return download(url, out, md5=md5, **fetch)
