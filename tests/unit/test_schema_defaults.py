"""One source for every default (issue 15): the config schema. The stages read it through
cislens.schema when called outside Snakemake; no literal copy of a schema default lives in src/."""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

from cislens import plan, schema
from cislens.gia import run as gia_run

from ..conftest import ROOT

SRC = ROOT / "src" / "cislens"
download = importlib.import_module("cislens.encode.download")  # the package exports a function of that name
portal = importlib.import_module("cislens.encode.portal")


def test_defaults_follow_refs_and_fill_sub_sections() -> None:
    gia = schema.defaults("gia")
    assert gia["spacing"]["target"] == schema.node("definitions", "pair_target")["default"]  # via $ref
    assert gia["position"] == {"n_backgrounds": 200, "step": 10}  # a `default: {}` sub-section, filled
    assert schema.defaults("training", "robustness") == schema.defaults("training")["robustness"]
    assert schema.default("encode", "deadline") == 300
    assert schema.defaults("definitions", "jaspar") == plan.jaspar_defaults()
    with pytest.raises(KeyError):
        schema.defaults("no_such_section")
    first = schema.defaults("gia")
    first["experiments"].append("kmer")
    assert schema.defaults("gia")["experiments"] == ["occupancy"]  # copies: the cache is never changed


def test_plan_reads_the_same_schema() -> None:
    assert plan.SCHEMA_PATH == schema.SCHEMA_PATH
    assert plan.load_schema() == schema.load_schema()
    assert plan.encode_defaults() == schema.defaults("encode")


def test_gia_defaults_are_the_schemas() -> None:
    assert gia_run.DEFAULTS == schema.defaults("gia")
    # every experiment with settings of its own has a section in the schema
    experiments = schema.node("gia", "experiments")["items"]["enum"]
    sections = {k for k, v in gia_run.DEFAULTS.items() if isinstance(v, dict)}
    assert sections == set(experiments) - {"occupancy"}
    assert gia_run.with_defaults({"spacing": {"step": 5}})["spacing"] == {
        **gia_run.DEFAULTS["spacing"],
        "step": 5,
    }


def test_encode_defaults_are_the_schemas() -> None:
    encode = schema.defaults("encode")
    assert (download.RETRIES, download.TIMEOUT) == (encode["retries"], encode["timeout"])
    assert (download.DEADLINE, download.GENOME_DEADLINE) == (encode["deadline"], encode["genome_deadline"])
    for fn in (download.fetch_json, download.download, portal.fetch_peaks, portal.fetch_genome):
        params = inspect.signature(fn).parameters
        assert params["retries"].default == encode["retries"], fn.__name__
        assert params["timeout"].default == encode["timeout"], fn.__name__


def test_training_defaults_are_the_schemas() -> None:
    fit = pytest.importorskip("cislens.training.fit")  # keras
    training = schema.defaults("training")
    params = inspect.signature(fit.train).parameters
    for key in ("epochs", "batch_size", "learning_rate", "patience", "monitor", "lr_decay", "class_weight"):
        assert params[key].default == training[key], key
    assert (
        inspect.signature(fit.compile_model).parameters["learning_rate"].default == training["learning_rate"]
    )


def test_regime_defaults_live_in_the_library_only() -> None:
    """Regime defaults are the library's (training.regimes); the schema validates the keys but holds no
    default, so validation leaves a variant's regime dict (hashed as rule params) as written."""
    regime = schema.node("definitions", "regime")
    assert not [k for k, v in regime["properties"].items() if "default" in v]
    regimes = pytest.importorskip("cislens.training.regimes")  # tensorflow
    assert list(regimes._DEFAULTS) == regime["properties"]["kind"]["enum"]
    keys = {key for defaults in regimes._DEFAULTS.values() for key in defaults}
    assert keys == set(regime["properties"]) - {"kind"}
    config = {"datasets": {"d": {"kind": "synthetic_multitask"}}, "regimes": {"adv": {"kind": "adversarial"}}}
    plan.validate(config)
    assert config["regimes"] == {"adv": {"kind": "adversarial"}}


# (file, pattern of a literal copy of a schema default) that must not come back
LITERAL_COPIES = [
    ("gia/run.py", r'"n_backgrounds":\s*\d'),
    ("gia/run.py", r'"experiments":\s*\['),
    ("encode/download.py", r"DEADLINE\s*=\s*\d"),
    ("encode/download.py", r"(retries: int|timeout: float)\s*=\s*\d"),
    ("encode/portal.py", r"(retries: int|timeout: float)\s*=\s*\d"),
    ("training/fit.py", r"\b(epochs|batch_size|patience): int\s*=\s*\d"),
    ("training/fit.py", r"learning_rate: float\s*=\s*3e-4"),
    ("training/run.py", r'training\.get\("\w+",'),
    ("attribution/run.py", r'settings\.get\("\w+",'),
    ("motifs/run.py", r'settings\.get\("\w+",'),
]


@pytest.mark.parametrize(("path", "pattern"), LITERAL_COPIES)
def test_no_literal_copy_of_a_schema_default(path: str, pattern: str) -> None:
    assert not re.search(pattern, (SRC / path).read_text()), f"{path}: a schema default copied ({pattern})"
