"""A synthetic genome with planted motif sites and matching narrowPeak files: ground truth for the
whole peaks pipeline (every planted base is known, so attributions can be scored exactly).

Files written (atomically, bit-identical for a seed): ``genome.fa`` + ``genome.fa.fai``,
``peaks/{tf}.narrowPeak`` (track line, 10 columns, summit = centre of the peak's first site of that TF)
and ``planted.bed`` (chrom, start, end, tf, score = log2-odds of the sampled instance, strand), and
``variants.vcf``: truth for the variant-effect stage (:func:`make_truth_vcf`), SNVs and indels at
planted motif cores (INFO TRUTH=disrupting) and at random positions away from every site (neutral), and
``signal.bw``: a track made from the planted sites with a known amplitude per TF (:func:`write_signal`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .. import schema
from ..io import atomic_open

_LETTERS = np.frombuffer(b"ACGT", dtype=np.uint8)
_LINE = 60


def _sample_instance(ppm: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Base codes drawn column by column from a (W, 4) PPM."""
    cum = np.cumsum(ppm / ppm.sum(axis=1, keepdims=True), axis=1)
    draws = rng.random(len(ppm))
    return np.minimum((draws[:, None] > cum).sum(axis=1), 3).astype(np.uint8)


def _place_peaks(
    rng: np.random.Generator, widths: np.ndarray, length: int, margin: int, gap: int
) -> np.ndarray:
    """Non-overlapping starts for peaks of ``widths`` (in the given order) on one chromosome."""
    k = len(widths)
    free = length - 2 * margin - int(widths.sum()) - gap * max(k - 1, 0)
    if free < 0:
        raise ValueError(f"{k} peaks do not fit on a {length}-bp chromosome; raise chrom_length or n_chroms")
    extra = np.sort(rng.integers(0, free + 1, size=k))
    before = np.concatenate([[0], np.cumsum(widths)[:-1]])
    return margin + extra + before + gap * np.arange(k)


def _free_spot(
    rng: np.random.Generator, lo: int, hi: int, width: int, taken: list[tuple[int, int]], tries: int = 50
) -> int | None:
    """A start in [lo, hi] for a site of ``width`` that overlaps no site in ``taken``."""
    for _ in range(tries):
        s = int(rng.integers(lo, hi + 1))
        if all(s + width <= a or s >= b for a, b in taken):
            return s
    return None


