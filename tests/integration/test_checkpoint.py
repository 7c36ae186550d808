"""A training job killed at any point and rerun ends with the same weights as an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

JOB = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np
from cislens.models import zoo
from cislens.runtime import set_seed
from cislens.training.fit import train

checkpoint, out, epochs, regime = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
set_seed(0)
rng = np.random.default_rng(0)
x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, size=(400, 60))]
x[:200, 20:26] = np.eye(4, dtype=np.float32)[[0, 1, 2, 3, 0, 1]]  # a planted 6-mer makes class 1
y = np.zeros((400, 1), np.float32)
y[:200] = 1
perm = rng.permutation(400)
x, y = x[perm], y[perm]
model = zoo.build_model("cnn", 60, 1, first_pool=4, pool_total=8, filters=8, conv2_filters=8,
                        dense_units=16)
kind = {"kind": regime} if regime != "evoaug" else {"kind": "evoaug", "finetune_epochs": 2}
history = train(model, x[:300], y[:300], x[300:], y[300:], epochs=epochs, batch_size=50, patience=50,
                learning_rate=1e-3, seed=0, verbose=0, regime=kind, checkpoint=checkpoint or None)
np.savez(out, *model.get_weights())
history.to_csv(out + ".tsv", sep="\\t", index=False)
"""


def _run(tmp: Path, checkpoint: str, out: str, epochs: int, regime: str) -> subprocess.Popen:
    script = tmp / "job.py"
    if not script.exists():  # written once: a process started just before may still be reading it
        script.write_text(JOB)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    return subprocess.Popen(
        [sys.executable, str(script), checkpoint, out, str(epochs), regime],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _weights(path: str) -> list[np.ndarray]:
    with np.load(path) as data:
        return [data[f"arr_{i}"] for i in range(len(data.files))]


def _epochs_done(checkpoint: Path) -> int:
    try:
        with np.load(checkpoint) as data:
            return int(json.loads(str(data["state"]))["epoch"])
    except (OSError, ValueError, KeyError):
        return 0


@pytest.mark.slow
@pytest.mark.parametrize("regime", ["standard", "gaussian_noise", "evoaug"])
def test_killed_job_resumes_to_identical_weights(tmp_path: Path, regime: str) -> None:
    epochs = 6
    # The uninterrupted reference runs side by side with the job to kill, then with its rerun (the
    # processes share nothing but the script; each mostly imports TensorFlow on one of the 2 cores).
    reference = _run(tmp_path, "", str(tmp_path / "ref.npz"), epochs, regime)
    checkpoint = tmp_path / "ckpt.npz"
    job = _run(tmp_path, str(checkpoint), str(tmp_path / "resumed.npz"), epochs, regime)
    deadline = time.time() + 600
    while _epochs_done(checkpoint) < 3 and job.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert job.poll() is None, "the job finished before it could be killed"
    job.send_signal(signal.SIGKILL)  # SLURM's last word after a time limit: no clean-up runs
    job.wait()
    killed_at = _epochs_done(checkpoint)
    assert 3 <= killed_at < epochs
    assert not (tmp_path / "resumed.npz").exists()

    rerun = _run(tmp_path, str(checkpoint), str(tmp_path / "resumed.npz"), epochs, regime)
    _, err = reference.communicate(timeout=600)
    assert reference.returncode == 0, err[-2000:]
    _, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err[-2000:]
    for ours, ref in zip(
        _weights(str(tmp_path / "resumed.npz")), _weights(str(tmp_path / "ref.npz")), strict=True
    ):
        np.testing.assert_array_equal(ours, ref)
    rows = (tmp_path / "resumed.npz.tsv").read_text().splitlines()
    # The history carries the epochs from before the kill (and EvoAug's two fine-tuning epochs).
    assert len(rows) == 1 + epochs + (2 if regime == "evoaug" else 0)
