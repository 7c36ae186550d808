"""Protein datasets and models in the config: defaults, one-line errors, coexistence with genomics."""

from __future__ import annotations

import copy

import pytest
import yaml

from cislens import plan as cp
from cislens.errors import InputError
from cislens.report.figures import applicable

from ..conftest import ROOT

SCHEMA = cp.load_schema(ROOT / "workflow" / "schemas" / "config.schema.yaml")


@pytest.fixture
def protein_config() -> dict:
    return yaml.safe_load((ROOT / "config" / "protein.yaml").read_text())


def test_protein_only_config_plans_every_model(protein_config: dict) -> None:
    cp.check_config(protein_config, SCHEMA)
    plan = cp.workflow_plan(protein_config)
    entry = plan["planted_potts"]
    assert entry["variants"] == ["pssm", "potts", "mg", "factored_attention", "vae"]
    assert entry["trials"] == ["t0"]
    assert cp.is_protein(entry["settings"]) and "jaspar" not in entry["settings"]
    assert entry["settings"]["n_sequences"] == 5000 and entry["settings"]["burn_in"] == 200  # defaults
    assert applicable(protein_config) == []  # no first-layer design figures for protein models


def test_protein_model_splits_fit_and_evaluation_options() -> None:
    config = {"protein_models": {"v": {"kind": "vae", "steps": 10, "decoder": [4, 8], "n_samples": 3}}}
    kind, fit, evaluation = cp.protein_model(config, "v")
    assert (kind, fit, evaluation) == ("vae", {"steps": 10, "decoder": (4, 8)}, {"n_samples": 3})
    with pytest.raises(InputError, match="unknown protein model 'w'"):
        cp.protein_model(config, "w")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda c: c["datasets"]["planted_potts"].update(n_contacts=5000),
            "n_contacts: 5000 > the 1225 pairs",
        ),
        (
            lambda c: c["datasets"].update(
                fam={"kind": "msa", "alignment": "a.fa", "pdb": "x.pdb", "distance_table": "d.dat"}
            ),
            "give pdb or distance_table for the true contacts, not both",
        ),
        (
            lambda c: c["datasets"].update(multi={"kind": "synthetic_multitask"}),
            "config: variants: required for the genomics dataset 'multi'",
        ),
    ],
    ids=["too-many-contacts", "two-structures", "genomics-without-variants"],
)
def test_cross_field_errors_are_one_line(protein_config: dict, mutate, message: str) -> None:
    config = copy.deepcopy(protein_config)
    mutate(config)
    cp.check_config(config, SCHEMA)
    with pytest.raises(InputError) as info:
        cp.workflow_plan(config)
    assert message in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda c: c["datasets"]["planted_potts"].update(length=4), "datasets.planted_potts.length"),
        (lambda c: c["datasets"]["planted_potts"].update(alignment="x.fa"), "datasets.planted_potts"),
        (lambda c: c["protein_models"]["potts"].update(penalty_convention="gremlin"), "penalty_convention"),
        (lambda c: c["protein_models"].update(bad__name={"kind": "mg"}), "protein_models"),
        (lambda c: c["datasets"].update(fam={"kind": "msa"}), "'alignment' is a required property"),
    ],
)
def test_protein_schema_violations_name_the_key(protein_config: dict, mutate, where: str) -> None:
    config = copy.deepcopy(protein_config)
    mutate(config)
    with pytest.raises(InputError) as info:
        cp.check_config(config, SCHEMA)
    assert where in str(info.value) and "\n" not in str(info.value)
