"""The workflow as users run it: real Snakemake, real rules, tiny data."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from cislens.data.dataset import read_dataset
from cislens.meme import read_meme
from cislens.plan import ORDERED_MAPPINGS

from ..conftest import ROOT, assert_complete_pdf

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
SNAKEFILE = str(ROOT / "workflow" / "Snakefile")

TINY = {
    "seed": 3,
    "trials": 1,
    # One thread per TensorFlow job: two jobs side by side on the 2 test cores. The default (8, capped
    # to --cores 2) runs the 44 jobs one at a time, each mostly importing TensorFlow on one core.
    "threads": 1,
    "datasets": {
        "multi": {
            "kind": "synthetic_multitask",
            "n": 800,
            "seed": 1,
            "variants": ["cnn_small__standard", "cnn_small__evoaug", "cnn_small_exp__standard"],
        },
        "genome": {
            "kind": "synthetic_genome",
            "seed": 2,
            "n_chroms": 4,
            "chrom_length": 60000,
            "peaks_per_tf": 40,
            "motifs": {"CEBPB": "MA0466.2", "SP1": "MA0079.3"},
            "valid_chroms": ["chr3"],
            "test_chroms": ["chr4"],
            # the generator's truth VCF, plus sequences from a FASTA and a BED (written by tiny_run)
            "score": {
                "vcf": {"planted": "generated"},
                "sequences": {"seqs": "seqs.fa", "regions": "regions.bed"},
                "top_k": 3,
            },
        },
    },
    "models": {
        "cnn_small": {"arch": "cnn", "first_pool": 25, "filters": 8, "dense_units": 16, "conv2_filters": 16},
        "cnn_small_exp": {
            "arch": "cnn",
            "first_pool": 25,
            "filters": 8,
            "dense_units": 16,
            "conv2_filters": 16,
            "activation": "exponential",
        },
    },
    "regimes": {"standard": {"kind": "standard"}, "evoaug": {"kind": "evoaug", "finetune_epochs": 1}},
    "variants": ["cnn_small__standard"],
    "training": {"epochs": 2, "batch_size": 64, "patience": 2},
    "attribution": {
        "methods": ["saliency", "grad_times_input", "integrated_gradients", "deep_lift_shap", "ism"],
        "options": {"integrated_gradients": {"steps": 16}, "deep_lift_shap": {"n_references": 4}},
        "n_sequences": 40,
        "n_logos": 2,
    },
    "filters": {"max_sequences": 200},
    "gia": {
        "n_backgrounds": 20,
        "experiments": ["occupancy", "sites", "spacing", "cooperativity", "kmer"],
        "sites": {"n_backgrounds": 10, "max_sites": 2},
        "spacing": {"n_backgrounds": 10, "max_distance": 10, "step": 5},
        "cooperativity": {"n_backgrounds": 10, "distances": [0, 10]},
        "kmer": {"n_backgrounds": 10, "k": 4},
    },
}


def snakemake(workdir: Path, configfile: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run(
        [
            SNAKEMAKE,
            "-s",
            SNAKEFILE,
            "--directory",
            str(workdir),
            "--configfile",
            str(configfile),
            "--cores",
            "2",
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=1500,
    )


def write_config(path: Path, config: dict) -> Path:
    path.write_text(yaml.safe_dump(config))
    return path


def test_dry_run_lists_every_stage(tmp_path: Path) -> None:
    result = snakemake(tmp_path, ROOT / "config" / "config.yaml", "-n")
    assert result.returncode == 0, result.stderr[-2000:]
    stages = ("prepare", "train", "attribute", "filters", "tomtom", "gia", "variant_effects", "tracks")
    for rule in (*stages, "report"):
        assert f"rule {rule}:" in result.stdout, rule


def test_lint_is_clean() -> None:
    result = subprocess.run(
        [SNAKEMAKE, "--lint", "-s", SNAKEFILE, "--directory", str(ROOT)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_snakefmt_is_clean() -> None:
    snakefmt = str(Path(sys.executable).with_name("snakefmt"))
    result = subprocess.run(
        [snakefmt, "--check", "workflow"], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One run of the tiny workflow, shared by the tests that read its results."""
    tmp_path = tmp_path_factory.mktemp("tiny")
    configfile = write_config(tmp_path / "tiny.yaml", TINY)
    (tmp_path / "seqs.fa").write_text(">short\nACGTACGTTTGCGCAAT\n>long\n" + "GATTACA" * 40 + "\n")
    (tmp_path / "regions.bed").write_text("chr1\t1000\t1300\nchr2\t5000\t5100\n")
    result = snakemake(tmp_path, configfile)
    assert result.returncode == 0, result.stderr[-5000:]
    return tmp_path, configfile


