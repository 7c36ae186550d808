"""Benchmark: pseudo-likelihood Potts fit on CPU, cislens (compiled numba loops) vs the same fit in PyTorch.

Both sides fit the same weighted pseudo-likelihood with the same penalty (cislens' default convention:
lambda_h = 0.01 / Neff, lambda_J = 0.02 per effective sequence on sum_{i<j} |J_ij|^2), from the same start
(PSSM fields, zero couplings), with the same optimiser (GREMLIN's Adam variant, one second moment per
tensor, learning rate 1) for the same number of full-batch iterations, on the same MSA (Gibbs samples
of a planted Potts model, L columns, 21 states, 0.8-identity weights); the final losses are printed
side by side to show the work is the same.

* ours: ``cislens.protein.potts.fit(seqs, weights, iterations=K)``, timed end to end (numba's import
  and cached kernels, data set-up and K steps). Since issue 19 it runs in compiled numba loops
  (``cislens.protein.plm``), as plmc and CCMpred do in C, not in TensorFlow (whose runtime alone held
  ~620 MB): the coupling fields and their gradient are sums of rows of J over the one-hot positions
  (q = 21 times fewer operations than the dense product), duplicates collapsed, and J, Adam's moment and
  one gradient buffer are updated in place. The worker imports no TensorFlow: its numba threads follow
  the pinned cores.
* peer: the idiomatic PyTorch version -- dense one-hot ``(N, L*q)`` times the symmetrised ``(L*q, L*q)``
  couplings, cross-entropy, autograd, the same update written with torch ops; timed end to end too.
* sparse peer (on by default, ``--no-sparse-peer`` skips it): PyTorch with ``embedding_bag(mode="sum")``
  for the coupling fields, i.e. our sparse algorithm in PyTorch, so the ratio does not rest on the
  algorithm alone.

Each fit runs in its own subprocess confined to the same cores (``cislens.runtime.pin_cores``) with the same
thread count, one after another, in interleaved rounds;
a row's time is its best round. Peak memory: ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (peak resident
set size, what the OS charged) of a separate subprocess fitting L = 300 (500 sequences, 2 iterations), and
the same minus the RSS right after imports and loading the MSA (the fit's own increment; ours imports
numba and loads its cached kernels inside the fit, about 130 MB of it); tracemalloc cannot see numba's
or PyTorch's C++ allocations.

    .venv/bin/python benchmarks/potts.py          # L 100, 1,000 sequences, 50 iterations, 2 rounds, ~1.5 min
    .venv/bin/python benchmarks/potts.py --full   # L 200, 5,000 sequences, 100 iterations, 3 rounds

The default L is a typical domain. With both workers confined to the same cores of a quiet 2-core machine
the TensorFlow fit (before issue 19) measured 0.76-1.11 against the sparse PyTorch fit on one core and
0.78-0.86 on two. It depends on size and on other load: on shared cores PyTorch's pool stalls and the
ratio rises (1.30 was measured so, before the workers were pinned), and at L 64 (1,500 sequences, 30
iterations) J (7 MB) stays in cache for PyTorch's embedding_bag and TensorFlow's one-time start-up weighed
more (0.77 then).

The last line is ``potts: ratio=<worst peer time / our time> ours_s=<..> peer_s=<..> sparse_peer_s=<..>
ours_peak_mb_L300=<..> peer_peak_mb_L300=<..>``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

from cislens.runtime import allowed_cores

Q = 21
MEMORY_ITERATIONS = 2  # the peak is reached in the first step; the second checks nothing accumulates


def make_msa(length: int, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gibbs samples of a planted Potts model and their 0.8-identity weights."""
    from cislens.protein.msa import sequence_weights
    from cislens.protein.simulate import gibbs_sample, planted_potts

    model, _ = planted_potts(length, seed=seed)
    seqs = gibbs_sample(model, n, burn_in=100, thin=5, seed=seed + 1)
    return seqs, sequence_weights(seqs)


