"""MEME I/O round trips and the offline JASPAR export against the reference database file."""

from __future__ import annotations

import numpy as np
import pytest

from cislens import jaspar
from cislens.errors import InputError
from cislens.meme import Motif, consensus, consensus_many, read_meme, write_meme

REAL_MEME = "JASPAR_CORE_2016_vertebrates.meme"


def _random_motifs(n: int = 5, seed: int = 0) -> list[Motif]:
    rng = np.random.default_rng(seed)
    return [
        Motif(
            f"m{i}",
            f"name {i}",
            rng.dirichlet(np.ones(4), size=int(rng.integers(3, 20))),
            nsites=int(rng.integers(1, 500)),
            url="http://x" if i % 2 else None,
        )
        for i in range(n)
    ]


def test_round_trip_exact_to_4_decimals(tmp_path):
    motifs = _random_motifs()
    path = tmp_path / "out.meme"
    write_meme(path, motifs)
    back = read_meme(path)
    assert [m.id for m in back] == [m.id for m in motifs]
    assert [m.name for m in back] == ["name_0", "name_1", "name_2", "name_3", "name_4"]  # whitespace-safe
    assert [m.nsites for m in back] == [m.nsites for m in motifs]
    assert [m.url for m in back] == [m.url for m in motifs]
    for a, b in zip(motifs, back, strict=True):
        np.testing.assert_allclose(a.ppm, b.ppm, atol=1e-4)
    text = path.read_text()
    assert text.startswith("MEME version 4\n")
    assert "ALPHABET= ACGT" in text and "strands: + -" in text
    m0 = motifs[0]
    assert f"letter-probability matrix: alength= 4 w= {m0.width} nsites= {m0.nsites} E= 0" in text
    assert not list(tmp_path.glob(".*"))  # no temporary left behind


def test_reads_meme_suite_output_with_extra_headers(tmp_path):
    path = tmp_path / "meme.txt"
    path.write_text(
        "********\nMEME - Motif discovery tool\n********\nMEME version 5.5.4\n\nALPHABET= ACGT\n\n"
        "strands: + -\n\nBackground letter frequencies (from file bg):\nA 0.3 C 0.2 G 0.2 T 0.3\n\n"
        "MOTIF GGGCGG MEME-1\n\nletter-probability matrix: alength= 4 w= 2 nsites= 17 E= 1.2e-005\n"
        " 0.1 0.2 0.3 0.4\n\n 1 0 0 0\n\nMOTIF solo\nletter-probability matrix: alength= 4 nsites= 3\n"
        "0 0 1 0\n0.25 0.25 0.25 0.25\n\nURL http://example\n"
    )
    motifs = read_meme(path)
    got = [(m.id, m.name, m.nsites, m.width) for m in motifs]
    assert got == [("GGGCGG", "MEME-1", 17, 2), ("solo", "solo", 3, 2)]
    assert motifs[0].other["E"] == pytest.approx(1.2e-5)
    assert motifs[1].url == "http://example"
    assert consensus(motifs[0].ppm) == "TA"


def test_consensus_many_is_consensus_of_each():
    ppms = [m.ppm for m in _random_motifs(7)]
    ppms += [ppms[0][::-1, ::-1], np.full((3, 4), 0.25)]  # a reversed view; ties take the first letter
    assert consensus_many(ppms) == [consensus(ppm) for ppm in ppms]
    assert consensus_many(ppms)[-1] == "AAA" and consensus_many([]) == []


def test_bad_meme_raises(tmp_path):
    path = tmp_path / "bad.meme"
    path.write_text("MEME version 4\nMOTIF a\nletter-probability matrix: alength= 4 w= 2\n0.5 0.5 0 0\n")
    with pytest.raises(InputError, match="w= 2"):
        read_meme(path)
    path.write_text("MEME version 4\nMOTIF a\n\nMOTIF b\nletter-probability matrix: w= 1\n1 0 0 0\n")
    with pytest.raises(InputError, match="motif a"):
        read_meme(path)


def test_bad_header_values_name_file_and_line(tmp_path):
    path = tmp_path / "bad.meme"
    path.write_text("MEME version 4\n\nMOTIF a\nletter-probability matrix: w= 1 nsites= many\n1 0 0 0\n")
    with pytest.raises(InputError, match=r"bad.meme:4: motif a: .*'many'"):
        read_meme(path)


def _same_motifs(got: list[Motif], want: list[Motif]) -> bool:
    fields = [[(m.id, m.name, m.nsites, m.url, m.other, m.ppm.shape) for m in ms] for ms in (got, want)]
    return fields[0] == fields[1] and all(
        np.array_equal(a.ppm, b.ppm, equal_nan=True) for a, b in zip(got, want, strict=True)
    )


