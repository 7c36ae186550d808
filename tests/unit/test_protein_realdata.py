"""Acceptance on real families (skipped without ../shared/realdata): 1atzA against CCMpredPy's shipped
contact matrices (Cb < 8 A, separation >= 6) and PF00014 against its distance table (dist < 5 A)."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from cislens.protein import contacts, mg, potts, structure
from cislens.protein.msa import read_msa, sequence_weights

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

ATZ = "protein/ccmpred_1atzA"
PF = "protein/bpti_PF00014"


@pytest.fixture(scope="module")
def atz(realdata):
    """1atzA with all 75 columns kept (CCMpred filters none), truth from the model's virtual C-betas."""
    folder = realdata / ATZ
    msa = read_msa(folder / "1atzA.fas", max_gap_fraction=None)
    distances = structure.column_distances(structure.read_pdb(folder / "1atzA.pdb"), msa, "columns")
    truth, known = structure.contact_truth(distances, 8.0)
    reference = np.loadtxt(folder / "1atzA.ccmpredpy.apc.mat")
    return msa, sequence_weights(msa.seqs), truth, known, reference, folder


def test_ccmpred_apc_convention_is_reproduced(atz):
    *_, reference, folder = atz
    raw = np.loadtxt(folder / "1atzA.ccmpredpy.noapc.mat")
    np.testing.assert_allclose(contacts.apc(raw), reference, atol=1e-10)


def test_virtual_cb_is_close_to_modelled_cb(atz):
    *_, folder = atz
    atoms: dict[int, dict[str, np.ndarray]] = {}
    for line in (folder / "1atzA.pdb").read_text().splitlines():
        if line.startswith("ATOM"):
            xyz = np.array([line[30:38], line[38:46], line[46:54]], dtype=float)
            atoms.setdefault(int(line[22:26]), {})[line[12:16].strip()] = xyz
    with_cb = [a for a in atoms.values() if "CB" in a]
    virtual = structure.virtual_cb(*(np.stack([a[k] for a in with_cb]) for k in ("N", "CA", "C")))
    error = np.linalg.norm(virtual - np.stack([a["CB"] for a in with_cb]), axis=1)
    assert len(with_cb) > 60 and error.max() < 0.4 and error.mean() < 0.15


def test_alignment_mapping_agrees_with_column_mapping(atz):
    msa, *_, folder = atz
    pdb = structure.read_pdb(folder / "1atzA.pdb")
    by_columns = structure.column_distances(pdb, msa, "columns")
    focused = read_msa(folder / "1atzA.fas", max_gap_fraction=None, focus="seq_2634")  # the PDB's sequence
    np.testing.assert_allclose(structure.column_distances(pdb, focused, "align"), by_columns)
    # the default focus (first sequence, 25% identical to the PDB's) maps 71 of its residues identically
    first = structure.column_distances(pdb, msa, "align")
    mapped = np.isfinite(first)
    assert mapped.sum() == 71**2
    np.testing.assert_allclose(first[mapped], by_columns[mapped])


def test_ccmpredpy_reference_precision(atz):
    _, _, truth, known, reference, _ = atz
    assert contacts.precision_at(reference, truth, 75, known=known) == pytest.approx(0.52)


def test_1atz_potts_beats_threshold_and_ccmpredpy(atz):
    msa, weights, truth, known, reference, _ = atz
    fit = potts.fit(msa.seqs, weights, progress=False)
    ours = contacts.precision_at(contacts.contact_map(fit.J), truth, msa.length, known=known)
    theirs = contacts.precision_at(reference, truth, msa.length, known=known)
    assert ours >= 0.55
    assert ours >= theirs


def test_1atz_multivariate_gaussian(atz):
    msa, weights, truth, known, *_ = atz
    fit = mg.fit(msa.seqs, weights)
    assert contacts.precision_at(contacts.contact_map(fit.J), truth, msa.length, known=known) >= 0.45


def test_pf00014_potts(realdata):
    folder = realdata / PF
    msa = read_msa(folder / "PF00014_mgap6.fasta.gz", max_gap_fraction=None)
    distances = structure.read_distance_table(folder / "PF00014_struct.dat", msa)
    truth, known = structure.contact_truth(distances, 5.0)
    fit = potts.fit(msa.seqs, sequence_weights(msa.seqs), progress=False)
    assert contacts.precision_at(contacts.contact_map(fit.J), truth, msa.length, known=known) >= 0.80
