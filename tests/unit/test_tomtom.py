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


def test_kept_pairs_match_whole_matrix_thresholds_and_bh():
    """The compiled pass over memelite-like strided matrices keeps exactly the pairs under the cutoff
    that overlap enough, in row-major order, with clipped p-values and each row's whole BH q-values
    to the bit: ties (kept and not), values just outside [0, 1], rows with none and all kept."""
    from cislens.motifs.tomtom import _bh_rows
    from cislens.motifs.tomtom_kernel import kept_pairs

    rng = np.random.default_rng(5)
    nq, nt = 40, 300
    results = np.empty((nq, nt, 5))  # memelite's layout: matrices are strided views of one array
    p, overlaps = results[:, :, 0], results[:, :, 3]
    p[:] = rng.random((nq, nt))
    p[:, :6] = rng.random((nq, 6)) * 1e-5  # a few strong matches per query, as in Tomtom output
    p[:, 6:9] = p[:, :1]  # ties among kept values
    p[:, 9] = p[:, 10] = 2e-5  # a tie of a kept value and one that is dropped for its overlap
    p[0, 0], p[1, 299] = -1e-12, 1 + 1e-12  # rounding outside [0, 1] is clipped
    p[2] = rng.random(nt) + 1e-3  # a row with nothing under the cutoff
    p[3, 1:100] = 5e-4  # one strong match whose q comes from the 100th value (5e-4 x 300 / 100)
    overlaps[:] = rng.integers(1, 12, (nq, nt))
    overlaps[:, 9], overlaps[:, 10] = 10, 2
    q_w, t_w = rng.integers(4, 20, nq), rng.integers(4, 20, nt)
    clipped = np.clip(p, 0.0, 1.0)
    whole = _bh_rows(clipped)
    for cutoff in (1e-4, 2.0, -1.0):
        keep = (p <= cutoff) & (overlaps >= np.minimum(5, np.minimum(q_w[:, None], t_w[None, :])))
        qi, ti, pv, qv = kept_pairs(p, overlaps, q_w, t_w, 5, cutoff)
        want_qi, want_ti = np.nonzero(keep)
        np.testing.assert_array_equal(qi, want_qi)
        np.testing.assert_array_equal(ti, want_ti)
        np.testing.assert_array_equal(pv, clipped[want_qi, want_ti])
        np.testing.assert_array_equal(qv, whole[want_qi, want_ti])
        assert (len(qi) == 0) == (cutoff < 0) and ((2 in qi) == (cutoff > 1))
        if cutoff == 1e-4:  # the tie: the kept one has the q of both
            assert qv[qi == 3][0] == 5e-4 * (nt / 100) < p[3, 0] * nt
            assert 9 in ti[qi == 0] and 10 not in ti[qi == 0] and whole[0, 9] == whole[0, 10]