@pytest.mark.slow
def test_end_to_end_tiny(tiny_run: tuple[Path, Path]) -> None:
    tmp_path, configfile = tiny_run
    for dataset in ("multi", "genome"):
        base = tmp_path / "results" / dataset
        report = (base / "report.html").read_text()
        for section in ("dataset", "variants", "training", "filters", "attribution", "gia", "modisco"):
            assert f"<section id='{section}'>" in report, (dataset, section)
        assert "<section id='provenance'>" in report
        assert "sha256" in report  # input checksums in the provenance
        trial = base / "cnn_small__standard" / "t0"
        tomtom = pd.read_csv(trial / "filters" / "tomtom.tsv", sep="\t")
        assert list(tomtom.columns) == [
            "Query_ID",
            "Target_ID",
            "Optimal_offset",
            "p-value",
            "E-value",
            "q-value",
            "Overlap",
            "Query_consensus",
            "Target_consensus",
            "Orientation",
        ]
        metrics = json.loads((trial / "metrics.json").read_text())
        assert 0.0 <= metrics["auroc_mean"] <= 1.0
        interp = pd.read_csv(trial / "attribution" / "interpretability.tsv", sep="\t")
        assert set(interp["method"]) == {
            "saliency",
            "saliency_uncorrected",  # the correction's gain is measured on every run
            "grad_times_input",
            "integrated_gradients",
            "deep_lift_shap",
            "ism",
        }
        assert interp["angle_pct_above_30"].notna().any()  # the raw-gradient angle diagnostic
        assert set(interp["threshold"]) >= {0.0, 0.01, 0.1}
        summary = pd.read_csv(base / "summary.tsv", sep="\t")
        expected = (
            ["cnn_small__standard", "cnn_small__evoaug", "cnn_small_exp__standard"]
            if dataset == "multi"
            else ["cnn_small__standard"]
        )
        assert list(summary["variant"]) == expected
        assert "adversarial_accuracy_mean" in summary  # robustness under PGD is recorded per trial
        for variant in expected:  # motif discovery per variant, its trials ensembled
            found = json.loads((base / variant / "modisco" / "truth.json").read_text())
            assert found["has_truth"] and found["n_planted"] > 0
            for name in ("modisco.h5", "patterns.meme", "patterns.tsv", "seqlets.bed", "logos.png"):
                assert (base / variant / "modisco" / name).exists(), (variant, name)
        assert summary["modisco_patterns"].notna().all()
        assert not (trial / "checkpoint.npz").exists()  # removed once the model is written
        assert (tmp_path / "logs" / "train" / dataset / "cnn_small__standard" / "t0.log").stat().st_size > 0
        gia = pd.read_csv(trial / "gia" / "occupancy.tsv", sep="\t")
        assert len(gia) > 0
        for experiment in ("sites", "spacing", "cooperativity", "kmer"):
            assert len(pd.read_csv(trial / "gia" / f"{experiment}.tsv", sep="\t")) > 0, experiment
            assert f"<h4>{experiment}</h4>" in report, experiment
    overall = pd.read_csv(tmp_path / "results" / "summary.tsv", sep="\t")
    models = overall[overall["vcf"].isna()]  # one row per (dataset, variant), then one per scored VCF
    assert sorted(models["dataset"]) == ["genome", "multi", "multi", "multi"]
    vcfs = overall[overall["vcf"].notna()]
    scored = list(zip(vcfs["dataset"], vcfs["variant"], vcfs["vcf"], strict=True))
    assert scored == [("genome", "cnn_small__standard", "planted")]
    assert (vcfs["variants_scored"] > 0).all()
    figures = tmp_path / "results" / "figures"
    pairs = pd.read_csv(figures / "relu_vs_exponential.tsv", sep="\t")
    assert set(pairs["variant"]) == {"cnn_small__standard", "cnn_small_exp__standard"}
    assert (figures / "relu_vs_exponential.pdf").read_bytes().startswith(b"%PDF")
    assert not (figures / "match_fraction_vs_pool.tsv").exists()  # no pool-size series in this config
    leftovers = [p for p in (tmp_path / "results").rglob(".*.tmp*")]
    assert not leftovers, leftovers
    again = snakemake(tmp_path, configfile, "-n")
    assert again.returncode == 0
    assert "Nothing to be done" in again.stdout + again.stderr
    # The catalog-style Snakemake report is built from the same files, without rerunning anything.
    packed = tmp_path / "report.zip"
    made = snakemake(tmp_path, configfile, "--report", str(packed))
    assert made.returncode == 0, made.stderr[-3000:]
    with zipfile.ZipFile(packed) as archive:
        names = archive.namelist()
    assert any(name.endswith("training.png") for name in names)
    assert any(name.endswith("summary.tsv") for name in names)


