"""Snakemake reads the SLURM profile (`make slurm-profile`, and profiles/slurm with its environment
variables): dry runs show each job's resources, GPU requests only on the GPU rules."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from cislens.hpc.profile import GPU_RULES

from ..conftest import ROOT

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
TINY = {
    "datasets": {
        "multi": {"kind": "synthetic_multitask", "n": 200},
        # A score block puts variant_effects and predict (GPU rules too) in the dry run.
        "genome": {
            "kind": "synthetic_genome",
            "n_chroms": 3,
            "chrom_length": 100000,
            "peaks_per_tf": 20,
            "valid_chroms": ["chr2"],
            "test_chroms": ["chr3"],
            "score": {"vcf": {"planted": "generated"}, "sequences": {"new": "new.fa"}},
        },
    },
    "models": {"m": {"arch": "cnn", "filters": 4}},
    "regimes": {"standard": {"kind": "standard"}},
    "variants": ["m__standard"],
    "resources": {"train": {"runtime": 90}},
}


def _dry_run(workdir: Path, env: dict[str, str], *profile: str) -> str:
    configfile = workdir / "tiny.yaml"
    configfile.write_text(yaml.safe_dump(TINY))
    (workdir / "new.fa").write_text(">s1\n" + "ACGT" * 50 + "\n")
    result = subprocess.run(
        [
            SNAKEMAKE,
            *profile,
            "-n",
            "-s",
            str(ROOT / "workflow" / "Snakefile"),
            "--configfile",
            str(configfile),
        ],
        capture_output=True,
        text=True,
        cwd=workdir,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def _resources(log: str) -> dict[str, str]:
    """rule -> its job's resources line in a dry run."""
    found: dict[str, str] = {}
    rule = None
    for line in log.splitlines():
        match = re.match(r"^\s*(?:local)?rule (\w+):", line)  # group members are indented
        if match:
            rule = match.group(1)
        elif rule and line.strip().startswith("resources:"):
            found.setdefault(rule, line.strip())
            rule = None
    return found


def test_make_slurm_profile_then_profile_slurm(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = dict(os.environ, HOME=str(home))
    made = subprocess.run(
        [
            "make",
            "-s",
            "-C",
            str(ROOT),
            "slurm-profile",
            "ACCOUNT=lab",
            "PARTITION=short",
            "GPU_PARTITION=gpu",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert made.returncode == 0, made.stdout[-2000:] + made.stderr[-2000:]
    installed = home / ".config" / "snakemake" / "slurm" / "config.yaml"
    assert installed.exists()
    missing = subprocess.run(["make", "-s", "-C", str(ROOT), "slurm-profile"], capture_output=True, text=True)
    assert missing.returncode != 0 and "usage: make slurm-profile" in missing.stderr
    workdir = tmp_path / "run"
    workdir.mkdir()
    resources = _resources(_dry_run(workdir, env, "--profile", "slurm"))
    for rule in GPU_RULES:
        assert "slurm_partition=gpu" in resources[rule] and "gpu=1" in resources[rule], resources[rule]
        assert "slurm_account=lab" in resources[rule]
    for rule in ("prepare", "filters", "tomtom"):
        assert "gpu" not in resources[rule] and "slurm_partition=short" in resources[rule], resources[rule]
    assert "runtime=90" in resources["train"]  # the workflow config's resources.train
    assert "runtime=240" in resources["attribute"] and "mem_mb=16000" in resources["attribute"]  # built-in
    assert "runtime=60" in resources["tomtom"]  # the profile's default


def test_repository_profile_reads_the_environment(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        HOME=str(tmp_path),
        CISLENS_SLURM_ACCOUNT="lab",
        CISLENS_SLURM_PARTITION="all",
        CISLENS_GPU_PARTITION="gpu-a100",
    )
    resources = _resources(_dry_run(tmp_path, env, "--profile", str(ROOT / "profiles" / "slurm")))
    assert "slurm_account=lab" in resources["prepare"] and "slurm_partition=all" in resources["prepare"]
    assert "slurm_partition=gpu-a100" in resources["train"] and "gpu=1" in resources["train"]
