"""Benchmark: the workflow's ``modisco`` step vs calling modisco-lite directly, plus the ensembling cost.

Inputs are built without training: N one-hot sequences of 200 bp (1,000; 4,000 with ``--full``; uniform
random bases, seed 0) with three motifs planted on either strand, AP-1 ``TGACTCA`` and ETS ``CCGGAAGT``
contributing positively and SRF's CArG box ``CCATATATGG`` negatively, each in about half the sequences at
its own non-overlapping slot. Their hypothetical contributions (N, 200, 4), float32, look like a
corrected-gradient map: at a planted base the motif's base gets +w and the three others -w/3 (w drawn per
instance around the motif's weight), and every position carries small Gaussian noise centred over A, C,
G, T. Both sides get the same arrays and the workflow's default settings
(``cislens.schema.with_defaults("modisco", {})``):

* theirs: ``modiscolite.tfmodisco.TFMoDISco(one_hot=x, hypothetical_contribs=hyp, **keywords)`` with the
  same values under modisco-lite's names (``cislens.modisco.discover.MODISCO_KEYWORDS``), then
  ``modiscolite.io.save_hdf5`` (what a user calling modisco-lite directly does).
* ours: the rule's modisco step on the same arrays, ``discover.discover`` (input checks, crop, the extra
  seqlet count, TFMoDISco), ``discover.save`` (atomic, with our format tag), ``discover.read`` and
  ``discover.seqlet_table``. Tomtom, the MEME file and logos are left out: modisco-lite's core call does
  none of them (``benchmarks/tomtom.py`` times Tomtom).

Each side runs in its own subprocess confined to the same cores (``cislens.runtime.pin_cores``) with the
same numba thread count (``NUMBA_NUM_THREADS``), in interleaved rounds (ours, theirs, ours, ...). Every
process first makes one call on the first 400 sequences (the warm-up, left out of the ratio: imports,
numba's cache in ``NUMBA_CACHE_DIR``, the Leiden workers), then ``--repeats`` full calls; a side's time
is its best call over all rounds. Both sides must give the same patterns with the same seqlets (example,
start, end, strand), asserted. The ratio is their time / ours (1 means no overhead; 0.91 is 10% overhead). The
first calls are compared too (best over the processes): a rule job runs one call in a fresh process, so
what the first call compiles or loads (numba kernels, modisco-lite's compile-ahead children) counts there.

Ensembling: ``cislens.attribution.hypothetical.ensemble`` averages hypothetical contributions over a
variant's trials (and both strands when asked) before discovery. It is timed on the same N sequences with
K random-weight CNN-25 models (``build_model("cnn", 200, 3, first_pool=25)``, the forward and backward
cost the same trained or not), source ``saliency`` (the corrected gradient), task 0: K=1, K=3, and K=3 with
both strands. Each model is fresh when its call starts (its graph is traced inside the call, as when the
rule loads a trial's model; building it is not timed); one throwaway model warms TensorFlow up first.
TensorFlow's pools are set as a workflow job sets them (``limit_threads``). Other sources cost more per
sequence (integrated gradients: ~``steps`` gradients; DeepSHAP: one per reference; ISM: 3L forwards).

    .venv/bin/python benchmarks/modisco.py             # ~2 min on 2 cores
    .venv/bin/python benchmarks/modisco.py --threads 1 # shared machine
    .venv/bin/python benchmarks/modisco.py --full      # 4x the sequences, 3 rounds

The last line is ``modisco: ratio=<their time / ours> ensemble_3_trials=<seconds per 1,000 sequences
for three trials' saliency maps, one strand>``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from cislens.runtime import allowed_cores

LENGTH, N_TASKS, FIRST_POOL, TASK = 200, 3, 25, 0
N_SEQUENCES = (1000, 4000)  # default, --full
N_WARM = 400  # sequences of the untimed first call (enough seqlets for both metaclusters)
# consensus, weight (sign: metacluster), fraction of sequences carrying it
MOTIFS = (("TGACTCA", 1.0, 0.5), ("CCGGAAGT", 0.8, 0.5), ("CCATATATGG", -0.7, 0.5))
SLOT = LENGTH // len(MOTIFS)  # each motif has its own slot of the sequence, so instances never overlap
NOISE = 0.05
ENSEMBLES = (("K=1", 1, False), ("K=3", 3, False), ("K=3, both strands", 3, True))


# ------------------------------------------------------------------------------------------- inputs
def make_inputs(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, int]:
    """One-hot (N, L, 4) and hypothetical contributions (N, L, 4), float32, and the instances planted."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, 4, (n, LENGTH))
    hyp = rng.normal(0.0, NOISE, (n, LENGTH, 4))
    planted = 0
    for m, (motif, weight, frac) in enumerate(MOTIFS):
        forward = np.array(["ACGT".index(b) for b in motif])
        width = len(forward)
        for i in np.flatnonzero(rng.random(n) < frac):
            bases = 3 - forward[::-1] if rng.random() < 0.5 else forward  # the other strand's reading
            start = m * SLOT + int(rng.integers(0, SLOT - width + 1))
            cols = np.arange(start, start + width)
            idx[i, cols] = bases
            w = weight * rng.lognormal(0.0, 0.3) * (0.6 + 0.4 * rng.random(width))  # per-base strength
            hyp[i, cols] -= (w / 3)[:, None]
            hyp[i, cols, bases] += w + w / 3
            planted += 1
    hyp -= hyp.mean(axis=-1, keepdims=True)  # on the one-hot simplex, like corrected gradients
    x = np.eye(4, dtype=np.float32)[idx]
    return x, hyp.astype(np.float32), planted


