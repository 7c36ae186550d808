"""TensorFlow jobs log their devices; a job that asked for a GPU and sees none fails in one line."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import pytest

from cislens.errors import InputError
from cislens.runlog import logged
from cislens.runtime import ALLOW_CPU, NoGPUError, check_devices, device_line, gpu_request

LOG = logging.getLogger("test_devices")


@pytest.fixture(autouse=True)
def _no_gpu_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in (ALLOW_CPU, "SLURM_JOB_GPUS", "SLURM_STEP_GPUS"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")


def test_device_line_names_the_cpu() -> None:
    line = device_line()
    assert line.startswith("devices: ") and "CPU:0" in line
    assert "GPU:" not in line  # this machine has none; the guard tests below rely on it


@pytest.mark.parametrize(
    ("resources", "environ", "expected"),
    [
        ({}, {}, None),
        ({"gpu": 0}, {}, None),
        ({"gpu": 1}, {}, "resources gpu=1"),
        ({"gres": "'gpu:a100:1'"}, {}, "resources gres=gpu:a100:1"),
        ({"gres": "licence:1"}, {}, None),
        (None, {"SLURM_JOB_GPUS": "0"}, "SLURM_JOB_GPUS=0"),
        (None, {"CUDA_VISIBLE_DEVICES": "0,1"}, "CUDA_VISIBLE_DEVICES=0,1"),
        (None, {"CUDA_VISIBLE_DEVICES": ""}, None),
        (None, {"CUDA_VISIBLE_DEVICES": "-1"}, None),
        (SimpleNamespace(gpu=2), {}, "resources gpu=2"),  # attribute access, like Snakemake's Resources
    ],
)
def test_gpu_request(resources: object, environ: dict, expected: str | None) -> None:
    assert gpu_request(resources, environ) == expected


def test_asking_for_a_gpu_without_one_fails_in_one_line() -> None:
    with pytest.raises(NoGPUError) as info:
        check_devices("train", {"gpu": 1}, LOG, environ={})
    message = str(info.value)
    assert isinstance(info.value, InputError) and "\n" not in message
    assert message.startswith("rule train asked for a GPU (resources gpu=1) but TensorFlow sees none (")
    assert message.endswith("; set CISLENS_ALLOW_CPU=1 to run on CPU anyway")


def test_the_escape_hatch_and_cpu_jobs_pass(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="test_devices"):
        assert check_devices("train", {"gpu": 1}, LOG, environ={ALLOW_CPU: "1"}).startswith("devices: ")
        assert check_devices("prepare", {"mem_mb": 100}, LOG, environ={}).startswith("devices: ")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith("rule train asked for a GPU (resources gpu=1) but TensorFlow sees none")
    assert warnings[0].endswith(f"; running on CPU as {ALLOW_CPU} is set")


def _fake(log: Path, **resources: object) -> SimpleNamespace:
    return SimpleNamespace(log=[str(log)], rule="train", wildcards={}, resources=resources)


def test_logged_tensorflow_job_logs_devices_and_fails_without_its_gpu(
    tmp_path: Path, capfd: pytest.CaptureFixture
) -> None:
    log = tmp_path / "train.log"
    with logged(_fake(log), tensorflow=True):
        pass
    assert "devices: CPU:0" in log.read_text()
    with pytest.raises(SystemExit), logged(_fake(log, gpu=1), tensorflow=True):
        raise AssertionError("the job body must not run")
    terminal = capfd.readouterr().err.strip().splitlines()
    assert len(terminal) == 1
    assert terminal[0].startswith("cislens error: rule train asked for a GPU (resources gpu=1) but")
    assert "the job body" not in log.read_text()
