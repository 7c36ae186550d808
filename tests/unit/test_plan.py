"""cislens.plan: one validation that fills the schema's defaults, and the registry of dataset kinds."""

from __future__ import annotations

import copy
import re

import pytest
import yaml

from cislens import plan
from cislens.data import prepare, synthetic, windows
from cislens.errors import InputError

from ..conftest import ROOT

SRC = ROOT / "src" / "cislens"


@pytest.fixture
def default_config() -> dict:
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def test_every_schema_kind_is_registered() -> None:
    schema = plan.load_schema()
    enum = schema["properties"]["datasets"]["additionalProperties"]["properties"]["kind"]["enum"]
    assert list(plan.KINDS) == enum
    assert plan.PROTEIN_KINDS == ("msa", "planted_potts")
    assert set(plan.TRUTH_KINDS) == {"synthetic_multitask", "synthetic_code", "synthetic_genome"}


def test_schema_defaults_are_the_generators_and_windows_defaults() -> None:
    assert plan.KINDS["synthetic_multitask"].defaults()["motifs"] == synthetic.MULTITASK_MOTIFS
    assert list(plan.KINDS["synthetic_multitask"].defaults()["motifs"]) == list(synthetic.MULTITASK_MOTIFS)
    assert plan.KINDS["synthetic_code"].defaults()["core"] == synthetic.CODE_CORE_MOTIFS
    for kind in ("peaks", "synthetic_genome"):
        assert plan.KINDS[kind].defaults()["exclude_chroms"] == windows.DEFAULT_EXCLUDE
    assert plan.jaspar_defaults() == {
        "release": "JASPAR2016",
        "collection": "CORE",
        "tax_group": "vertebrates",
        "all_versions": False,
        "pseudocount": 0.0,
    }


def test_validate_fills_top_level_defaults_once_and_keeps_datasets_as_written(default_config: dict) -> None:
    given = copy.deepcopy(default_config["datasets"])
    default_config.pop("training", None)
    filled = plan.validate(default_config)
    assert default_config["training"]["epochs"] == 100  # filled into the config, as Snakemake's validate did
    assert default_config["training"]["robustness"]["steps"] == 20
    assert default_config["datasets"] == given  # reports show (and hash) the datasets as written
    # the filled copy carries each dataset's kind defaults: the same values dataset_settings applies
    for name, entry in filled["datasets"].items():
        settings = plan.dataset_settings(default_config, name)
        assert {k: settings[k] for k in entry if k != "jaspar"} == {
            k: v for k, v in entry.items() if k != "jaspar"
        }


def test_validate_defaults_are_copies() -> None:
    first = plan.validate({"datasets": {"a": {"kind": "synthetic_code"}}})
    first["datasets"]["a"]["core"]["SP1"] = "changed"
    first["attribution"]["methods"].append("ism")
    second = plan.validate({"datasets": {"a": {"kind": "synthetic_code"}}})
    assert second["datasets"]["a"]["core"]["SP1"] == "MA0079.3"
    assert second["attribution"]["methods"] == ["saliency"]


@pytest.mark.parametrize(
    ("entry", "where"),
    [
        ({"kind": "synthetic_multitask", "n": "many"}, "config: datasets.d.n: "),
        ({"kind": "peaks", "peaks": "p.bed"}, "'genome' is a required property"),
        ({"kind": "bigwig"}, "config: datasets.d.kind: "),
        ({"kind": "synthetic_genome", "width": 5}, "config: datasets.d.width: "),
    ],
)
def test_validate_fails_in_one_line(entry: dict, where: str) -> None:
    with pytest.raises(InputError) as info:
        plan.validate({"datasets": {"d": entry}})
    assert where in str(info.value) and "\n" not in str(info.value)


def test_every_kind_with_its_required_keys_validates_with_its_defaults() -> None:
    required = {
        "peaks": {"peaks": "p.bed", "genome": "g.fa"},
        "h5": {"path": "x.h5"},
        "msa": {"alignment": "a.fa"},
    }
    for name in plan.KINDS:
        config = {"datasets": {"d": {"kind": name, **required.get(name, {})}}}
        filled = plan.validate(config)
        settings = plan.dataset_settings(config, "d")
        assert all(
            settings[key] == value for key, value in filled["datasets"]["d"].items() if key != "jaspar"
        )