def settings() -> dict:
    from cislens.schema import with_defaults

    return with_defaults("modisco", {})


# ------------------------------------------------------------------------------------------ workers
def _pin(threads: int) -> None:
    from cislens.runtime import pin_cores

    pin_cores(threads)


def _timed(fn, workdir: Path, repeats: int) -> tuple[float, list[float], object]:
    """A warm-up call on ``N_WARM`` sequences (timed, left out of the ratio), then ``repeats`` full calls."""
    x, hyp = np.load(workdir / "x.npy"), np.load(workdir / "hyp.npy")
    t0 = time.perf_counter()
    fn(x[:N_WARM], hyp[:N_WARM], workdir / "warm.h5")
    warm, times, out = time.perf_counter() - t0, [], None
    for r in range(repeats):
        path = workdir / f"run{r}.h5"
        t0 = time.perf_counter()
        out = fn(x, hyp, path)
        times.append(time.perf_counter() - t0)
    return warm, times, out


def _rows(patterns: list[tuple[str, np.ndarray]]) -> list[dict]:
    """Patterns as (name, sorted seqlet rows: example, start, end, reverse strand), JSON-ready."""
    return [{"name": name, "seqlets": np.unique(rows, axis=0).tolist()} for name, rows in patterns]


def worker_ours(workdir: Path, threads: int, repeats: int) -> dict:
    _pin(threads)
    from cislens.modisco import discover

    config = settings()

    def run(x: np.ndarray, hyp: np.ndarray, path: Path):
        found = discover.discover(x, hyp, config)
        discover.save(path, found.pos, found.neg, window_size=x.shape[1] - 2 * found.offset)
        patterns = discover.read(path)
        table = discover.seqlet_table(patterns, float(config["trim_threshold"]), found.offset)
        return found, table

    warm, times, (found, table) = _timed(run, workdir, repeats)
    patterns = [
        (name, group[["example_idx", "start", "end"]].assign(rc=group["strand"] == "-").to_numpy(np.int64))
        for name, group in table.groupby("pattern", sort=False)
    ]
    return {"warm": warm, "times": times, "n_called": found.n_called, "patterns": _rows(patterns)}