def test_regular_reader_agrees_with_line_reader_or_declines(realdata):
    """The one-pass reader answers for regular files (ours, JASPAR's) and, on 400 randomly damaged
    texts, either gives exactly the line-by-line reader's motifs or leaves the text to it."""
    import random

    from cislens.meme import _read_lines, _read_regular

    text = (realdata / REAL_MEME).read_text()
    assert _same_motifs(_read_regular(text), _read_lines(text.splitlines(), "x"))
    base = text.splitlines()[:60]
    edits = [
        "", "  ", "MOTIF", "MOTIF x", "\tMOTIF y z", "MOTIFX q", "URL", "URL http://u v", "-----",
        "letter-probability matrix: w= 2", "letter-probability matrix: alength= 4 nsites= 3",
        "letter-probability matrix: w= 1 E= 1e-3 nsites= 7.6", "0 0 1 0", "0.5 0.5 0 0 0", "0.5 0.5",
        "a b c d", "0.25\t0.25  0.25 0.25  ", "1e-1 2E-1 .3 4", "nan 0 0 1", "1 0 0 0\x0c", "x\x0cMOTIF w",
        "\xa0MOTIF u",
    ]  # fmt: skip
    rng = random.Random(0)
    answered = 0
    for _ in range(400):
        lines = base[rng.choice([0, 9, 10, 12, 20]) :][: rng.randrange(1, 60)]
        for _ in range(rng.randrange(4)):
            if rng.random() < 0.5:
                lines.insert(rng.randrange(len(lines) + 1), rng.choice(edits))
            elif lines:
                del lines[rng.randrange(len(lines))]
        damaged = "\n".join(lines) + rng.choice(["", "\n"])
        fast = _read_regular(damaged)
        try:
            slow = _read_lines(damaged.splitlines(), "x")
        except InputError:
            assert fast is None, damaged
            continue
        if fast is not None:
            answered += 1
            assert _same_motifs(fast, slow), damaged
    assert answered > 50  # 83 of the 400


def test_reads_real_jaspar_file(realdata):
    motifs = read_meme(realdata / REAL_MEME)
    assert len(motifs) == 518  # the reference file lacks MA0615.1 (Gmeb1), which pyjaspar has
    first = motifs[0]
    assert (first.id, first.name, first.width, first.nsites) == ("MA0002.2", "RUNX1", 11, 2000)
    np.testing.assert_allclose(first.ppm[0], [0.1435, 0.248, 0.348, 0.2605])
    assert first.url.startswith("http://jaspar.genereg.net?ID=MA0002.2")
    np.testing.assert_allclose(np.concatenate([m.ppm.sum(axis=1) for m in motifs]), 1, atol=1e-5)


def test_load_jaspar_2016_vertebrates():
    motifs = jaspar.load_jaspar("JASPAR2016", "CORE", "vertebrates")
    assert len(motifs) == 519
    ids = [m.id for m in motifs]
    assert len(set(ids)) == 519 and ids == sorted(ids, key=lambda i: (i.split(".")[0], int(i.split(".")[1])))
    for m in motifs:
        np.testing.assert_allclose(m.ppm.sum(axis=1), 1, atol=1e-12)
    assert min(m.ppm.min() for m in motifs) == 0.0  # no pseudocount by default
    assert len(jaspar.load_jaspar("JASPAR2016", all_versions=True)) > 519


def test_pyjaspar_export_agrees_with_reference_file(realdata, tmp_path):
    path = tmp_path / "jaspar.meme"
    assert jaspar.export_meme(path, "JASPAR2016", "CORE", "vertebrates") == 519
    ours = {m.id: m for m in read_meme(path)}
    ref = read_meme(realdata / REAL_MEME)
    assert set(ours) - {m.id for m in ref} == {"MA0615.1"}
    for m in ref:
        assert ours[m.id].name == m.name
        np.testing.assert_allclose(ours[m.id].ppm, m.ppm, atol=1e-3)


def test_fetch_by_ids_order_and_errors():
    motifs = jaspar.fetch_by_ids(["MA0095.2", "MA0079.3", "MA0058"])
    assert [m.id for m in motifs] == ["MA0095.2", "MA0079.3", "MA0058.3"]
    assert [m.name for m in motifs] == ["YY1", "SP1", "MAX"]
    with pytest.raises(InputError, match=r"MA9999\.1.*JASPAR2016"):
        jaspar.fetch_by_ids(["MA0079.3", "MA9999.1"])
    with pytest.raises(InputError, match="JASPAR1999"):
        jaspar.load_jaspar("JASPAR1999")


def test_pseudocount_changes_frequencies():
    raw = jaspar.fetch_by_ids(["MA0079.3"])[0]
    smoothed = jaspar.fetch_by_ids(["MA0079.3"], pseudocount=1.0)[0]
    assert raw.ppm.min() == 0.0 and smoothed.ppm.min() > 0
    assert smoothed.nsites == raw.nsites
    np.testing.assert_allclose(smoothed.ppm.sum(axis=1), 1)


def test_all_versions_adds_older_matrices():
    latest = {m.id for m in jaspar.load_jaspar("JASPAR2016", "CORE", "vertebrates")}
    every = {m.id for m in jaspar.load_jaspar("JASPAR2016", "CORE", "vertebrates", all_versions=True)}
    assert latest < every
    assert {"MA0058.1", "MA0058.2", "MA0058.3"} <= every and "MA0058.1" not in latest
