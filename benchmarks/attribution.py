"""Benchmark: attribution maps on CPU, cislens (Keras 3 / TensorFlow) vs tangermeme and captum (PyTorch).

One CNN-25 (``build_model("cnn", 200, 12, first_pool=25)``) is trained briefly on the synthetic multitask
set (``cislens.data.synthetic.make_multitask`` with 12 random sharp motifs; 5 epochs on 6,000 sequences at
learning rate 1e-2, mean held-out AUROC ~0.87: realistic activations for the ReLU and max-pool DeepLIFT
rules) and ported weight for weight to a ``torch.nn.Module`` that outputs its logits: Conv1d with the
kernels transposed (K, 4, F) -> (F, 4, K) and 'same' padding (odd kernels: (K - 1) / 2 each side, as
TensorFlow pads), BatchNorm1d in eval mode with Keras's epsilon, ReLU and MaxPool1d modules (one instance
per use, as DeepLIFT hooks need), a permute to (L', C) before the flatten (Keras flattens channel-last),
Linear with the kernels transposed. The logits of the two are asserted equal (max |diff| < 1e-4) before
anything is timed. Every method explains the logit of task 0 on the same held-out sequences:

* saliency: ours ``saliency(model, x, task=0, correct=False)`` (the raw gradient) vs
  ``tangermeme.saliency.saliency(..., target=0, hypothetical=True, gradient_correction=False)`` (its
  default is the corrected gradient times the input; these options give the raw gradient) and
  ``captum.attr.Saliency(...).attribute(..., target=0, abs=False)`` over the same batches.
* integrated gradients: ours ``integrated_gradients(..., baseline="zero", steps=50, correct=False)`` vs
  ``captum.attr.IntegratedGradients`` (zero baselines, ``n_steps=50``, ``method="riemann_middle"``: the
  midpoint rule ours uses), called per chunk of whole sequences with ours' points per pass (5 x 50).
  tangermeme has no integrated gradients.
* DeepSHAP: ours ``deep_lift_shap(model, x, references=R)`` vs
  ``tangermeme.deep_lift_shap.deep_lift_shap(..., target=0, references=R)`` with the very same 20
  dinucleotide shuffles R of each sequence ((N, 20, L, 4); (N, 20, 4, L) for tangermeme). Both apply the
  rescale rule to ReLU and the same routing rule to max-pooling. tangermeme returns, at the observed base,
  the sum over A, C, G, T of multiplier x (x - ref); ours keeps the four channels, so its map is projected
  the same way (``ours.sum(-1) * x``) before the two are compared. captum's DeepLiftShap is left out
  (tangermeme wraps it one sequence per call, as a debugging aid).
* ISM: ours ``ism(model, x, task=0)`` (raw deltas f(mutant) - f(x), 0 at the observed base) vs
  ``tangermeme.saturation_mutagenesis.saturation_mutagenesis(..., raw_outputs=True)``: its task-0 outputs
  minus the wild type's are the same deltas (``raw_outputs=False`` also centres them per position, a cheap
  post-step). tangermeme switches to its fastISM path by itself only for jobs it expects to take over
  30 s, so its row runs plain forward passes; the row "tangermeme fastISM" forces fastISM
  (``_FAST_MIN_SECONDS = 0``; the ``torch.export`` capture and its check against plain passes happen
  inside every call and are timed).

captum (pinned in requirements.txt) gives the captum rows; without it they are skipped, and integrated
gradients then has no peer. Batch sizes are the same on both sides, cislens's defaults in model inputs
per pass: 128 for saliency, 256 for integrated gradients, DeepSHAP (128 sequence-reference pairs:
tangermeme's ``batch_size`` counts pairs) and ISM (mutants). tangermeme's own default is 32;
``--peer-default-batch`` adds tangermeme rows at 32 (shown, not used for the ratios).

Each framework runs in its own subprocess confined to the same cores (``cislens.runtime.pin_cores``; all
by default) with the same thread count (TF's pools as a workflow job sets them, ``limit_threads``, ==
``torch.set_num_threads``), one process at a time, in interleaved rounds (ours,
peer, ours, peer, ...). In every process each method is first called untimed on a few sequences (warm-up:
imports, oneDNN kernels, graph tracing), then on one sequence (the "1-seq s" column: the fixed cost of a
call), then ``--repeats`` times on all N sequences; a row's time is its best full call over all rounds.
Whole calls are timed, as a user makes them: whatever a method redoes in every call counts (for cislens
at the time of writing, re-wiring the model and tracing a fresh ``tf.function``, ~0.1-0.2 s a call).
The ratio is peer time / our time (> 1: ours is faster); the final line takes, per method, the fastest
peer at the same batch size. Maps are compared by max |ours - peer|; "off" counts the sequences whose maps
differ by more than 1e-3 x max |ours|: gradients of a ReLU network jump where a pre-activation or a
max-pool's runner-up is within float rounding of the kink, so a rare sequence can differ visibly while
the rest agree to ~1e-7.

On a machine whose cores are busy with other work, PyTorch's OpenMP pool slows down several-fold when it
asks for all cores (threads spin at barriers waiting for a descheduled sibling) while TensorFlow's pool
barely notices, which inflates our ratios; the script warns when the load average is high, and
``--threads 1`` gives the fairer comparison then.

``--device gpu`` (benchmarks/gpu.sh) lets the ours and peer workers use the GPU: TensorFlow places ours
there by itself, the torch port and tangermeme's calls are moved to CUDA. Both frameworks keep their GPU
defaults (TensorFloat-32 convolutions on Ampere and later), so the port check allows 5e-2 there; the
model is still trained and its reference logits computed on CPU.

    .venv/bin/python benchmarks/attribution.py             # ~1.5 min on 2 idle cores, ~5 when shared
    .venv/bin/python benchmarks/attribution.py --threads 1 # shared machine, ~1.5 min
    .venv/bin/python benchmarks/attribution.py --full      # 4x the sequences, 3 rounds
    .venv/bin/python benchmarks/attribution.py --methods ism --n 200 --rounds 1

The last line is ``attribution: ratio_min=<min over methods> saliency=<r> integrated_gradients=<r>
deep_lift_shap=<r> ism=<r>``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from cislens.runtime import allowed_cores

LENGTH, N_TASKS, FIRST_POOL = 200, 12, 25
STEPS, N_REFS, TASK = 50, 20, 0
N_TRAIN, EPOCHS, TRAIN_BATCH, LEARNING_RATE = 6000, 5, 100, 1e-2  # held-out AUROC ~0.87 in ~10 s
# model inputs per pass, cislens's defaults, used on both sides
BATCH = {"saliency": 128, "integrated_gradients": 256, "deep_lift_shap": 256, "ism": 256}
METHODS = tuple(BATCH)
# sequences per method: (default, --full)
SIZES = {
    "saliency": (1000, 4000),
    "integrated_gradients": (100, 400),
    "deep_lift_shap": (100, 400),
    "ism": (50, 200),
}
OFF = 1e-3  # a sequence is "off" when its maps differ by more than this times max |ours|
DEVICE_VARIABLE = "CISLENS_BENCH_DEVICE"  # cpu (default: workers hide the GPU) or gpu, set by --device
PEER_LABELS = {
    "tangermeme": "tangermeme",
    "tangermeme_b32": "tangermeme, batch 32",
    "tangermeme_fast": "tangermeme fastISM",
    "captum": "captum",
}


def _warm_count(method: str) -> int:
    """Sequences for the warm-up call: enough for one full pass (so its shapes are seen) plus a tail."""
    per_sequence = {"saliency": 1, "integrated_gradients": STEPS, "deep_lift_shap": 2 * N_REFS, "ism": 600}
    return max(1, BATCH[method] // per_sequence[method]) + 1


# ------------------------------------------------------------------------------------------ prepare
def worker_prepare(workdir: Path, sizes: dict[str, int], threads: int) -> dict:
    """Train CNN-25 briefly, save it, its weights (npz), the test sequences, references and logits."""
    from cislens.runtime import limit_threads, pin_cores

    pin_cores(threads)
    limit_threads(threads)
    import keras

    from cislens.attribution.references import make_baselines
    from cislens.data.synthetic import make_multitask
    from cislens.models.zoo import build_model, logit_model
    from cislens.training.fit import compile_model

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    # 12 random motifs of width 8-14 with sharp columns: a multitask set learnt in a few epochs
    motifs = {f"m{i}": rng.dirichlet(np.full(4, 0.05), size=int(rng.integers(8, 15))) for i in range(N_TASKS)}
    n_test = max(sizes.values())
    # the same data set (so the same model) whatever the sizes asked for
    n_data = N_TRAIN + max(n_test, *(full for _, full in SIZES.values()))
    data = make_multitask(motifs, n=n_data, length=LENGTH, seed=0)
    x_all = np.concatenate([s.x for s in data.splits.values()]).astype(np.float32)
    y_all = np.concatenate([s.y for s in data.splits.values()])
    x_train, y_train, x_test = x_all[:N_TRAIN], y_all[:N_TRAIN], x_all[N_TRAIN : N_TRAIN + n_test]

    model = build_model("cnn", LENGTH, N_TASKS, first_pool=FIRST_POOL)
    compile_model(model, learning_rate=LEARNING_RATE)
    t0 = time.perf_counter()
    model.fit(x_train, y_train, batch_size=TRAIN_BATCH, epochs=EPOCHS, shuffle=True, verbose=0)
    train_s = time.perf_counter() - t0
    from sklearn.metrics import roc_auc_score

    y_test, p_test = y_all[N_TRAIN:], model.predict(x_all[N_TRAIN:], batch_size=256, verbose=0)
    auroc = np.mean(
        [roc_auc_score(y_test[:, j], p_test[:, j]) for j in range(N_TASKS) if 0 < y_test[:, j].mean() < 1]
    )
    model.save(workdir / "model.keras")
    np.savez(workdir / "weights.npz", **keras_weights(model))
    np.save(workdir / "x.npy", x_test)
    n_dl = sizes.get("deep_lift_shap", 1)
    np.save(workdir / "refs.npy", make_baselines(x_test[:n_dl], "shuffle", N_REFS, seed=0))
    logits = logit_model(model).predict(x_test[:256], batch_size=256, verbose=0)
    np.save(workdir / "logits.npy", logits)
    return {
        "train_s": train_s,
        "auroc": float(auroc),
        "n_train": len(x_train),
        "n_test": len(x_test),
    }


# ---------------------------------------------------------------------------------------------- ours
def _timed_calls(fn, x: np.ndarray, method: str, repeats: int) -> tuple[dict, np.ndarray]:
    """Warm-up on a few sequences, one 1-sequence call, then ``repeats`` full calls; best time."""
    fn(x[: _warm_count(method)])
    t0 = time.perf_counter()
    fn(x[:1])
    one = time.perf_counter() - t0
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn(x)
        times.append(time.perf_counter() - t0)
    return {"times": times, "one_s": one}, out


def worker_ours(workdir: Path, sizes: dict[str, int], threads: int, repeats: int, save: bool) -> dict:
    from cislens.runtime import limit_threads, pin_cores

    pin_cores(threads)
    limit_threads(threads)
    from cislens.attribution.deeplift import deep_lift_shap
    from cislens.attribution.gradients import integrated_gradients, saliency
    from cislens.attribution.ism import ism
    from cislens.models.zoo import load_model

    model = load_model(workdir / "model.keras")
    x_all = np.load(workdir / "x.npy")
    refs_all = np.load(workdir / "refs.npy")
    common = {"task": TASK, "progress": False}

    def run_saliency(x: np.ndarray) -> np.ndarray:
        return saliency(model, x, batch_size=BATCH["saliency"], correct=False, **common)

    def run_ig(x: np.ndarray) -> np.ndarray:
        return integrated_gradients(
            model,
            x,
            baseline="zero",
            steps=STEPS,
            batch_size=BATCH["integrated_gradients"],
            correct=False,
            **common,
        )

    def run_deepshap(x: np.ndarray) -> np.ndarray:
        refs = refs_all[: len(x)]
        return deep_lift_shap(
            model, x, references=refs, n_references=N_REFS, batch_size=BATCH["deep_lift_shap"], **common
        )

    def run_ism(x: np.ndarray) -> np.ndarray:
        return ism(model, x, batch_size=BATCH["ism"], **common)

    runs = {
        "saliency": run_saliency,
        "integrated_gradients": run_ig,
        "deep_lift_shap": run_deepshap,
        "ism": run_ism,
    }
    result: dict[str, dict] = {}
    for method in sizes:
        x = x_all[: sizes[method]]
        timing, out = _timed_calls(runs[method], x, method, repeats)
        if method == "deep_lift_shap":  # tangermeme's projection: sum over channels at the observed base
            out = out.sum(axis=-1, keepdims=True) * x
        result[method] = {"ours": timing}
        if save:
            np.save(workdir / f"ours_{method}.npy", out.astype(np.float32))
    return result


# ---------------------------------------------------------------------------------------------- peer
def keras_weights(model) -> dict[str, np.ndarray]:
    """Every layer's weights as ``{"<layer name>/<index>": array}``, what ``torch_port`` reads."""
    return {f"{layer.name}/{i}": w for layer in model.layers for i, w in enumerate(layer.get_weights())}


