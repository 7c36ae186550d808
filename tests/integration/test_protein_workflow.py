"""The protein branch as users run it: real Snakemake on a tiny planted-Potts family, and bad configs."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ..conftest import ROOT
from .test_workflow import TINY, snakemake, write_config

# L = 16 with 16 planted pairs, 400 Gibbs samples: every model fits in seconds, contacts stay recoverable.
PROTEIN_TINY = {
    "seed": 3,
    "trials": 1,
    "datasets": {
        "planted": {
            "kind": "planted_potts",
            "length": 16,
            "n_sequences": 400,
            "n_contacts": 16,
            "coupling_scale": 1.0,
            "burn_in": 50,
            "thin": 5,
            "seed": 2,
        }
    },
    "protein_models": {
        "pssm": {"kind": "pssm"},
        "potts": {"kind": "potts", "iterations": 40},
        "mg": {"kind": "mg"},
        "fa": {"kind": "factored_attention", "heads": 4, "dim": 8, "iterations": 40},
        "vae": {
            "kind": "vae",
            "steps": 150,
            "encoder": [64],
            "decoder": [16, 32],
            "latent": 4,
            "n_samples": 5,
        },
    },
}
MODELS = ["pssm", "potts", "mg", "fa", "vae"]


@pytest.fixture(scope="module")
def protein_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp_path = tmp_path_factory.mktemp("protein")
    configfile = write_config(tmp_path / "protein.yaml", PROTEIN_TINY)
    result = snakemake(tmp_path, configfile)
    assert result.returncode == 0, result.stderr[-5000:]
    return tmp_path, configfile


@pytest.mark.slow
def test_planted_family_end_to_end(protein_run: tuple[Path, Path]) -> None:
    tmp_path, configfile = protein_run
    base = tmp_path / "results" / "planted"
    assert (base / "msa.h5").is_file()
    for name in ("alignment.fasta", "distances.tsv", "dms.csv", "planted.h5"):
        assert (base / "inputs" / name).stat().st_size > 0, name
    metrics = {m: json.loads((base / m / "t0" / "metrics.json").read_text()) for m in MODELS}
    for model in ("potts", "mg", "fa"):  # models with couplings: contact maps scored against the truth
        assert {"precision_L_sep6", "precision_L/2_sep6", "precision_L/5_sep12"} <= set(metrics[model])
        for name in ("contacts.tsv", "precision.tsv", "contact_map.png", "precision.png"):
            assert (base / model / "t0" / "evaluation" / name).is_file(), (model, name)
    # the planted pairs are recovered: the top L/2 pairs at |i - j| >= 6 are true contacts
    assert metrics["potts"]["precision_L/2_sep6"] >= 0.8
    assert metrics["potts"]["precision_L/5_sep6"] == 1.0
    assert "precision_L_sep6" not in metrics["pssm"] and "precision_L_sep6" not in metrics["vae"]
    for model in MODELS:  # every model predicts the true (planted-energy) mutation effects
        assert metrics[model]["dms_n"] == 16 * 19
        assert metrics[model]["dms_spearman"] > 0.5, model
        assert (base / model / "t0" / "evaluation" / "dms.png").is_file()
    assert metrics["potts"]["dms_spearman"] > metrics["pssm"]["dms_spearman"]  # couplings add information
    assert (base / "fa" / "t0" / "evaluation" / "attention.png").is_file()
    assert 0 <= metrics["fa"]["best_head_precision_L2"] <= 1
    assert metrics["potts"]["seed"] == 2 * 1000 and metrics["potts"]["fit_seconds"] > 0  # dataset seed 2, t0
    assert (tmp_path / "logs" / "protein_fit" / "planted" / "potts" / "t0.log").stat().st_size > 0

    summary = pd.read_csv(base / "summary.tsv", sep="\t")
    assert sorted(summary["variant"]) == sorted(MODELS)
    assert {"precision_L_sep6_mean", "precision_L_sep6_sd", "dms_spearman_mean"} <= set(summary.columns)
    overall = pd.read_csv(tmp_path / "results" / "summary.tsv", sep="\t")
    assert list(overall["dataset"]) == ["planted"] * 5

    report = (base / "report.html").read_text()
    for section in ("dataset", "protein", "provenance"):
        assert f"<section id='{section}'>" in report, section
    protein = report.split("<section id='protein'>")[1].split("</section>")[0]
    for heading in ("Models", "Contact precision", "Contact maps", "Mutation effects", "Attention heads"):
        assert f"<h3>{heading}</h3>" in protein, heading
    # 3 contact maps, the all-model precision curve, 5 DMS scatters, 1 attention panel
    assert protein.count('src="data:image/png;base64,') == 10
    assert " ± " in protein and "sha256" in report

    leftovers = list((tmp_path / "results").rglob(".*.tmp*"))
    assert not leftovers, leftovers
    again = snakemake(tmp_path, configfile, "-n")
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr
    packed = tmp_path / "report.zip"  # the evaluation figures are report() outputs too
    made = snakemake(tmp_path, configfile, "--report", str(packed))
    assert made.returncode == 0, made.stderr[-3000:]
    with zipfile.ZipFile(packed) as archive:
        names = archive.namelist()
    assert sum(name.endswith("contact_map.png") for name in names) == 3
    assert any(name.endswith("attention.png") for name in names)


def _msa_family(tmp_path: Path) -> tuple[Path, Path]:
    """A 3-sequence a3m whose focus is numbered from residue 10, and a DMS table numbered from 1."""
    alignment = tmp_path / "fam.a3m"
    alignment.write_text(">focus/10-17\nMKVLAGTE\n>b\nMKVIAGSE\n>c\nLKVLSGTE\n")
    dms = tmp_path / "dms.csv"
    dms.write_text("mutant,score\nK2A,-1.0\nV3G,-0.5\n")
    return alignment, dms


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda c, _: c["protein_models"].update(hmm={"kind": "hmm"}),
            "config: protein_models.hmm.kind: 'hmm' is not one of",
        ),
        (
            lambda c, _: c["protein_models"]["potts"].update(heads=4),
            "config: protein_models.potts: Additional properties are not allowed ('heads' was unexpected)",
        ),
        (
            lambda c, _: c["datasets"]["planted"].update(models=["potts", "hmm"]),
            "config: datasets.planted.models: unknown protein model 'hmm'",
        ),
        (
            lambda c, files: c["datasets"].update(
                family={"kind": "msa", "alignment": str(files[0]), "dms": str(files[1])}
            ),
            "none of its 2 mutants can be scored (2 outside_focus); the focus sequence is residues 10-17",
        ),
        (
            lambda c, files: c["datasets"].update(
                family={"kind": "msa", "alignment": str(files[0]), "dms": str(files[1]), "first_residue": 0}
            ),
            "mutant K2A: position 2 is V in the focus sequence, not K (check the numbering offset)",
        ),
    ],
    ids=["unknown-kind", "wrong-hyperparameter", "unknown-model-name", "dms-outside", "dms-offset"],
)
def test_bad_protein_config_fails_in_one_line_before_any_job(tmp_path: Path, mutate, expected: str) -> None:
    config = yaml.safe_load(yaml.safe_dump(PROTEIN_TINY))
    mutate(config, _msa_family(tmp_path))
    result = snakemake(tmp_path, write_config(tmp_path / "bad.yaml", config))
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("cislens error:")]
    assert len(lines) == 1 and expected in lines[0], result.stderr[-2000:]
    assert not (tmp_path / "results").exists()


def test_mixed_genomics_and_protein_config_plans_both(tmp_path: Path) -> None:
    config = dict(TINY, datasets={"multi": TINY["datasets"]["multi"], **PROTEIN_TINY["datasets"]})
    config["protein_models"] = PROTEIN_TINY["protein_models"]
    result = snakemake(tmp_path, write_config(tmp_path / "mixed.yaml", config), "-n")
    assert result.returncode == 0, result.stderr[-3000:]
    for rule in ("prepare", "train", "planted_potts", "protein_prepare", "protein_fit", "protein_evaluate"):
        assert f"rule {rule}:" in result.stdout, rule


def test_shipped_protein_config_dry_run(tmp_path: Path) -> None:
    result = snakemake(tmp_path, ROOT / "config" / "protein.yaml", "-n")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "protein_fit" in result.stdout and "report" in result.stdout


@pytest.mark.slow
@pytest.mark.realdata
def test_real_families_through_the_workflow(tmp_path: Path, realdata: Path) -> None:
    """config/protein_realdata.yaml (paths made absolute), Potts only: the library's acceptance
    thresholds reached through prepare -> fit -> evaluate (1atzA P@L >= 0.55, PF00014 >= 0.80)."""
    config = yaml.safe_load((ROOT / "config" / "protein_realdata.yaml").read_text())
    for dataset in config["datasets"].values():
        dataset["models"] = ["potts"]
        for key in ("alignment", "pdb", "distance_table"):
            if key in dataset:
                dataset[key] = str((ROOT / dataset[key]).resolve())
    result = snakemake(tmp_path, write_config(tmp_path / "real.yaml", config))
    assert result.returncode == 0, result.stderr[-5000:]
    for dataset, target in (("ccmpred_1atzA", 0.55), ("bpti_PF00014", 0.80)):
        metrics = json.loads((tmp_path / "results" / dataset / "potts" / "t0" / "metrics.json").read_text())
        assert metrics["precision_L_sep6"] >= target, (dataset, metrics["precision_L_sep6"])
