"""Settings a job would trip on are checked at DAG time (issue 21): the plan raises one InputError line
naming the config key before any job runs, and `snakemake -n` ends with it."""

from __future__ import annotations

import copy
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml

from cislens import plan
from cislens.data.genome import validated_index
from cislens.errors import InputError

from ..conftest import ROOT, write_fasta


@pytest.fixture
def config() -> dict:
    """A small genomics config: one synthetic dataset of 200 bp, one CNN-25."""
    return {
        "datasets": {"toy": {"kind": "synthetic_multitask", "n": 200}},
        "models": {"cnn25": {"arch": "cnn", "first_pool": 25}},
        "regimes": {"standard": {"kind": "standard"}},
        "variants": ["cnn25__standard"],
    }


def test_the_default_config_passes_every_dag_check() -> None:
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    plan.build_plan(config, preflight=True)


def test_tomtom_meme_backend_without_the_binary_fails_at_planning(config: dict, monkeypatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    config["tomtom"] = {"backend": "meme"}
    expected = r"^config: tomtom\.backend: meme needs the MEME suite's `tomtom`"
    with pytest.raises(InputError, match=expected) as e:
        plan.build_plan(copy.deepcopy(config))
    assert "\n" not in str(e.value) and "install the MEME suite" in str(e.value)
    plan.build_plan(copy.deepcopy(config), conda=True)  # --sdm conda: envs/meme.yaml provides it
    config["tomtom"] = {"backend": "memelite"}
    plan.build_plan(config)


def test_attribution_task_index_out_of_range_fails_at_planning(config: dict) -> None:
    config["datasets"]["toy"]["motifs"] = {"SP1": "MA0079.3", "YY1": "MA0095.2"}  # two tasks
    config["attribution"] = {"task": 1}
    plan.build_plan(copy.deepcopy(config))
    config["attribution"] = {"task": 2}
    expected = r"^config: attribution\.task: task index 2 is out of range .*'toy'.* 2 task"
    with pytest.raises(InputError, match=expected):
        plan.build_plan(config)


def test_attribution_task_counts_each_kinds_tasks(config: dict, tmp_path: Path) -> None:
    code = {"kind": "synthetic_code", "n": 200}
    assert plan.kind_of(code).n_tasks(plan.dataset_settings({"datasets": {"c": code}}, "c")) == 1
    peaks = {"a": str(tmp_path / "a.bed"), "b": str(tmp_path / "b.bed"), "c": str(tmp_path / "c.bed")}
    settings = plan.dataset_settings(
        {
            "datasets": {
                "p": {
                    "kind": "peaks",
                    "peaks": peaks,
                    "genome": "g.fa",
                    "valid_chroms": ["chr2"],
                    "test_chroms": ["chr3"],
                }
            }
        },
        "p",
    )
    assert plan.KINDS["peaks"].n_tasks(settings) == 3 and plan.KINDS["peaks"].window(settings) == 200


def test_h5_shapes_are_read_without_loading_the_data(config: dict, tmp_path: Path) -> None:
    path = tmp_path / "d.h5"
    with h5py.File(path, "w") as handle:
        for split in ("train", "valid", "test"):
            handle[f"x_{split}"] = np.zeros((4, 4, 120), dtype=np.float32)  # channels first
            handle[f"y_{split}"] = np.zeros((4, 3), dtype=np.float32)
    config["datasets"] = {"h": {"kind": "h5", "path": str(path)}}
    config["attribution"] = {"task": 3}
    with pytest.raises(InputError, match=r"^config: attribution\.task: task index 3 .*'h'.* 3 task"):
        plan.build_plan(copy.deepcopy(config))
    config["attribution"] = {"task": 0}
    config["models"]["cnn25"]["first_pool"] = 150
    expected = r"^config: models\.cnn25\.first_pool: 150 is longer than the 120 bp"
    with pytest.raises(InputError, match=expected):
        plan.build_plan(config)


def test_first_layer_pool_longer_than_the_window_fails_at_planning(config: dict) -> None:
    config["datasets"]["toy"]["length"] = 100
    plan.build_plan(copy.deepcopy(config))  # 25 x 4 fits 100 bp
    config["models"]["cnn25"]["first_pool"] = 120
    expected = r"^config: models\.cnn25\.first_pool: 120 is longer than the 100 bp window"
    with pytest.raises(InputError, match=expected):
        plan.build_plan(copy.deepcopy(config))
    config["models"]["cnn25"].update(first_pool=60, second_pool=4)  # 100 // 60 // 4 == 0
    with pytest.raises(InputError, match=r"^config: models\.cnn25: pools 60 x 4 leave nothing of the 100 bp"):
        plan.build_plan(copy.deepcopy(config))
    config["models"]["cnn25"] = {"arch": "cnn", "first_pool": 1, "kernel_size": 150}
    with pytest.raises(InputError, match=r"^config: models\.cnn25\.kernel_size: 150 is longer than"):
        plan.build_plan(config)


def test_hold_out_chromosomes_absent_from_the_genome_index_fail_at_planning(
    config: dict, tmp_path: Path
) -> None:
    genome = write_fasta(tmp_path / "g.fa", {"chr1": "ACGT" * 50, "chr2": "ACGT" * 50, "chr3": "ACGT" * 50})
    peaks = tmp_path / "a.bed"
    peaks.write_text("chr1\t10\t60\n")
    config["datasets"] = {
        "p": {
            "kind": "peaks",
            "peaks": {"a": str(peaks)},
            "genome": str(genome),
            "valid_chroms": ["chr2"],
            "test_chroms": ["chr9"],
        }
    }
    plan.build_plan(copy.deepcopy(config))  # no index yet: prepare checks (and indexes) later
    assert validated_index(genome) is not None  # now a validated .fai exists
    with pytest.raises(InputError, match=r"^config: datasets\.p\.test_chroms: chr9 not in the genome"):
        plan.build_plan(copy.deepcopy(config))
    config["datasets"]["p"]["test_chroms"] = ["chr3"]
    plan.build_plan(config)
