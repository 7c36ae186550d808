"""Synthetic genome with planted sites: determinism and exact ground-truth recovery."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyfaidx

from cislens.data import onehot
from cislens.data.genome_synth import make_synthetic_genome
from cislens.data.peaks import read_peaks
from cislens.data.peaks_dataset import build_peaks_dataset, read_planted


def _motifs() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    out = {}
    for name, width in (("TFA", 8), ("TFB", 11)):
        ppm = np.full((width, 4), 0.03)
        ppm[np.arange(width), rng.integers(0, 4, width)] = 0.91
        out[name] = ppm
    return out


def _make(outdir: Path) -> dict:
    return make_synthetic_genome(outdir, _motifs(), n_chroms=3, chrom_length=40_000, peaks_per_tf=40, seed=5)


def test_files_are_bit_identical_and_valid(tmp_path: Path) -> None:
    one = _make(tmp_path / "a")
    _make(tmp_path / "b")
    files = ["genome.fa", "genome.fa.fai", "planted.bed", "peaks/TFA.narrowPeak", "peaks/TFB.narrowPeak"]
    for rel in files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    assert (tmp_path / "a" / "peaks" / "TFA.narrowPeak").read_text().startswith("track type=narrowPeak")
    fasta = pyfaidx.Fasta(one["genome"])  # our .fai must agree with the FASTA
    planted = read_planted(one["planted"])
    for row in planted.head(20).itertuples():
        site = str(fasta[row.chrom][row.start : row.end])
        assert len(site) == row.end - row.start and set(site) <= set("ACGT")
    for tf, path in one["peaks"].items():
        df = read_peaks(path)
        assert len(df) >= 40 and (df["summit"] >= 0).all()
        for _, chrom_df in df.sort_values(["chrom", "start"]).groupby("chrom"):
            assert (chrom_df["start"].to_numpy()[1:] >= chrom_df["end"].to_numpy()[:-1]).all()  # no overlap
        # every peak holds a planted site of its TF whose centre is the summit
        centres = set(
            zip(
                planted[planted.motif == tf].chrom,
                planted[planted.motif == tf].start
                + (planted[planted.motif == tf].end - planted[planted.motif == tf].start) // 2,
                strict=True,
            )
        )
        assert all((c, s + m) in centres for c, s, m in zip(df.chrom, df.start, df.summit, strict=True))


def _info(truth: np.ndarray) -> np.ndarray:
    p = np.clip(truth, 1e-9, 1)
    return 2 + (truth * np.log2(p)).sum(axis=-1)


def test_truth_recovers_every_planted_site(tmp_path: Path) -> None:
    out = _make(tmp_path / "g")
    motifs = _motifs()
    ds = build_peaks_dataset(
        out["peaks"],
        out["genome"],
        str(tmp_path / "work"),
        width=120,
        negatives="gc_matched",
        reverse_complement=True,
        truth=(out["planted"], motifs),
    )
    planted = read_planted(out["planted"])
    assert ds.summary["multi_label_windows"] > 0
    checked_minus = checked_sites = 0
    for split in ds.splits.values():
        assert split.truth.shape == split.x.shape and split.truth.dtype == np.float32
        for i in range(len(split)):
            truth, x = split.truth[i], split.x[i]
            w0, w1, minus = split.start[i], split.end[i], split.strand[i] == "-"
            sites = planted[(planted.chrom == split.chrom[i]) & (planted.start < w1) & (planted.end > w0)]
            expected = np.zeros(w1 - w0, dtype=bool)
            fwd_truth = truth[::-1, ::-1] if minus else truth
            fwd_x = x[::-1, ::-1] if minus else x
            for site in sites.itertuples():
                a, b = max(site.start, w0) - w0, min(site.end, w1) - w0
                expected[a:b] = True
                ppm = motifs[site.motif][::-1, ::-1] if site.strand == "-" else motifs[site.motif]
                cols = ppm[a - (site.start - w0) : b - (site.start - w0)]
                assert np.allclose(fwd_truth[a:b], cols)
                # the sequence carries the planted instance: mostly the consensus base
                agree = (fwd_x[a:b].argmax(-1) == cols.argmax(-1)).mean()
                assert agree >= 0.5
                checked_sites += 1
                checked_minus += int(minus)
            if split.name[i].startswith("bg:"):
                assert not expected.any()
            info = _info(fwd_truth)
            assert np.array_equal(info > 1e-6, expected)
    assert checked_sites > 100 and checked_minus > 50


def test_planted_sites_match_truth_frame(tmp_path: Path) -> None:
    out = _make(tmp_path / "g")
    planted = read_planted(out["planted"])
    widths = {"TFA": 8, "TFB": 11}
    assert (planted.end - planted.start == planted.motif.map(widths)).all()
    assert set(planted.strand) == {"+", "-"}
    assert isinstance(planted, pd.DataFrame) and len(planted) >= 80
    seq = onehot.one_hot(str(pyfaidx.Fasta(out["genome"])["chr1"][:1000]))
    gc = onehot.gc_content(seq)[0]
    assert 0.3 < gc < 0.55
