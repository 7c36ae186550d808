"""Benchmark: CNN-25 training throughput on CPU, cislens (Keras 3 / TensorFlow) vs the same model in PyTorch.

Both sides train CNN-25 (conv 30x19 + BN + ReLU + maxpool 25 + dropout 0.1; conv 128x5 + BN + ReLU +
maxpool 4 + dropout 0.1; dense 512 + BN + ReLU + dropout 0.5; dense 12 logits; L2 1e-6 on kernels)
on the same random one-hot data, (N, 200, 4) float32 with 12 binary labels, batch 100, Adam at the
cislens learning rate, binary cross-entropy.

* ours: ``build_model("cnn", 200, 12, first_pool=25)`` compiled by ``cislens.training.fit.compile_model``
  as ``train`` compiles it (Adam, BCE; no per-batch metrics: ``train`` scores the validation set once
  per epoch, which neither side does here) and trained with ``model.fit(..., shuffle=True, verbose=0)``;
  a callback times the epochs after the first (warm-up, which includes tracing).
* peer: the same architecture in PyTorch (Conv1d on (N, 4, L), 'same' padding, BatchNorm1d with Keras's
  eps and momentum, MaxPool1d, Dropout, Linear), BCEWithLogitsLoss plus the same L2 penalty, Adam with
  the same lr/eps, a plain loop over a fresh shuffled index per epoch (no DataLoader, no metrics);
  one warm-up epoch, then the same number of timed epochs. Parameter counts are asserted equal.

Each framework runs in its own subprocess confined to the same cores (``cislens.runtime.pin_cores``; all by
default) with the same thread count (TF's pools as a train job sets them, ``limit_threads``: intra-op ==
``torch.set_num_threads``, inter-op min(2, threads)), so neither's thread pool or oneDNN state disturbs the
other; the processes run one after another, never concurrently, in interleaved rounds; a row's s/epoch is
its best timed epoch (other work on the cores inflates epochs, and PyTorch's OpenMP pool suffers most from
it). Extra cislens rows (``--variants``) re-run ours with one ``model.compile`` option added to
``compile_model``'s call: ``speN`` = steps_per_execution=N (cislens compiles with 10; the default extra row
is spe1, Keras' default), ``jit`` = jit_compile=True (XLA; ~4x slower on CPU), ``auc`` = with Keras'
per-batch AUROC/AUPR training metrics, as cislens trained until 2026-11 (diagnostic: their cost). The
achievable peak is the best float32 numpy matmul (2048^3); a theoretical peak is estimated from
/proc/cpuinfo (AVX-512/AVX2 FMA lanes x 2 FMA units x cores x GHz). Training FLOPs per sequence are counted
analytically: forward multiply-adds x 2, backward ~2x forward.

Peer rows (``--peers``, default crested,grelu): the same CNN-25, data, batch, lr and loss trained by the
peers' own training entry points, each installed from PyPI into a separate benchmark environment
(``make bench-env``: ``.bench-venv`` from benchmarks/requirements-peers.txt, never the workflow's
``.venv``) and run by its python; without that environment one line says they were skipped.

* CREsted (Keras 3 / TensorFlow, tensorflow-cpu as ours): ``crested.tl.Crested(...).fit`` on an
  ``AnnDataWrapper`` over a FASTA + AnnData holding the same sequences (benchmarks/peers/train_crested.py).
* gReLU (PyTorch Lightning): ``LightningModel(model_params={"model_type": "BaseModel", ...})
  .train_on_dataset`` on a ``LabeledSeqDataset`` of the same sequences (benchmarks/peers/train_grelu.py).

Their input pipelines (CREsted: a Python generator one-hot encoding each region into tf.data; gReLU: a
DataLoader one-hot encoding each item) and loop overheads (Keras progress bar, Lightning's progress bar,
per-step logging) are part of what is timed, as a user of either runs it; their per-epoch validation and
checkpointing are not (a peer epoch is timed from its start to its last training batch). Parameter counts
are asserted equal to ours. ``train_peers: crested_ratio=<CREsted s/epoch / ours> grelu_ratio=<..>``
comes just before the last line.

    .venv/bin/python benchmarks/train.py         # 6,000 sequences, 2 rounds x 3 epochs, ~1 min on 2 cores
    .venv/bin/python benchmarks/train.py --full  # 30,000 sequences, 5 timed epochs

``--device gpu`` lets the workers see the GPU (both frameworks train on it; CPU-only by default, as every
worker hides it otherwise); the ``mixed`` row (``--variants mixed``) builds ours under ``mixed_float16``
(``training.precision``) and adds a ``train_mixed_float16: ratio=<float32 s/epoch / mixed s/epoch>`` line.
benchmarks/gpu.sh runs both on a GPU machine.

The last line is ``train: ratio=<torch_time/our_time> ours_seq_per_s=<..> peer_seq_per_s=<..>
peak_fraction=<our GFLOP/s / matmul GFLOP/s>``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time

import numpy as np

LENGTH, N_TASKS, BATCH, FIRST_POOL = 200, 12, 100, 25
LEARNING_RATE = 3e-4  # cislens.training.fit.compile_model's default
# CNN-25 hyperparameters (cislens.models.zoo._CNN_DEFAULTS with first_pool=25)
F1, K1, F2, K2, DENSE, DROP, DENSE_DROP, L2 = 30, 19, 128, 5, 512, 0.1, 0.5, 1e-6
POOL2 = max(1, 100 // FIRST_POOL)

# variant name -> (label, extra model.compile kwargs); "auc" adds the per-batch AUC metrics (diagnostic)
VARIANTS = {
    "cislens": ("cislens (ours)", {}),
    "jit": ("cislens + jit_compile=True", {"jit_compile": True}),
    "auc": ("cislens + per-batch AUC metrics", None),
    "mixed": ("cislens + mixed_float16", {}),  # built under training.precision: mixed_float16
}
DEVICE_VARIABLE = "CISLENS_BENCH_DEVICE"  # cpu (default: workers hide the GPU) or gpu, set by --device


def _variant(name: str) -> tuple[str, dict | None]:
    """A VARIANTS entry, or ``speN``: compile_model plus steps_per_execution=N."""
    if name in VARIANTS:
        return VARIANTS[name]
    match = re.fullmatch(r"spe(\d+)", name)
    if match:
        k = int(match.group(1))
        return f"cislens + steps_per_execution={k}", {"steps_per_execution": k}
    raise KeyError(name)


def make_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, size=(n, LENGTH))]
    y = (rng.random((n, N_TASKS)) < 0.3).astype(np.float32)
    return x, y


def train_flops_per_sequence() -> float:
    """Multiply-adds of convs and denses x 2 (forward), x 3 for forward + backward (~2x forward)."""
    l1 = LENGTH // FIRST_POOL
    l2 = l1 // POOL2
    macs = LENGTH * F1 * K1 * 4 + l1 * F2 * K2 * F1 + (l2 * F2) * DENSE + DENSE * N_TASKS
    return 3.0 * 2.0 * macs


# ----------------------------------------------------------------------------------------- workers
def worker_keras(n: int, epochs: int, threads: int, variant: str) -> dict:
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    if os.environ.get(DEVICE_VARIABLE, "cpu") == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
    from cislens.runtime import limit_threads, pin_cores

    pin_cores(threads)
    limit_threads(threads)  # as a train job sets its pools from the rule's threads
    import keras

    from cislens.models.zoo import build_model, precision_policy
    from cislens.training.fit import compile_model

    keras.utils.set_random_seed(0)
    x, y = make_data(n)
    with precision_policy("mixed_float16" if variant == "mixed" else "float32"):
        model = build_model("cnn", LENGTH, N_TASKS, first_pool=FIRST_POOL)
    extra = _variant(variant)[1]
    if extra:  # compile_model exactly, plus the option under test (overriding ours)
        original = model.compile
        model.compile = lambda **kw: original(**{**kw, **extra})
    # As cislens.training.fit.train compiles: the loss alone (validation is scored once per epoch,
    # outside the timed loop here as in the peer); "auc" adds Keras' per-batch AUC curves back.
    compile_model(model, learning_rate=LEARNING_RATE, metrics=extra is None)

    stamps: list[float] = []

    class EpochClock(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            stamps.append(time.perf_counter())

    model.fit(x, y, batch_size=BATCH, epochs=epochs + 1, shuffle=True, verbose=0, callbacks=[EpochClock()])
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    return {
        "epoch_s": list(np.diff(stamps)),
        "trainable": trainable,
        "non_trainable": model.count_params() - trainable,
        "threads": threads,
    }


def worker_torch(n: int, epochs: int, threads: int) -> dict:
    import torch
    from torch import nn

    from cislens.runtime import pin_cores

    pin_cores(threads)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    device = torch.device("cuda" if os.environ.get(DEVICE_VARIABLE) == "gpu" else "cpu")

    def bn(c: int) -> nn.BatchNorm1d:  # Keras defaults: epsilon 1e-3, momentum 0.99 (torch: 1 - 0.99)
        return nn.BatchNorm1d(c, eps=1e-3, momentum=0.01)

    model = nn.Sequential(
        nn.Conv1d(4, F1, K1, padding="same"), bn(F1), nn.ReLU(), nn.MaxPool1d(FIRST_POOL), nn.Dropout(DROP),
        nn.Conv1d(F1, F2, K2, padding="same"), bn(F2), nn.ReLU(), nn.MaxPool1d(POOL2), nn.Dropout(DROP),
        nn.Flatten(),
        nn.Linear(F2 * (LENGTH // FIRST_POOL // POOL2), DENSE), bn(DENSE), nn.ReLU(), nn.Dropout(DENSE_DROP),
        nn.Linear(DENSE, N_TASKS),
    )  # fmt: skip
    model.to(device)
    kernels = [m.weight for m in model if isinstance(m, (nn.Conv1d, nn.Linear))]
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, eps=1e-7)  # Keras Adam's epsilon
    loss_fn = nn.BCEWithLogitsLoss()

    x_np, y_np = make_data(n)
    x = torch.from_numpy(np.ascontiguousarray(x_np.transpose(0, 2, 1))).to(device)  # (N, 4, L), untimed
    y = torch.from_numpy(y_np).to(device)

    def epoch() -> None:
        model.train()
        order = torch.randperm(n, device=device)
        for start in range(0, n, BATCH):
            idx = order[start : start + BATCH]
            xb, yb = x[idx], y[idx]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb) + L2 * sum((w * w).sum() for w in kernels)
            loss.backward()
            optimizer.step()
        if device.type == "cuda":  # CUDA runs asynchronously: an epoch ends when its kernels have
            torch.cuda.synchronize()

    epoch()  # warm-up
    stamps = [time.perf_counter()]
    for _ in range(epochs):
        epoch()
        stamps.append(time.perf_counter())
    buffers = sum(b.numel() for name, b in model.named_buffers() if not name.endswith("num_batches_tracked"))
    return {
        "epoch_s": list(np.diff(stamps)),
        "trainable": sum(p.numel() for p in model.parameters()),
        "non_trainable": buffers,
        "threads": torch.get_num_threads(),
    }


# -------------------------------------------------------------------------------------- peak FLOP/s
def matmul_peak(size: int = 2048, repeats: int = 5) -> float:
    """Best float32 numpy matmul rate in GFLOP/s (runs in this process, which imports no TF/torch)."""
    rng = np.random.default_rng(0)
    a = rng.random((size, size), dtype=np.float32)
    b = rng.random((size, size), dtype=np.float32)
    a @ b  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2.0 * size**3 / best / 1e9


def theoretical_peak(cores: int) -> tuple[float | None, str]:
    """Estimate: fp32 lanes per FMA x 2 FMA units x 2 FLOPs x cores x GHz, from /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo") as handle:
            text = handle.read()
    except OSError:
        return None, "no /proc/cpuinfo"
    flags = set(re.search(r"^flags\s*:\s*(.*)$", text, re.M).group(1).split()) if "flags" in text else set()
    mhz = [float(v) for v in re.findall(r"^cpu MHz\s*:\s*([\d.]+)", text, re.M)]
    try:
        with open("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq") as handle:
            mhz = [int(handle.read()) / 1000.0]
    except OSError:
        pass
    if not mhz:
        return None, "no frequency"
    if "avx512f" in flags:
        lanes, isa = 16, "AVX-512"
    elif "avx2" in flags and "fma" in flags:
        lanes, isa = 8, "AVX2+FMA"
    else:
        lanes, isa = 4, "SSE"
    flops_per_cycle = lanes * 2 * 2  # 2 FMA units, 2 FLOPs per FMA
    ghz = max(mhz) / 1000.0
    return (
        flops_per_cycle * cores * ghz,
        f"{isa}, {flops_per_cycle} FLOP/cycle x {cores} cores x {ghz:.2f} GHz",
    )


