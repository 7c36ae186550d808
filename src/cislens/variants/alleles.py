"""Reference and alternative windows of a model's width, centred on each variant.

Window of width L for a variant at 0-based position p (VCF POS - 1): start s = p - L // 2, so the
variant's first base sits at index L // 2 (tangermeme's centring). The reference window is
genome[s, s + L). The alternative window is genome[s, p) + ALT + genome[p + len(REF), ...) cut to L:
an insertion pushes the right flank out, a deletion pulls more of it in (tangermeme's
insertion/deletion effects), so both windows keep the model's width. SNVs and MNVs replace in place.

Rows that cannot be scored are kept aside with one reason each (``SKIP_REASONS``); when most checked
REF alleles disagree with the genome the run stops with one line naming the likely cause.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..data import onehot
from ..data.windows import _read_fai, read_chromosome
from ..errors import InputError

SKIP_REASONS = {
    "symbolic_allele": "symbolic or breakend ALT (<DEL>, *, ...): no sequence to score",
    "no_alt": "no ALT allele",
    "non_acgt_allele": "REF or ALT has letters other than A, C, G, T",
    "unknown_contig": "contig not in the dataset's genome",
    "off_chromosome": "the window runs off the chromosome end",
    "ref_mismatch": "REF differs from the genome at POS",
}
# Checked REF alleles must mostly match: above this mismatching fraction the run stops.
MAX_MISMATCH = 0.5


@dataclass
class AlleleWindows:
    """ref, alt: uint8 one-hot (N, L, 4); kept: the scored rows; skipped: the rest with a reason."""

    ref: np.ndarray
    alt: np.ndarray
    kept: pd.DataFrame
    skipped: pd.DataFrame


def _symbolic(alt: str) -> bool:
    return alt in ("*", ".") or alt.startswith("<") or "[" in alt or "]" in alt


def _acgt(allele: str) -> bool:
    return bool(allele) and set(allele.upper()) <= set("ACGT")


def alt_window(chrom_seq: bytes, pos0: int, ref: str, alt: str, width: int) -> bytes:
    """genome[s, p) + ALT + genome[p + len(REF), ...) cut to ``width`` (s = pos0 - width // 2)."""
    start = pos0 - width // 2
    right = start + width + max(0, len(ref) - len(alt))
    seq = chrom_seq[start:pos0] + alt.upper().encode() + chrom_seq[pos0 + len(ref) : right]
    return seq[:width]


def allele_windows(
    genome: str | os.PathLike, variants: pd.DataFrame, width: int, source: str = "VCF"
) -> AlleleWindows:
    """Build both windows for every scorable row of ``variants`` (columns chrom, pos, ref, alt)."""
    fasta = Path(genome)
    entries = _read_fai(fasta)
    reasons: list[str | None] = [None] * len(variants)
    ref_raw: dict[int, bytes] = {}
    alt_raw: dict[int, bytes] = {}
    shifted = {-1: 0, 1: 0}
    chroms = variants["chrom"].astype(str).to_numpy()
    for chrom in dict.fromkeys(chroms):
        rows = np.flatnonzero(chroms == chrom)
        seq = read_chromosome(fasta, chrom, entries) if chrom in entries else None
        for i in rows.tolist():
            row = variants.iloc[i]
            ref, alt = str(row["ref"]), row["alt"]
            if alt is None or (isinstance(alt, float) and alt != alt):
                reasons[i] = "no_alt"
                continue
            alt = str(alt)
            if _symbolic(alt):
                reasons[i] = "symbolic_allele"
                continue
            if not (_acgt(ref) and _acgt(alt)):
                reasons[i] = "non_acgt_allele"
                continue
            if seq is None:
                reasons[i] = "unknown_contig"
                continue
            p = int(row["pos"]) - 1
            start = p - width // 2
            right = start + width + max(0, len(ref) - len(alt))
            if start < 0 or max(right, p + len(ref)) > len(seq):
                reasons[i] = "off_chromosome"
                continue
            if seq[p : p + len(ref)] != ref.upper().encode():
                reasons[i] = "ref_mismatch"
                for shift in shifted:
                    if seq[p + shift : p + shift + len(ref)] == ref.upper().encode():
                        shifted[shift] += 1
                continue
            ref_raw[i] = seq[start : start + width]
            alt_raw[i] = alt_window(seq, p, ref, alt, width)
    _check_build(reasons, shifted, fasta, source)
    keep = [i for i, r in enumerate(reasons) if r is None]
    kept = variants.iloc[keep].reset_index(drop=True)
    skipped = variants.iloc[[i for i, r in enumerate(reasons) if r is not None]].reset_index(drop=True)
    skipped["reason"] = [r for r in reasons if r is not None]
    skipped["detail"] = [SKIP_REASONS[r] for r in skipped["reason"]]
    return AlleleWindows(_encode(ref_raw, keep, width), _encode(alt_raw, keep, width), kept, skipped)


def _encode(raw: dict[int, bytes], keep: list[int], width: int) -> np.ndarray:
    if not keep:
        return np.zeros((0, width, 4), dtype=np.uint8)
    codes = np.frombuffer(b"".join(raw[i] for i in keep), dtype=np.uint8).reshape(len(keep), width)
    return onehot.encode_bytes(codes)


def _check_build(reasons: list[str | None], shifted: dict[int, int], genome: Path, source: str) -> None:
    """Stop with one line when most REF alleles that could be checked disagree with the genome."""
    checked = sum(r in (None, "ref_mismatch") for r in reasons)
    wrong = sum(r == "ref_mismatch" for r in reasons)
    if checked == 0 or wrong <= MAX_MISMATCH * checked:
        return
    best = max(shifted, key=lambda k: shifted[k])
    if shifted[best] > wrong / 2:
        cause = (
            f"positions look off by one ({shifted[best]} match {abs(best)} base "
            f"{'earlier' if best < 0 else 'later'}): 0-based coordinates written where VCF POS is 1-based?"
        )
    else:
        cause = "wrong genome build? the VCF was likely called on another assembly than the dataset's genome"
    raise InputError(f"{source}: {wrong} of {checked} REF alleles do not match {genome}; {cause}")
