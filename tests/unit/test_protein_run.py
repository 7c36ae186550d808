"""The rule-level steps on a tiny planted family: prepare -> fit -> evaluate, files and metrics."""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pandas as pd
import pytest

from cislens.errors import InputError
from cislens.protein import effects, run, simulate
from cislens.protein.msa import ALPHABET, GAP, decode


@pytest.fixture(scope="module")
def family(tmp_path_factory):
    """An a3m written from a planted model, a distance table of its contact graph, and a DMS table."""
    root = tmp_path_factory.mktemp("family")
    model, truth = simulate.planted_potts(14, n_contacts=14, coupling_scale=1.0, seed=2)
    seqs = simulate.gibbs_sample(model, 600, burn_in=50, thin=5, seed=3)
    seqs[:, 0] = GAP  # an all-gap column the prepare step must drop
    wild = seqs[0].copy()
    wild[wild == GAP] = 0
    seqs[0] = wild
    with open(root / "fam.a3m", "w") as handle:
        handle.write(f">focus/101-{101 + 12}\n-{decode(wild[1:])}\n")
        for k, row in enumerate(seqs[1:]):
            handle.write(f">s{k}\n{decode(row)}\n")
    i, j = np.triu_indices(14, k=1)
    dist = np.where(truth[i, j], 4.0, 12.0)
    np.savetxt(root / "dist.dat", np.column_stack([i + 1, j + 1, np.zeros_like(dist), dist]))
    rows = []
    for col in range(1, 14):
        for a in (0, 5, 9):
            if a != wild[col]:
                mutant = f"{ALPHABET[wild[col]]}{100 + col}{ALPHABET[a]}"
                rows.append((mutant, effects.mutation_effects(model, wild, [[(col, int(wild[col]), a)]])[0]))
    pd.DataFrame(rows, columns=["mutant", "score"]).to_csv(root / "dms.csv", index=False)
    return root


def test_prepare_fit_evaluate_writes_outputs(family, tmp_path):
    summary = run.prepare(family / "fam.a3m", tmp_path / "msa.h5")
    assert summary["length"] == 13 and summary["columns_read"] == 14 and summary["n_seqs"] == 600
    msa, weights = run.load_prepared(tmp_path / "msa.h5")
    assert msa.first_residue == 101 and msa.positions[0] == 101 and weights.shape == (600,)
    for name, params in (("potts", {"iterations": 40}), ("mg", {}), ("pssm", {})):
        out = run.model_path(tmp_path / name, name)
        record = run.fit(tmp_path / "msa.h5", name, out, params=params, record=tmp_path / name / "fit.json")
        assert out.is_file() and record["length"] == 13
        metrics = run.evaluate(
            tmp_path / "msa.h5", out, tmp_path / name, distance_table=family / "dist.dat", threshold=5.0,
            dms=family / "dms.csv", label=name,
        )  # fmt: skip
        saved = json.loads((tmp_path / name / "metrics.json").read_text())
        assert saved["dms_n"] == metrics["dms_n"] == saved["dms_total"] > 0  # every mutant is covered
        assert (saved["dms_outside_focus"], saved["dms_insert"], saved["dms_dropped_column"]) == (0, 0, 0)
        assert saved["dms_score"] == "score"
        assert set(pd.read_csv(tmp_path / name / "dms.tsv", sep="\t")["coverage"]) == {"scored"}
        assert (tmp_path / name / "dms.tsv").is_file() and (tmp_path / name / "dms.png").is_file()
        if name == "pssm":
            assert "precision_L_sep6" not in metrics  # no couplings, no contact map
        else:
            for file in ("contacts.tsv", "precision.tsv", "contact_map.png", "precision.png"):
                assert (tmp_path / name / file).is_file()
            assert metrics["precision_L/5_sep6"] >= 0.5
        assert metrics["dms_spearman"] > 0.5
    table = pd.read_csv(tmp_path / "potts" / "contacts.tsv", sep="\t")
    assert {"column_i", "position_i", "score", "distance", "contact"} <= set(table.columns)
    assert table["column_i"].min() == 2  # 1-based alignment columns; column 1 was dropped


def test_fit_rejects_unknown_model(family, tmp_path):
    run.prepare(family / "fam.a3m", tmp_path / "msa.h5")
    with pytest.raises(InputError, match="unknown protein model 'hmm'"):
        run.fit(tmp_path / "msa.h5", "hmm", tmp_path / "m.h5")
    with pytest.raises(InputError, match="exactly one of a PDB file and a distance table"):
        msa, _ = run.load_prepared(tmp_path / "msa.h5")
        run.true_distances(msa)
