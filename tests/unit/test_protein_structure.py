"""True contacts: virtual C-beta, PDB parsing and mapping, distance tables; DMS numbering checks."""

from __future__ import annotations

import numpy as np
import pytest

from cislens.errors import InputError
from cislens.protein import dms, structure
from cislens.protein.msa import ALPHABET, read_msa


def test_virtual_cb_formula_on_known_coordinates():
    n, ca, c = np.array([0.0, 0.0, 0.0]), np.array([1.0, 0.0, 0.0]), np.array([1.0, 1.0, 0.0])
    # b = (1,0,0), c = (0,1,0), a = b x c = (0,0,1): cb = -0.58273431 a + 0.56802827 b - 0.54067466 c + ca
    np.testing.assert_allclose(structure.virtual_cb(n, ca, c), [1.56802827, -0.54067466, -0.58273431])


def _ideal_backbone():
    """N, CA, C with ideal bond lengths (1.458, 1.525 A) and N-CA-C angle 111 degrees."""
    theta = np.deg2rad(111.0)
    ca = np.zeros(3)
    n = np.array([1.458, 0.0, 0.0])
    c = 1.525 * np.array([np.cos(theta), np.sin(theta), 0.0])
    return n, ca, c


def test_virtual_cb_has_ideal_geometry_and_is_l_handed():
    n, ca, c = _ideal_backbone()
    cb = structure.virtual_cb(n, ca, c)
    assert np.linalg.norm(cb - ca) == pytest.approx(1.52, abs=0.03)

    def angle(a, b):
        return np.degrees(np.arccos(a @ b / np.linalg.norm(a) / np.linalg.norm(b)))

    assert angle(n - ca, cb - ca) == pytest.approx(110.0, abs=3.0)
    assert angle(c - ca, cb - ca) == pytest.approx(110.0, abs=3.0)
    # L-amino acids: (N - CA) x (C - CA) points to the C-beta's side (true for every real CB)
    assert np.dot(np.cross(n - ca, c - ca), cb - ca) > 0
    # batched input gives the same per row
    stacked = structure.virtual_cb(np.stack([n, n + 1]), np.stack([ca, ca + 1]), np.stack([c, c + 1]))
    np.testing.assert_allclose(stacked[1] - 1, cb, atol=1e-12)


def _atom(serial, name, resname, chain, resseq, xyz, altloc=" ", record="ATOM  "):
    return (
        f"{record}{serial:5d} {name:<4}{altloc}{resname:>3} {chain}{resseq:4d}    "
        f"{xyz[0]:8.3f}{xyz[1]:8.3f}{xyz[2]:8.3f}  1.00  0.00\n"
    )


def _pdb(tmp_path, residues, chain="A", extra=""):
    """Residues spaced 10 A apart along x (so no two are in contact) unless positions are given."""
    n, ca, c = _ideal_backbone()
    lines, serial = [], 1
    for k, (resname, resseq, offset) in enumerate(residues):
        shift = np.array([offset if offset is not None else 10.0 * k, 0.0, 0.0])
        for name, xyz in (("N", n), ("CA", ca), ("C", c)):
            record = "HETATM" if resname == "MSE" else "ATOM  "
            lines.append(_atom(serial, name, resname, chain, resseq, xyz + shift, record=record))
            serial += 1
    path = tmp_path / "s.pdb"
    path.write_text("".join(lines) + extra + "END\n")
    return path


def test_read_pdb_chain_altloc_hetatm_and_glycine(tmp_path):
    n, ca, c = _ideal_backbone()
    extra = (
        _atom(90, "CA", "ALA", "A", 3, ca + 50, altloc="B")  # second altloc ignored
        + _atom(91, "N", "LYS", "B", 1, n)  # other chain ignored
        + "ENDMDL\n"
        + _atom(92, "N", "TRP", "A", 9, n)  # second model ignored
    )
    path = _pdb(tmp_path, [("GLY", 1, None), ("MSE", 2, None), ("ALA", 3, None)], extra=extra)
    s = structure.read_pdb(path)
    assert s.chain == "A" and s.sequence == "GMA" and s.numbers == ("1", "2", "3")
    np.testing.assert_allclose(s.cb[0], structure.virtual_cb(n, ca, c), atol=2e-3)  # Gly: virtual C-beta too
    assert s.cb[2][0] == pytest.approx(s.cb[0][0] + 20.0)


def test_column_distances_by_alignment_and_numbering(tmp_path):
    # structure residues 5..8 = "KLMN", 10 A apart except 6 and 8 which sit 4 A apart
    path = _pdb(tmp_path, [("LYS", 5, 0.0), ("LEU", 6, 10.0), ("MET", 7, 30.0), ("ASN", 8, 14.0)])
    s = structure.read_pdb(path)
    aln = tmp_path / "a.fasta"
    aln.write_text(">q/5-9\nK-LMNW\n>h\nKALMNW\n")
    msa = read_msa(aln, max_gap_fraction=None)
    d = structure.column_distances(s, msa, "align")
    assert d.shape == (6, 6)
    assert np.isnan(d[1]).all() and np.isnan(d[5]).all()  # focus gap; W has no structure residue
    assert d[2, 4] == pytest.approx(4.0)  # L6 - N8
    np.testing.assert_allclose(structure.column_distances(s, msa, "numbering"), d)
    np.testing.assert_allclose(structure.column_distances(s, msa, {5: 5, 6: 6, 7: 7, 8: 8}), d)
    contact, known = structure.contact_truth(d, 8.0)
    assert contact[2, 4] and not contact[0, 2] and not known[1, 2]
    with pytest.raises(InputError, match="unknown structure mapping"):
        structure.column_distances(s, msa, "nope")


