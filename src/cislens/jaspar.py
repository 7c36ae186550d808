"""JASPAR motifs from pyjaspar's bundled SQLite releases: offline, versioned, reproducible."""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Sequence

import numpy as np

from .errors import InputError
from .meme import Motif, write_meme

DEFAULT_RELEASE = "JASPAR2016"


def releases() -> list[str]:
    """Release names pyjaspar ships (e.g. JASPAR2014 ... JASPAR2026)."""
    from pyjaspar import jaspar_releases

    return sorted(jaspar_releases)


@functools.lru_cache(maxsize=8)
def _db(release: str):
    from pyjaspar import jaspar_releases, jaspardb

    if release not in jaspar_releases:
        raise InputError(f"unknown JASPAR release {release!r}; available: {', '.join(releases())}")
    return jaspardb(release=release)


def _id_key(matrix_id: str) -> tuple[str, int]:
    base, _, version = matrix_id.partition(".")
    return base, int(version) if version.isdigit() else 0


def _to_motif(record, pseudocount: float = 0.0) -> Motif:
    counts = np.array([record.counts[b] for b in "ACGT"], dtype=np.float64).T + pseudocount
    totals = counts.sum(axis=1, keepdims=True)
    ppm = np.where(totals > 0, counts / np.where(totals > 0, totals, 1), 0.25)
    nsites = round(float(totals.mean() - 4 * pseudocount))  # JASPAR's own MEME export: mean column sum
    url = f"http://jaspar.genereg.net?ID={record.matrix_id}&rm=present&collection={record.collection}"
    return Motif(record.matrix_id, record.name, ppm, max(nsites, 1), url)


def load_jaspar(
    release: str = DEFAULT_RELEASE,
    collection: str | None = "CORE",
    tax_group: str | Sequence[str] | None = "vertebrates",
    all_versions: bool = False,
    pseudocount: float = 0.0,
) -> list[Motif]:
    """Motifs of one release/collection/taxon, counts normalised per column, sorted by ID.

    No pseudocount by default: the synthetic ground truth of the reference papers used raw frequencies.
    """
    db = _db(release)
    groups = [tax_group] if isinstance(tax_group, str) else (list(tax_group) if tax_group else None)
    records = db.fetch_motifs(collection=collection, tax_group=groups, all_versions=all_versions)
    motifs = [_to_motif(r, pseudocount) for r in records]
    if not motifs:
        raise InputError(
            f"no JASPAR motifs for release={release} collection={collection} tax_group={tax_group}"
        )
    return sorted(motifs, key=lambda m: _id_key(m.id))


def fetch_by_ids(ids: Sequence[str], release: str = DEFAULT_RELEASE, pseudocount: float = 0.0) -> list[Motif]:
    """Motifs for matrix IDs, in the order given; a base ID without version gives the latest version."""
    db = _db(release)
    out = []
    for matrix_id in ids:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            record = db.fetch_motif_by_id(matrix_id)
        if record is None:
            raise InputError(f"JASPAR ID {matrix_id!r} not found in release {release}")
        out.append(_to_motif(record, pseudocount))
    return out


def export_meme(
    path: str | os.PathLike,
    release: str = DEFAULT_RELEASE,
    collection: str | None = "CORE",
    tax_group: str | Sequence[str] | None = "vertebrates",
    all_versions: bool = False,
    pseudocount: float = 0.0,
) -> int:
    """Write a release's motifs as one MEME file (the Tomtom target database); returns the count."""
    motifs = load_jaspar(release, collection, tax_group, all_versions, pseudocount)
    write_meme(path, motifs)
    return len(motifs)


def annotations(ids: Sequence[str], release: str = DEFAULT_RELEASE) -> dict[str, dict[str, str]]:
    """matrix ID -> {"tf_class", "tf_family"} from the release's metadata ("; "-joined; "" when the
    ID is not in the release, e.g. a user database)."""
    db = _db(release)
    out: dict[str, dict[str, str]] = {}
    for matrix_id in dict.fromkeys(ids):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                record = db.fetch_motif_by_id(matrix_id)
            except Exception:  # pyjaspar raises on IDs it cannot parse
                record = None
        classes = "; ".join(getattr(record, "tf_class", None) or []) if record is not None else ""
        families = "; ".join(getattr(record, "tf_family", None) or []) if record is not None else ""
        out[matrix_id] = {"tf_class": classes, "tf_family": families}
    return out
