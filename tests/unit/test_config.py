"""Config schema and variant handling: bad keys fail with one line naming the key."""

from __future__ import annotations

import copy

import pytest
import yaml

from cislens import config as cfg
from cislens import plan as cp
from cislens.data.peaks import peak_files
from cislens.errors import InputError

from ..conftest import ROOT

SCHEMA = cp.load_schema(ROOT / "workflow" / "schemas" / "config.schema.yaml")


@pytest.fixture
def default_config() -> dict:
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def test_shipped_configs_validate() -> None:
    for path in sorted((ROOT / "config").glob("*.yaml")):
        cp.check_config(yaml.safe_load(path.read_text()), SCHEMA)


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda c: c.update(unknown_key=1), "<top level>"),
        (lambda c: c["datasets"]["synthetic_multitask"].update(n="many"), "datasets.synthetic_multitask.n"),
        (lambda c: c["datasets"]["synthetic_genome"].update(negatives="random"), "negatives"),
        (
            lambda c: c["datasets"]["synthetic_multitask"].update(kind="bigwig"),
            "datasets.synthetic_multitask.kind",
        ),
        (lambda c: c["models"]["cnn25_relu"].update(activation="swish"), "models.cnn25_relu.activation"),
        (lambda c: c["training"].update(epochs=0), "training.epochs"),
        (lambda c: c.update(variants=["cnn25_relu"]), "variants.0"),
    ],
)
def test_schema_violations_name_the_key(default_config: dict, mutate, where: str) -> None:
    config = copy.deepcopy(default_config)
    mutate(config)
    with pytest.raises(InputError) as info:
        cp.check_config(config, SCHEMA)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("config: ")
    assert where in message


def test_unknown_model_in_variant(default_config: dict) -> None:
    default_config["variants"] = ["cnn99__standard"]
    with pytest.raises(InputError, match="unknown model 'cnn99'"):
        cfg.variant_names(default_config, "synthetic_multitask")
    default_config["variants"] = ["cnn25_relu__evolution"]
    with pytest.raises(InputError, match="unknown regime 'evolution'"):
        cfg.variant_names(default_config, "synthetic_multitask")


def test_dataset_defaults_and_trials(default_config: dict) -> None:
    settings = cp.dataset_settings(default_config, "synthetic_genome")
    assert settings["width"] == 200 and settings["negatives"] == "gc_matched"
    assert settings["jaspar"]["release"] == "JASPAR2016"
    default_config["trials"] = 3
    assert cfg.trial_names(default_config, "synthetic_genome") == ["t0", "t1", "t2"]
    seeds = {cfg.trial_seed(default_config, "synthetic_genome", t) for t in ("t0", "t1", "t2")}
    assert len(seeds) == 3


def test_peak_files_named_by_stem() -> None:
    files = peak_files({"peaks": ["a/CTCF.narrowPeak.gz", "b/REST.bed"]})
    assert files == {"CTCF": "a/CTCF.narrowPeak.gz", "REST": "b/REST.bed"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"valid_chroms": []}, "valid_chroms and test_chroms are required"),
        ({"test_chroms": ["chr5"]}, "in both valid_chroms and test_chroms"),
        ({"test_chroms": ["chr9"]}, "not among the generated chr1..chr6"),
        ({"peak_width": [400, 150]}, "is not [low, high]"),
    ],
)
def test_cross_field_checks(default_config: dict, change: dict, message: str) -> None:
    default_config["datasets"]["synthetic_genome"].update(change)
    with pytest.raises(InputError) as info:
        cp.workflow_plan(default_config)
    assert message in str(info.value) and "datasets.synthetic_genome" in str(info.value)


def test_duplicate_peak_file_stems_are_rejected() -> None:
    with pytest.raises(InputError, match="would both be task 'ctcf'"):
        peak_files({"peaks": ["a/ctcf.bed.gz", "b/ctcf.bed.gz"]})


def test_jaspar_tag_round_trips_its_options():
    from cislens.config import jaspar_tag, parse_jaspar_options

    assert jaspar_tag(cp.jaspar_defaults()) == "JASPAR2016_CORE_vertebrates"
    base = {"release": "JASPAR2024", "collection": "CORE", "tax_group": "fungi"}
    for all_versions, pseudocount in [(False, 0.0), (True, 0.0), (False, 0.8), (True, 0.25)]:
        tag = jaspar_tag({**base, "all_versions": all_versions, "pseudocount": pseudocount})
        suffix = tag.removeprefix("JASPAR2024_CORE_fungi")
        assert parse_jaspar_options(suffix) == {"all_versions": all_versions, "pseudocount": pseudocount}
    with pytest.raises(InputError):
        parse_jaspar_options("_latest")
