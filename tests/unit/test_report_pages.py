"""The one page writer both report kinds compose, and a protein family's summary rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cislens.report import protein_summary, summary
from cislens.report.html import Section, mean_sd_table, provenance_section, write_page


def test_write_page_composes_sections_in_order_with_a_nav(tmp_path: Path) -> None:
    sections = [Section("dataset", "Family", "<p>a</p>"), Section("protein", "Protein <models>", "<p>b</p>")]
    write_page(tmp_path / "report.html", "fam & co", sections)
    page = (tmp_path / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<title>cislens: fam &amp; co</title>" in page
    assert page.index("<section id='dataset'>") < page.index("<section id='protein'>")
    assert "<a href='#protein'>Protein &lt;models&gt;</a>" in page and "<h2>Family</h2>" in page
    assert not list(tmp_path.glob(".*"))  # written atomically: no temporary left


def test_provenance_checksums_inputs_and_shows_the_pages_trials(tmp_path: Path) -> None:
    source = tmp_path / "alignment.fasta"
    source.write_text(">a\nMK\n")
    trials = pd.DataFrame([{"model": "potts", "trial": "t0", "seed": 7}])
    section = provenance_section({"seed": 1}, {"kind": "msa"}, trials, [source, tmp_path / "missing"])
    assert section.key == "provenance"
    assert "alignment.fasta" in section.body and "missing" not in section.body and "potts" in section.body


def _trial(root: Path, model: str, trial: str, metrics: dict) -> Path:
    folder = root / model / trial
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder


def test_protein_rows_order_precision_then_effects_and_skip_bookkeeping(tmp_path: Path) -> None:
    metrics = {
        "model": "potts",
        "kind": "potts",
        "seed": 2000,
        "fit_seconds": 1.5,
        "dms_spearman": 0.7,
        "precision_L/2_sep12": 0.9,
        "precision_L_sep6": 0.5,
        "precision_L/5_sep6": 1.0,
        "precision_L/2_sep6": 0.8,
        "final_loss": None,
    }
    dirs = [_trial(tmp_path, "potts", "t0", metrics), _trial(tmp_path, "potts", "t1", metrics)]
    trials = protein_summary.trial_table(dirs)
    assert list(trials.columns) == [
        "variant",  # the model's name stands in the variant column (results/summary.tsv stacks both kinds)
        "trial",
        "precision_L_sep6",
        "precision_L/2_sep6",
        "precision_L/5_sep6",
        "precision_L/2_sep12",
        "dms_spearman",
        "final_loss",
        "fit_seconds",
    ]
    assert np.isnan(trials["final_loss"]).all()
    table = summary.aggregate(trials)
    assert table.loc[0, "n_trials"] == 2 and table.loc[0, "precision_L_sep6_mean"] == 0.5
    assert mean_sd_table(table).loc[0, "dms_spearman"] == "0.700 ± 0.000"


def test_tracks_section_lists_every_track_of_every_variant(tmp_path: Path) -> None:
    from cislens.report.genomics_page import tracks_section
    from cislens.tracks.layout import Track, write_listing

    folders = []
    for variant in ("a__standard", "b__standard"):
        folder = tmp_path / variant / "tracks"
        folder.mkdir(parents=True)
        tracks = [
            Track("prediction", "CTCF", "prediction.CTCF.bw", f"{variant} CTCF prediction"),
            Track("contribution", "CTCF", "contribution.CTCF.bw", f"{variant} CTCF contribution"),
        ]
        write_listing(folder / "tracks.txt", tracks, prefix=variant)
        folders.append(folder)
    section = tracks_section(folders)
    assert section is not None and section.title == "Genome-browser tracks"
    for folder in folders:
        assert (
            f"{folder}/prediction.CTCF.bw" in section.body
            and f"{folder}/contribution.CTCF.bw" in section.body
        )
    assert tracks_section([tmp_path / "absent"]) is None  # no listing: no section


def test_protein_ensemble_over_seeds_scores_the_mean_of_its_trials(tmp_path: Path) -> None:
    from scipy.stats import spearmanr

    rng = np.random.default_rng(0)
    measured = rng.normal(size=40)
    dirs = []
    members = []
    for model, trials in (("vae", ("t0", "t1", "t2")), ("pssm", ("t0",)), ("mg", ("t0", "t1"))):
        for trial in trials:
            folder = _trial(tmp_path, model, trial, {"dms_spearman": 0.1})
            predicted = measured + rng.normal(scale=2.0, size=40) if model != "mg" else measured.copy()
            predicted[3] = np.nan  # a mutant the alignment does not cover
            (folder / "evaluation").mkdir()
            frame = pd.DataFrame(
                {"mutant": [f"A{i}C" for i in range(40)], "score": measured, "predicted": predicted}
            )
            frame.to_csv(folder / "evaluation" / "dms.tsv", sep="\t", index=False)
            dirs.append(folder)
            if model == "vae":
                members.append(predicted)
    rows = protein_summary.ensemble_rows(dirs)
    assert rows["variant"].tolist() == ["vae_ensemble"]  # one trial, or identical trials, is no ensemble
    mean = np.mean(members, axis=0)
    ok = np.isfinite(mean)
    expected = spearmanr(mean[ok], measured[ok]).statistic
    assert rows.loc[0, "dms_spearman_mean"] == pytest.approx(expected) and rows.loc[0, "dms_n_mean"] == 39
    assert rows.loc[0, "n_trials"] == 3
    single = [spearmanr(m[ok], measured[ok]).statistic for m in members]
    assert expected > max(single)  # averaging seeds cancels their independent errors