def make_synthetic_genome(
    outdir: str | os.PathLike,
    motifs: dict[str, np.ndarray],
    *,
    n_chroms: int = 6,
    chrom_length: int = 200_000,
    gc: float = 0.41,
    peaks_per_tf: int = 300,
    sites_per_peak: tuple[int, int] = (1, 3),
    peak_width: tuple[int, int] = (150, 400),
    seed: int = 0,
    chrom_prefix: str = "chr",
    co_occurrence: float = 0.2,
    signal: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the synthetic genome, per-TF peaks and planted sites; return their paths.

    Each TF gets ``peaks_per_tf`` peaks of its own (1..k sites of its motif, random strand, the first
    within 10 bp of the peak centre). With probability ``co_occurrence`` a peak also holds one site of
    another TF and is listed in that TF's file too, which is where multi-task labels come from.
    """
    outdir = Path(outdir)
    tfs = list(motifs)
    if not tfs:
        raise ValueError("need at least one motif")
    ppms = {tf: np.asarray(motifs[tf], dtype=np.float64) for tf in tfs}
    max_w = max(len(p) for p in ppms.values())
    if max_w > peak_width[0]:
        raise ValueError(f"motifs up to {max_w} bp do not fit in peaks of {peak_width[0]} bp")
    rng = np.random.default_rng(seed)
    probs = np.array([(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2])
    genome = rng.choice(4, size=(n_chroms, chrom_length), p=probs).astype(np.uint8)
    chroms = [f"{chrom_prefix}{i + 1}" for i in range(n_chroms)]

    n_peaks = peaks_per_tf * len(tfs)
    widths = rng.integers(peak_width[0], peak_width[1] + 1, size=n_peaks)
    primary = rng.permutation(np.arange(n_peaks) % len(tfs))
    chrom_of = rng.permutation(np.arange(n_peaks) % n_chroms)
    margin = min(1000, chrom_length // 20)
    starts = np.zeros(n_peaks, dtype=np.int64)
    for c in range(n_chroms):
        rows = np.flatnonzero(chrom_of == c)
        starts[rows] = _place_peaks(rng, widths[rows], chrom_length, margin, gap=20)

    order = np.lexsort((starts, chrom_of))
    peaks: dict[str, list[tuple[int, int, int, int]]] = {tf: [] for tf in tfs}  # chrom, start, end, summit
    planted: list[tuple[int, int, int, str, float, str]] = []
    for p in order.tolist():
        c, start, width = int(chrom_of[p]), int(starts[p]), int(widths[p])
        end = start + width
        taken: list[tuple[int, int]] = []
        members = [tfs[primary[p]]]
        n_sites = [int(rng.integers(sites_per_peak[0], sites_per_peak[1] + 1))]
        if len(tfs) > 1 and rng.random() < co_occurrence:
            others = [tf for tf in tfs if tf != members[0]]
            members.append(others[int(rng.integers(len(others)))])
            n_sites.append(1)
        for tf, count in zip(members, n_sites, strict=True):
            w = len(ppms[tf])
            summit = None
            for j in range(count):
                if tf == members[0] and j == 0:
                    centre = start + width // 2 + int(rng.integers(-10, 11))
                    lo = max(start, centre - w // 2)
                    s = _free_spot(rng, lo, min(end - w, lo), w, taken)
                else:
                    s = _free_spot(rng, start, end - w, w, taken)
                if s is None:
                    continue
                strand = "-" if rng.random() < 0.5 else "+"
                ppm = ppms[tf][::-1, ::-1] if strand == "-" else ppms[tf]
                codes = _sample_instance(ppm, rng)
                genome[c, s : s + w] = codes
                score = float(np.log2(np.maximum(ppm[np.arange(w), codes], 1e-9) / 0.25).sum())
                planted.append((c, s, s + w, tf, score, strand))
                taken.append((s, s + w))
                if summit is None:
                    summit = s + w // 2 - start
            if summit is not None:
                peaks[tf].append((c, start, end, summit))

    genome_path = outdir / "genome.fa"
    _write_fasta(genome_path, chroms, genome)
    peak_paths = {}
    for tf in tfs:
        peak_paths[tf] = str(outdir / "peaks" / f"{tf}.narrowPeak")
        _write_narrowpeak(Path(peak_paths[tf]), tf, chroms, sorted(peaks[tf]), rng)
    planted_path = outdir / "planted.bed"
    with atomic_open(planted_path, "w", newline="\n") as handle:
        for c, s, e, tf, score, strand in sorted(planted, key=lambda r: (r[0], r[1])):
            handle.write(f"{chroms[c]}\t{s}\t{e}\t{tf}\t{score:.3f}\t{strand}\n")
    vcf_path = outdir / "variants.vcf"
    make_truth_vcf(genome_path, planted_path, ppms, vcf_path, seed=seed)
    signal_path = outdir / "signal.bw"
    sites = [(chroms[c], s, e, tf) for c, s, e, tf, _, _ in sorted(planted, key=lambda r: (r[0], r[1]))]
    options = {**schema.defaults("definitions", "synthetic_genome", "signal"), **(signal or {})}
    write_signal(signal_path, {name: chrom_length for name in chroms}, sites, tfs, seed=seed, **options)
    return {
        "genome": str(genome_path),
        "peaks": peak_paths,
        "planted": str(planted_path),
        "vcf": str(vcf_path),
        "signal": str(signal_path),
    }


def site_amplitudes(tfs: list[str], amplitudes: dict[str, float] | None = None) -> dict[str, float]:
    """Signal each planted site of a TF adds: the given ones, else 1, 2, ... in the TFs' order."""
    given = dict(amplitudes or {})
    return {tf: float(given.get(tf, k + 1)) for k, tf in enumerate(tfs)}


def write_signal(
    path: str | os.PathLike,
    sizes: dict[str, int],
    sites: list[tuple[str, int, int, str]],
    tfs: list[str],
    *,
    footprint: int,
    background: float,
    noise: float,
    seed: int,
    amplitudes: dict[str, float] | None = None,
) -> dict[str, float]:
    """A bigWig whose signal is a known function of the planted sites (settings: the config schema's
    ``synthetic_genome.signal``): ``background`` everywhere, plus,
    over ``footprint`` bases either side of each site's centre, its TF's amplitude times
    max(0, 1 + noise x N(0, 1)) (additive where footprints overlap). Ground truth for regression: a
    model's effect for a motif should rank the TFs as their amplitudes do. Returns the amplitudes."""
    from .bigwig import Intervals, write_bigwig

    scale = site_amplitudes(tfs, amplitudes)
    rng = np.random.default_rng([seed, 0x5167])  # its own stream: the genome, peaks and VCF are unchanged
    tracks = {chrom: np.full(size, background, dtype=np.float64) for chrom, size in sizes.items()}
    for chrom, start, end, tf in sites:
        centre = (start + end) // 2
        lo, hi = max(0, centre - footprint), min(sizes[chrom], centre + footprint)
        tracks[chrom][lo:hi] += scale[tf] * max(0.0, 1.0 + noise * float(rng.standard_normal()))
    parts = []  # runs of equal (float32) value, one interval each
    for chrom, values in tracks.items():
        values = values.astype(np.float32)
        change = np.flatnonzero(np.diff(values)) + 1
        starts = np.concatenate([[0], change]).astype(np.int64)
        ends = np.concatenate([change, [len(values)]]).astype(np.int64)
        parts.append((np.full(len(starts), chrom), starts, ends, values[starts]))
    write_bigwig(path, sizes, Intervals(*(np.concatenate(column) for column in zip(*parts, strict=True))))
    return scale


TRUTH_INFO = [
    (
        "TRUTH",
        "1",
        "String",
        "disrupting (at a planted motif core) or neutral (away from every planted site)",
    ),
    ("TF", "1", "String", "the planted motif a disrupting variant hits"),
    ("KIND", "1", "String", "snv, deletion or insertion"),
]
_KINDS_CYCLE = ("snv", "deletion", "insertion")


def make_truth_vcf(
    genome_path: str | os.PathLike,
    planted_path: str | os.PathLike,
    motifs: dict[str, np.ndarray],
    out_path: str | os.PathLike,
    *,
    seed: int = 0,
    n_disrupting: int = 150,
    n_neutral: int = 150,
    indel: int = 5,
    isolation: int = 100,
) -> str:
    """A VCF of variants with known effect on the synthetic genome (its own random stream, so the
    genome and peaks stay bit-identical for a seed).

    Disrupting: at planted sites with no other site within ``isolation`` bp, cycling through an SNV at
    the motif's most informative column (to the base the motif likes least), a deletion of ``indel``
    bases over its most informative stretch, and an insertion of ``indel`` random bases in its middle.
    Neutral: the same kinds at random positions at least ``isolation`` bp from every planted site.
    """
    from ..vcf import write_vcf
    from .windows import _read_fai, read_chromosome

    genome_path = Path(genome_path)
    entries = _read_fai(genome_path)
    seqs = {c: read_chromosome(genome_path, c, entries) for c in entries}
    sites = []
    with open(planted_path) as handle:
        for line in handle:
            chrom, start, end, tf, _score, strand = line.rstrip("\n").split("\t")[:6]
            sites.append((chrom, int(start), int(end), tf, strand))
    rng = np.random.default_rng([seed, 17])
    centres: dict[str, np.ndarray] = {
        c: np.sort(np.array([(s + e) // 2 for ch, s, e, *_ in sites if ch == c], dtype=np.int64))
        for c in entries
    }

    def near(chrom: str, pos: int, exclude_self: bool) -> int:
        cs = centres[chrom]
        lo, hi = np.searchsorted(cs, [pos - isolation, pos + isolation + 1])
        return int(hi - lo) - int(exclude_self)

    isolated = [site for site in sites if near(site[0], (site[1] + site[2]) // 2, True) == 0]
    chosen = rng.permutation(len(isolated))[:n_disrupting]
    records = []
    for k, i in enumerate(chosen.tolist()):
        chrom, s, e, tf, strand = isolated[i]
        ppm = np.asarray(motifs[tf], dtype=np.float64) if tf in motifs else np.full((e - s, 4), 0.25)
        ppm = ppm[::-1, ::-1] if strand == "-" else ppm
        ppm = ppm / ppm.sum(axis=1, keepdims=True)
        ic = 2 + (ppm * np.log2(np.maximum(ppm, 1e-9))).sum(axis=1)
        kind = _KINDS_CYCLE[k % 3]
        seq = seqs[chrom]
        if kind == "snv":
            col = int(ic.argmax())
            ref = chr(seq[s + col])
            ppm_col = ppm[col].copy()
            ppm_col["ACGT".index(ref)] = np.inf
            pos, alleles = s + col + 1, (ref, "ACGT"[int(ppm_col.argmin())])
        elif kind == "deletion":
            n = min(indel, e - s - 1)
            j = int(np.convolve(ic, np.ones(n), "valid").argmax())
            anchor = s + j - 1
            pos, alleles = anchor + 1, (seq[anchor : s + j + n].decode(), chr(seq[anchor]))
        else:
            anchor = s + (e - s) // 2 - 1
            extra = "".join("ACGT"[b] for b in rng.integers(0, 4, indel))
            pos, alleles = anchor + 1, (chr(seq[anchor]), chr(seq[anchor]) + extra)
        info = {"TRUTH": "disrupting", "TF": tf, "KIND": kind}
        records.append(
            {"chrom": chrom, "pos": pos, "id": f"{tf}_{kind}_{k}", "alleles": alleles, "info": info}
        )
    names = list(entries)
    sizes = np.array([entries[c][0] for c in names], dtype=np.int64)
    margin = isolation + 2 * indel
    k = 0
    while k < n_neutral:
        chrom = names[int(rng.choice(len(names), p=sizes / sizes.sum()))]
        p0 = int(rng.integers(margin, entries[chrom][0] - margin))
        if near(chrom, p0, False):
            continue
        seq = seqs[chrom]
        kind = _KINDS_CYCLE[k % 3]
        ref = chr(seq[p0])
        if kind == "snv":
            alleles = (ref, "ACGT".replace(ref, "")[int(rng.integers(0, 3))])
        elif kind == "deletion":
            alleles = (seq[p0 : p0 + indel + 1].decode(), ref)
        else:
            alleles = (ref, ref + "".join("ACGT"[b] for b in rng.integers(0, 4, indel)))
        info = {"TRUTH": "neutral", "KIND": kind}
        records.append(
            {"chrom": chrom, "pos": p0 + 1, "id": f"neutral_{kind}_{k}", "alleles": alleles, "info": info}
        )
        k += 1
    order = {c: i for i, c in enumerate(names)}
    records.sort(key=lambda r: (order[r["chrom"]], r["pos"]))
    for r in records:
        r["ref"], r["alts"] = r["alleles"][0], r["alleles"][1:]
    write_vcf(
        out_path, records, {c: entries[c][0] for c in names}, TRUTH_INFO, source="cislens synthetic genome"
    )
    return str(out_path)


def _write_fasta(path: Path, names: list[str], codes: np.ndarray) -> None:
    """FASTA with 60-bp lines plus its .fai, both written atomically (index computed, not re-read)."""
    fai_lines = []
    offset = 0
    with atomic_open(path, "wb") as handle:
        for name, row in zip(names, codes, strict=True):
            header = f">{name}\n".encode()
            seq = _LETTERS[row].tobytes()
            body = b"\n".join(seq[i : i + _LINE] for i in range(0, len(seq), _LINE)) + b"\n"
            handle.write(header + body)
            offset += len(header)
            fai_lines.append(f"{name}\t{len(seq)}\t{offset}\t{_LINE}\t{_LINE + 1}\n")
            offset += len(body)
    with atomic_open(path.with_name(path.name + ".fai"), "w", newline="\n") as handle:
        handle.writelines(fai_lines)


def _write_narrowpeak(
    path: Path, tf: str, chroms: list[str], rows: list[tuple[int, int, int, int]], rng: np.random.Generator
) -> None:
    """narrowPeak with plausible score/signal/p/q columns (signal drives the others monotonically)."""
    signal = rng.gamma(shape=4.0, scale=5.0, size=len(rows)) + 5.0
    with atomic_open(path, "w", newline="\n") as handle:
        handle.write(f'track type=narrowPeak name="{tf}" description="cislens synthetic peaks for {tf}"\n')
        for k, ((c, start, end, summit), sig) in enumerate(zip(rows, signal.tolist(), strict=True)):
            p_value = sig * 1.5
            q_value = max(p_value - 2.0, 0.0)
            score = min(1000, int(sig * 20))
            handle.write(
                f"{chroms[c]}\t{start}\t{end}\t{tf}_peak{k + 1}\t{score}\t.\t{sig:.5f}\t"
                f"{p_value:.5f}\t{q_value:.5f}\t{summit}\n"
            )
