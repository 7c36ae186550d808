"""Motif discovery with real modisco-lite: hypothetical contributions times x equal each method's map, the
ensemble averages trials and strands, a model whose first layer is a planted JASPAR PWM gives a pattern
whose best Tomtom hit is that PWM with seqlets on the planted sites (genomic BED, both window strands),
modisco-lite's own CLI reads our file, the empty result, truth scoring and bad config keys."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import pandas as pd
import pytest

from cislens.attribution.hypothetical import SOURCES, ensemble, hypothetical_contributions, reverse_complement
from cislens.attribution.methods import METHODS
from cislens.data.dataset import Dataset, Split, write_dataset
from cislens.errors import InputError
from cislens.jaspar import export_meme, fetch_by_ids
from cislens.modisco import discover
from cislens.modisco.run import modisco_variant
from cislens.modisco.truth import planted_sites, recovery, seqlet_scores
from cislens.motifs.matching import paralog_ids
from cislens.plan import validate
from cislens.runtime import set_seed

PWM_ID = "MA0139.1"  # CTCF: 19 columns, a profile no other JASPAR 2016 vertebrate matrix resembles closely
L = 120
SMALL = {  # modisco-lite settings for a few hundred short sequences
    "sliding_window": 15,
    "flank": 5,
    "trim_size": 20,
    "initial_flank": 5,
    "min_metacluster_size": 20,
    "min_cluster_size": 10,
}
OUTPUTS = ("h5", "meme", "tomtom", "patterns", "seqlets", "truth", "logos")
NAMES = {
    "h5": "modisco.h5",
    "meme": "patterns.meme",
    "tomtom": "tomtom.tsv",
    "patterns": "patterns.tsv",
    "seqlets": "seqlets.bed",
    "truth": "truth.json",
    "logos": "logos.png",
}


def _pwm_model(ppm: np.ndarray) -> keras.Model:
    """Log-odds of the PPM as the only first-layer filter (both strands), max over positions -> logit."""
    width = len(ppm)
    log_odds = np.log((ppm + 0.01) / 1.04 / 0.25).astype(np.float32)
    inputs = keras.Input((L, 4))
    conv = keras.layers.Conv1D(2, width, name="first_conv")
    hidden = keras.layers.Activation("relu", name="first_activation")(conv(inputs))
    pooled = keras.layers.GlobalMaxPooling1D()(hidden)
    dense = keras.layers.Dense(1, name="logits")
    logits = dense(pooled)
    model = keras.Model(inputs, keras.layers.Activation("sigmoid")(logits))
    kernel = np.stack([log_odds, log_odds[::-1, ::-1]], axis=-1)  # (W, 4, 2)
    threshold = 0.5 * float(log_odds.max(axis=1).sum())
    conv.set_weights([kernel, np.full(2, -threshold, np.float32)])
    dense.set_weights([np.ones((2, 1), np.float32) / threshold, np.array([-1.0], np.float32)])
    return model


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """600 random windows, half carrying one CTCF site sampled from its PPM (both orientations), with
    genomic coordinates on chr1 (every other window on the minus strand), the model and JASPAR."""
    set_seed(0)
    folder = tmp_path_factory.mktemp("modisco")
    motif = fetch_by_ids([PWM_ID])[0]
    ppm, width = motif.ppm, motif.width
    rng = np.random.default_rng(0)
    n = 600
    idx = rng.integers(0, 4, (n, L))
    truth = np.full((n, L, 4), 0.25, np.float32)
    y = np.zeros((n, 1), np.float32)
    for i in range(0, n, 2):
        pos = int(rng.integers(5, L - width - 5))
        site = ppm if rng.random() < 0.5 else ppm[::-1, ::-1]
        idx[i, pos : pos + width] = [rng.choice(4, p=row / row.sum()) for row in site]
        truth[i, pos : pos + width] = site
        y[i] = 1.0
    x = np.eye(4, dtype=np.uint8)[idx]
    start = np.arange(n, dtype=np.int64) * 1000 + 5000
    split = Split(
        x=x,
        y=y,
        truth=truth,
        chrom=np.array(["chr1"] * n),
        start=start,
        end=start + L,
        strand=np.array(["+", "-"] * (n // 2)),
        name=np.array([f"w{i}" for i in range(n)]),
    )
    dataset_path = folder / "dataset.h5"
    write_dataset(dataset_path, Dataset({"train": split, "valid": split, "test": split}, ["ctcf"], "peaks"))
    model_path = folder / "model.keras"
    _pwm_model(ppm).save(model_path)
    database = folder / "jaspar.meme"
    export_meme(database)
    return {"folder": folder, "dataset": dataset_path, "model": model_path, "database": database}


def _run(planted, out: Path, **settings) -> dict:
    out.mkdir(exist_ok=True)
    outputs = {key: str(out / NAMES[key]) for key in OUTPUTS}
    return modisco_variant(
        str(planted["dataset"]),
        [str(planted["model"])],
        str(planted["database"]),
        {**SMALL, **settings},
        {},
        {},
        {"CTCF": PWM_ID},
        "JASPAR2016",
        2,
        outputs,
        logging.getLogger("test"),
    )


@pytest.fixture(scope="module")
def discovered(planted):
    out = planted["folder"] / "found"
    return out, _run(planted, out)


def test_planted_pwm_is_discovered_and_matched(discovered) -> None:
    out, record = discovered
    patterns = pd.read_csv(out / "patterns.tsv", sep="\t")
    top = patterns.iloc[0]
    assert top["metacluster"] == "positive" and top["n_seqlets"] >= 100
    assert top["match1_id"] == PWM_ID and top["match1_q"] < 0.05 and top["planted"] == "CTCF"
    assert "zinc finger" in top["match1_class"].lower()  # pyjaspar's class metadata
    assert record["n_recovered"] == 1 and record["recovered"] == ["CTCF"]
    assert record["recovered_family"] == ["CTCF"] and record["n_spurious"] <= 1
    assert PWM_ID in record["paralogs"]["CTCF"]  # the planted matrix matches itself in the database
    meme = (out / "patterns.meme").read_text()
    assert f"MOTIF {top['pattern']}" in meme and f"nsites= {top['n_seqlets']}" in meme


def test_seqlet_bed_lands_on_planted_sites_in_genome_coordinates(discovered, planted) -> None:
    from cislens.data.dataset import read_split

    out, record = discovered
    test = read_split(planted["dataset"], "test")
    columns = ["chrom", "start", "end", "name", "score", "strand"]
    bed = pd.read_csv(out / "seqlets.bed", sep="\t", header=None, names=columns)
    assert len(bed) == record["n_seqlets"] and set(bed["chrom"]) == {"chr1"}
    genomic = []  # each planted site in genome coordinates, minus-strand windows mapped back
    for i in range(0, len(test), 2):
        informative = np.flatnonzero(test.truth[i].max(axis=1) > 0.3)
        pos, stop = int(informative.min()), int(informative.max()) + 1
        if test.strand[i] == "-":
            genomic.append((int(test.end[i]) - stop, int(test.end[i]) - pos))
        else:
            genomic.append((int(test.start[i]) + pos, int(test.start[i]) + stop))
    sites = np.array(genomic)
    hits = 0
    for row in bed.itertuples():
        overlap = np.minimum(sites[:, 1], row.end) - np.maximum(sites[:, 0], row.start)
        hits += bool((overlap >= 0.5 * (sites[:, 1] - sites[:, 0])).any())
    assert hits / len(bed) >= 0.9
    assert record["seqlet_precision"] >= 0.9  # the same measure in window coordinates
    assert set(bed["strand"]) == {"+", "-"}


def test_modisco_lite_cli_reads_our_file(discovered, tmp_path) -> None:
    out, record = discovered
    meme = tmp_path / "cwm.meme"
    cli = Path(sys.executable).with_name("modisco")
    result = subprocess.run(
        [str(cli), "meme", "-i", str(out / "modisco.h5"), "-t", "PFM", "-o", str(meme), "-q"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert meme.read_text().count("MOTIF ") == record["n_patterns"]
    patterns = discover.read(out / "modisco.h5")
    assert [p.n_seqlets for p in patterns] == list(pd.read_csv(out / "patterns.tsv", sep="\t")["n_seqlets"])


def test_no_patterns_is_a_result(planted) -> None:
    out = planted["folder"] / "empty"
    record = _run(planted, out, min_metacluster_size=100_000)  # no metacluster is ever large enough
    assert record["n_patterns"] == 0 and record["n_seqlets_called"] > 0
    assert record["n_recovered"] == 0 and record["missed"] == ["CTCF"]
    assert pd.read_csv(out / "patterns.tsv", sep="\t").empty
    assert (out / "seqlets.bed").read_text() == ""
    assert (out / "logos.png").read_bytes().startswith(b"\x89PNG")
    assert json.loads((out / "truth.json").read_text())["n_patterns"] == 0
    assert discover.read(out / "modisco.h5") == []


def test_hypothetical_contributions_times_x_are_the_methods_maps(planted) -> None:
    from cislens.data.dataset import read_split
    from cislens.models.zoo import load_model

    model = load_model(planted["model"])
    x = read_split(planted["dataset"], "test").x[:6]
    for source in SOURCES:
        hyp = hypothetical_contributions(model, x, source, progress=False)
        assert hyp.shape == x.shape and hyp.dtype == np.float32
        if source == "ism":
            delta = METHODS["ism"](model, x, progress=False)
            expected = -(delta.mean(axis=-1, keepdims=True)) * x
        elif source == "saliency":
            expected = METHODS["saliency"](model, x, correct=True, progress=False) * x
        else:
            correct = {"correct": True} if source == "integrated_gradients" else {}
            expected = METHODS[source](model, x, progress=False, **correct)
        np.testing.assert_allclose((hyp * x).sum(-1), expected.sum(-1), atol=2e-5, err_msg=source)
    assert np.allclose(hypothetical_contributions(model, x, "saliency", progress=False).sum(-1), 0, atol=1e-5)


def test_ensemble_averages_trials_and_strands() -> None:
    x = np.eye(4, dtype=np.float32)[np.random.default_rng(1).integers(0, 4, (3, 10))]

    def compute(model, xs, task):  # a stand-in "model": a position- and base-dependent map
        return np.asarray(xs * model + np.arange(10)[None, :, None], np.float32)

    both = ensemble(compute, [1.0, 3.0], x, None, both_strands=True)
    forward = (compute(1.0, x, None) + compute(3.0, x, None)) / 2
    backward = (
        reverse_complement(compute(1.0, reverse_complement(x), None))
        + reverse_complement(compute(3.0, reverse_complement(x), None))
    ) / 2
    np.testing.assert_allclose(both, (forward + backward) / 2, rtol=1e-6)
    np.testing.assert_allclose(ensemble(compute, [2.0], x, None), compute(2.0, x, None))
    with pytest.raises(InputError, match="no models"):
        ensemble(compute, [], x, None)


def test_truth_scores_on_hand_built_cases() -> None:
    mask = np.zeros((2, 30), bool)
    mask[0, 5:15] = mask[1, 20:26] = True
    sites = planted_sites(mask)
    assert sites.values.tolist() == [[0, 5, 15], [1, 20, 26]]
    seqlets = pd.DataFrame(
        {
            "example_idx": [0, 0, 1],
            "core_start": [8, 16, 24],  # overlaps 7 of 10; none; 2 of 6 (less than half)
            "core_end": [18, 22, 30],
        }
    )
    scores = seqlet_scores(seqlets, sites)
    assert scores["seqlet_precision"] == pytest.approx(1 / 3) and scores["seqlet_recall"] == 0.5
    tomtom = pd.DataFrame(
        {
            "Query_ID": ["p0", "p0", "p1", "p2"],
            "Target_ID": ["MA0841.1", "MA0477.1", "MA0139.1", "MA0477.2"],
            "p-value": [1e-9, 1e-7, 1e-8, 1e-3],
            "q-value": [1e-6, 1e-4, 1e-5, 0.2],
        }
    )
    accepted = {"FOSL1": ["MA0477.1", "MA0477.2"], "CTCF": ["MA0139.1"]}
    result = recovery(tomtom, ["p0", "p1", "p2"], accepted)
    assert result["recovered"] == ["CTCF"]  # p0's best hit is a paralog (NFE2)
    assert result["recovered_any"] == ["CTCF", "FOSL1"]  # ... but FOSL1 is among its matches
    assert result["spurious"] == ["p2"]  # its only hit has q = 0.2
    assert result["recovered_family"] == ["CTCF"]  # without paralogs the family level is the strict one
    widened = recovery(tomtom, ["p0", "p1", "p2"], accepted, paralogs={"FOSL1": ["MA0841.1"]})
    assert widened["recovered"] == ["CTCF"]  # the strict count does not move
    assert widened["recovered_family"] == ["CTCF", "FOSL1"]  # p0's best hit is a paralog of FOSL1
    assert widened["per_pattern"]["p0"] == ["FOSL1"] and widened["spurious"] == ["p2"]


def test_paralogs_are_same_family_matrices_tomtom_matches_to_the_planted_one() -> None:
    tomtom = pd.DataFrame(
        {
            "Query_ID": ["MA0466.2"] * 4 + ["MA0058.3"],
            "Target_ID": ["MA0466.2", "MA0836.1", "MA0496.1", "MA0838.1", "MA0104.3"],
            "q-value": [1e-9, 1e-4, 1e-3, 0.2, 0.01],
        }
    )
    families = {"MA0466.2": "C/EBP-related", "MA0836.1": "C/EBP-related", "MA0838.1": "C/EBP-related"}
    families |= {"MA0496.1": "Maf-related factors", "MA0058.3": "bHLH-ZIP factors"}
    found = paralog_ids({"CEBPB": "MA0466.2", "MAX": "MA0058.3"}, tomtom, families)
    # CEBPD matches and shares the family; MAFK matches but is another family; CEBPG is not significant;
    # MYCN has no family in this (user) database, so it is nobody's paralog
    assert found == {"CEBPB": ["MA0466.2", "MA0836.1"], "MAX": ["MA0058.3"]}


def test_discover_guards_its_inputs() -> None:
    x = np.eye(4, dtype=np.float32)[np.zeros((5, 50), int)]
    with pytest.raises(InputError, match="NaN"):
        discover.discover(x, np.full_like(x, np.nan), {**SMALL})
    with pytest.raises(InputError, match=r"\(N, L, 4\)"):
        discover.discover(x.transpose(0, 2, 1), x.transpose(0, 2, 1), {**SMALL})
    from cislens import schema

    settings = schema.with_defaults("modisco", SMALL)
    found = discover.discover(x, np.zeros_like(x), settings)  # a map without variation: no patterns
    assert (found.pos, found.neg, found.n_called) == ([], [], 0)


@pytest.mark.parametrize(
    ("modisco", "message"),
    [
        ({"source": "gradcam"}, "modisco.source"),
        ({"flank": -1}, "modisco.flank"),
        ({"n_leidens": 3}, "modisco"),
    ],
)
def test_bad_modisco_keys_fail_in_one_line(modisco, message) -> None:
    config = {
        "datasets": {"d": {"kind": "synthetic_multitask", "n": 100}},
        "models": {"m": {"arch": "cnn"}},
        "regimes": {"standard": {"kind": "standard"}},
        "variants": ["m__standard"],
        "modisco": modisco,
    }
    with pytest.raises(InputError, match=message) as error:
        validate(config)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("models", "modisco", "attribution", "message"),
    [
        ({"m": {"arch": "cnn_attention"}}, {"source": "deep_lift_shap"}, {}, "no rule for attention"),
        (
            {"m": {"arch": "cnn"}},
            {"source": "integrated_gradients"},
            {"options": {"integrated_gradients": {"baseline": "expected"}}},
            "fixed baseline|zero or shuffle",
        ),
    ],
)
def test_source_that_cannot_explain_a_model_fails_early(models, modisco, attribution, message) -> None:
    from cislens.plan import build_plan

    config = {
        "datasets": {"d": {"kind": "synthetic_multitask", "n": 100}},
        "models": models,
        "regimes": {"standard": {"kind": "standard"}},
        "variants": ["m__standard"],
        "modisco": modisco,
        "attribution": attribution,
    }
    with pytest.raises(InputError, match=message):
        build_plan(config)
    build_plan({**config, "modisco": {**modisco, "enabled": False}})  # the stage off: nothing to check