def _rss_mb() -> float:
    """Current resident set size in MB (Linux /proc), for the baseline before the fit."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


# ----------------------------------------------------------------------------------------- workers
def worker_ours(seqs: np.ndarray, weights: np.ndarray, iterations: int, threads: int) -> dict:
    from cislens.runtime import pin_cores

    pin_cores(threads)  # before numba's import: its pool (and so the fit's threads) is these cores
    from cislens.protein import potts

    baseline = _rss_mb()
    start = time.perf_counter()
    model = potts.fit(seqs, weights, iterations=iterations, progress=False)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "loss": model.info["final_loss"],
        "baseline_mb": baseline,
        "peak_mb": _peak_mb(),
    }


def worker_torch(seqs: np.ndarray, weights: np.ndarray, iterations: int, threads: int, sparse: bool) -> dict:
    import torch
    import torch.nn.functional as F

    from cislens.runtime import pin_cores

    pin_cores(threads)
    torch.set_num_threads(threads)
    baseline = _rss_mb()
    start = time.perf_counter()
    n, length = seqs.shape
    size = length * Q
    neff = float(weights.sum())
    lam_h, lam_j = 0.01 / neff, 0.02  # cislens.protein.pll.penalty(..., convention="cislens")
    y = torch.from_numpy(seqs.astype(np.int64))
    w = torch.from_numpy((weights / neff).astype(np.float32))
    keys = y + torch.arange(length) * Q  # the row of J that each (sequence, site) selects
    x = None if sparse else F.one_hot(y, Q).reshape(n, size).float()
    counts = torch.from_numpy(weights.astype(np.float64)) @ F.one_hot(y, Q).reshape(n, size).double()
    f = ((counts.reshape(length, Q) + 1.0 / Q) / (neff + 1.0)).float()  # the PSSM start, as ours
    h = torch.log(f)
    h = (h - h.mean(dim=1, keepdim=True)).requires_grad_(True)
    free = torch.zeros(size, size, requires_grad=True)
    off = (1.0 - torch.eye(length))[:, None, :, None]

    def loss() -> torch.Tensor:
        sym = 0.5 * (free + free.T)
        couplings = (sym.reshape(length, Q, length, Q) * off).reshape(size, size)
        fields = F.embedding_bag(keys, couplings, mode="sum") if sparse else x @ couplings
        logits = fields.reshape(n, length, Q) + h
        site = F.cross_entropy(logits.reshape(-1, Q), y.reshape(-1), reduction="none").reshape(n, length)
        reg = lam_h * (h * h).sum() + 0.5 * lam_j * (couplings * couplings).sum()
        return (w * site.sum(dim=1)).sum() + reg

    params = [h, free]
    firsts = [torch.zeros_like(p) for p in params]
    seconds = [torch.zeros(()) for _ in params]
    value = torch.zeros(())
    for _ in range(iterations):  # GREMLIN's Adam: one second moment per tensor, no bias correction
        for p in params:
            p.grad = None
        value = loss()
        value.backward()
        with torch.no_grad():
            for p, m, v in zip(params, firsts, seconds, strict=True):
                m.mul_(0.9).add_(p.grad, alpha=0.1)
                v.mul_(0.999).add_(0.001 * (p.grad * p.grad).sum())
                p.sub_(m / (v.sqrt() + 1e-8))
        value = value.detach()
    seconds_total = time.perf_counter() - start
    return {"seconds": seconds_total, "loss": float(value), "baseline_mb": baseline, "peak_mb": _peak_mb()}


def run_worker(kind: str, data: str, iterations: int, threads: int) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    cmd = [
        sys.executable, os.path.abspath(__file__), "--worker", kind, "--data", data,
        "--iterations", str(iterations), "--threads", str(threads),
    ]  # fmt: skip
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{kind} worker failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


LABELS = {
    "ours": "cislens (numba, sparse row sums)",
    "torch": "PyTorch (dense one-hot matmul)",
    "torch_sparse": "PyTorch (embedding_bag, sparse)",
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--full", action="store_true", help="L 200, 5,000 sequences, 100 iterations, 3 rounds"
    )
    parser.add_argument("--length", type=int, default=None)
    parser.add_argument("--n", type=int, default=None)
    parser.add_argument("--iterations", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--threads", type=int, default=len(allowed_cores()))
    parser.add_argument("--memory-length", type=int, default=300, help="L of the peak-memory runs")
    parser.add_argument("--memory-n", type=int, default=500, help="sequences of the peak-memory runs")
    parser.add_argument("--no-sparse-peer", action="store_true", help="skip the embedding_bag PyTorch row")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--data", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    length = args.length or (200 if args.full else 100)
    n = args.n or (5000 if args.full else 1000)
    iterations = args.iterations or (100 if args.full else 50)
    rounds = args.rounds or (3 if args.full else 2)
    if args.worker:
        with np.load(args.data) as saved:
            seqs, weights = saved["seqs"], saved["weights"]
        if args.worker == "ours":
            result = worker_ours(seqs, weights, iterations, args.threads)
        else:
            result = worker_torch(
                seqs, weights, iterations, args.threads, sparse=args.worker == "torch_sparse"
            )
        print(json.dumps(result))
        return

    load0 = os.getloadavg()[0]
    if load0 > 0.5:
        print(f"warning: load average {load0:.2f} before starting; other work on the cores skews the timings")
    kinds = ["ours", "torch"] + ([] if args.no_sparse_peer else ["torch_sparse"])
    print(
        f"MSA: planted Potts, L {length} x q {Q}, {n:,} sequences; {iterations} full-batch iterations; "
        f"{args.threads} threads each; {rounds} interleaved rounds"
    )
    rows: dict[str, dict] = {k: {"seconds": []} for k in kinds}
    with tempfile.TemporaryDirectory() as tmp:  # each MSA sampled once, read by every worker
        timing, sizing = os.path.join(tmp, "timing.npz"), os.path.join(tmp, "memory.npz")
        np.savez(timing, **dict(zip(("seqs", "weights"), make_msa(length, n), strict=True)))
        np.savez(
            sizing, **dict(zip(("seqs", "weights"), make_msa(args.memory_length, args.memory_n), strict=True))
        )
        for _ in range(rounds):
            for kind in kinds:
                result = run_worker(kind, timing, iterations, args.threads)
                rows[kind]["seconds"].append(result["seconds"])
                rows[kind]["loss"] = result["loss"]
        memory = {kind: run_worker(kind, sizing, MEMORY_ITERATIONS, args.threads) for kind in kinds}

    print(f"{'fit':<36}{'best s':>8}{'s/iter':>8}{'final loss':>12}{'peak MB':>10}{'fit MB':>9}")
    for kind, row in rows.items():
        best = min(row["seconds"])
        mem = memory[kind]
        print(
            f"{LABELS[kind]:<36}{best:>8.2f}{best / iterations:>8.3f}{row['loss']:>12.5f}"
            f"{mem['peak_mb']:>10.0f}{mem['peak_mb'] - mem['baseline_mb']:>9.0f}"
        )
    print(
        f"(best of {rounds} rounds, end-to-end fit incl. set-up; peak MB = ru_maxrss of a run at "
        f"L {args.memory_length}, {args.memory_n:,} sequences, {MEMORY_ITERATIONS} iterations; "
        f"fit MB = peak minus RSS after imports; "
        f"load average {load0:.2f} before, {os.getloadavg()[0]:.2f} after)"
    )
    ours = min(rows["ours"]["seconds"])
    peers = {k: min(rows[k]["seconds"]) for k in kinds if k != "ours"}
    ratio = min(peers.values()) / ours
    extra = f" sparse_peer_s={peers['torch_sparse']:.2f}" if "torch_sparse" in peers else ""
    print(
        f"potts: ratio={ratio:.2f} ours_s={ours:.2f} peer_s={peers['torch']:.2f}{extra} "
        f"ours_peak_mb_L{args.memory_length}={memory['ours']['peak_mb']:.0f} "
        f"peer_peak_mb_L{args.memory_length}={memory['torch']['peak_mb']:.0f}"
    )


if __name__ == "__main__":
    main()
