"""The workflow on a real SLURM: a one-node cluster with accounting and a fake GPU, started here.

As root the set-up installs Debian's SLURM, munge and MariaDB packages when missing and starts the
daemons (tests/support/testcluster.py); they are stopped by PID in the fixture's finalizer. Without root
or apt the tests skip, except in CI (CI=true), where they must run.

- ``make slurm-profile`` with HOME in a temporary folder, then ``snakemake --profile slurm``: train,
  attribute and gia are submitted with a GPU (``--gres=gpu:fake:1``), every other job without one;
  all finish; the config's ``resources:`` sets the time limits and memory (sacct, scontrol).
- The repository's ``profiles/slurm`` (values from the environment, ``--gpus=1``): a training job is
  cancelled with ``scancel`` once its epoch checkpoint exists, resubmitted by Snakemake (retries) and
  resumed; cancelled again, the run fails; rerun with the profile, it resumes again and completes.
  It starts from a copy of the first run's working directory (same dataset and seed, Snakemake's
  records kept, the trial removed): prepare is not submitted again, training is.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from cislens.hpc.profile import GPU_RULES as PROFILE_GPU_RULES
from tests.support import testcluster

from ..conftest import ROOT

# Generous limits: the first test also installs the packages on a clean machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
SNAKEFILE = str(ROOT / "workflow" / "Snakefile")
GPU_RULES = set(PROFILE_GPU_RULES)  # of those, this run submits train, attribute, gia and modisco
# Status polling: fast enough for a test (the plugin waits 40 s before its first check by default).
FAST_POLLING = ("--slurm-init-seconds-before-status-checks", "5", "--seconds-between-status-checks", "5")

SMALL = {
    "seed": 3,
    "trials": 1,
    "threads": 1,  # the test node has 2 CPUs: two jobs side by side
    "datasets": {"multi": {"kind": "synthetic_multitask", "n": 400, "seed": 1}},
    "models": {
        "cnn_small": {"arch": "cnn", "first_pool": 25, "filters": 8, "dense_units": 16, "conv2_filters": 16}
    },
    "regimes": {"standard": {"kind": "standard"}},
    "variants": ["cnn_small__standard"],
    "training": {"epochs": 2, "batch_size": 64, "patience": 2},
    "attribution": {"methods": ["saliency"], "n_sequences": 20, "n_logos": 1},
    "filters": {"max_sequences": 100},
    "gia": {"n_backgrounds": 10},
    # Per-rule job sizes from the workflow config (over the built-in ones and the profile's defaults).
    "resources": {"default": {"runtime": 20, "mem_mb": 1000}, "train": {"runtime": 30}},
}
TRAIN_LOG = Path("logs") / "train" / "multi" / "cnn_small__standard" / "t0.log"
TRIAL = Path("results") / "multi" / "cnn_small__standard" / "t0"


def _ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str) -> None:
    if _ci():
        pytest.fail(f"CI must run the real-SLURM tests: {reason}")
    pytest.skip(f"real-SLURM tests: {reason}")


@pytest.fixture(scope="module")
def slurm(tmp_path_factory: pytest.TempPathFactory) -> testcluster.LocalSlurm:
    """A running one-node cluster (account ``cislens``, partitions ``cpu`` and ``gpu``, one fake GPU)."""
    if os.geteuid() != 0:
        _unavailable("they install and start SLURM daemons, which needs root")
    if testcluster.missing_binaries():
        if shutil.which("apt-get") is None:
            _unavailable("SLURM is not installed and apt-get is not available")
        log = tmp_path_factory.mktemp("apt") / "apt.log"
        try:
            testcluster.install_packages(log)
        except (testcluster.Unavailable, subprocess.CalledProcessError) as err:
            _unavailable(f"installing {' '.join(testcluster.PACKAGES)} failed: {err} (see {log})")
    # Not under pytest's 0700 temporary root: munged (user munge) must reach its socket folder.
    root = Path(tempfile.mkdtemp(prefix="cislens-slurm-", dir="/tmp"))
    cluster = testcluster.LocalSlurm(root, cpus=2)
    try:
        cluster.start()
    except testcluster.Unavailable as err:
        _unavailable(str(err))
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def _snakemake_env(home: Path, **extra: str) -> dict[str, str]:
    # The cluster's GPU is fake (File=/dev/null): jobs that ask for one run on CPU, as they may when
    # CISLENS_ALLOW_CPU is set (else they fail with "asked for a GPU ... but TensorFlow sees none").
    env = dict(os.environ, HOME=str(home), TF_CPP_MIN_LOG_LEVEL="2", CISLENS_ALLOW_CPU="1", **extra)
    env.pop("SNAKEMAKE_PROFILE", None)
    return env


def _snakemake_args(workdir: Path, configfile: Path, *args: str) -> list[str]:
    return [
        SNAKEMAKE,
        "-s",
        SNAKEFILE,
        "--directory",
        str(workdir),
        "--configfile",
        str(configfile),
        *FAST_POLLING,
        *args,
    ]


def _sacct(*fields: str) -> pd.DataFrame:
    out = subprocess.run(
        ["sacct", "-X", "-a", "-P", "-n", "-o", ",".join(fields)], capture_output=True, text=True, check=True
    ).stdout
    rows = [line.split("|") for line in out.splitlines() if line.strip()]
    return pd.DataFrame(rows, columns=list(fields))


def _rule_of(comment: str) -> str:
    """The Snakemake rule (or group) from the plugin's job comment ``rule_<name>_wildcards_...``."""
    name = comment.removeprefix("rule_")
    return name.split("_wildcards_")[0]


