"""Benchmark: peaks -> one-hot with cislens vs tangermeme.io.extract_loci on the same peaks, and the
signal path: per-window targets (mean of a bigWig over the window) with cislens vs extract_loci's
per-base signal averaged per window.

Builds a random genome, narrowPeak file and bigWig track in a temporary directory, times both paths,
checks that they produce the same one-hot arrays and the same targets, and prints a table plus
machine-readable lines, the one-hot comparison last:
``prepare_signal: ratio=<peer_time/our_time> ours_windows_per_s=<..> peer_windows_per_s=<..>``
``prepare: ratio=<peer_time/our_time> ours_seq_per_s=<..> peer_seq_per_s=<..>``.

    .venv/bin/python benchmarks/prepare.py            # 100,000 peaks, ~1 minute on 2 cores
    .venv/bin/python benchmarks/prepare.py --full     # 500,000 peaks on a larger genome
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cislens.data import onehot
from cislens.data.genome_synth import _write_fasta
from cislens.data.peaks import read_peaks
from cislens.data.windows import center_windows, drop_off_chrom, fetch_onehot

WIDTH = 200


def make_inputs(tmp: Path, n_peaks: int, n_chroms: int, chrom_length: int, seed: int) -> tuple[Path, Path]:
    """A random genome (with a few N runs) and a narrowPeak file with summits, written directly."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 4, size=(n_chroms, chrom_length), dtype=np.uint8)
    names = [f"chr{i + 1}" for i in range(n_chroms)]
    fasta = tmp / "genome.fa"
    _write_fasta(fasta, names, codes)
    chrom = rng.integers(0, n_chroms, n_peaks)
    width = rng.integers(150, 600, n_peaks)
    start = rng.integers(1000, chrom_length - 1600, n_peaks)
    summit = (rng.random(n_peaks) * width).astype(np.int64)
    peaks = pd.DataFrame(
        {
            "chrom": np.asarray(names)[chrom],
            "start": start,
            "end": start + width,
            "name": [f"p{i}" for i in range(n_peaks)],
            "score": rng.integers(0, 1000, n_peaks),
            "strand": ".",
            "signal": np.round(rng.gamma(4, 5, n_peaks), 3),
            "p": -1,
            "q": -1,
            "summit": summit,
        }
    )
    path = tmp / "peaks.narrowPeak"
    with open(path, "w") as handle:
        handle.write("track type=narrowPeak name=bench\n")
        peaks.to_csv(handle, sep="\t", header=False, index=False, lineterminator="\n")
    return fasta, path