def worker_theirs(workdir: Path, threads: int, repeats: int) -> dict:
    _pin(threads)
    import modiscolite
    from modiscolite.tfmodisco import TFMoDISco

    from cislens.modisco.discover import MODISCO_KEYWORDS

    config = settings()
    keywords = {theirs: config[ours] for ours, theirs in MODISCO_KEYWORDS.items()}

    def run(x: np.ndarray, hyp: np.ndarray, path: Path):
        pos, neg = TFMoDISco(one_hot=x, hypothetical_contribs=hyp, verbose=False, **keywords)
        modiscolite.io.save_hdf5(str(path), pos, neg, x.shape[1])
        return pos, neg

    warm, times, (pos, neg) = _timed(run, workdir, repeats)
    patterns = []
    for group, sets in (("pos_patterns", pos), ("neg_patterns", neg)):
        for k, pattern in enumerate(sets or []):
            rows = [(s.example_idx, s.start, s.end, int(s.is_revcomp)) for s in pattern.seqlets]
            patterns.append((f"{group}.pattern_{k}", np.array(rows, dtype=np.int64).reshape(-1, 4)))
    return {"warm": warm, "times": times, "patterns": _rows(patterns)}


def worker_ensemble(workdir: Path, threads: int, repeats: int) -> dict:
    from cislens.runtime import limit_threads

    _pin(threads)
    limit_threads(threads)
    import keras

    from cislens.attribution.hypothetical import ensemble, hypothetical_contributions
    from cislens.models.zoo import build_model

    x = np.load(workdir / "x.npy")

    def compute(model, xs: np.ndarray, task) -> np.ndarray:
        return hypothetical_contributions(model, xs, "saliency", task=task, progress=False)

    def models(k: int, seed: int) -> list:
        out = []
        for j in range(k):
            keras.utils.set_random_seed(seed + j)
            out.append(build_model("cnn", LENGTH, N_TASKS, first_pool=FIRST_POOL))
        return out

    ensemble(compute, models(1, 999), x, TASK, both_strands=True)  # warm-up (all batch shapes), throwaway
    result: dict[str, list[float]] = {}
    seed = 0
    for label, k, both in ENSEMBLES:
        result[label] = []
        for _ in range(repeats):
            fresh = models(k, seed)  # untraced models, as the rule loads them
            seed += k
            t0 = time.perf_counter()
            hyp = ensemble(compute, fresh, x, TASK, both_strands=both)
            result[label].append(time.perf_counter() - t0)
            assert hyp.shape == x.shape and np.isfinite(hyp).all()
    return result