def test_distance_table_columns_and_threshold(tmp_path):
    aln = tmp_path / "a.fasta"
    aln.write_text(">q\nACDE\n>h\nAC-E\n>h2\nAC-E\n")
    msa = read_msa(aln)  # column 3 (1-based) dropped for gaps
    table = tmp_path / "d.dat"
    table.write_text("1 2 0.5 3.0\n1 4 0.1 4.9\n2 3 0.9 2.0\n3 4 0.2 1.0\n2 4 0.3 12.0\n")
    d = structure.read_distance_table(table, msa)
    np.testing.assert_allclose(d, [[0, 3.0, 4.9], [3.0, 0, 12.0], [4.9, 12.0, 0]])
    contact, known = structure.contact_truth(d, 5.0)
    assert contact[0, 2] and not contact[1, 2] and known.all()
    scores = structure.read_distance_table(table, msa, distance_column=2)
    assert scores[0, 1] == pytest.approx(0.5)


def _dms_msa(tmp_path):
    aln = tmp_path / "a.fasta"
    aln.write_text(">q/11-16\nMKTA-YL\n>h\nMKTAAYL\n>h2\nMR-AAY-\n")
    return read_msa(aln, max_gap_fraction=None)


def test_dms_reader_maps_positions_to_columns(tmp_path):
    msa = _dms_msa(tmp_path)
    table = tmp_path / "dms.csv"
    table.write_text("mutant,score\nK12A,-1.5\nT13S:L16F,0.2\nM11W,-3\n")
    frame = dms.read_dms(table, msa)
    assert list(frame["score"]) == [-1.5, 0.2, -3.0]
    assert frame["mutations"][0] == [(1, ALPHABET.index("K"), ALPHABET.index("A"))]
    assert frame["mutations"][1] == [
        (2, ALPHABET.index("T"), ALPHABET.index("S")),
        (6, 9, ALPHABET.index("F")),
    ]
    assert list(frame["n_mutations"]) == [1, 2, 1]


def test_dms_coverage_is_counted_by_reason(tmp_path):
    """A scan covers more than the aligned domain: uncovered mutants are kept, labelled and left out."""
    aln = tmp_path / "f.a3m"  # focus M11 K12 t13 (insert) T14 A15 Y16 L17 V18; T14's column is gappy
    aln.write_text(">q/11-18\nMKtTAYLV\n>h\nMK-AYLV\n>h2\nMR-AY-V\n")
    msa = read_msa(aln, max_gap_fraction=0.5)
    assert list(msa.positions) == [11, 12, 15, 16, 17, 18] and list(msa.match_positions) == [
        11,
        12,
        14,
        15,
        16,
        17,
        18,
    ]
    table = tmp_path / "dms.csv"
    table.write_text("mutant,score\nK12A,1\nT13A,2\nT14S,3\nV20A,4\nK12A:T14S,5\nK12A:V20A,6\nM11W:Y16F,7\n")
    frame = dms.read_dms(table, msa)
    assert list(frame["coverage"]) == [
        "scored", "insert", "dropped_column", "outside_focus", "dropped_column", "outside_focus", "scored",
    ]  # fmt: skip
    assert dms.coverage_counts(frame["coverage"]) == {
        "dms_outside_focus": 2,
        "dms_insert": 1,
        "dms_dropped_column": 2,
    }
    seqs, where = dms.mutant_batch(msa.seqs[msa.focus], list(frame["mutations"]))
    assert where == [0, 6]  # only the covered mutants reach a model, multi-mutants when every site is covered
    assert len(seqs) == 2 and seqs[1][0] == ALPHABET.index("W") and seqs[1][3] == ALPHABET.index("F")


def test_dms_wrong_wild_type_is_one_line_error(tmp_path):
    msa = _dms_msa(tmp_path)
    table = tmp_path / "dms.csv"
    table.write_text("mutant,score\nK12A,1\nK13A,2\n")
    with pytest.raises(
        InputError, match=r"mutant K13A: position 13 is T in the focus sequence, not K"
    ) as err:
        dms.read_dms(table, msa)
    assert "\n" not in str(err.value)
    table.write_text("mutant,score\nK40A,1\nL41A,2\n")
    with pytest.raises(
        InputError, match=r"none of its 2 mutants can be scored \(2 outside_focus\); the focus"
    ):
        dms.read_dms(table, msa)
    table.write_text("mutant,score\n15K,1\n")
    with pytest.raises(InputError, match="not of the form K15A"):
        dms.read_dms(table, msa)
    table.write_text("variant,score\nK12A,1\n")
    with pytest.raises(InputError, match="no column 'mutant'"):
        dms.read_dms(table, msa)
