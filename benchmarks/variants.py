"""Benchmark: variant effects on CPU, cislens (Keras 3 / TensorFlow) vs tangermeme.variant_effect (PyTorch).

One CNN-25 (``build_model("cnn", 200, 12, first_pool=25)``, random weights: the forward costs the same
trained or not) is ported weight for weight to a ``torch.nn.Module`` that outputs its logits
(``benchmarks/attribution.py``'s ``torch_port``; the port's logits are asserted equal to Keras's, max
|diff| < 1e-4, before anything is timed). The work: N reference windows of 200 bp with one SNV each at
the centre (a random other base), scored before and after on all 12 tasks:

* ours: the alternative windows are built from the reference one-hot (copy, set the base) and both
  alleles go through ``cislens.variants.score.score_alleles`` (the stage's call: one batched pass per
  model through ``models/predict``), effect = alt - ref logits.
* tangermeme: ``tangermeme.variant_effect.substitution_effect(model, X, substitutions)`` with the same
  (example, position, base) rows, effect = y_after - y_before.

Ours runs at the stage's batch size (``--batch``, default 2048 = ``score: batch_size``); tangermeme at
its own default (32), at 512 and at ours, and the ratio takes its FASTEST of these (PyTorch on CPU
slows down at large batches, TensorFlow's frozen graph speeds up): ratio = best tangermeme time / ours.
``same_batch`` on the last line is the ratio at ours' batch size. Each side runs in its own subprocess
confined to the same cores (``cislens.runtime.pin_cores``) with the same thread count (``limit_threads``
== ``torch.set_num_threads``), in interleaved rounds; each process warms up on a few variants, then times
``--repeats`` full calls; a row's time is its best call over all rounds. Effects are compared (max |diff|).

    .venv/bin/python benchmarks/variants.py             # ~1 min on 2 cores
    .venv/bin/python benchmarks/variants.py --threads 1 # shared machine
    .venv/bin/python benchmarks/variants.py --full      # 4x the variants, 3 rounds

The last line is ``variants: ratio=<fastest tangermeme time / ours> same_batch=<ratio at ours' batch>``.
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

LENGTH, N_TASKS, FIRST_POOL = 200, 12, 25
N_VARIANTS = (4000, 16000)  # default, --full


def worker_prepare(workdir: Path, n: int, threads: int) -> dict:
    from cislens.runtime import limit_threads, pin_cores

    pin_cores(threads)
    limit_threads(threads)
    import keras

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from attribution import keras_weights

    from cislens.models.zoo import build_model, logit_model

    keras.utils.set_random_seed(0)
    model = build_model("cnn", LENGTH, N_TASKS, first_pool=FIRST_POOL)
    model.save(workdir / "model.keras")
    np.savez(workdir / "weights.npz", **keras_weights(model))
    rng = np.random.default_rng(0)
    ref_idx = rng.integers(0, 4, (n, LENGTH))
    x = np.eye(4, dtype=np.float32)[ref_idx]
    pos = np.full(n, LENGTH // 2)
    base = (ref_idx[np.arange(n), pos] + rng.integers(1, 4, n)) % 4  # a different base
    np.save(workdir / "x.npy", x)
    np.save(workdir / "subs.npy", np.stack([np.arange(n), pos, base], axis=1))
    np.save(workdir / "logits.npy", logit_model(model).predict(x[:256], batch_size=256, verbose=0))
    return {"n": n}


def _timed(fn, warm, full, repeats: int) -> tuple[list[float], np.ndarray]:
    fn(*warm)
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn(*full)
        times.append(time.perf_counter() - t0)
    return times, out


def worker_ours(workdir: Path, threads: int, repeats: int, batch: int) -> dict:
    from cislens.runtime import limit_threads, pin_cores

    pin_cores(threads)
    limit_threads(threads)
    from cislens.models.zoo import load_model
    from cislens.variants.score import score_alleles

    model = load_model(workdir / "model.keras")
    x, subs = np.load(workdir / "x.npy"), np.load(workdir / "subs.npy")

    def run(x: np.ndarray, subs: np.ndarray) -> np.ndarray:
        alt = x.copy()
        alt[subs[:, 0], subs[:, 1]] = np.eye(4, dtype=np.float32)[subs[:, 2]]
        ref_logits, alt_logits = score_alleles([model], x, alt, batch_size=batch)
        return (alt_logits - ref_logits)[0]

    warm = (x[: batch + 3], subs[: batch + 3])
    times, out = _timed(run, warm, (x, subs), repeats)
    np.save(workdir / "ours.npy", out)
    return {"ours": times}


def worker_peer(workdir: Path, threads: int, repeats: int, batch: int) -> dict:
    import torch

    from cislens.runtime import pin_cores

    pin_cores(threads)
    torch.set_num_threads(threads)
    from tangermeme.variant_effect import substitution_effect

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from attribution import torch_port

    model = torch_port(dict(np.load(workdir / "weights.npz"))).eval()
    x, subs = np.load(workdir / "x.npy"), np.load(workdir / "subs.npy")
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 2, 1)))
    with torch.no_grad():
        port = model(xt[:256]).numpy()
    diff = float(np.abs(port - np.load(workdir / "logits.npy")).max())
    if diff > 1e-4:
        raise SystemExit(f"the torch port's logits differ from Keras's by {diff:.2e}")
    result: dict = {"port_diff": diff}
    for size in sorted({32, 512, batch}):
        key = f"tangermeme_b{size}"

        def run(xt: torch.Tensor, subs: np.ndarray, size: int = size) -> np.ndarray:
            before, after = substitution_effect(
                model, xt, torch.from_numpy(subs), batch_size=size, device="cpu", verbose=False
            )
            return (after - before).numpy()

        times, out = _timed(run, (xt[: size + 3], subs[: size + 3]), (xt, subs), repeats)
        result[key] = times
        if size == batch:
            np.save(workdir / "peer.npy", out)
    return result


def run_worker(kind: str, args: argparse.Namespace, workdir: Path) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", kind, "--workdir", str(workdir)]
    cmd += ["--n", str(args.n), "--threads", str(args.threads), "--repeats", str(args.repeats)]
    cmd += ["--batch", str(args.batch)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{kind} worker failed:\n{out.stderr[-3000:]}\n{out.stdout[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--full", action="store_true", help="4x the variants, 3 rounds")
    parser.add_argument("--n", type=int, default=None, help="variants (default 4000, --full 16000)")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 2, --full 3)")
    parser.add_argument("--repeats", type=int, default=2, help="timed full calls per process")
    parser.add_argument("--batch", type=int, default=2048, help="ours' model inputs per pass")
    parser.add_argument("--threads", type=int, default=len(allowed_cores()), help="threads for both")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.n = args.n or N_VARIANTS[int(args.full)]
    if args.worker:
        workdir = Path(args.workdir)
        if args.worker == "prepare":
            result = worker_prepare(workdir, args.n, args.threads)
        elif args.worker == "ours":
            result = worker_ours(workdir, args.threads, args.repeats, args.batch)
        else:
            result = worker_peer(workdir, args.threads, args.repeats, args.batch)
        print(json.dumps(result))
        return

    rounds = args.rounds or (3 if args.full else 2)
    load = os.getloadavg()[0]
    if load > len(allowed_cores()):
        print(f"warning: load average {load:.1f} on {len(allowed_cores())} cores; timings are noisy")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        run_worker("prepare", args, workdir)
        best: dict[str, float] = {}
        port_diff = None
        for _ in range(rounds):
            for kind in ("ours", "peer"):
                result = run_worker(kind, args, workdir)
                port_diff = result.pop("port_diff", port_diff)
                for key, times in result.items():
                    best[key] = min(best.get(key, np.inf), min(times))
        diff = float(np.abs(np.load(workdir / "ours.npy") - np.load(workdir / "peer.npy")).max())
    print(
        f"CNN-25, {args.n} SNVs x 12 tasks, 200 bp, {args.threads} thread(s), batch {args.batch}, "
        f"best of {rounds} rounds x {args.repeats} calls"
    )
    print(
        f"torch port: max |logit diff| vs Keras = {port_diff:.1e}; max |effect diff| ours vs tangermeme = "
        f"{diff:.1e}"
    )
    labels = {"ours": f"cislens score_alleles (batch {args.batch})"}
    for size in sorted({32, 512, args.batch}):
        note = ", its default" if size == 32 else ""
        labels[f"tangermeme_b{size}"] = f"tangermeme substitution_effect (batch {size}{note})"
    print(f"{'implementation':<58}{'seconds':>10}{'variants/s':>12}")
    for key, label in labels.items():
        print(f"{label:<58}{best[key]:>10.3f}{args.n / best[key]:>12.0f}")
    fastest = min(best[key] for key in labels if key != "ours")
    same = best[f"tangermeme_b{args.batch}"] / best["ours"]
    print(f"variants: ratio={fastest / best['ours']:.2f} same_batch={same:.2f}")


if __name__ == "__main__":
    main()