def _jobs_by_rule(since_id: int, until_id: int | None = None) -> pd.DataFrame:
    table = _sacct("JobID", "Partition", "State", "Timelimit", "ReqMem", "AllocTRES", "Comment")
    ids = table["JobID"].astype(int)
    table = table[(ids > since_id) & (ids <= (until_id if until_id is not None else ids.max()))].copy()
    table["rule"] = table["Comment"].map(_rule_of)
    return table


def _last_job_id() -> int:
    table = _sacct("JobID")
    return int(table["JobID"].astype(int).max()) if len(table) else 0


@dataclass
class ProfileRun:
    workdir: Path
    log: str
    elapsed: float
    before: int  # the cluster's last job id before the run, and after it
    after: int


@pytest.fixture(scope="module")
def profile_run(slurm: testcluster.LocalSlurm, tmp_path_factory: pytest.TempPathFactory) -> ProfileRun:
    """``make slurm-profile``, then the SMALL workflow with ``snakemake --profile slurm``, once: the first
    test checks its jobs; the second starts from the dataset it prepared."""
    tmp_path = tmp_path_factory.mktemp("make-profile")
    home = tmp_path / "home"
    made = subprocess.run(
        [
            "make",
            "-s",
            "-C",
            str(ROOT),
            "slurm-profile",
            f"ACCOUNT={testcluster.ACCOUNT}",
            f"PARTITION={testcluster.CPU_PARTITION}",
            f"GPU_PARTITION={testcluster.GPU_PARTITION}",
            "GPU_STYLE=gres",
            f"GPU_MODEL={testcluster.GPU_TYPE}",
        ],
        capture_output=True,
        text=True,
        env=_snakemake_env(home),
        timeout=600,
    )
    assert made.returncode == 0, made.stdout[-2000:] + made.stderr[-2000:]
    profile = home / ".config" / "snakemake" / "slurm" / "config.yaml"
    assert yaml.safe_load(profile.read_text())["executor"] == "slurm"

    workdir = tmp_path / "run"
    workdir.mkdir()
    configfile = workdir / "small.yaml"
    configfile.write_text(yaml.safe_dump(SMALL))
    before = _last_job_id()
    started = time.monotonic()
    run = subprocess.run(
        _snakemake_args(workdir, configfile, "--profile", "slurm"),
        capture_output=True,
        text=True,
        env=_snakemake_env(home),
        cwd=workdir,
        timeout=1500,
    )
    elapsed = time.monotonic() - started
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-5000:]
    return ProfileRun(workdir, log, elapsed, before, _last_job_id())


def test_profile_from_make_submits_gpu_jobs_with_a_gpu(profile_run: ProfileRun) -> None:
    workdir, log, before = profile_run.workdir, profile_run.log, profile_run.before
    assert "has been submitted with SLURM jobid" in log
    assert (workdir / "results" / "multi" / "report.html").exists()

    jobs = _jobs_by_rule(before, profile_run.after)
    print(f"\nworkflow on SLURM in {profile_run.elapsed:.0f} s:\n{jobs.to_string(index=False)}")
    assert set(jobs["State"]) == {"COMPLETED"}, jobs
    # Local rules (JASPAR export, summaries, report) never reach SLURM; filters+tomtom are one job.
    submitted = {"prepare", "train", "attribute", "gia", "modisco", "motifs_filters_tomtom"}
    assert set(jobs["rule"]) == submitted, jobs
    for row in jobs.itertuples():
        gpu = "gres/gpu=1" in row.AllocTRES
        assert gpu == (row.rule in GPU_RULES), row
        assert row.Partition == (
            testcluster.GPU_PARTITION if row.rule in GPU_RULES else testcluster.CPU_PARTITION
        )
        assert row.ReqMem == "1000M", row  # resources.default.mem_mb from the workflow config
    limits = dict(zip(jobs["rule"], jobs["Timelimit"], strict=True))
    assert limits["train"] == "00:30:00" and limits["prepare"] == "00:20:00", limits
    assert limits["motifs_filters_tomtom"] == "00:40:00", limits  # a group's runtime: its jobs' sum
    # The controller's view: the GPU jobs asked for the typed GPU through --gres.
    shown = subprocess.run(["scontrol", "show", "job", "-o"], capture_output=True, text=True).stdout
    per_job = {
        _rule_of(field.split("=", 1)[1]): line
        for line in shown.splitlines()
        for field in line.split()
        if field.startswith("Comment=") and before < int(line.split()[0].split("=")[1]) <= profile_run.after
    }
    for rule, line in per_job.items():
        assert (f"gres:gpu:{testcluster.GPU_TYPE}:1" in line) == (rule in GPU_RULES), line


