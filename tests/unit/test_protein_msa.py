"""Protein alignments: readers, insertion dropping, encoding, column filter and map, weights, Neff."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from cislens.errors import InputError
from cislens.protein import msa as M


def _write(path, text):
    path.write_text(text)
    return path


def test_alphabet_is_fixed_with_gap_last():
    assert M.ALPHABET == "ACDEFGHIKLMNPQRSTVWY-"
    assert M.Q == 21 and M.GAP == 20
    np.testing.assert_array_equal(M.encode(["ACY-"]), [[0, 1, 19, 20]])


def test_fasta_reader_multiline_and_unknown_letters_become_gaps(tmp_path):
    path = _write(tmp_path / "a.fasta", ">s1 desc\nACDE\nFG\n>s2\nAXBZ\nU-\n")
    msa = M.read_msa(path, max_gap_fraction=None)
    assert msa.names == ("s1 desc", "s2")
    assert M.decode(msa.seqs[0]) == "ACDEFG"
    assert M.decode(msa.seqs[1]) == "A-----"  # X, B, Z, U are not among the 20 states
    assert msa.focus_sequence == "ACDEFG"
    np.testing.assert_array_equal(msa.positions, [1, 2, 3, 4, 5, 6])


def test_a3m_insertions_dropped_and_focus_numbering_counts_them(tmp_path):
    # the focus has an insertion 'kl' (lowercase): not a column, but residues 3-4 of the protein
    path = _write(tmp_path / "a.a3m", ">q/10-17\nACklDEF-G\n>h1\nAC-DEHG\n>h2\nmmACDEFHGnn\n")
    msa = M.read_msa(path, max_gap_fraction=None)
    assert [M.decode(s) for s in msa.seqs] == ["ACDEF-G", "AC-DEHG", "ACDEFHG"]
    assert msa.focus_sequence == "ACKLDEFG"
    assert msa.first_residue == 10  # read from the name/start-end header
    np.testing.assert_array_equal(msa.positions, [10, 11, 14, 15, 16, 0, 17])


def test_a2m_dots_and_lowercase_are_insert_columns(tmp_path):
    path = _write(tmp_path / "a.a2m", ">q\nAC.DE\n>h\nACkDE\n>h2\nA-.DE\n")
    msa = M.read_msa(path, max_gap_fraction=None)
    assert [M.decode(s) for s in msa.seqs] == ["ACDE", "ACDE", "A-DE"]


def test_stockholm_interleaved_blocks(tmp_path):
    text = "# STOCKHOLM 1.0\n#=GF ID test\n\ns1 AC.D\ns2 ACkD\n#=GC RF xx.x\n\ns1 EF\ns2 E-\n//\n"
    msa = M.read_msa(_write(tmp_path / "a.sto", text), max_gap_fraction=None)
    assert msa.names == ("s1", "s2")
    assert [M.decode(s) for s in msa.seqs] == ["ACDEF", "ACDE-"]


def test_gzip_and_plain_aln(tmp_path):
    path = tmp_path / "a.fasta.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(">a\nACDE\n>b\nACDF\n")
    assert M.read_msa(path).n_seqs == 2
    aln = M.read_msa(_write(tmp_path / "a.aln", "ACDE\nACDF\n"))
    assert aln.names == ("seq0", "seq1") and aln.length == 4


def test_unequal_length_is_one_line_error_naming_the_sequence(tmp_path):
    path = _write(tmp_path / "a.a3m", ">q\nACDEF\n>bad\nACDkkE\n")
    with pytest.raises(InputError, match=r"'bad' \(record 2\) has 4 aligned columns.*5") as err:
        M.read_msa(path)
    assert "\n" not in str(err.value)


def test_focus_by_name_and_index(tmp_path):
    path = _write(tmp_path / "a.fasta", ">a\nAC-E\n>b\nACDE\n")
    msa = M.read_msa(path, focus="b", max_gap_fraction=None)
    assert msa.focus == 1 and msa.focus_sequence == "ACDE"
    assert M.read_msa(path, focus=-1, max_gap_fraction=None).focus == 1
    with pytest.raises(InputError, match="focus sequence 'zz'"):
        M.read_msa(path, focus="zz")
    dropped = M.read_msa(path, drop_focus_gaps=True, max_gap_fraction=None)
    np.testing.assert_array_equal(dropped.columns, [0, 1, 3])


def test_gap_filter_keeps_column_map(tmp_path):
    # column 2 is 50% gaps (dropped at the >= 0.5 default), column 3 25% (kept)
    path = _write(tmp_path / "a.fasta", ">a\nACDE\n>b\nAC-E\n>c\nAC-E\n>d\nACD-\n")
    msa = M.read_msa(path)
    np.testing.assert_array_equal(msa.columns, [0, 1, 3])
    np.testing.assert_array_equal(msa.positions, [1, 2, 4])
    assert [M.decode(s) for s in msa.seqs] == ["ACE", "ACE", "ACE", "AC-"]
    assert M.read_msa(path, max_gap_fraction=None).length == 4


def test_weights_on_hand_made_alignment():
    # rows 0-2 share >= 80% identity (4 or 5 of 5 columns); row 3 is alone
    seqs = M.encode(["AAAAA", "AAAAC", "AAACA", "CCCCC"])
    # identities: 0-1 4/5, 0-2 4/5, 1-2 3/5 -> neighbours: 0 {0,1,2}, 1 {0,1}, 2 {0,2}, 3 {3}
    w = M.sequence_weights(seqs, 0.8)
    np.testing.assert_allclose(w, [1 / 3, 1 / 2, 1 / 2, 1.0])
    assert M.neff(w) == pytest.approx(1 / 3 + 1 / 2 + 1 / 2 + 1)
    np.testing.assert_allclose(M.sequence_weights(seqs, 0.5), [1 / 3, 1 / 3, 1 / 3, 1.0])


def test_weights_count_gap_matches_as_identity():
    seqs = M.encode(["AA---", "CC---"])  # 3 of 5 identical (the gaps): 60%
    np.testing.assert_allclose(M.sequence_weights(seqs, 0.6), [0.5, 0.5])
    np.testing.assert_allclose(M.sequence_weights(seqs, 0.8), [1.0, 1.0])


def test_blockwise_weights_equal_one_block():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 21, size=(7, 30))
    seqs = np.repeat(base, 9, axis=0)
    mutate = rng.random(seqs.shape) < 0.15
    seqs[mutate] = rng.integers(0, 21, size=mutate.sum())
    whole = M.sequence_weights(seqs, block=10_000)
    tiled = M.sequence_weights(seqs, block=5, cache_bytes=0)  # uneven tiles, one-hot rebuilt per tile
    np.testing.assert_allclose(whole, tiled)
    assert 7 <= M.neff(whole) < len(seqs)


def test_one_hot_is_position_major():
    x = M.one_hot(np.array([[0, 20], [3, 1]]))
    assert x.shape == (2, 42)
    assert x[0, 0] == 1 and x[0, 21 + 20] == 1 and x[1, 3] == 1 and x[1, 22] == 1 and x.sum() == 4