def _reordered(value: object, key: str | None = None) -> object:
    """The same config with every settings record's keys in reverse order (collections kept)."""
    if isinstance(value, dict):
        keys = list(value) if key in ORDERED_MAPPINGS else list(reversed(list(value)))
        return {k: _reordered(value[k], k) for k in keys}
    if isinstance(value, list):
        return [_reordered(item) for item in value]
    return value


@pytest.mark.slow
def test_reordered_config_keys_plan_nothing(tiny_run: tuple[Path, Path]) -> None:
    """Params reach Snakemake in canonical order: the same settings written in another key order
    rerun nothing (Snakemake compares params by repr, which follows a dict's key order)."""
    tmp_path, configfile = tiny_run
    config = yaml.safe_load(configfile.read_text())
    reordered = _reordered(config)
    assert json.dumps(reordered) != json.dumps(config)  # the file really is written differently
    other = tmp_path / "reordered.yaml"
    other.write_text(yaml.safe_dump(reordered, sort_keys=False))
    result = snakemake(tmp_path, other, "-n")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Nothing to be done" in result.stdout + result.stderr, result.stdout[-3000:]


@pytest.mark.slow
def test_tiny_figures_show_their_tables(tiny_run: tuple[Path, Path]) -> None:
    """Each figure the tiny config supports: its PDF opens, its TSV holds the run's own numbers.

    (That each figure draws exactly its TSV is checked artist by artist in tests/unit/test_figures.py.)
    """
    tmp_path, _ = tiny_run
    results = tmp_path / "results"
    figures = results / "figures"
    names = ["relu_vs_exponential", "robust_vs_standard", "attribution_auroc_heatmap", "gia_distance_curves"]
    for name in names:
        assert_complete_pdf(figures / f"{name}.pdf")
        assert (figures / f"{name}.png").read_bytes().startswith(b"\x89PNG"), name
    trials = pd.concat(
        [pd.read_csv(results / d / "trials.tsv", sep="\t").assign(dataset=d) for d in ("multi", "genome")]
    ).set_index(["dataset", "variant", "trial"])
    robust = pd.read_csv(figures / "robust_vs_standard.tsv", sep="\t")
    assert set(zip(robust["dataset"], robust["standard_variant"], robust["variant"], strict=True)) == {
        ("multi", "cnn_small__standard", "cnn_small__evoaug")
    }
    assert {m.split(" (")[0] for m in robust["metric"]} == {
        "test AUROC",
        "accuracy under PGD",
        "attribution AUROC",
        "match fraction",
    }
    for row in robust.itertuples():
        column = row.metric.split("(")[1].rstrip(")")
        assert row.standard == pytest.approx(
            trials.loc[(row.dataset, row.standard_variant, row.trial), column]
        )
        assert row.robust == pytest.approx(trials.loc[(row.dataset, row.variant, row.trial), column])
    heat = pd.read_csv(figures / "attribution_auroc_heatmap.tsv", sep="\t")
    assert set(heat["dataset"]) == {"multi", "genome"} and (heat["n_trials"] == 1).all()
    assert set(heat["method"]) >= set(TINY["attribution"]["methods"]) | {"saliency_uncorrected"}
    for row in heat.itertuples():
        expected = trials.loc[(row.dataset, row.variant, "t0"), f"attr_auroc_{row.method}"]
        assert row.auroc_mean == pytest.approx(expected)
    curves = pd.read_csv(figures / "gia_distance_curves.tsv", sep="\t")
    assert {(d, v) for d, v in zip(curves["dataset"], curves["variant"], strict=True)} == {
        ("multi", "cnn_small__standard"),
        ("multi", "cnn_small__evoaug"),
        ("multi", "cnn_small_exp__standard"),
        ("genome", "cnn_small__standard"),
    }
    assert sorted(set(curves["distance"])) == [0, 5, 10]
    for (dataset, variant), rows in curves.groupby(["dataset", "variant"]):
        gia = pd.read_csv(results / dataset / variant / "t0" / "gia" / "spacing.tsv", sep="\t")
        for row in rows.itertuples():  # one trial: the curve is the GIA table's own mean and CI
            (source,) = gia[
                (gia["motif_a"] == row.motif_a)
                & (gia["motif_b"] == row.motif_b)
                & (gia["task"] == row.task)
                & (gia["orientation"] == row.orientation)
                & (gia["measure"] == row.measure)
                & (gia["distance"] == row.distance)
            ].itertuples()
            for column in ("effect_mean", "ci95_low", "ci95_high"):
                assert getattr(row, column) == pytest.approx(getattr(source, column)), (dataset, variant)


