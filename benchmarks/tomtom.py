"""Benchmark: cislens's filters -> Tomtom TSV step vs calling memelite's Tomtom directly.

512 filter PPMs (half noisy copies of JASPAR motifs, half random) are written as MEME and compared
with JASPAR 2024 CORE vertebrates. Ours: read both MEME files, ``run_tomtom`` (E < 0.1, q-values,
consensus strings), write Tomtom's TSV. Peer: ``memelite.io.read_meme`` on both files and
``memelite.tomtom`` on the matrices. Both use the same threads (``--jobs``, default every core); numba
is compiled before timing (on a busy machine ``--jobs 1`` gives steadier ratios). The runs alternate
(peer, ours, peer, ...); the ratio is that of the medians of ``--repeats`` runs (the best runs are
printed too), ``paired_overhead`` the median of each of our runs over the peer run just before it (the
two share the machine's state of the moment, so it varies less between invocations), and the kept
p-values are checked against memelite's matrix. Last line: ``tomtom: ratio=<median peer time / median
our time> overhead=<1 / ratio - 1> paired_overhead=<..> best_ratio=<..> ...``.

    .venv/bin/python benchmarks/tomtom.py
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from cislens.jaspar import load_jaspar
from cislens.meme import Motif, read_meme, write_meme
from cislens.motifs.tomtom import run_tomtom, write_tomtom_tsv


def make_filters(targets: list[Motif], n: int, seed: int) -> list[Motif]:
    """Filter-like PPMs: noisy windows of JASPAR motifs (with flanks) and random low-information PPMs."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        if i % 2 == 0:
            ppm = targets[rng.integers(len(targets))].ppm
            flank = rng.dirichlet(np.ones(4), size=(int(rng.integers(0, 4)), 1)).reshape(-1, 4)
            ppm = np.vstack([flank, ppm, flank])[:19]
            ppm = np.array([rng.dirichlet(col * 20 + 0.5) for col in ppm])
        else:
            ppm = rng.dirichlet(np.full(4, 0.8), size=int(rng.integers(8, 20)))
        out.append(Motif(f"filter{i}", f"filter{i}", ppm, 100))
    return out


def ours(filters_path: Path, db_path: Path, out_path: Path, n_jobs: int = -1) -> int:
    table = run_tomtom(
        read_meme(filters_path), read_meme(db_path), thresh=0.1, threshold_on="evalue", n_jobs=n_jobs
    )
    write_tomtom_tsv(out_path, table)
    return len(table)


def peer(filters_path: Path, db_path: Path, n_jobs: int = -1) -> np.ndarray:
    from memelite import tomtom
    from memelite.io import read_meme as mm_read

    queries = list(mm_read(str(filters_path)).values())
    targets = list(mm_read(str(db_path)).values())
    p = tomtom(queries, targets, n_jobs=n_jobs)[0]
    return p


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filters", type=int, default=512)
    parser.add_argument("--release", default="JASPAR2024")
    parser.add_argument("--repeats", type=int, default=9, help="alternating runs of each side")
    parser.add_argument("--jobs", type=int, default=-1, help="memelite threads for both (-1: all cores)")
    args = parser.parse_args()

    targets = load_jaspar(args.release, "CORE", "vertebrates")
    with tempfile.TemporaryDirectory(prefix="cislens_bench_tomtom_") as tmp:
        db_path, filters_path, out_path = Path(tmp, "db.meme"), Path(tmp, "filters.meme"), Path(tmp, "t.tsv")
        write_meme(db_path, targets)
        write_meme(filters_path, make_filters(targets, args.filters, seed=0))
        small = Path(tmp, "small.meme")
        write_meme(small, make_filters(targets, 4, seed=1))
        ours(small, db_path, out_path)  # compile numba once for both paths (same kernels)
        peer(small, db_path)

        t_ours, t_peer = [], []
        for _ in range(args.repeats):  # interleaved, so machine noise hits both
            start = time.perf_counter()
            p = peer(filters_path, db_path, args.jobs)
            t_peer.append(time.perf_counter() - start)
            start = time.perf_counter()
            kept = ours(filters_path, db_path, out_path, args.jobs)
            t_ours.append(time.perf_counter() - start)

        table = run_tomtom(read_meme(filters_path), read_meme(db_path), thresh=0.1)
        ids = {m.id: i for i, m in enumerate(targets)}
        rows = table["Query_ID"].str.removeprefix("filter").astype(int).to_numpy()
        cols = table["Target_ID"].map(ids).to_numpy()
        max_diff = float(np.abs(np.clip(p[rows, cols], 0, 1) - table["p-value"].to_numpy()).max())

    best_ours, best_peer = min(t_ours), min(t_peer)
    mid_ours, mid_peer = float(np.median(t_ours)), float(np.median(t_peer))
    print(f"{args.filters} filters x {len(targets)} {args.release} CORE vertebrates motifs")
    print(f"{'':10}{'median s':>10}{'best s':>10}  runs s")
    print(f"{'cislens':10}{mid_ours:10.3f}{best_ours:10.3f}  {[round(t, 3) for t in t_ours]}")
    print(f"{'memelite':10}{mid_peer:10.3f}{best_peer:10.3f}  {[round(t, 3) for t in t_peer]}")
    print(f"significant pairs (E < 0.1): {kept}; max |p ours - p memelite| over them: {max_diff:.2e}")
    paired = float(np.median(np.divide(t_ours, t_peer))) - 1  # each run over the peer run before it
    print(
        f"tomtom: ratio={mid_peer / mid_ours:.3f} overhead={mid_ours / mid_peer - 1:.3f} "
        f"paired_overhead={paired:.3f} best_ratio={best_peer / best_ours:.3f} "
        f"filters_per_s={args.filters / mid_ours:.1f}"
    )


if __name__ == "__main__":
    main()