# ------------------------------------------------------------------------------------------- driver
def run_worker(kind: str, args: argparse.Namespace, workdir: Path) -> dict:
    env = dict(
        os.environ,
        TF_CPP_MIN_LOG_LEVEL="2",
        CUDA_VISIBLE_DEVICES="",
        NUMBA_NUM_THREADS=str(args.threads),
    )
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", kind, "--workdir", str(workdir)]
    cmd += ["--threads", str(args.threads), "--repeats", str(args.repeats)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{kind} worker failed:\n{out.stderr[-3000:]}\n{out.stdout[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def check_same(ours: list[dict], theirs: list[dict]) -> int:
    """Same patterns, in the same order, with the same seqlets; returns the seqlets compared."""
    if [p["name"] for p in ours] != [p["name"] for p in theirs]:
        raise AssertionError(
            f"patterns differ: ours {[p['name'] for p in ours]}, theirs {[p['name'] for p in theirs]}"
        )
    for a, b in zip(ours, theirs, strict=True):
        if a["seqlets"] != b["seqlets"]:
            raise AssertionError(f"{a['name']}: seqlet coordinates differ")
    return sum(len(p["seqlets"]) for p in ours)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--full", action="store_true", help="4x the sequences, 3 rounds")
    parser.add_argument("--n", type=int, default=None, help="sequences (default 1000, --full 4000)")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 2, --full 3)")
    parser.add_argument("--repeats", type=int, default=1, help="timed full calls per process")
    parser.add_argument("--threads", type=int, default=len(allowed_cores()), help="threads for both")
    parser.add_argument("--no-ensemble", action="store_true", help="skip the ensembling timings")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        workers = {"ours": worker_ours, "theirs": worker_theirs, "ensemble": worker_ensemble}
        print(json.dumps(workers[args.worker](Path(args.workdir), args.threads, args.repeats)))
        return

    n = args.n or N_SEQUENCES[int(args.full)]
    rounds = args.rounds or (3 if args.full else 2)
    start = time.perf_counter()
    load = os.getloadavg()[0]
    if load > 0.5:
        print(f"warning: load average {load:.2f} before starting; other work on the cores skews the timings")
    with tempfile.TemporaryDirectory(prefix="cislens_modisco_bench_") as tmp:
        workdir = Path(tmp)
        x, hyp, planted = make_inputs(n)
        np.save(workdir / "x.npy", x)
        np.save(workdir / "hyp.npy", hyp)
        times: dict[str, list[float]] = {"ours": [], "theirs": []}
        warm: dict[str, list[float]] = {"ours": [], "theirs": []}
        results: dict[str, dict] = {}
        for _ in range(rounds):  # interleaved: background load hits both sides alike
            for kind in ("ours", "theirs"):
                results[kind] = run_worker(kind, args, workdir)
                times[kind] += results[kind]["times"]
                warm[kind].append(results[kind]["warm"])
        ens = {} if args.no_ensemble else run_worker("ensemble", args, workdir)
    n_seqlets = check_same(results["ours"]["patterns"], results["theirs"]["patterns"])
    best = {kind: min(t) for kind, t in times.items()}
    ratio = best["theirs"] / best["ours"]
    names = [p["name"].replace("_patterns.pattern_", "") for p in results["ours"]["patterns"]]
    print(
        f"{n} sequences x {LENGTH} bp, {planted} planted motif instances "
        f"({', '.join(m for m, _, _ in MOTIFS)}); {args.threads} thread(s); "
        f"best of {rounds} rounds x {args.repeats} call(s)"
    )
    print(
        f"same result on both sides: {len(names)} patterns ({', '.join(names)}), {n_seqlets} seqlets "
        f"(of {results['ours']['n_called']} called)"
    )
    print(f"{'step':<58}{'seconds':>9}{'seq/s':>9}{'1st call':>10}")
    labels = {
        "theirs": "theirs: TFMoDISco + save_hdf5",
        "ours": "ours: discover + save + read + seqlet_table",
    }
    for kind, label in labels.items():
        print(f"{label:<58}{best[kind]:>9.2f}{n / best[kind]:>9.0f}{min(warm[kind]):>10.2f}")
    print(f"overhead: {best['ours'] / best['theirs'] - 1:+.1%} (ratio {ratio:.3f})")
    cold = {kind: min(w) for kind, w in warm.items()}
    print(
        f"first call in a fresh process (what one rule job pays), {N_WARM} sequences: theirs "
        f"{cold['theirs']:.2f} s, ours {cold['ours']:.2f} s (ratio {cold['theirs'] / cold['ours']:.2f})"
    )
    per_1000 = float("nan")
    if ens:
        label = "ensemble (saliency, CNN-25, random weights)"
        print(f"{label:<58}{'seconds':>9}{'seq/s':>9}{'/modisco':>10}")
        for label, _, _ in ENSEMBLES:
            t = min(ens[label])
            print(f"{'  ' + label:<58}{t:>9.2f}{n / t:>9.0f}{t / best['ours']:>10.2f}")
        per_1000 = min(ens["K=3"]) / n * 1000
    print(
        f"(ratio = their time / ours; 1st call = a process's first call, on {N_WARM} sequences; "
        f"/modisco = ensembling time / our modisco step; "
        f"load average {load:.2f} before, {os.getloadavg()[0]:.2f} after; "
        f"{time.perf_counter() - start:.0f} s in all)"
    )
    print(f"modisco: ratio={ratio:.2f} ensemble_3_trials={per_1000:.2f}")


if __name__ == "__main__":
    main()