@pytest.mark.slow
@pytest.mark.slow
def test_tiny_variant_effects_and_predictions(tiny_run: tuple[Path, Path]) -> None:
    """The score: block: the truth VCF scored, skipped and annotated; sequences predicted; report and
    results/summary.tsv show them."""
    from cislens.vcf import read_variants

    tmp_path, _ = tiny_run
    base = tmp_path / "results" / "genome" / "cnn_small__standard"
    folder = base / "variants" / "planted"
    effects = pd.read_csv(folder / "effects.tsv", sep="\t")
    truth = read_variants(tmp_path / "results" / "genome" / "inputs" / "variants.vcf", ["TRUTH"])
    skipped = pd.read_csv(folder / "skipped.tsv", sep="\t")
    assert len(effects) + len(skipped) == len(truth) and len(effects) > 0
    assert np.all(np.diff(effects["effect"].abs().to_numpy()) <= 0)
    assert {"CEBPB_delta_logit", "SP1_ref_prob", "effect_agree"} <= set(effects.columns)
    annotated = read_variants(folder / "annotated.vcf", ["CISLENS_EFFECT"])
    scored = annotated.merge(effects[["record", "allele", "effect"]], on=["record", "allele"])
    np.testing.assert_allclose(scored["CISLENS_EFFECT"], scored["effect"], rtol=1e-5, atol=1e-6)
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["vcf"] == "planted" and metrics["n_scored"] == len(effects)
    for name in ("top.png", "hist.png"):
        assert (folder / name).stat().st_size > 0
    assert_complete_pdf(folder / "top.pdf")
    seqs = pd.read_csv(base / "predict" / "seqs.tsv", sep="\t")
    assert seqs["name"].tolist() == ["short", "long"] and seqs["CEBPB_prob"].between(0, 1).all()
    regions = pd.read_csv(base / "predict" / "regions.tsv", sep="\t")
    assert regions["name"].tolist() == ["chr1:1050-1250", "chr2:4950-5150"]
    report = (tmp_path / "results" / "genome" / "report.html").read_text()
    assert "Variant effects" in report
    summary = pd.read_csv(tmp_path / "results" / "summary.tsv", sep="\t")
    line = summary[summary["vcf"].eq("planted")]
    assert len(line) == 1 and line["variants_scored"].iloc[0] == len(effects)


def test_tiny_tracks_are_genome_browser_bigwigs(tiny_run: tuple[Path, Path]) -> None:
    """The tracks rule on the genome dataset: a prediction and a contribution bigWig per task, with
    the genome's chromosome sizes as header, listed in tracks.txt and in the report."""
    import pyBigWig

    from cislens.data.genome import chrom_sizes
    from cislens.tracks.layout import read_listing

    tmp_path, _ = tiny_run
    folder = tmp_path / "results" / "genome" / "cnn_small__standard" / "tracks"
    files = sorted(p.name for p in folder.glob("*.bw"))
    assert files == [f"{kind}.{tf}.bw" for kind in ("contribution", "prediction") for tf in ("CEBPB", "SP1")]
    assert sorted(s["bigDataUrl"] for s in read_listing(folder / "tracks.txt")) == files
    sizes = chrom_sizes(tmp_path / "results" / "genome" / "inputs" / "genome.fa")
    with pyBigWig.open(str(folder / "prediction.CEBPB.bw")) as bw:
        assert bw.chroms() == sizes
        covered = bw.intervals("chr4")  # the test chromosome carries the predictions
        assert covered and all(0 <= value <= 1 for _, _, value in covered)
    assert not (tmp_path / "results" / "multi" / "cnn_small__standard" / "tracks").exists()  # no genome
    report = (tmp_path / "results" / "genome" / "report.html").read_text()
    assert "<section id='tracks'>" in report and "prediction.CEBPB.bw" in report


