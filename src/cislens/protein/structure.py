"""True contacts for an alignment: from a PDB file (virtual C-beta) or from a residue distance table.

Both routes end in an ``(L, L)`` distance matrix over the MSA's kept columns, NaN where a pair has no
structural counterpart, so evaluation can leave such pairs out instead of counting them as non-contacts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from .msa import MSA

THREE_TO_ONE = {
    "ALA": "A", "ARG": "R", "ASN": "N", "ASP": "D", "CYS": "C", "GLN": "Q", "GLU": "E", "GLY": "G",
    "HIS": "H", "ILE": "I", "LEU": "L", "LYS": "K", "MET": "M", "PHE": "F", "PRO": "P", "SER": "S",
    "THR": "T", "TRP": "W", "TYR": "Y", "VAL": "V", "MSE": "M", "SEC": "C", "PYL": "K", "HSD": "H",
    "HSE": "H", "HSP": "H", "HID": "H", "HIE": "H", "HIP": "H", "CYX": "C", "ASX": "X", "GLX": "X",
}  # fmt: skip


@dataclass(frozen=True)
class Structure:
    """One chain: its sequence, residue numbers as written (with insertion codes) and virtual C-betas."""

    chain: str
    sequence: str
    numbers: tuple[str, ...]
    cb: np.ndarray  # (R, 3)


def virtual_cb(n: np.ndarray, ca: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Ideal C-beta from backbone N, CA, C (trRosetta's constants); used for every residue, Gly too.

    Real side chains vary (and Gly has none), so the idealised position gives one comparable point per
    residue, which is the convention of the 8 A contact definition used by CASP and CCMpred.
    """
    b = ca - n
    c_vec = c - ca
    a = np.cross(b, c_vec)
    return -0.58273431 * a + 0.56802827 * b - 0.54067466 * c_vec + ca