def test_registry_declares_inputs_truth_builders_and_outputs() -> None:
    config = {
        "datasets": {
            "multi": {"kind": "synthetic_multitask"},
            "genome": {"kind": "synthetic_genome"},
            "real": {"kind": "peaks", "peaks": ["a/CTCF.bed"], "genome": "g.fa"},
            "given": {"kind": "h5", "path": "x.h5"},
            "family": {"kind": "planted_potts"},
        }
    }
    settings = {name: plan.dataset_settings(config, name) for name in config["datasets"]}
    assert plan.prepare_inputs(settings["multi"], "multi") == {"motifs": "results/multi/motifs.meme"}
    assert plan.prepare_inputs(settings["genome"], "genome") == {
        "motifs": "results/genome/motifs.meme",
        "genome": "results/genome/inputs/genome.fa",
        "planted": "results/genome/inputs/planted.bed",
        "peaks": "results/genome/inputs/peaks",
    }
    assert plan.prepare_inputs(settings["real"], "real") == {"peaks": ["a/CTCF.bed"], "genome": "g.fa"}
    assert plan.prepare_inputs(settings["given"], "given") == {"h5": "x.h5"}
    assert plan.ground_truth_motifs(settings["real"]) == {}
    assert list(plan.ground_truth_motifs(settings["genome"])) == [
        "CEBPB",
        "Gabpa",
        "MAX",
        "SP1",
        "YY1",
        "SRF",
    ]
    assert plan.protein_alignment(settings["family"], "family") == "results/family/inputs/alignment.fasta"
    assert plan.KINDS["planted_potts"].applies("planted") and not plan.KINDS["msa"].applies("planted")
    assert plan.KINDS["synthetic_code"].applies("truth") and not plan.KINDS["h5"].applies("truth")
    with pytest.raises(InputError, match="unknown output"):
        plan.KINDS["h5"].applies("bigwig")
    for name, kind in plan.KINDS.items():
        if kind.protein:
            assert kind.builder is None
        else:  # data.prepare.build dispatches on the builder's name
            module, function = kind.builder.rsplit(".", 1)
            assert module == prepare.__name__ and callable(getattr(prepare, function)), name


def test_build_plan_runs_the_kind_checks(default_config: dict) -> None:
    default_config["datasets"]["synthetic_genome"]["peak_width"] = [400, 150]
    with pytest.raises(InputError, match=r"datasets\.synthetic_genome\.peak_width: \[400, 150\] is not"):
        plan.build_plan(default_config, preflight=False)


def test_shipped_configs_plan_without_the_report_package() -> None:
    """The DAG-time plan (figures included) is plain Python: no cislens.report, no matplotlib."""
    import subprocess
    import sys

    code = (
        "import sys, yaml\n"
        "from cislens import plan\n"
        f"for path in sorted(__import__('pathlib').Path({str(ROOT / 'config')!r}).glob('*.yaml')):\n"
        "    config = yaml.safe_load(path.read_text())\n"
        "    plan.validate(config)\n"
        "    plan.workflow_plan(config)\n"
        "    plan.applicable_figures(config)\n"
        "print(sorted(m for m in sys.modules if m.startswith('cislens.report') or m == 'matplotlib'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_data_imports_neither_config_nor_plan_and_kind_branches_live_in_the_plan() -> None:
    importer = re.compile(
        r"^\s*from\s+(\.\.|cislens\.)(config|plan)\b|^\s*import\s+cislens\.(config|plan)\b", re.M
    )
    offenders = [p.name for p in (SRC / "data").glob("*.py") if importer.search(p.read_text())]
    assert offenders == []
    assert not re.search(
        r"^\s*from\s+\.plan\b|^\s*from\s+\.\s+import\s+plan\b", (SRC / "config.py").read_text(), re.M
    )
    branch = re.compile(r"""\[["']kind["']\]\s*(==|!=|in\b)|\bkind\s*(==|!=)\s*["']""")
    for path in (
        SRC / "config.py",
        SRC / "preflight.py",
        SRC / "report" / "figures.py",
        SRC / "data" / "prepare.py",
    ):
        assert not branch.search(path.read_text()), path


def test_dataset_settings_fill_nested_defaults_of_a_dataset_section() -> None:
    """Defaults inside a dataset's sub-section (e.g. score:) reach its settings, as kind defaults do."""
    schema = plan.load_schema()
    section = schema["definitions"]["synthetic_genome"]["properties"]
    nested = {
        key: sub["$ref"].rsplit("/", 1)[-1]
        for key, sub in section.items()
        if "$ref" in sub and "properties" in schema["definitions"].get(sub["$ref"].rsplit("/", 1)[-1], {})
    }
    for key, definition in nested.items():
        defaults = plan.property_defaults(definition)
        if defaults:
            config = {"datasets": {"g": {"kind": "synthetic_genome", key: {}}}}
            settings = plan.dataset_settings(config, "g")
            assert all(settings[key][k] == v for k, v in defaults.items()), key
            assert config["datasets"]["g"][key] == {}  # the config itself stays as written