def test_report_regenerates_from_files_without_training(tiny_run: tuple[Path, Path]) -> None:
    tmp_path, configfile = tiny_run
    report = tmp_path / "results" / "multi" / "report.html"
    report.unlink()
    result = snakemake(tmp_path, configfile)
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = [
        line.split()[0] for line in result.stdout.splitlines() if line.strip().startswith(("report ", "all "))
    ]
    log = result.stdout + result.stderr
    assert "rule train:" not in log and "rule report:" in log, log[-3000:]
    assert report.exists() and jobs is not None


def _chromium() -> tuple[str, str] | None:
    import shutil

    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


# `make run` runs config/config.yaml as shipped: 8 min 17 s on 2 shared cores here (60 epochs per
# model, 10,000 + 11,464 sequences, 500 GIA backgrounds), too long for a suite that must stay well
# under 20 minutes on CI's 2 cores. So the report test runs that exact file scaled down in sizes and
# epochs only: a second --configfile that Snakemake merges key by key into the first (--config would
# read nested numbers as strings); datasets, kinds, models, regimes, variants, trials, attribution
# methods and GIA experiments stay as shipped. It also sets one thread per job, so that two jobs run at
# once (the default, 8 capped to --cores 2, runs one at a time).
DEFAULT_SCALE = {
    "threads": 1,  # two jobs side by side on the 2 test cores (as TINY); not part of the design
    "training": {"epochs": 2, "robustness": {"n_sequences": 100}},
    "datasets": {
        "synthetic_multitask": {"n": 2000},
        "synthetic_genome": {"chrom_length": 150000, "peaks_per_tf": 100},
    },
    "attribution": {"n_sequences": 100},
    "gia": {"n_backgrounds": 50},
}


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The default config (what `make run` runs), scaled down by DEFAULT_SCALE only."""
    tmp_path = tmp_path_factory.mktemp("default")
    configfile = ROOT / "config" / "config.yaml"
    scale = write_config(tmp_path / "scale.yaml", DEFAULT_SCALE)
    result = snakemake(tmp_path, configfile, "--configfile", str(configfile), str(scale))
    assert result.returncode == 0, result.stderr[-5000:]
    return tmp_path, configfile


@pytest.mark.slow
def test_default_run_keeps_the_default_design(default_run: tuple[Path, Path]) -> None:
    """The overrides change sizes, epochs and threads, nothing else: same datasets, variants, stages."""
    tmp_path, configfile = default_run
    shipped = yaml.safe_load(configfile.read_text())
    for dataset in shipped["datasets"]:
        summary = pd.read_csv(tmp_path / "results" / dataset / "summary.tsv", sep="\t")
        assert list(summary["variant"]) == shipped["variants"], dataset
        assert summary["n_trials"].tolist() == [shipped["trials"]] * len(shipped["variants"])
        data = read_dataset(tmp_path / "results" / dataset / "dataset.h5")
        assert data.kind == shipped["datasets"][dataset]["kind"]
    multitask = read_dataset(tmp_path / "results" / "synthetic_multitask" / "dataset.h5")
    assert sum(len(s) for s in multitask.splits.values()) == 2000  # the override did apply
    metrics = json.loads(
        (
            tmp_path / "results" / "synthetic_multitask" / "cnn25_relu__standard" / "t0" / "metrics.json"
        ).read_text()
    )
    assert metrics["epochs_trained"] <= 2


@pytest.mark.slow
@pytest.mark.parametrize("run", ["default_run", "tiny_run"])
def test_report_renders_in_headless_chromium(run: str, request: pytest.FixtureRequest) -> None:
    """Open each dataset's report as a reader would: every section there, every image decoded, a screenshot.

    ``default_run`` is the acceptance case (config/config.yaml, scaled by DEFAULT_SCALE); ``tiny_run``
    adds every attribution method and several GIA experiments, so more kinds of images.
    """
    found = _chromium()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian chromium and chromium-driver (make install does, as root)")
        pytest.skip("chromium / chromedriver not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    tmp_path, configfile = request.getfixturevalue(run)
    datasets = list(yaml.safe_load(configfile.read_text())["datasets"])
    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,2000",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(found[1]), options=options)
    try:
        for dataset in datasets:
            driver.get((tmp_path / "results" / dataset / "report.html").as_uri())
            sections = driver.execute_script(
                "return [...document.querySelectorAll('section')]"
                ".map(s => [s.id, s.querySelector('h2').textContent])"
            )
            entry = yaml.safe_load(configfile.read_text())["datasets"][dataset]
            scored = "score" in entry
            on_genome = entry["kind"] in ("peaks", "synthetic_genome")  # genome-browser tracks
            assert [sid for sid, _ in sections] == [
                "dataset",
                "variants",
                "training",
                "filters",
                "attribution",
                "gia",
                "modisco",
                *(["variant_effects"] if scored else []),
                *(["tracks"] if on_genome else []),
                "provenance",
            ], sections
            images = driver.execute_script(
                "return [...document.images]"
                ".map(i => [i.closest('section').id, i.alt, i.complete, i.naturalWidth])"
            )
            broken = [alt for _, alt, complete, width in images if not complete or width == 0]
            assert not broken, broken
            # training curve, filter logos, attribution logos and GIA plots for every trial; pattern logos
            # where motif discovery found patterns (a 2-epoch model may find none: the section says so)
            shown = {section for section, *_ in images}
            found = [
                json.loads(path.read_text())["n_patterns"]
                for path in (tmp_path / "results" / dataset).glob("*/modisco/truth.json")
            ]
            expected = {"training", "filters", "attribution", "gia"} | ({"modisco"} if any(found) else set())
            assert found and shown >= expected, (dataset, images)
            shot = tmp_path / f"{dataset}.png"
            assert driver.save_screenshot(str(shot))
            import matplotlib.image

            pixels = matplotlib.image.imread(shot)
            assert pixels.shape[0] > 500 and pixels.std() > 0.01  # a rendered page, not a blank one
    finally:
        driver.quit()


def _peaks_config(tmp_path: Path, peaks: Path, genome: Path) -> Path:
    config = {
        "datasets": {
            "real": {
                "kind": "peaks",
                "peaks": {"tf": str(peaks)},
                "genome": str(genome),
                "valid_chroms": ["chr2"],
                "test_chroms": ["chr1"],
            }
        },
        "models": TINY["models"],
        "regimes": TINY["regimes"],
        "variants": TINY["variants"],
    }
    return write_config(tmp_path / "peaks.yaml", config)


def _genome(tmp_path: Path) -> Path:
    genome = tmp_path / "genome.fa"
    genome.write_text(">chr1\n" + "ACGT" * 2500 + "\n>chr2\n" + "GGCA" * 2500 + "\n")
    return genome


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("chr1\t100\t300\n chr1\tabc\t500\n", ":2:"),
        ("", "empty"),
        ("chr1\t100\t300\nchrZ\t100\t300\n", "chrZ"),
    ],
    ids=["malformed-line", "empty-file", "missing-contig"],
)
def test_bad_peaks_fail_before_any_job(tmp_path: Path, content: str, expected: str) -> None:
    peaks = tmp_path / "peaks.bed"
    peaks.write_text(content)
    genome = _genome(tmp_path)
    if expected == "chrZ":  # the contig check at DAG time uses an existing index
        subprocess.run([sys.executable, "-c", f"import pyfaidx; pyfaidx.Faidx('{genome}')"], check=True)
    result = snakemake(tmp_path, _peaks_config(tmp_path, peaks, genome))
    assert result.returncode != 0
    assert expected in result.stderr
    assert str(peaks) in result.stderr
    assert not (tmp_path / "results").exists()


def test_late_settings_fail_the_dry_run_in_one_line(tmp_path: Path) -> None:
    """A first-layer pool longer than the window fails `snakemake -n` before any job (it used to
    fail only inside training); the same holds for every check of cislens.plan.check_dag."""
    config = {
        "datasets": {"toy": {"kind": "synthetic_multitask", "n": 200, "length": 100}},
        "models": {"wide": {"arch": "cnn", "first_pool": 120}},
        "regimes": {"standard": {"kind": "standard"}},
        "variants": ["wide__standard"],
    }
    result = snakemake(tmp_path, write_config(tmp_path / "c.yaml", config), "-n")
    assert result.returncode == 1, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("cislens error:")]
    assert errors == [
        "cislens error: config: models.wide.first_pool: 120 is longer than the 100 bp window of dataset 'toy'"
    ], result.stderr[-2000:]
    assert "Job stats" not in result.stdout + result.stderr
    assert not (tmp_path / "results").exists()


def test_failing_rule_logs_its_traceback_and_says_one_line(tmp_path: Path) -> None:
    """A rule that fails leaves the whole traceback in its log and one `cislens error:` line (naming
    the file) on the terminal; before, Snakemake said "check the log" and the log held only its header."""
    broken = tmp_path / "broken.h5"
    broken.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(200))  # an HDF5 signature, then nothing
    config = dict(TINY, datasets={"broken": {"kind": "h5", "path": str(broken)}})
    result = snakemake(tmp_path, write_config(tmp_path / "b.yaml", config), "results/broken/dataset.h5")
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("cislens error:")]
    assert len(lines) == 1 and str(broken) in lines[0], result.stderr[-3000:]
    log = (tmp_path / "logs" / "prepare" / "broken.log").read_text()
    assert "Traceback (most recent call last)" in log and lines[0].split(" (log:")[0] in log, log
    assert not (tmp_path / "results" / "broken" / "dataset.h5").exists()


def test_prepare_is_byte_identical_across_runs(tmp_path: Path) -> None:
    """Same config and seed, two fresh working directories: identical dataset.h5 files, bit for bit."""
    configfile = write_config(tmp_path / "tiny.yaml", TINY)
    digests = []
    for run in ("a", "b"):
        workdir = tmp_path / run
        workdir.mkdir()
        targets = [f"results/{d}/dataset.h5" for d in ("multi", "genome")]
        result = snakemake(workdir, configfile, *targets)
        assert result.returncode == 0, result.stderr[-3000:]
        digests.append([hashlib.sha256((workdir / t).read_bytes()).hexdigest() for t in targets])
    assert digests[0] == digests[1]


def test_genome_that_is_not_fasta_fails_before_any_job(tmp_path: Path) -> None:
    peaks = tmp_path / "peaks.bed"
    peaks.write_text("chr1\t100\t300\n")
    genome = tmp_path / "genome.fa"
    genome.write_text("chr1\t0\t1000\n")
    result = snakemake(tmp_path, _peaks_config(tmp_path, peaks, genome))
    assert result.returncode != 0
    assert "does not start with a '>' header" in result.stderr
    assert not (tmp_path / "results").exists()


def test_prepare_code_set_and_shared_h5(tmp_path: Path) -> None:
    """The regulatory-code set (core + 50 pool motifs) and a field-style h5 file go through prepare."""
    import h5py
    import numpy as np

    rng = np.random.default_rng(0)
    shared = tmp_path / "shared.h5"
    with h5py.File(shared, "w") as handle:
        for split, n in (("train", 60), ("valid", 20), ("test", 20)):
            handle[f"X_{split}"] = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (n, 100))].transpose(
                0, 2, 1
            )
            handle[f"Y_{split}"] = rng.integers(0, 2, (n, 1)).astype(np.float32)
    config = dict(
        TINY,
        datasets={
            "code": {"kind": "synthetic_code", "n_pos": 60, "n_neg": 60, "seed": 4},
            "shared": {"kind": "h5", "path": str(shared)},
        },
    )
    configfile = write_config(tmp_path / "c.yaml", config)
    targets = ["results/code/dataset.h5", "results/shared/dataset.h5"]
    result = snakemake(tmp_path, configfile, *targets)
    assert result.returncode == 0, result.stderr[-3000:]
    code = read_dataset(tmp_path / targets[0])
    assert code.tasks == ["code"] and code.kind == "synthetic_code"
    assert len(read_meme(tmp_path / "results" / "code" / "motifs.meme")) == 5 + 50
    assert sum(len(s) for s in code.splits.values()) == 120
    shared_data = read_dataset(tmp_path / targets[1])
    assert shared_data.splits["train"].x.shape == (60, 100, 4)