def torch_port(weights: dict[str, np.ndarray]):
    """CNN-25 as a torch.nn.Module outputting the logits, weight for weight from the Keras layers."""
    import torch
    from torch import nn

    class ChannelsLastFlatten(nn.Module):
        """(N, C, L') -> (N, L' * C): Keras flattens channel-last."""

        def forward(self, z: torch.Tensor) -> torch.Tensor:
            return torch.flatten(z.permute(0, 2, 1), 1)

    def conv(name: str) -> nn.Conv1d:
        kernel, bias = weights[f"{name}/0"], weights[f"{name}/1"]  # (K, C_in, F), (F,)
        k, c_in, f = kernel.shape
        if k % 2 != 1:  # torch 'same' pads an even kernel like TF too, but keep to what is checked
            raise ValueError("odd kernels only")
        layer = nn.Conv1d(c_in, f, k, padding="same")
        layer.weight.data = torch.from_numpy(np.ascontiguousarray(kernel.transpose(2, 1, 0)))
        layer.bias.data = torch.from_numpy(bias.copy())
        return layer

    def bn(name: str) -> nn.BatchNorm1d:
        gamma, beta, mean, var = (weights[f"{name}/{i}"] for i in range(4))
        layer = nn.BatchNorm1d(len(gamma), eps=1e-3)  # Keras's default epsilon
        layer.weight.data = torch.from_numpy(gamma.copy())
        layer.bias.data = torch.from_numpy(beta.copy())
        layer.running_mean.data = torch.from_numpy(mean.copy())
        layer.running_var.data = torch.from_numpy(var.copy())
        return layer

    def dense(name: str) -> nn.Linear:
        kernel, bias = weights[f"{name}/0"], weights[f"{name}/1"]  # (in, out), (out,)
        layer = nn.Linear(*kernel.shape)
        layer.weight.data = torch.from_numpy(np.ascontiguousarray(kernel.T))
        layer.bias.data = torch.from_numpy(bias.copy())
        return layer

    pool2 = max(1, 100 // FIRST_POOL)
    model = nn.Sequential(
        conv("first_conv"), bn("first_bn"), nn.ReLU(), nn.MaxPool1d(FIRST_POOL), nn.Dropout(0.1),
        conv("conv2"), bn("conv2_bn"), nn.ReLU(), nn.MaxPool1d(pool2), nn.Dropout(0.1),
        ChannelsLastFlatten(),
        dense("dense"), bn("dense_bn"), nn.ReLU(), nn.Dropout(0.5),
        dense("logits"),
    )  # fmt: skip
    return model.eval()


def worker_peer(
    workdir: Path, sizes: dict[str, int], threads: int, repeats: int, save: bool, peer_default_batch: bool
) -> dict:
    import torch

    from cislens.runtime import pin_cores

    pin_cores(threads)
    torch.set_num_threads(threads)
    import tangermeme.saturation_mutagenesis as tm_sm
    from tangermeme.deep_lift_shap import deep_lift_shap
    from tangermeme.saliency import saliency

    try:
        from captum.attr import IntegratedGradients, Saliency
    except ImportError:
        IntegratedGradients = Saliency = None

    warnings.simplefilter("ignore")  # tangermeme's convergence / fast-path notes: the maps are compared
    device = "cuda" if os.environ.get(DEVICE_VARIABLE) == "gpu" else "cpu"
    model = torch_port(dict(np.load(workdir / "weights.npz"))).to(device)
    x_all = np.load(workdir / "x.npy")
    refs_all = np.load(workdir / "refs.npy")
    with torch.no_grad():
        x_port = torch.from_numpy(np.ascontiguousarray(x_all[:256].transpose(0, 2, 1))).to(device)
        logits = model(x_port).cpu().numpy()
    port_diff = float(np.max(np.abs(logits - np.load(workdir / "logits.npy"))))
    if port_diff >= (1e-4 if device == "cpu" else 5e-2):
        raise SystemExit(f"the torch port's logits differ from Keras's by {port_diff:.2e}")

    def channels_first(x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 2, 1))).to(device)

    def channels_last(t: torch.Tensor) -> np.ndarray:
        return np.ascontiguousarray(t.detach().cpu().numpy().transpose(0, 2, 1))

    # each callable takes (N, L, 4) numpy, converts once (timed), returns (N, L, 4) numpy
    def tm_saliency(x: np.ndarray, batch: int = BATCH["saliency"]) -> np.ndarray:
        out = saliency(
            model,
            channels_first(x),
            target=TASK,
            batch_size=batch,
            hypothetical=True,
            gradient_correction=False,
            device=device,
        )
        return channels_last(out)

    def captum_saliency(x: np.ndarray) -> np.ndarray:
        explainer, xt, batch = Saliency(model), channels_first(x), BATCH["saliency"]
        parts = [
            explainer.attribute(xt[s : s + batch], target=TASK, abs=False) for s in range(0, len(xt), batch)
        ]
        return channels_last(torch.cat(parts))

    def captum_ig(x: np.ndarray) -> np.ndarray:
        explainer, xt = IntegratedGradients(model), channels_first(x)
        step = max(1, BATCH["integrated_gradients"] // STEPS)  # whole sequences per pass, as ours
        parts = [
            explainer.attribute(
                xt[s : s + step],
                baselines=torch.zeros_like(xt[s : s + step]),
                target=TASK,
                n_steps=STEPS,
                method="riemann_middle",
            )
            for s in range(0, len(xt), step)
        ]
        return channels_last(torch.cat(parts))

    def tm_deepshap(x: np.ndarray, batch: int = BATCH["deep_lift_shap"] // 2) -> np.ndarray:
        refs = torch.from_numpy(np.ascontiguousarray(refs_all[: len(x)].transpose(0, 1, 3, 2)))
        out = deep_lift_shap(
            model, channels_first(x), target=TASK, batch_size=batch, references=refs, device=device
        )
        return channels_last(out)

    def tm_ism(x: np.ndarray, batch: int = BATCH["ism"], fast: bool = False) -> np.ndarray:
        saved = tm_sm._FAST_MIN_SECONDS
        if fast:
            tm_sm._FAST_MIN_SECONDS = 0.0
        try:
            y0, y_hat = tm_sm.saturation_mutagenesis(
                model, channels_first(x), target=TASK, batch_size=batch, raw_outputs=True, device=device
            )
        finally:
            tm_sm._FAST_MIN_SECONDS = saved
        delta = y_hat[..., TASK] - y0[:, None, None, TASK]  # (N, 4, L)
        return channels_last(delta)

    peers: dict[str, dict] = {
        "saliency": {"tangermeme": tm_saliency},
        "integrated_gradients": {},
        "deep_lift_shap": {"tangermeme": tm_deepshap},
        "ism": {"tangermeme": tm_ism, "tangermeme_fast": lambda x: tm_ism(x, fast=True)},
    }
    if Saliency is not None:
        peers["saliency"]["captum"] = captum_saliency
        peers["integrated_gradients"]["captum"] = captum_ig
    if peer_default_batch:
        peers["saliency"]["tangermeme_b32"] = lambda x: tm_saliency(x, 32)
        peers["deep_lift_shap"]["tangermeme_b32"] = lambda x: tm_deepshap(x, 32)
        peers["ism"]["tangermeme_b32"] = lambda x: tm_ism(x, 32)
    result: dict[str, dict] = {"port_max_abs_diff": port_diff}
    for method in sizes:
        x = x_all[: sizes[method]]
        result[method] = {}
        for name, fn in peers[method].items():
            timing, out = _timed_calls(fn, x, method, repeats)
            result[method][name] = timing
            if save:
                np.save(workdir / f"{name}_{method}.npy", out.astype(np.float32))
    return result


# -------------------------------------------------------------------------------------------- driver
def run_worker(kind: str, args: argparse.Namespace, workdir: Path, save: bool) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    if env.get(DEVICE_VARIABLE, "cpu") == "cpu" or kind == "prepare":  # the model is trained on CPU
        env["CUDA_VISIBLE_DEVICES"] = ""
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--worker",
        kind,
        "--workdir",
        str(workdir),
        "--sizes",
        json.dumps(args.sizes),
        "--threads",
        str(args.threads),
        "--repeats",
        str(args.repeats),
    ]
    if save:
        cmd.append("--save")
    if args.peer_default_batch:
        cmd.append("--peer-default-batch")
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{kind} worker failed:\n{out.stderr[-3000:]}\n{out.stdout[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--full", action="store_true", help="4x the sequences, 3 rounds")
    parser.add_argument("--n", type=int, default=None, help="sequences for every method")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 2, --full 3)")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma list of methods to run")
    parser.add_argument("--repeats", type=int, default=2, help="timed full calls per method and process")
    parser.add_argument(
        "--threads", type=int, default=len(allowed_cores()), help="threads for both frameworks"
    )
    parser.add_argument(
        "--peer-default-batch", action="store_true", help="add tangermeme rows at its default batch size 32"
    )
    parser.add_argument(
        "--device", choices=("cpu", "gpu"), default="cpu", help="gpu: ours and the peers may use the GPU"
    )
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--save", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.worker:
        os.environ[DEVICE_VARIABLE] = args.device  # the workers inherit it

    if args.worker:
        workdir, sizes = Path(args.workdir), json.loads(args.sizes)
        if args.worker == "prepare":
            result = worker_prepare(workdir, sizes, args.threads)
        elif args.worker == "ours":
            result = worker_ours(workdir, sizes, args.threads, args.repeats, args.save)
        else:
            result = worker_peer(
                workdir, sizes, args.threads, args.repeats, args.save, args.peer_default_batch
            )
        print(json.dumps(result))
        return

    methods = [m for m in args.methods.split(",") if m]
    unknown = set(methods) - set(METHODS)
    if unknown:
        raise SystemExit(f"unknown methods {sorted(unknown)}; valid: {', '.join(METHODS)}")
    methods = [m for m in METHODS if m in methods]
    args.sizes = {m: args.n or SIZES[m][1 if args.full else 0] for m in methods}
    rounds = args.rounds or (3 if args.full else 2)
    start = time.perf_counter()
    load0 = os.getloadavg()[0]
    if load0 > 0.5:
        print(
            f"warning: load average {load0:.2f} before starting; other work on the cores skews the timings, "
            "PyTorch's OpenMP pool most (several-fold with all cores requested): compare with --threads 1"
        )
    with tempfile.TemporaryDirectory(prefix="cislens_attr_bench_") as tmp:
        workdir = Path(tmp)
        prep = run_worker("prepare", args, workdir, save=False)
        print(
            f"model: CNN-25 trained {EPOCHS} epochs on {prep['n_train']:,} synthetic multitask sequences "
            f"({prep['train_s']:.0f} s, mean held-out AUROC {prep['auroc']:.3f}); "
            f"{args.threads} threads per framework"
        )
        rows: dict[str, dict[str, dict]] = {m: {} for m in methods}
        port_diff = None
        for r in range(rounds):  # interleaved: background load hits both sides alike
            for kind in ("ours", "peer"):
                result = run_worker(kind, args, workdir, save=r == 0)
                port_diff = result.pop("port_max_abs_diff", port_diff)
                for method, sides in result.items():
                    for name, timing in sides.items():
                        row = rows[method].setdefault(name, {"times": [], "one_s": []})
                        row["times"] += timing["times"]
                        row["one_s"].append(timing["one_s"])
        maps = {m: {name: np.load(workdir / f"{name}_{m}.npy") for name in rows[m]} for m in methods}

    print(f"torch port: max |logit diff| vs Keras = {port_diff:.1e} on 256 sequences")
    header = (
        f"{'method':<22}{'N':>6}  {'implementation':<22}{'best s':>8}{'seq/s':>9}{'1-seq s':>9}"
        f"{'ratio':>7}{'max|diff|':>11}{'off':>5}{'max|ours|':>11}"
    )
    print(header)
    print("-" * len(header))
    ratios: dict[str, float] = {}
    for method in methods:
        n = args.sizes[method]
        ours_t = min(rows[method]["ours"]["times"])
        ours_map = maps[method]["ours"]
        scale = float(np.max(np.abs(ours_map)))
        best_peer = None
        for name, row in rows[method].items():
            best = min(row["times"])
            one = min(row["one_s"])
            if name == "ours":
                label, ratio_s, diff_s, off_s = "cislens (ours)", "", "", ""
            else:
                label = PEER_LABELS[name]
                ratio = best / ours_t
                if name != "tangermeme_b32":  # the same-batch peers decide the headline ratio
                    best_peer = ratio if best_peer is None else min(best_peer, ratio)
                ratio_s = f"{ratio:.2f}"
                per_seq = np.abs(maps[method][name] - ours_map).reshape(n, -1).max(axis=1)
                diff_s, off_s = f"{float(per_seq.max()):.2e}", str(int(np.sum(per_seq > OFF * scale)))
            scale_s = f"{scale:.2e}" if name == "ours" else ""
            print(
                f"{method:<22}{n:>6}  {label:<22}{best:>8.3f}{n / best:>9,.0f}{one:>9.3f}"
                f"{ratio_s:>7}{diff_s:>11}{off_s:>5}{scale_s:>11}"
            )
        if best_peer is not None:
            ratios[method] = best_peer
        else:
            print(f"{method:<22}{n:>6}  (no peer: captum is not installed, tangermeme has no {method})")
    elapsed = time.perf_counter() - start
    print(
        f"(best of {rounds} rounds x {args.repeats} full calls, each framework in its own process; ratio = "
        f"peer time / our time; 1-seq s = one call on one sequence, the fixed cost per call; off = sequences "
        f"whose maps differ by more than {OFF:g} x max|ours|; "
        f"load average {load0:.2f} before, {os.getloadavg()[0]:.2f} after; {elapsed:.0f} s in all)"
    )
    print(
        f"attribution: ratio_min={min(ratios.values(), default=float('nan')):.2f} "
        + " ".join(f"{m}={ratios[m]:.2f}" if m in ratios else f"{m}=nan" for m in methods)
    )


if __name__ == "__main__":
    main()
