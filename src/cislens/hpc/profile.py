"""Write the SLURM profile with this cluster's values, where ``snakemake --profile slurm`` finds it.

Snakemake looks up a profile named ``slurm`` in ``./slurm``, ``~/.config/snakemake/slurm`` and
``/etc/xdg/snakemake/slurm`` only (never in ``profiles/``), so ``make slurm-profile`` renders the
repository's ``profiles/slurm/config.yaml`` with literal values (account, partitions, GPU request
style) into ``~/.config/snakemake/slurm/config.yaml``:

    python -m cislens.hpc.profile --account lab --partition cpu --gpu-partition gpu
    python -m cislens.hpc.profile ... --gpu-style gres --gpu-model a100      # --gres=gpu:a100:1
"""

from __future__ import annotations

import argparse
import copy
import os
from pathlib import Path
from typing import Any

import yaml

from ..io import atomic_open

TEMPLATE = Path(__file__).resolve().parents[3] / "profiles" / "slurm" / "config.yaml"
GPU_RULES = ("train", "attribute", "gia", "modisco", "variant_effects", "predict", "tracks")
DEFAULT_DEST = Path("~/.config/snakemake/slurm")


def _literal(value: str) -> str:
    """A string resource as Snakemake reads it: a Python literal (``all`` would be the builtin)."""
    return repr(str(value))


def render(
    template: dict[str, Any],
    *,
    account: str,
    partition: str,
    gpu_partition: str | None = None,
    gpus: int = 1,
    gpu_model: str | None = None,
    gpu_style: str = "gpu",
    cpus_per_gpu: int | None = None,
    runtime: int | str | None = None,
    mem_mb: int | None = None,
    jobs: int | None = None,
) -> dict[str, Any]:
    """The profile with literal values: account and partition for every job, the GPU request (style
    ``gpu``: ``--gpus=[model:]N``; ``gres``: ``--gres=gpu[:model]:N``) for the GPU_RULES."""
    if gpu_style not in ("gpu", "gres"):
        raise ValueError(f"gpu_style must be 'gpu' or 'gres', not {gpu_style!r}")
    if gpus < 1:
        raise ValueError("gpus must be at least 1")
    profile = copy.deepcopy(template)
    defaults = profile.setdefault("default-resources", {})
    defaults["slurm_account"] = _literal(account)
    defaults["slurm_partition"] = _literal(partition)
    if runtime is not None:
        defaults["runtime"] = runtime
    if mem_mb is not None:
        defaults["mem_mb"] = int(mem_mb)
    if jobs is not None:
        profile["jobs"] = int(jobs)
    per_rule = profile.setdefault("set-resources", {})
    for rule in GPU_RULES:
        entry = {k: v for k, v in (per_rule.get(rule) or {}).items() if k not in ("gpu", "gpu_model", "gres")}
        entry["slurm_partition"] = _literal(gpu_partition or partition)
        if gpu_style == "gpu":
            entry["gpu"] = int(gpus)
            if gpu_model:
                entry["gpu_model"] = _literal(gpu_model)
        else:
            entry["gres"] = _literal(f"gpu:{gpu_model}:{gpus}" if gpu_model else f"gpu:{gpus}")
        if cpus_per_gpu:
            entry["cpus_per_gpu"] = int(cpus_per_gpu)
        per_rule[rule] = entry
    return profile


class _Dumper(yaml.SafeDumper):
    """Strings holding a quoted literal are written double-quoted ("'cpu'"), as in the template."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"' if "'" in value else None)


_Dumper.add_representer(str, _str)


def write(profile: dict[str, Any], dest: str | os.PathLike) -> Path:
    """Write ``dest/config.yaml`` (atomically) with a header saying where it came from."""
    dest = Path(dest).expanduser()
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / "config.yaml"
    with atomic_open(target) as handle:
        handle.write(
            "# Written by `make slurm-profile` (python -m cislens.hpc.profile) from the cislens\n"
            "# repository's profiles/slurm/config.yaml, which explains every entry.\n"
            "# Use: snakemake --profile slurm ...\n"
        )
        yaml.dump(profile, handle, Dumper=_Dumper, sort_keys=False, default_flow_style=False)
    return target


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m cislens.hpc.profile", description=__doc__.split("\n")[0])
    parser.add_argument("--account", required=True, help="SLURM account (sbatch -A)")
    parser.add_argument("--partition", required=True, help="partition of the CPU jobs")
    parser.add_argument(
        "--gpu-partition", help="partition of the GPU rules (GPU_RULES; default: --partition)"
    )
    parser.add_argument("--gpus", type=int, default=1, help="GPUs per GPU job (1)")
    parser.add_argument("--gpu-model", help="GPU type, e.g. a100 (default: any)")
    parser.add_argument("--gpu-style", choices=["gpu", "gres"], default="gpu", help="--gpus (gpu) or --gres")
    parser.add_argument("--cpus-per-gpu", type=int, help="sbatch --cpus-per-gpu for the GPU jobs")
    parser.add_argument("--runtime", help="default wall time in minutes (or e.g. 2h)")
    parser.add_argument("--mem-mb", type=int, help="default memory per job")
    parser.add_argument("--jobs", type=int, help="jobs in flight")
    parser.add_argument("--template", default=str(TEMPLATE))
    parser.add_argument(
        "--dest", default=str(DEFAULT_DEST), help="profile folder (~/.config/snakemake/slurm)"
    )
    args = parser.parse_args(argv)
    runtime: int | str | None = args.runtime
    if isinstance(runtime, str) and runtime.isdigit():
        runtime = int(runtime)
    template = yaml.safe_load(Path(args.template).read_text())
    profile = render(
        template,
        account=args.account,
        partition=args.partition,
        gpu_partition=args.gpu_partition,
        gpus=args.gpus,
        gpu_model=args.gpu_model,
        gpu_style=args.gpu_style,
        cpus_per_gpu=args.cpus_per_gpu,
        runtime=runtime,
        mem_mb=args.mem_mb,
        jobs=args.jobs,
    )
    target = write(profile, args.dest)
    print(f"wrote {target}: snakemake --profile slurm now submits to account {args.account}")


if __name__ == "__main__":
    main()
