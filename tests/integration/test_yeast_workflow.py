"""The yeast ATAC configuration as shipped, on real data: its own module, so that a parallel test run
(``make test``: pytest-xdist, one module per worker) can run it beside the tiny and default runs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cislens.data.dataset import read_dataset
from cislens.meme import read_meme

from ..conftest import ROOT
from .test_workflow import snakemake, write_config


@pytest.mark.slow
@pytest.mark.realdata
def test_yeast_atac_real_data_end_to_end(tmp_path: Path, realdata: Path) -> None:
    """config/yeast_atac.yaml as shipped (paths made absolute): real peaks, real genome, fungi JASPAR."""
    config = yaml.safe_load((ROOT / "config" / "yeast_atac.yaml").read_text())
    dataset = config["datasets"]["yeast_atac"]
    dataset["genome"] = str((ROOT / dataset["genome"]).resolve())
    dataset["peaks"] = {task: str((ROOT / path).resolve()) for task, path in dataset["peaks"].items()}
    result = snakemake(tmp_path, write_config(tmp_path / "yeast.yaml", config))
    assert result.returncode == 0, result.stderr[-5000:]
    base = tmp_path / "results" / "yeast_atac"
    trial = next(base.glob("*__*/t0"))
    metrics = json.loads((trial / "metrics.json").read_text())
    assert metrics["auroc_mean"] > 0.8  # accessible regions vs GC-matched background on held-out chrIV
    stats = json.loads((trial / "filters" / "match_stats.json").read_text())
    fungi = {m.name for m in read_meme(tmp_path / "resources" / "jaspar" / "JASPAR2016_CORE_fungi.meme")}
    assert stats["tfs_found"] and set(stats["tfs_found"]) <= fungi
    report = (base / "report.html").read_text()
    assert "Motifs matched by the filters" in report
    assert all(name in report for name in stats["tfs_found"])
    # Motif discovery on real data: patterns annotated against JASPAR fungi, listed in the report.
    modisco = trial.parent / "modisco"
    found = json.loads((modisco / "truth.json").read_text())
    patterns = pd.read_csv(modisco / "patterns.tsv", sep="\t")
    assert found["n_patterns"] == len(patterns) > 0 and not found["has_truth"]
    matched = patterns[patterns["match1_id"].notna()]
    assert len(matched) and set(matched["match1_name"]) <= fungi
    assert "<section id='modisco'>" in report and all(p in report for p in patterns["pattern"])
    bed = pd.read_csv(modisco / "seqlets.bed", sep="\t", header=None)
    held_out = set(read_dataset(base / "dataset.h5").splits["test"].chrom.astype(str))
    assert len(bed) == found["n_seqlets"] and set(bed[0]) <= held_out  # genome coordinates of test windows
