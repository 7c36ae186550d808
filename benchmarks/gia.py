"""Benchmark: GIA embedded predictions per second, cislens vs ``tangermeme.marginalize`` on the same CNN-25.

Work: one motif (SP1 consensus, 10 bp) embedded at the centre of N profile backgrounds (L = 200) and the
12 logits predicted before and after, i.e. 2N forward passes, then the mean effect per task.

* ours: ``cislens.gia.importance.motif_importance`` with ``cislens.models.predict.scorer`` on the Keras 3
  / TensorFlow CNN-25 (``build_model("cnn", 200, 12, first_pool=25)``, logits target), which embeds,
  predicts the backgrounds and the embedded copies, and summarises (mean, sd, CI, rank);
* peer: ``tangermeme.marginalize.marginalize(model, X, "GGGGCGGGGC", batch_size=B)`` on the same network
  ported to PyTorch with the Keras weights copied in (Conv1d 'same', BatchNorm1d with Keras's epsilon,
  MaxPool1d, channels-last flatten, Linear) in eval mode, then the mean of y_after - y_before.

Ours runs at its default batch (1024); tangermeme at 32 (its default), 256 and 1024, and the ratio uses
tangermeme's fastest batch. Both are confined to the same cores (``cislens.runtime.pin_cores``; all by
default) with the same thread count (TF's pools as a workflow job sets them, ``limit_threads``, ==
``torch.set_num_threads``). Each side runs in its own subprocess (so neither's thread pool disturbs the
other), one after another, in interleaved rounds; a row's time is its best call after a warm-up call. All
rows' mean effects must agree (max |difference| printed; the run fails above 1e-3), so every row did the
same work on the same model.

    .venv/bin/python benchmarks/gia.py          # N = 2,000 backgrounds, 2 rounds x 3 calls, ~1 min on 2 cores
    .venv/bin/python benchmarks/gia.py --full   # N = 20,000 backgrounds

The last line is ``gia: ratio=<peer_time/our_time> ours_pred_per_s=<..> peer_pred_per_s=<..>
peer_best_batch=<..>`` (pred/s = forward passes per second, backgrounds and embedded copies together).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from cislens.runtime import allowed_cores

LENGTH, N_TASKS, FIRST_POOL = 200, 12, 25
MOTIF = "GGGGCGGGGC"  # SP1 consensus


def make_backgrounds(n: int, seed: int = 0) -> np.ndarray:
    """(n, L, 4) float32 profile backgrounds of a random test set (identical in both workers)."""
    from cislens.gia.backgrounds import profile_backgrounds

    rng = np.random.default_rng(seed)
    x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, size=(2000, LENGTH))]
    return profile_backgrounds(x, n=n, seed=seed + 1)


def _timed(calls: dict[int, object], repeats: int) -> tuple[dict[int, list[float]], dict[int, object]]:
    """Per batch size: a warm-up call (tracing, thread pools, allocator), then ``repeats`` timed calls,
    the batch sizes interleaved so drifting background load hits them alike."""
    results = {b: call() for b, call in calls.items()}
    times: dict[int, list[float]] = {b: [] for b in calls}
    for _ in range(repeats):
        for b, call in calls.items():
            t0 = time.perf_counter()
            results[b] = call()
            times[b].append(time.perf_counter() - t0)
    return times, results


# ----------------------------------------------------------------------------------------- workers
def worker_keras(n: int, repeats: int, threads: int, batches: list[int], weights: str) -> dict:
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    from cislens.runtime import limit_threads, pin_cores

    pin_cores(threads)
    limit_threads(threads)
    import keras

    from cislens.gia.importance import motif_importance
    from cislens.gia.patterns import from_sequence
    from cislens.models.predict import scorer
    from cislens.models.zoo import build_model

    keras.utils.set_random_seed(0)
    model = build_model("cnn", LENGTH, N_TASKS, first_pool=FIRST_POOL)
    for layer in model.layers:  # non-trivial BN statistics, so the port is really checked
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            rng = np.random.default_rng(len(gamma))
            layer.set_weights([gamma, beta, rng.normal(0, 0.1, mean.shape), rng.uniform(0.5, 1.5, var.shape)])
    if not os.path.exists(weights):
        np.savez(weights, *[np.asarray(w) for w in model.get_weights()])
    bg = make_backgrounds(n)
    tasks = [f"t{i}" for i in range(N_TASKS)]
    pattern = {"SP1": from_sequence(MOTIF, "SP1")}
    calls = {}
    for batch in batches:
        score = scorer(model, "logit", batch)
        calls[batch] = lambda score=score: motif_importance(score, bg, pattern, tasks)
    times, tables = _timed(calls, repeats)
    effects = {b: t.set_index("task").loc[tasks, "effect_mean"].tolist() for b, t in tables.items()}
    return {"times": times, "effects": effects, "threads": threads}


def torch_cnn25(weights: str):
    """The Keras CNN-25 in PyTorch with its weights (eval mode), ending at the logits."""
    import torch
    from torch import nn

    w = np.load(weights)
    w = [w[f"arr_{i}"] for i in range(len(w.files))]

    class ChannelsLastFlatten(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:  # Keras flattens (L', C), torch has (C, L')
            return x.permute(0, 2, 1).flatten(1)

    def bn(c: int) -> nn.BatchNorm1d:
        return nn.BatchNorm1d(c, eps=1e-3)

    f1, f2, dense = w[0].shape[-1], w[6].shape[-1], w[12].shape[-1]
    model = nn.Sequential(
        nn.Conv1d(4, f1, w[0].shape[0], padding="same"), bn(f1), nn.ReLU(), nn.MaxPool1d(FIRST_POOL),
        nn.Conv1d(f1, f2, w[6].shape[0], padding="same"), bn(f2), nn.ReLU(), nn.MaxPool1d(100 // FIRST_POOL),
        ChannelsLastFlatten(), nn.Linear(w[12].shape[0], dense), bn(dense), nn.ReLU(),
        nn.Linear(dense, N_TASKS),
    )  # fmt: skip
    convs = [m for m in model if isinstance(m, (nn.Conv1d, nn.Linear))]
    norms = [m for m in model if isinstance(m, nn.BatchNorm1d)]
    with torch.no_grad():
        for i, (lin, norm) in enumerate(zip(convs[:3], norms, strict=True)):
            kernel, bias, gamma, beta, mean, var = w[6 * i : 6 * i + 6]
            lin.weight.copy_(torch.from_numpy(kernel.transpose(2, 1, 0) if kernel.ndim == 3 else kernel.T))
            lin.bias.copy_(torch.from_numpy(bias))
            for p, v in (
                (norm.weight, gamma),
                (norm.bias, beta),
                (norm.running_mean, mean),
                (norm.running_var, var),
            ):
                p.copy_(torch.from_numpy(v))
        convs[3].weight.copy_(torch.from_numpy(w[18].T))
        convs[3].bias.copy_(torch.from_numpy(w[19]))
    return model.eval()


def worker_torch(n: int, repeats: int, threads: int, batches: list[int], weights: str) -> dict:
    import torch
    from tangermeme.marginalize import marginalize

    from cislens.runtime import pin_cores

    pin_cores(threads)
    torch.set_num_threads(threads)
    model = torch_cnn25(weights)
    x = torch.from_numpy(np.ascontiguousarray(make_backgrounds(n).transpose(0, 2, 1)))

    def call(batch: int) -> list[float]:
        result = marginalize(model, x, MOTIF, batch_size=batch)
        return (result.y_after - result.y_before).mean(dim=0).tolist()

    times, effects = _timed({b: lambda b=b: call(b) for b in batches}, repeats)
    return {"times": times, "effects": effects, "threads": torch.get_num_threads()}


# ------------------------------------------------------------------------------------------- driver
def run_worker(kind: str, args: argparse.Namespace, n: int, batches: list[int], weights: str) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    options = {
        "--n": n,
        "--repeats": args.repeats,
        "--threads": args.threads,
        "--batches": ",".join(map(str, batches)),
    }
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", kind, "--weights", weights]
    cmd += [str(v) for item in options.items() for v in item]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{kind} worker failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return {key: {int(b): v for b, v in result[key].items()} for key in ("times", "effects")}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--full", action="store_true", help="20,000 backgrounds")
    parser.add_argument("--n", type=int, default=None, help="override the number of backgrounds")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per worker and batch size")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved repeats of every worker")
    parser.add_argument(
        "--threads", type=int, default=len(allowed_cores()), help="threads for both frameworks"
    )
    parser.add_argument("--ours", default="1024", help="cislens batch sizes (comma list; 1024 = its default)")
    parser.add_argument("--peer", default="32,256,1024", help="tangermeme batch sizes (32 = its default)")
    parser.add_argument("--batches", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--weights", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    n = args.n or (20_000 if args.full else 2_000)
    if args.worker:
        work = worker_keras if args.worker == "keras" else worker_torch
        batches = [int(b) for b in args.batches.split(",")]
        print(json.dumps(work(n, args.repeats, args.threads, batches, args.weights)))
        return

    load0 = os.getloadavg()[0]
    if load0 > 0.5:
        print(f"warning: load average {load0:.2f} before starting; other work on the cores skews the timings")
    sides = {
        "keras": ("cislens motif_importance (Keras/TF)", [int(b) for b in args.ours.split(",")]),
        "torch": ("tangermeme.marginalize (PyTorch)", [int(b) for b in args.peer.split(",")]),
    }
    times = {(k, b): [] for k, (_, batches) in sides.items() for b in batches}
    effects: dict[tuple[str, int], np.ndarray] = {}
    with tempfile.TemporaryDirectory() as tmp:
        weights = os.path.join(tmp, "cnn25.npz")  # written by the first keras worker, read by torch's
        for _ in range(args.rounds):  # interleaved: background load hits every row alike
            for kind, (_, batches) in sides.items():
                result = run_worker(kind, args, n, batches, weights)
                for b in batches:
                    times[(kind, b)] += result["times"][b]
                    effects[(kind, b)] = np.asarray(result["effects"][b])
    reference = effects[next(iter(times))]
    diff = float(max(np.abs(e - reference).max() for e in effects.values()))
    print(
        f"work: {n:,} backgrounds x {LENGTH} bp, motif {MOTIF} at the centre, {N_TASKS} logits; "
        f"{2 * n:,} forward passes per call; {args.threads} threads each"
    )
    print(f"mean effects agree: max |difference| between all rows = {diff:.2e} over {N_TASKS} tasks")
    print(f"{'method':<40}{'batch':>7}{'best s':>9}{'median s':>10}{'pred/s':>11}")
    for (kind, batch), row in times.items():
        best, median = min(row), float(np.median(row))
        print(f"{sides[kind][0]:<40}{batch:>7}{best:>9.3f}{median:>10.3f}{2 * n / best:>11,.0f}")
    print(
        f"(best of {args.rounds} rounds x {args.repeats} calls, each side in its own process; "
        f"load average {load0:.2f} before, {os.getloadavg()[0]:.2f} after)"
    )
    if diff > 1e-3:
        raise SystemExit(f"the rows disagree by {diff:.2e}: not the same model or work")
    ours = min(min(t) for (k, _), t in times.items() if k == "keras")
    peer_batch, peer = min(((b, min(t)) for (k, b), t in times.items() if k == "torch"), key=lambda bt: bt[1])
    print(
        f"gia: ratio={peer / ours:.2f} ours_pred_per_s={2 * n / ours:.0f} peer_pred_per_s={2 * n / peer:.0f} "
        f"peer_best_batch={peer_batch}"
    )


if __name__ == "__main__":
    main()