def make_track(tmp: Path, fasta: Path, seed: int) -> Path:
    """A bigWig over the whole genome: steps of 10-60 bases with gamma-distributed values."""
    import pyBigWig

    rng = np.random.default_rng(seed)
    sizes = [(line.split("\t")[0], int(line.split("\t")[1])) for line in open(f"{fasta}.fai")]
    path = tmp / "signal.bw"
    handle = pyBigWig.open(str(path), "w")
    handle.addHeader(sizes)
    for chrom, length in sizes:
        steps = rng.integers(10, 60, length // 10)
        ends = np.cumsum(steps)
        ends = ends[ends < length]
        starts = np.concatenate([[0], ends[:-1]])
        values = rng.gamma(1.5, 2.0, len(starts))
        handle.addEntries([chrom] * len(starts), starts.tolist(), ends=ends.tolist(), values=values.tolist())
    handle.close()
    return path


def ours_signal(track: Path, peaks_path: Path) -> np.ndarray:
    """Parse, centre on summit, then the window means of the track (cislens.data.signal)."""
    from cislens.data.signal import window_targets

    df = center_windows(read_peaks(peaks_path), WIDTH, "summit")
    return window_targets(track, df, "mean")


def peer_signal(track: Path, fasta: Path, peaks_path: Path) -> np.ndarray:
    from tangermeme.io import extract_loci

    _, y = extract_loci(
        str(peaks_path), str(fasta), signals=[str(track)], in_window=WIDTH, out_window=WIDTH,
        summits=True, n_jobs=2,
    )  # fmt: skip
    return y.numpy()[:, 0].mean(axis=1)


def ours(fasta: Path, peaks_path: Path) -> np.ndarray:
    """Parse, centre on summit, drop windows off chromosome ends, slice one-hot windows from the genome."""
    df = center_windows(read_peaks(peaks_path), WIDTH, "summit")
    sizes = {}
    with open(str(fasta) + ".fai") as handle:
        for line in handle:
            name, length = line.split("\t")[:2]
            sizes[name] = int(length)
    df, _ = drop_off_chrom(df, sizes)
    return fetch_onehot(fasta, df)


def peer(fasta: Path, peaks_path: Path) -> np.ndarray:
    from tangermeme.io import extract_loci

    x = extract_loci(str(peaks_path), str(fasta), in_window=WIDTH, summits=True, n_jobs=2)
    return x.numpy()


def timed(fn, *args) -> tuple[float, np.ndarray]:
    t0 = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t0, out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--full", action="store_true", help="500,000 peaks on a 200-Mb genome")
    parser.add_argument("--peaks", type=int, default=None, help="override the number of peaks")
    parser.add_argument("--repeats", type=int, default=3, help="best-of repeats per method")
    args = parser.parse_args()
    n_peaks = args.peaks or (500_000 if args.full else 100_000)
    n_chroms, chrom_length = (10, 20_000_000) if args.full else (8, 4_000_000)
    with tempfile.TemporaryDirectory(prefix="cislens_bench_") as tmp:
        t0 = time.perf_counter()
        fasta, peaks_path = make_inputs(Path(tmp), n_peaks, n_chroms, chrom_length, seed=0)
        print(
            f"inputs: {n_peaks:,} peaks, {n_chroms} x {chrom_length:,} bp genome "
            f"({time.perf_counter() - t0:.1f} s to write)"
        )
        peer(fasta, peaks_path)  # warm-up: numba compilation and page cache, not timed
        ours(fasta, peaks_path)
        t_ours, x_ours = min(
            (timed(ours, fasta, peaks_path) for _ in range(args.repeats)), key=lambda r: r[0]
        )
        t_peer, x_peer = min(
            (timed(peer, fasta, peaks_path) for _ in range(args.repeats)), key=lambda r: r[0]
        )
        track = make_track(Path(tmp), fasta, seed=1)
        peer_signal(track, fasta, peaks_path)  # warm-up
        s_ours, y_ours = min(
            (timed(ours_signal, track, peaks_path) for _ in range(args.repeats)), key=lambda r: r[0]
        )
        s_peer, y_peer = min(
            (timed(peer_signal, track, fasta, peaks_path) for _ in range(args.repeats)), key=lambda r: r[0]
        )
    if y_ours.shape != y_peer.shape or not np.allclose(y_ours, y_peer, rtol=1e-4, atol=1e-4):
        raise SystemExit(f"window targets differ: ours {y_ours.shape}, tangermeme {y_peer.shape}")
    x_peer = onehot.to_channels_last(x_peer)
    if x_ours.shape != x_peer.shape or not np.array_equal(x_ours, x_peer.astype(np.uint8)):
        raise SystemExit(f"one-hot arrays differ: ours {x_ours.shape}, tangermeme {x_peer.shape}")
    n = len(x_ours)
    print(f"{'method':<28}{'seconds':>10}{'sequences/s':>14}")
    print(f"{'cislens (ours)':<28}{t_ours:>10.3f}{n / t_ours:>14,.0f}")
    print(f"{'tangermeme.extract_loci':<28}{t_peer:>10.3f}{n / t_peer:>14,.0f}")
    print(f"{'cislens signal targets':<28}{s_ours:>10.3f}{len(y_ours) / s_ours:>14,.0f}")
    print(f"{'tangermeme signals, mean':<28}{s_peer:>10.3f}{len(y_peer) / s_peer:>14,.0f}")
    print(f"arrays agree: {n:,} sequences x {WIDTH} bp; {len(y_ours):,} window means of the track")
    print(
        f"prepare_signal: ratio={s_peer / s_ours:.2f} ours_windows_per_s={len(y_ours) / s_ours:.0f} "
        f"peer_windows_per_s={len(y_peer) / s_peer:.0f}"
    )
    print(
        f"prepare: ratio={t_peer / t_ours:.2f} ours_seq_per_s={n / t_ours:.0f} "
        f"peer_seq_per_s={n / t_peer:.0f}"
    )


if __name__ == "__main__":
    main()
