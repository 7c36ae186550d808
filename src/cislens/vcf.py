"""VCF reading and writing through pysam (htslib): plain or bgzipped input, one row per ALT allele.

The ground floor's VCF I/O: the synthetic genome's truth VCF, the variant-effect stage's reader and
its annotated copy all go through here, so whatever one writes the other reads back identically.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import InputError
from .io import atomic_path

VARIANT_COLUMNS = ["record", "allele", "chrom", "pos", "id", "ref", "alt"]
_INFO_ID = re.compile(r"[^0-9A-Za-z_.]")


def _open(path: str | os.PathLike, mode: str = "r", **kwargs: Any) -> Any:
    import pysam

    pysam.set_verbosity(0)  # htslib's notes (no index for an unindexed .vcf.gz) are not errors here
    try:
        return pysam.VariantFile(str(path), mode, **kwargs)
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: not a readable VCF ({error})") from None


def info_id(name: str) -> str:
    """A legal INFO key for ``name`` (letters, digits, _ and . only)."""
    key = _INFO_ID.sub("_", str(name))
    return key if key and not key[0].isdigit() else f"_{key}"


def read_variants(path: str | os.PathLike, info: Sequence[str] = ()) -> pd.DataFrame:
    """One row per (record, ALT allele): record index, allele index (0-based among ALTs), chrom, 1-based
    pos, id, ref, alt (None where the record has no ALT), plus the requested INFO keys (per-allele
    values for Number=A fields)."""
    rows: list[dict[str, Any]] = []
    with _open(path) as vcf:
        wanted = [key for key in info if key in vcf.header.info]
        numbers = {key: vcf.header.info[key].number for key in wanted}
        try:
            for k, rec in enumerate(vcf):
                alts = rec.alts or (None,)
                for a, alt in enumerate(alts):
                    row = {
                        "record": k,
                        "allele": a,
                        "chrom": rec.chrom,
                        "pos": int(rec.pos),
                        "id": rec.id or f"{rec.chrom}:{rec.pos}:{rec.ref}:{alt}",
                        "ref": rec.ref,
                        "alt": alt,
                    }
                    for key in wanted:
                        value = rec.info.get(key)
                        if numbers[key] == "A" and isinstance(value, tuple):
                            value = value[a] if a < len(value) else None
                        row[key] = value
                    rows.append(row)
        except (OSError, ValueError) as error:
            raise InputError(f"{path}: VCF record {len(rows) + 1} cannot be read ({error})") from None
    return pd.DataFrame(rows, columns=[*VARIANT_COLUMNS, *wanted])


def write_vcf(
    path: str | os.PathLike,
    records: Iterable[Mapping[str, Any]],
    contigs: Mapping[str, int],
    info_fields: Sequence[tuple[str, str, str, str]] = (),
    source: str = "cislens",
) -> None:
    """Write records (chrom, pos 1-based, id, ref, alts, info) as a VCF; gzipped (bgzf) when the path
    ends in .gz. ``info_fields``: (key, Number, Type, Description)."""
    import pysam

    header = pysam.VariantHeader()
    header.add_line(f"##source={source}")
    for name, length in contigs.items():
        header.contigs.add(name, length=int(length))
    for key, number, kind, description in info_fields:
        header.info.add(key, number, kind, description)
    mode = "wz" if str(path).endswith(".gz") else "w"
    with atomic_path(path) as tmp:
        with _open(tmp, mode, header=header) as out:
            for r in records:
                rec = out.new_record(
                    contig=r["chrom"], start=int(r["pos"]) - 1, alleles=(r["ref"], *r["alts"]), id=r.get("id")
                )
                for key, value in (r.get("info") or {}).items():
                    rec.info[key] = value
                out.write(rec)


def annotate_vcf(
    source: str | os.PathLike,
    path: str | os.PathLike,
    values: pd.DataFrame,
    fields: Sequence[tuple[str, str, str, str]],
) -> None:
    """Copy ``source`` to ``path`` adding per-allele INFO ``fields`` (Number=A); ``values`` has columns
    record, allele and one per field key. Alleles without a row get a missing value ('.')."""
    by_record: dict[int, dict[int, Mapping[str, Any]]] = {}
    for row in values.to_dict("records"):
        by_record.setdefault(int(row["record"]), {})[int(row["allele"])] = row
    with _open(source) as vcf:
        for key, number, kind, description in fields:
            if key in vcf.header.info:
                raise InputError(f"{source}: INFO field {key} already present; rename or drop it")
            vcf.header.info.add(key, number, kind, description)
        mode = "wz" if str(path).endswith(".gz") else "w"
        with atomic_path(path) as tmp, _open(tmp, mode, header=vcf.header) as out:
            for k, rec in enumerate(vcf):
                alleles = by_record.get(k, {})
                n_alt = len(rec.alts or ())
                for key, _number, kind, _description in fields:
                    cells = [_cell(alleles.get(a, {}).get(key), kind) for a in range(n_alt)]
                    if n_alt and any(c is not None for c in cells):
                        rec.info[key] = tuple(cells)
                out.write(rec)


def _cell(value: Any, kind: str) -> Any:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if kind == "Float":
        return float(value)
    if kind == "Integer":
        return int(value)
    return str(value)


def vcf_name(path: str | os.PathLike) -> str:
    """The file's name without .vcf/.vcf.gz/.bcf (the results folder of its effects)."""
    name = Path(path).name
    for suffix in (".vcf.gz", ".vcf.bgz", ".vcf", ".bcf"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name
