"""The SLURM profile (profiles/slurm, `make slurm-profile`) and the conda environments, without SLURM.

The real submissions are tested in tests/integration/test_slurm.py and Snakemake's reading of both
profiles in tests/integration/test_profile_workflow.py; here: rendering, GPU tagging and the envs' pins.
"""

from __future__ import annotations

import re

import pytest
import yaml

from cislens.hpc.profile import GPU_RULES, render

from ..conftest import ROOT

PROFILE = ROOT / "profiles" / "slurm" / "config.yaml"


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