# ------------------------------------------------------------------------------------------- driver
def _peers():
    """benchmarks/peers/runner.py (standard library only; imported lazily, as this module is also loaded by
    the peer workers, from the benchmark environment)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from peers import runner

    return runner


def run_worker(kind: str, n: int, epochs: int, threads: int) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    if env.get(DEVICE_VARIABLE, "cpu") == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    script = os.path.abspath(__file__)
    cmd = [
        sys.executable,
        script,
        "--worker",
        kind,
        "--n",
        str(n),
        "--epochs",
        str(epochs),
        "--threads",
        str(threads),
    ]
    if kind in _peers().PEERS:  # CREsted / gReLU: their worker, in the benchmark environment's python
        cmd = _peers().command(kind, n, epochs, threads)
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{kind} worker failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    # imported here, not at the top: the peer workers (benchmarks/peers/) import this module's constants and
    # make_data from the benchmark environment, which has no cislens
    from cislens.runtime import allowed_cores

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--full", action="store_true", help="30,000 sequences, 5 timed epochs")
    parser.add_argument("--n", type=int, default=None, help="override the number of sequences")
    parser.add_argument("--epochs", type=int, default=None, help="timed epochs (after one warm-up epoch)")
    parser.add_argument(
        "--threads", type=int, default=len(allowed_cores()), help="threads for both frameworks"
    )
    parser.add_argument(
        "--variants",
        default="spe1",
        help="comma list of extra cislens rows: jit, auc, speN (e.g. spe10) or none",
    )
    parser.add_argument(
        "--peers",
        default="crested,grelu",
        help="comma list of peer rows, each trained by the peer's own loop (make bench-env), or none",
    )
    parser.add_argument("--rounds", type=int, default=2, help="interleaved repeats of every row")
    parser.add_argument(
        "--device", choices=("cpu", "gpu"), default="cpu", help="gpu: the workers may use the GPU"
    )
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    n = args.n or (30_000 if args.full else 6_000)
    epochs = args.epochs or (5 if args.full else 3)
    n -= n % BATCH  # whole batches only, so both sides do exactly the same steps
    if not args.worker:
        os.environ[DEVICE_VARIABLE] = args.device  # the workers inherit it
    if args.worker:
        if args.worker == "torch":
            result = worker_torch(n, epochs, args.threads)
        else:
            result = worker_keras(n, epochs, args.threads, args.worker)
        print(json.dumps(result))
        return

    load0 = os.getloadavg()[0]
    if load0 > 0.5:
        print(f"warning: load average {load0:.2f} before starting; other work on the cores skews the timings")
    flops_seq = train_flops_per_sequence()
    peak = matmul_peak()
    theo, theo_note = theoretical_peak(args.threads)
    print(
        f"inputs: {n:,} sequences x {LENGTH} bp x 4, {N_TASKS} labels, batch {BATCH}, "
        f"{epochs} timed epochs after 1 warm-up, {args.threads} threads each"
    )
    print(f"training FLOPs per sequence (analytic, fwd + ~2x bwd): {flops_seq / 1e6:.2f} MFLOP")
    print(f"peak: numpy float32 matmul 2048^3 (best of 5) {peak:.1f} GFLOP/s", end="")
    print(
        f"; theoretical estimate {theo:.1f} GFLOP/s ({theo_note})" if theo else f"; theoretical: {theo_note}"
    )

    extra = [v for v in args.variants.split(",") if v and v not in ("none", "cislens")]
    for v in extra:
        try:
            _variant(v)
        except KeyError:
            raise SystemExit(f"unknown variant {v!r}; valid: {', '.join(VARIANTS)}, speN") from None
    kinds = ["cislens", "torch", *extra]
    peers = _peers()
    peer_kinds = [p for p in args.peers.split(",") if p and p != "none"]
    for p in peer_kinds:
        if p not in peers.PEERS:
            raise SystemExit(f"unknown peer {p!r}; valid: {', '.join(peers.PEERS)}, none")
    if peer_kinds and not peers.available():
        print(peers.skip_line(peer_kinds))
        peer_kinds = []
    kinds += peer_kinds
    rows: dict[str, dict] = {k: {"epoch_s": []} for k in kinds}
    for _ in range(args.rounds):  # interleaved rounds: background load hits every row alike
        for kind in kinds:
            result = run_worker(kind, n, epochs, args.threads)
            rows[kind]["epoch_s"] += result.pop("epoch_s")
            rows[kind].update(result)
    ours, peer = rows["cislens"], rows["torch"]
    if (ours["trainable"], ours["non_trainable"]) != (peer["trainable"], peer["non_trainable"]):
        raise SystemExit(f"parameter counts differ: keras {ours}, torch {peer}")
    for kind in peer_kinds:
        other = rows[kind]
        if (ours["trainable"], ours["non_trainable"]) != (other["trainable"], other["non_trainable"]):
            raise SystemExit(f"parameter counts differ: keras {ours}, {kind} {other}")
        if other["threads"] != ours["threads"]:
            print(f"warning: {kind} ran with {other['threads']} threads, ours with {ours['threads']}")
    print(
        f"parameters: {ours['trainable']:,} trainable + {ours['non_trainable']:,} BN moving statistics "
        "(identical in every row)"
    )

    print(f"{'framework':<34}{'s/epoch':>9}{'seq/s':>10}{'GFLOP/s':>10}{'% matmul peak':>15}")
    for kind, row in rows.items():
        if kind == "torch":
            label = "PyTorch (same model, plain loop)"
        elif kind in peer_kinds:
            label = peers.PEERS[kind][0].format(version=row.get("version", "?"))
        else:
            label = _variant(kind)[0]
        row["seconds_per_epoch"] = float(np.min(row["epoch_s"]))
        sps = n / row["seconds_per_epoch"]
        gflops = sps * flops_seq / 1e9
        row.update(seq_per_s=sps, gflops=gflops)
        percent = 100 * gflops / peak
        print(f"{label:<34}{row['seconds_per_epoch']:>9.3f}{sps:>10,.0f}{gflops:>10.2f}{percent:>14.1f}%")
    print(
        f"(s/epoch: best of {args.rounds} rounds x {epochs} timed epochs, each framework in its own process; "
        f"load average {load0:.2f} before, {os.getloadavg()[0]:.2f} after)"
    )
    if peer_kinds:  # > 1: ours is faster than that peer's own training loop
        base = ours["seconds_per_epoch"]
        ratios = [f"{k}_ratio={rows[k]['seconds_per_epoch'] / base:.2f}" for k in peer_kinds]
        speeds = [f"{k}_seq_per_s={rows[k]['seq_per_s']:.0f}" for k in peer_kinds]
        print("train_peers: " + " ".join(ratios + speeds))
    print(
        f"train: ratio={peer['seconds_per_epoch'] / ours['seconds_per_epoch']:.2f} "
        f"ours_seq_per_s={ours['seq_per_s']:.0f} peer_seq_per_s={peer['seq_per_s']:.0f} "
        f"peak_fraction={ours['gflops'] / peak:.3f}"
    )
    if "mixed" in rows:
        mixed = rows["mixed"]
        print(
            f"train_mixed_float16: ratio={ours['seconds_per_epoch'] / mixed['seconds_per_epoch']:.2f} "
            f"mixed_seq_per_s={mixed['seq_per_s']:.0f} device={args.device}"
        )


if __name__ == "__main__":
    main()
