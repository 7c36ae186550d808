"""Tomtom wrapper: Tomtom's columns and statistics, self-matches, and silence on random motifs."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from cislens import jaspar
from cislens.errors import InputError
from cislens.meme import Motif
from cislens.motifs.tomtom import (
    COLUMNS,
    benjamini_hochberg,
    read_tomtom_tsv,
    run_tomtom,
    write_tomtom_tsv,
)


@pytest.fixture(scope="module")
def database() -> list[Motif]:
    return jaspar.load_jaspar("JASPAR2016")


def test_motifs_find_themselves(database):
    by_id = {m.id: m for m in database}
    queries = [by_id[i] for i in ("MA0079.3", "MA0095.2", "MA0058.3", "MA0137.3", "MA0062.2")]
    table = run_tomtom(queries, database)
    assert list(table.columns) == COLUMNS
    assert list(table["Query_ID"].unique()) == [q.id for q in queries]  # input order kept
    for query in queries:
        rows = table[table["Query_ID"] == query.id]
        assert rows["p-value"].is_monotonic_increasing
        best = rows.iloc[0]
        assert best["Target_ID"] == query.id
        assert best["E-value"] < 1e-5
        assert best["Optimal_offset"] == 0 and best["Orientation"] == "+" and best["Overlap"] == query.width
        assert best["Query_consensus"] == best["Target_consensus"]
    np.testing.assert_allclose(table["E-value"], table["p-value"] * len(database), rtol=1e-12)
    assert (table["E-value"] <= 0.1).all()
    assert (table["q-value"] >= table["p-value"]).all()


def test_reverse_complement_and_offset(database):
    sp1 = next(m for m in database if m.id == "MA0079.3")
    rc = Motif("rc", "rc", sp1.ppm[::-1, ::-1])
    padded = Motif("pad", "pad", np.vstack([np.full((3, 4), 0.25), sp1.ppm]))
    table = run_tomtom([rc, padded], database)
    best = table.groupby("Query_ID", sort=False).first()
    assert best.loc["rc", "Target_ID"] == "MA0079.3" and best.loc["rc", "Orientation"] == "-"
    assert best.loc["pad", "Target_ID"] == "MA0079.3"
    assert best.loc["pad", "Optimal_offset"] == -3  # query starts 3 columns left of the target


def test_random_motifs_rarely_match(database):
    rng = np.random.default_rng(7)
    queries = [
        Motif(f"r{i}", f"r{i}", rng.dirichlet(np.full(4, 0.5), size=int(rng.integers(8, 20))))
        for i in range(100)
    ]
    table = run_tomtom(queries, database, thresh=0.1)
    assert table["Query_ID"].nunique() < 10  # > 90 % of random PWMs have no hit at E < 0.1


def test_thresholds_and_q_values(database):
    queries = database[:6]
    everything = run_tomtom(queries, database, thresh=1.0, threshold_on="pvalue", min_overlap=1)
    assert len(everything) == 6 * len(database)
    overlapping = run_tomtom(queries, database, thresh=1.0, threshold_on="pvalue", min_overlap=5)
    assert 0.5 * len(everything) < len(overlapping) < len(everything)
    assert (overlapping["Overlap"] >= 5).all()
    for query_id, rows in everything.groupby("Query_ID"):
        np.testing.assert_allclose(
            np.sort(rows["q-value"].to_numpy()),
            np.sort(benjamini_hochberg(rows["p-value"].to_numpy())),
            err_msg=query_id,
        )
    strict = run_tomtom(queries, database, thresh=0.01, threshold_on="qvalue")
    assert (strict["q-value"] <= 0.01).all() and len(strict) < len(everything)
    by_p = run_tomtom(queries, database, thresh=1e-4, threshold_on="pvalue")
    assert (by_p["p-value"] <= 1e-4).all()
    # the few pairs an E threshold keeps get the q-values of their whole rows
    by_e = run_tomtom(queries, database, thresh=0.5, min_overlap=1)
    whole = everything.set_index(["Query_ID", "Target_ID"])["q-value"]
    assert 0 < len(by_e) < len(everything)
    pairs = list(zip(by_e["Query_ID"], by_e["Target_ID"], strict=True))
    np.testing.assert_allclose(by_e["q-value"], whole.loc[pairs])
    pooled = run_tomtom(queries, database, thresh=1.0, threshold_on="pvalue", q_scope="all")
    assert (pooled["q-value"] >= everything["q-value"].min()).all()
    with pytest.raises(InputError):
        run_tomtom(queries, database, threshold_on="bits")
    with pytest.raises(InputError):
        run_tomtom(queries, database, backend="nope")


def test_benjamini_hochberg_known_values():
    p = np.array([0.01, 0.04, 0.03, 0.5])
    np.testing.assert_allclose(benjamini_hochberg(p), [0.04, 0.16 / 3, 0.16 / 3, 0.5])


def test_tsv_round_trip_and_meme_format(tmp_path, database):
    table = run_tomtom(database[:3], database)
    path = tmp_path / "tomtom.tsv"
    write_tomtom_tsv(path, table)
    assert path.read_text().splitlines()[0].split("\t") == COLUMNS
    back = read_tomtom_tsv(path)
    assert back["Target_ID"].tolist() == table["Target_ID"].tolist()
    np.testing.assert_allclose(back["p-value"], table["p-value"], rtol=1e-12)
    meme = tmp_path / "meme.tsv"
    meme.write_text(
        "Query_ID\tTarget_ID\tOptimal_offset\tp-value\tE-value\tq-value\tOverlap\t"
        "Query_consensus\tTarget_consensus\tOrientation\n"
        "f0\tMA0079.3\t-2\t1e-08\t5.19e-06\t1e-05\t10\tGGGGCGGGGC\tGCCCCGCCCC\t-\n\n"
        "# Tomtom (Motif Comparison Tool): Version 5.5.4\n# The format is described at x.\n"
    )
    parsed = read_tomtom_tsv(meme)
    assert len(parsed) == 1 and parsed.loc[0, "Optimal_offset"] == -2 and parsed.loc[0, "Orientation"] == "-"


def test_empty_inputs_give_empty_table(database):
    table = run_tomtom([], database)
    assert list(table.columns) == COLUMNS and len(table) == 0


@pytest.mark.skipif(shutil.which("tomtom") is None, reason="MEME suite tomtom not on PATH")
def test_meme_binary_backend_same_columns(database):
    table = run_tomtom(database[:2], database, backend="meme")
    assert list(table.columns) == COLUMNS
    assert table.groupby("Query_ID").first()["Target_ID"].to_dict() == {m.id: m.id for m in database[:2]}


def test_partial_benjamini_hochberg_is_exact(monkeypatch):
    """_bh_at: the q-values of chosen entries equal whole-row BH; strong matches are settled by each
    row's k smallest values alone (no row sorted whole), the rest by the full sort it falls back to."""
    from cislens.motifs import tomtom as tt

    rng = np.random.default_rng(5)
    p = rng.random((40, 300))
    p[:, :6] = rng.random((40, 6)) * 1e-5  # a few strong matches per query, as in Tomtom output
    p[:, 6:9] = p[:, :1]  # ties
    full = tt._bh_rows(p)
    np.testing.assert_allclose(full[0], benjamini_hochberg(p[0]))
    widths: list[int] = []  # the columns each ranking sorted: 32 (the k smallest) or 300 (whole rows)
    sorted_ranks = tt._bh_sorted
    monkeypatch.setattr(
        tt, "_bh_sorted", lambda head, *a: widths.append(head.shape[1]) or sorted_ranks(head, *a)
    )
    qi, ti = np.nonzero(np.ones((40, 9), dtype=bool))
    np.testing.assert_array_equal(tt._bh_at(p, qi, ti, k=32), full[qi, ti])
    assert widths == [32]  # every strong match settled without sorting a row whole
    qi, ti = np.nonzero(np.ones(p.shape, dtype=bool))
    np.testing.assert_array_equal(tt._bh_at(p, qi[::-1], ti[::-1], k=32), full[qi, ti][::-1])
    assert widths[1:] == [32, 300]
    np.testing.assert_array_equal(
        tt._bh_at(p[:, :20], qi[:5], ti[:5] % 20, k=32), tt._bh_rows(p[:, :20])[0, :5]
    )