def _wait_for(what: str, check, timeout: float, process: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        if process is not None and process.poll() is not None:
            raise AssertionError(f"snakemake exited ({process.returncode}) while waiting for {what}")
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _running_train_job() -> str | None:
    out = subprocess.run(["squeue", "-h", "-t", "R", "-o", "%i %k"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        job, _, comment = line.partition(" ")
        if comment.startswith("rule_train_"):
            return job
    return None


def _checkpoint_epochs(path: Path) -> int:
    with contextlib.suppress(OSError, ValueError, KeyError), np.load(path) as data:
        return len(json.loads(str(data["state"]))["rows"])
    return 0


def test_cancelled_training_is_resubmitted_and_resumes(
    slurm: testcluster.LocalSlurm, profile_run: ProfileRun, tmp_path: Path
) -> None:
    epochs = 30
    config = dict(SMALL, training={"epochs": epochs, "batch_size": 32, "patience": 100})
    # Same dataset settings and seed as the make-profile run: its working directory (with Snakemake's
    # records) less the trial and the logs, so this run's first SLURM job is the training job.
    workdir = tmp_path / "run"
    shutil.copytree(profile_run.workdir, workdir, symlinks=True)
    shutil.rmtree(workdir / TRIAL.parent)
    shutil.rmtree(workdir / "logs")
    configfile = workdir / "resume.yaml"
    configfile.write_text(yaml.safe_dump(config))
    env = _snakemake_env(
        tmp_path / "home",
        CISLENS_SLURM_ACCOUNT=testcluster.ACCOUNT,
        CISLENS_SLURM_PARTITION=testcluster.CPU_PARTITION,
        CISLENS_GPU_PARTITION=testcluster.GPU_PARTITION,
    )
    target = str(TRIAL / "model.keras")
    checkpoint = workdir / TRIAL / "checkpoint.npz"
    train_log = workdir / TRAIN_LOG
    before = _last_job_id()
    # One retry: the first cancellation is absorbed by a resubmission, the second ends the run.
    args = _snakemake_args(
        workdir, configfile, "--profile", str(ROOT / "profiles" / "slurm"), "--retries", "1"
    )
    first = subprocess.Popen(
        [*args, target], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    try:
        job = _wait_for("a running training job", _running_train_job, 600, first)
        _wait_for("the first epoch checkpoint", lambda: _checkpoint_epochs(checkpoint) >= 1, 600, first)
        subprocess.run(["scancel", job], check=True)
        resumed = _wait_for(
            "the resubmitted job to resume",
            lambda: train_log.exists() and "resumed from" in train_log.read_text(),
            600,
            first,
        )
        assert resumed
        second_job = _wait_for("the resubmitted training job", _running_train_job, 120, first)
        assert second_job != job
        done = _checkpoint_epochs(checkpoint)
        _wait_for("an epoch after resuming", lambda: _checkpoint_epochs(checkpoint) > done, 600, first)
        subprocess.run(["scancel", second_job], check=True)
        output, _ = first.communicate(timeout=600)
    finally:
        if first.poll() is None:
            first.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                first.wait(timeout=60)
            if first.poll() is None:
                first.kill()
    assert first.returncode != 0, output[-3000:]
    assert checkpoint.exists()  # a failed job's outputs are removed; its checkpoint is not an output
    kept = _checkpoint_epochs(checkpoint)
    assert 1 <= kept < epochs

    # Rerun with the profile: the training job starts from the checkpoint and the run completes.
    rerun = subprocess.run([*args, target], capture_output=True, text=True, env=env, timeout=1500)
    assert rerun.returncode == 0, (rerun.stdout + rerun.stderr)[-5000:]
    log = train_log.read_text()
    assert f"resumed from {TRIAL / 'checkpoint.npz'}: main phase, {kept} epoch(s) done" in log, log[-3000:]
    history = pd.read_csv(workdir / TRIAL / "history.tsv", sep="\t")
    assert list(history["epoch"]) == list(range(1, epochs + 1))  # no epoch lost or repeated
    assert not checkpoint.exists()  # removed once the model is written
    trains = _jobs_by_rule(before)
    trains = trains[trains["rule"] == "train"]
    print(f"\ntraining jobs:\n{trains.to_string(index=False)}")
    assert list(trains["State"].str.split().str[0]) == ["CANCELLED", "CANCELLED", "COMPLETED"], trains
    assert all("gres/gpu=1" in tres for tres in trains["AllocTRES"])  # --gpus=1 from profiles/slurm