def read_pdb(path: str | os.PathLike, chain: str | None = None) -> Structure:
    """Backbone atoms of one chain (the first by default) of the first model; first altloc wins.

    Residues lacking any of N, CA, C are skipped (no virtual C-beta can be built for them).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"structure file {path} does not exist")
    residues: dict[tuple[str, str], dict[str, np.ndarray]] = {}
    names: dict[tuple[str, str], str] = {}
    order: list[tuple[str, str]] = []
    chosen = chain
    with open(path) as handle:
        for line in handle:
            record = line[:6]
            if record.startswith("ENDMDL"):
                break
            if record not in ("ATOM  ", "HETATM"):
                continue
            resname = line[17:20].strip()
            if resname not in THREE_TO_ONE:
                continue
            this_chain = line[21].strip()
            if chosen is None:
                chosen = this_chain
            if this_chain != chosen or line[16] not in (" ", "A", "1"):
                continue
            atom = line[12:16].strip()
            if atom not in ("N", "CA", "C"):
                continue
            key = (line[22:26].strip(), line[26].strip())
            if key not in residues:
                residues[key] = {}
                names[key] = resname
                order.append(key)
            residues[key].setdefault(atom, np.array([line[30:38], line[38:46], line[46:54]], dtype=float))
    complete = [k for k in order if len(residues[k]) == 3]
    if not complete:
        raise InputError(f"{path}: no residue with N, CA and C atoms in chain {chosen or chain!r}")
    backbone = {atom: np.stack([residues[k][atom] for k in complete]) for atom in ("N", "CA", "C")}
    return Structure(
        chain=chosen or "",
        sequence="".join(THREE_TO_ONE[names[k]] for k in complete),
        numbers=tuple(num + icode for num, icode in complete),
        cb=virtual_cb(backbone["N"], backbone["CA"], backbone["C"]),
    )


def pairwise_distances(coords: np.ndarray) -> np.ndarray:
    diff = coords[:, None, :] - coords[None, :, :]
    return np.sqrt((diff**2).sum(-1))


def align_sequences(query: str, target: str) -> dict[int, int]:
    """0-based ``query index -> target index`` for aligned (matched) residues, global BLOSUM62 alignment."""
    from Bio import Align
    from Bio.Align import substitution_matrices

    aligner = Align.PairwiseAligner(mode="global")
    aligner.substitution_matrix = substitution_matrices.load("BLOSUM62")
    aligner.open_gap_score, aligner.extend_gap_score = -10.0, -0.5
    aligner.end_gap_score = 0.0  # after the line above, which would reset it: overhangs are free
    clean = "".join(ch if ch in aligner.substitution_matrix.alphabet else "X" for ch in query)
    clean_target = "".join(ch if ch in aligner.substitution_matrix.alphabet else "X" for ch in target)
    best = aligner.align(clean_target, clean)[0]
    mapping: dict[int, int] = {}
    for (t0, t1), (q0, _) in zip(*best.aligned, strict=True):
        for offset in range(t1 - t0):
            mapping[q0 + offset] = t0 + offset
    return mapping


def column_distances(
    structure: Structure, msa: MSA, mapping: str | Mapping[int, str | int] = "align"
) -> np.ndarray:
    """Virtual C-beta distances between the MSA's kept columns, ``(L, L)``, NaN where unmapped.

    ``mapping``: ``"align"`` aligns the focus sequence to the structure's sequence; ``"numbering"``
    takes PDB residue numbers as focus residue numbers; ``"columns"`` takes the k-th structure residue
    as alignment column k (CCMpred-style inputs made from the structure's own sequence); a dict maps
    focus residue numbers to PDB residue numbers.
    """
    index_of = {num: k for k, num in enumerate(structure.numbers)}
    residue = np.full(msa.length, -1)
    if mapping == "columns":
        ok = msa.columns < len(structure.numbers)
        residue[ok] = msa.columns[ok]
    elif mapping == "align":
        hits = align_sequences(msa.focus_sequence, structure.sequence)
        for k, pos in enumerate(msa.positions):
            if pos > 0:
                residue[k] = hits.get(int(pos) - msa.first_residue, -1)
    elif mapping == "numbering" or isinstance(mapping, Mapping):
        if isinstance(mapping, Mapping):
            lookup = {int(k): str(v) for k, v in mapping.items()}
        else:
            lookup = {int(p): str(p) for p in msa.positions if p > 0}
        for k, pos in enumerate(msa.positions):
            if pos > 0 and int(pos) in lookup:
                residue[k] = index_of.get(lookup[int(pos)], -1)
    else:
        raise InputError(f"unknown structure mapping {mapping!r}; valid: align, numbering, columns, a dict")
    if (residue >= 0).sum() < 2:
        raise InputError(f"fewer than two alignment columns map onto structure chain {structure.chain!r}")
    full = pairwise_distances(structure.cb)
    out = np.full((msa.length, msa.length), np.nan)
    ok = np.flatnonzero(residue >= 0)
    out[np.ix_(ok, ok)] = full[np.ix_(residue[ok], residue[ok])]
    return out


def read_distance_table(
    path: str | os.PathLike,
    msa: MSA,
    *,
    index: str = "columns",
    distance_column: int = -1,
    one_based: bool = True,
) -> np.ndarray:
    """``(L, L)`` distances from an ``i j ... dist`` table (e.g. ArDCA's ``PF00014_struct.dat``).

    ``i``/``j`` are alignment columns (``index="columns"``, before any filter) or focus residue
    numbers (``"positions"``); the distance is ``distance_column`` (the last by default).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"distance table {path} does not exist")
    try:
        table = np.loadtxt(path, ndmin=2)
    except ValueError as err:
        raise InputError(f"{path}: not a numeric 'i j ... dist' table ({err})") from None
    if table.shape[1] < 3:
        raise InputError(f"{path}: expected at least 3 columns (i j ... dist), found {table.shape[1]}")
    if index not in ("columns", "positions"):
        raise InputError(f"unknown distance-table index {index!r}; valid: columns, positions")
    keys = msa.columns + int(one_based) if index == "columns" else msa.positions
    where = {int(key): k for k, key in enumerate(keys) if index == "columns" or key > 0}
    out = np.full((msa.length, msa.length), np.nan)
    for i, j, dist in zip(table[:, 0], table[:, 1], table[:, distance_column], strict=True):
        a, b = where.get(int(i)), where.get(int(j))
        if a is not None and b is not None:
            out[a, b] = out[b, a] = dist
    np.fill_diagonal(out, 0.0)
    return out


def contact_truth(distances: np.ndarray, threshold: float = 8.0) -> tuple[np.ndarray, np.ndarray]:
    """``(contact, known)`` boolean matrices: contact where distance < threshold; known where not NaN."""
    known = np.isfinite(distances)
    contact = np.zeros(distances.shape, dtype=bool)
    contact[known] = distances[known] < threshold
    return contact, known
