"""Benchmark: how long ``snakemake -n`` takes to plan a large config (datasets x variants x trials).

The config has ``--datasets`` datasets (half ``synthetic_multitask``, half ``peaks`` datasets, each with
its own small narrowPeak file on one shared indexed genome, so the DAG-time preflight parses real
files), ``--variants`` variants (models x regimes) and ``--trials`` trials. It times two things in a
fresh working directory: the workflow's own planning (``common.smk``: schema validation, per-dataset
settings, preflight, JASPAR tags, applicable figures; measured in-process) and the whole
``snakemake -n`` (a subprocess; first run with a cold preflight cache, then a second run), and the
dry run of one part as Snakemake plans it with ``--batch all=1/10`` (docs/hpc.md: Scale), in wall
and CPU seconds (the CPU time is what a busy machine does not inflate). Target: the dry run of 500
datasets x 12 variants x 3 trials in under 60 s. Last line:
``dag: ratio=<target_s / dry_run_s> seconds=<s> cpu_seconds=<s> jobs=<n> ...`` (above 1 means faster
than the target).

    .venv/bin/python benchmarks/dag.py                       # 500 x 12 x 3 (the issue's size)
    .venv/bin/python benchmarks/dag.py --datasets 50          # quicker
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
TARGET_S = 60.0


def make_config(workdir: Path, n_datasets: int, n_variants: int, n_trials: int, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    inputs = workdir / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    chroms = {f"chr{i}": 2_000_000 for i in range(1, 6)}
    genome = inputs / "genome.fa"
    with open(genome, "w") as handle:  # tiny sequence lines; only the index is read at DAG time
        offset = 0
        fai = []
        for name, size in chroms.items():
            header = f">{name}\n"
            handle.write(header)
            offset += len(header)
            fai.append(f"{name}\t{size}\t{offset}\t{size}\t{size + 1}\n")
            handle.write("A" * size + "\n")
            offset += size + 1
    (inputs / "genome.fa.fai").write_text("".join(fai))
    models = {f"m{i}": {"arch": "cnn", "first_pool": [1, 4, 10, 25][i % 4], "filters": 8} for i in range(4)}
    regimes = {"standard": {"kind": "standard"}, "noise": {"kind": "gaussian_noise"}, "l2": {"kind": "l2"}}
    variants = [f"{m}__{r}" for m in models for r in regimes][:n_variants]
    while len(variants) < n_variants:  # more variants than 4 x 3: more models
        name = f"m{len(models)}"
        models[name] = {"arch": "cnn", "first_pool": 25, "filters": 8 + len(models)}
        variants += [f"{name}__{r}" for r in regimes][: n_variants - len(variants)]
    datasets = {}
    for i in range(n_datasets):
        if i % 2 == 0:
            datasets[f"syn{i}"] = {"kind": "synthetic_multitask", "n": 1000, "seed": i}
        else:
            peaks = inputs / f"peaks{i}.narrowPeak"
            starts = np.sort(rng.integers(0, 1_900_000, 300))
            chrom = rng.choice(list(chroms), 300)
            peaks.write_text(
                "".join(
                    f"{c}\t{s}\t{s + 300}\tp{j}\t100\t.\t5.0\t-1\t-1\t150\n"
                    for j, (c, s) in enumerate(zip(chrom, starts, strict=True))
                )
            )
            datasets[f"peaks{i}"] = {
                "kind": "peaks",
                "peaks": {"tf": str(peaks)},
                "genome": str(genome),
                "valid_chroms": ["chr4"],
                "test_chroms": ["chr5"],
            }
    config = {
        "seed": 1,
        "trials": n_trials,
        "datasets": datasets,
        "models": models,
        "regimes": regimes,
        "variants": variants,
    }
    path = workdir / "big.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def planning_seconds(configfile: Path, workdir: Path) -> dict[str, float]:
    """The planning steps common.smk runs, timed one by one in this process."""
    import os

    from cislens import config as cfg
    from cislens import plan as cp

    schema_path = ROOT / "workflow" / "schemas" / "config.schema.yaml"
    config = yaml.safe_load(configfile.read_text())
    times: dict[str, float] = {}
    here = os.getcwd()
    os.chdir(workdir)
    try:
        t = time.perf_counter()
        cp.validate(config, cp.load_schema(schema_path))  # one pass: one-line errors, schema defaults
        times["validate"] = time.perf_counter() - t
        t = time.perf_counter()
        plan = cp.workflow_plan(config)
        times["workflow_plan"] = time.perf_counter() - t
        t = time.perf_counter()
        for name, entry in plan.items():
            cp.check_inputs(name, entry["settings"])
        times["preflight"] = time.perf_counter() - t
        t = time.perf_counter()
        for entry in plan.values():
            cfg.jaspar_tag(entry["settings"]["jaspar"])
        times["jaspar_tag"] = time.perf_counter() - t
        t = time.perf_counter()
        cp.applicable_figures(config)
        times["figures_applicable"] = time.perf_counter() - t
    finally:
        os.chdir(here)
    return times


def dry_run(configfile: Path, workdir: Path, extra: tuple[str, ...] = ()) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, jobs) of one ``snakemake -n``; CPU time is what a busy machine
    does not inflate."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(
        [
            SNAKEMAKE,
            "-n",
            "--quiet",
            "rules",
            "-s",
            str(ROOT / "workflow" / "Snakefile"),
            "--directory",
            str(workdir),
            "--configfile",
            str(configfile),
            *extra,
        ],
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if result.returncode != 0:
        raise SystemExit(f"snakemake -n failed:\n{result.stderr[-3000:]}")
    match = re.search(r"^total\s+(\d+)", result.stdout + result.stderr, flags=re.MULTILINE)
    return seconds, cpu, int(match.group(1)) if match else -1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", type=int, default=500)
    parser.add_argument("--variants", type=int, default=12)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument(
        "--batches",
        type=int,
        default=10,
        help="also time planning one part, snakemake -n --batch all=1/BATCHES (0: skip)",
    )
    parser.add_argument("--keep", action="store_true", help="print the working directory and keep it")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="cislens-dag-")
    workdir = Path(tmp)
    configfile = make_config(workdir, args.datasets, args.variants, args.trials)
    (workdir / "planning").mkdir(exist_ok=True)
    planning = planning_seconds(configfile, workdir / "planning")
    cold, cold_cpu, jobs = dry_run(configfile, workdir)
    warm, warm_cpu, jobs_again = dry_run(configfile, workdir)
    if args.batches:
        part, part_cpu, part_jobs = dry_run(configfile, workdir, ("--batch", f"all=1/{args.batches}"))
    print(f"{'step':<28}{'seconds':>10}{'cpu s':>10}")
    for name, seconds in planning.items():
        print(f"{'planning: ' + name:<28}{seconds:>10.3f}")
    print(f"{'planning: total':<28}{sum(planning.values()):>10.3f}")
    print(f"{'snakemake -n (cold cache)':<28}{cold:>10.1f}{cold_cpu:>10.1f}")
    print(f"{'snakemake -n (warm cache)':<28}{warm:>10.1f}{warm_cpu:>10.1f}")
    if args.batches:
        label = f"--batch all=1/{args.batches}"
        print(f"{label:<28}{part:>10.1f}{part_cpu:>10.1f}   ({part_jobs} jobs)")
    per_job = 1000 / max(jobs, 1)
    print(f"{'per job (ms, cold)':<28}{cold * per_job:>10.2f}{cold_cpu * per_job:>10.2f}")
    if args.keep:
        print(f"working directory: {workdir}")
    else:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"dag: ratio={TARGET_S / cold:.2f} seconds={cold:.1f} cpu_seconds={cold_cpu:.1f} "
        f"warm_seconds={warm:.1f} jobs={jobs} "
        f"datasets={args.datasets} variants={args.variants} trials={args.trials} "
        f"planning_seconds={sum(planning.values()):.2f}"
    )
    assert jobs == jobs_again


if __name__ == "__main__":
    main()
