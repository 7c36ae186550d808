"""ENCODE portal metadata: file and experiment objects, the peak file an experiment stands for, fetches.

The REST API's file object (``<base>/files/ENCFF.../?format=json``) carries ``accession``, ``href``
(the download path), ``md5sum``, ``file_format``, ``file_type``, ``output_type``, ``assembly`` and
``status``; an experiment object (``<base>/experiments/ENCSR.../?format=json``) lists its ``files``,
embedded as objects or as ``/files/ENCFF.../`` paths.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from ..errors import InputError
from ..io import atomic_open
from .download import Log, _quiet, download, fetch_json

FILE_RE = re.compile(r"^ENCFF\d{3}[A-Z]{3}$")
EXPERIMENT_RE = re.compile(r"^ENCSR\d{3}[A-Z]{3}$")
_DOWNLOAD_PATH_RE = re.compile(r"/files/([^/]+)/@@download/")


def _url(base_url: str, path: str) -> str:
    return urljoin(base_url.rstrip("/") + "/", path)


def file_object(accession: str, base_url: str, **fetch: Any) -> dict[str, Any]:
    return fetch_json(_url(base_url, f"/files/{accession}/?format=json"), **fetch)


def experiment_object(accession: str, base_url: str, **fetch: Any) -> dict[str, Any]:
    return fetch_json(_url(base_url, f"/experiments/{accession}/?format=json"), **fetch)


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
    **fetch: Any,
) -> tuple[dict[str, Any], str | None]:
    """(file object to download, experiment accession or None) for a file or experiment accession."""
    if FILE_RE.match(accession):
        meta = file_object(accession, base_url, **fetch)
        experiment = None
    elif EXPERIMENT_RE.match(accession):
        exp = experiment_object(accession, base_url, **fetch)
        files = [
            f if isinstance(f, Mapping) else file_object(str(f).strip("/").split("/")[-1], base_url, **fetch)
            for f in exp.get("files", [])
        ]
        meta = choose_peak_file(exp, files, assembly, output_types)
        if not meta.get("href") or not meta.get("md5sum"):  # a summary without the download fields
            meta = {**meta, **file_object(meta["accession"], base_url, **fetch)}
        experiment = accession
    else:
        raise InputError(f"{accession}: not an ENCODE file (ENCFF...) or experiment (ENCSR...) accession")
    if meta.get("file_format") != "bed":
        raise InputError(
            f"{meta.get('accession', accession)}: file_format {meta.get('file_format')!r} is not a BED peak "
            "file (name the experiment's bed narrowPeak file, or the experiment)"
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
    retries: int = 5,
    timeout: float = 60,
    backoff: float = 1.0,
    log: Log = _quiet,
) -> Path:
    """Download an ENCODE peak file (or an experiment's chosen one) to ``out``, md5-checked."""
    fetch = {"retries": retries, "timeout": timeout, "backoff": backoff, "log": log}
    meta, experiment = resolve_peak_file(accession, assembly, base_url, output_types, **fetch)
    url = _url(base_url, meta["href"])
    log(
        f"{accession}: {meta.get('accession')} ({meta.get('output_type')}, {meta.get('file_type')}, "
        f"{meta.get('assembly')}) from {url}"
    )
    if not meta.get("md5sum"):
        log(f"{meta.get('accession')}: ENCODE metadata has no md5sum")
    download(url, out, md5=meta.get("md5sum"), retries=retries, timeout=timeout, backoff=backoff, log=log)
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


def genome_md5(url: str, **fetch: Any) -> str | None:
    """md5 of an ENCODE reference file from its metadata (``.../files/<id>/@@download/...``), else None."""
    match = _DOWNLOAD_PATH_RE.search(url)
    if match is None:
        return None
    meta = fetch_json(url[: match.start()] + f"/files/{match.group(1)}/?format=json", **fetch)
    return meta.get("md5sum")


def fetch_genome(
    assembly: str,
    url: str,
    out: str | os.PathLike,
    *,
    base_url: str,
    md5: str | None = None,
    retries: int = 5,
    timeout: float = 60,
    backoff: float = 1.0,
    log: Log = _quiet,
) -> Path:
    """Download a reference FASTA for ``assembly``; its md5 comes from ``md5`` or ENCODE's metadata."""
    fetch = {"retries": retries, "timeout": timeout, "backoff": backoff, "log": log}
    url = _url(base_url, url)
    md5 = md5 or genome_md5(url, **fetch)
    log(f"{assembly}: {url} (md5 {md5 or 'unknown'})")
    return download(url, out, md5=md5, retries=retries, timeout=timeout, backoff=backoff, log=log)
