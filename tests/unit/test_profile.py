"""The SLURM profile (profiles/slurm, `make slurm-profile`) and the conda environments, without SLURM.

The real submissions are tested in tests/integration/test_slurm.py; here: rendering, Snakemake's
reading of both profiles (dry runs show each job's resources), and the envs' pins.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cislens.hpc.profile import GPU_RULES, render

from ..conftest import ROOT

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
PROFILE = ROOT / "profiles" / "slurm" / "config.yaml"
TINY = {
    "datasets": {"multi": {"kind": "synthetic_multitask", "n": 200}},
    "models": {"m": {"arch": "cnn", "filters": 4}},
    "regimes": {"standard": {"kind": "standard"}},
    "variants": ["m__standard"],
    "resources": {"train": {"runtime": 90}},
}


def template() -> dict:
    return yaml.safe_load(PROFILE.read_text())


def test_repository_profile_tags_exactly_the_gpu_rules() -> None:
    profile = template()
    assert profile["executor"] == "slurm"
    assert profile["retries"] >= 1  # a cancelled or timed-out training job is resubmitted and resumes
    per_rule = profile["set-resources"]
    assert {rule for rule, res in per_rule.items() if "gpu" in res or "gres" in res} == set(GPU_RULES)
    assert "gpu" not in profile["default-resources"] and "gres" not in profile["default-resources"]
    # Snakemake rewrites a profile value naming an existing path beside the profile: none may.
    folder = PROFILE.parent
    scalars = [str(v) for v in profile.values() if not isinstance(v, dict | list)]
    assert not [v for v in scalars if (folder / v).exists()], scalars


@pytest.mark.parametrize(
    ("style", "model", "expected"),
    [
        ("gpu", None, {"gpu": 1}),
        ("gpu", "a100", {"gpu": 1, "gpu_model": "'a100'"}),
        ("gres", None, {"gres": "'gpu:1'"}),
        ("gres", "a100", {"gres": "'gpu:a100:1'"}),
    ],
)
def test_render_gpu_styles(style: str, model: str | None, expected: dict) -> None:
    profile = render(
        template(), account="all", partition="cpu", gpu_partition="gpu", gpu_model=model, gpu_style=style
    )
    # Resource strings are Python literals to Snakemake: an account named `all` must stay a string.
    assert profile["default-resources"]["slurm_account"] == "'all'"
    for rule in GPU_RULES:
        entry = profile["set-resources"][rule]
        assert entry == {"slurm_partition": "'gpu'", **expected}, entry
    assert profile["groups"] == template()["groups"]


def test_render_defaults_and_errors() -> None:
    profile = render(template(), account="a", partition="p", gpus=2, cpus_per_gpu=8, runtime=120, mem_mb=4000)
    assert profile["set-resources"]["train"] == {"slurm_partition": "'p'", "gpu": 2, "cpus_per_gpu": 8}
    assert profile["default-resources"]["runtime"] == 120 and profile["default-resources"]["mem_mb"] == 4000
    with pytest.raises(ValueError, match="gpu_style"):
        render(template(), account="a", partition="p", gpu_style="mig")


def _dry_run(workdir: Path, env: dict[str, str], *profile: str) -> str:
    configfile = workdir / "tiny.yaml"
    configfile.write_text(yaml.safe_dump(TINY))
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


def _pins(text: str) -> dict[str, str]:
    pins = {}
    for line in text.splitlines():
        match = re.match(r"^\s*(?:-\s*)?([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==([^\s#]+)", line)
        if match:
            pins[match.group(1).lower()] = match.group(3)
    return pins


def test_conda_envs_pin_the_requirements_versions() -> None:
    required = _pins((ROOT / "requirements.txt").read_text())
    required["tensorflow"] = required["tensorflow-cpu"]  # tensorflow[and-cuda] on GPU nodes
    for env_file in sorted((ROOT / "envs").glob("*.yaml")):
        env = yaml.safe_load(env_file.read_text())
        assert env["channels"][:2] == ["conda-forge", "bioconda"], env_file
        pip = next((d["pip"] for d in env["dependencies"] if isinstance(d, dict)), [])
        assert not [p for p in pip if p.startswith(("-r", "-e"))], env_file  # relative paths break
        pins = _pins("\n".join(pip))
        assert pins, env_file
        for name, version in pins.items():
            assert required.get(name) == version, (env_file.name, name, version, required.get(name))
    assert "tensorflow" in _pins((ROOT / "envs" / "tensorflow.yaml").read_text())
    meme = yaml.safe_load((ROOT / "envs" / "meme.yaml").read_text())
    assert any(str(d).startswith("meme") for d in meme["dependencies"])


def test_every_rule_has_a_conda_environment() -> None:
    for smk in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        blocks = re.split(r"^rule ", smk.read_text(), flags=re.MULTILINE)[1:]
        for block in blocks:
            name = block.split(":", 1)[0]
            match = re.search(r"^    conda:\n\s+\"([^\"]+)\"", block, flags=re.MULTILINE)
            assert match, (smk.name, name)
            assert (smk.parent / match.group(1)).resolve().exists(), (smk.name, name, match.group(1))


def test_cancelled_jobs_read_as_failed_by_the_slurm_plugin() -> None:
    """sacct says 'CANCELLED by 0'; the plugin (2.8.0) only knows 'CANCELLED' (cislens.hpc.slurm)."""
    import asyncio
    import logging

    import snakemake_executor_plugin_slurm as plugin

    from cislens.hpc.slurm import normalize_job_states

    normalize_job_states()
    normalize_job_states()  # idempotent
    assert plugin.query_job_status.cislens_normalized
    command = "printf '7|CANCELLED by 0\\n8|COMPLETED\\n9|FAILED\\n'"
    states, _ = asyncio.run(plugin.query_job_status(command, logging.getLogger("test")))
    assert states == {"7": "CANCELLED", "8": "COMPLETED", "9": "FAILED"}
