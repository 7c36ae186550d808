"""Deep mutational scanning tables: ``mutant,score`` rows with mutants like ``K15A`` (``:``-joined for
multiple mutations), checked against the focus sequence so a numbering offset fails loudly, not silently.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .msa import ALPHABET, GAP, MSA

_MUTANT = re.compile(r"^([A-Z])(\d+)([A-Z])$")


def parse_mutant(text: str) -> list[tuple[str, int, str]]:
    """``"K15A:L20G"`` -> ``[("K", 15, "A"), ("L", 20, "G")]``; raises InputError on anything else."""
    parts = [p.strip() for p in str(text).replace(";", ":").split(":") if p.strip()]
    out = []
    for part in parts:
        match = _MUTANT.match(part.upper())
        if not match or match.group(3) not in ALPHABET[:GAP]:
            raise InputError(
                f"mutant {text!r}: {part!r} is not of the form K15A (wild type, position, mutant)"
            )
        out.append((match.group(1), int(match.group(2)), match.group(3)))
    if not out:
        raise InputError(f"mutant {text!r} is empty")
    return out


COVERAGE = ("scored", "outside_focus", "insert", "dropped_column")


def read_dms(
    path: str | os.PathLike, msa: MSA, *, mutant_column: str = "mutant", score_column: str = "score"
) -> pd.DataFrame:
    """The table with ``mutations`` (list of (alignment column or -1, wt state, mutant state)) and
    ``coverage`` added.

    Positions use the focus sequence's numbering (``msa.first_residue`` for its first residue). Scans
    cover whole proteins and alignments a domain, so a mutant the model cannot score is kept and
    labelled, not an error (as EVcouplings and DeepSequence report coverage): ``outside_focus`` (a
    position beyond the focus sequence), ``insert`` (a focus residue in no match column: lowercase in
    the alignment), ``dropped_column`` (its column was filtered out); a multi-mutant scores only when
    every site does, and takes its first uncovered site's reason in that order. A wrong wild-type letter
    at a focus position stays a one-line InputError (it signals a numbering offset), as does a table of
    which no mutant can be scored.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"DMS table {path} does not exist")
    frame = pd.read_csv(path, sep=None, engine="python")
    for column in (mutant_column, score_column):
        if column not in frame:
            raise InputError(f"{path}: no column {column!r} (columns: {', '.join(map(str, frame.columns))})")
    column_of = {int(pos): k for k, pos in enumerate(msa.positions) if pos > 0}
    matched = msa.match_positions if msa.match_positions is not None else msa.positions
    match_residues = {int(pos) for pos in matched if pos > 0}
    first, sequence = msa.first_residue, msa.focus_sequence
    parsed, coverage = [], []
    for mutant in frame[mutant_column].astype(str):
        mutations, reasons = [], set()
        for wt, pos, mt in parse_mutant(mutant):
            index = pos - first
            if not 0 <= index < len(sequence):
                reasons.add("outside_focus")
                mutations.append((-1, ALPHABET.index(wt), ALPHABET.index(mt)))
                continue
            if sequence[index] != wt:
                raise InputError(
                    f"{path}: mutant {mutant}: position {pos} is {sequence[index]} in the focus sequence, "
                    f"not {wt} (check the numbering offset)"
                )
            if pos not in column_of:
                reasons.add("insert" if pos not in match_residues else "dropped_column")
            mutations.append((column_of.get(pos, -1), ALPHABET.index(wt), ALPHABET.index(mt)))
        parsed.append(mutations)
        coverage.append(next((r for r in COVERAGE[1:] if r in reasons), "scored"))
    if coverage and "scored" not in coverage:
        counts = ", ".join(f"{n} {reason}" for reason, n in pd.Series(coverage).value_counts().items())
        raise InputError(
            f"{path}: none of its {len(coverage)} mutants can be scored ({counts}); the focus sequence is "
            f"residues {first}-{first + len(sequence) - 1}"
        )
    out = frame.rename(columns={mutant_column: "mutant", score_column: "score"})[["mutant", "score"]].copy()
    out["mutations"] = parsed
    out["n_mutations"] = [len(m) for m in parsed]
    out["coverage"] = coverage
    out["score"] = pd.to_numeric(out["score"], errors="coerce")
    return out


def coverage_counts(coverage: pd.Series) -> dict[str, int]:
    """``dms_<reason>`` counts of the mutants left out of the correlation, one per reason."""
    counts = coverage.value_counts()
    return {f"dms_{reason}": int(counts.get(reason, 0)) for reason in COVERAGE[1:]}


def apply_mutations(wild_type: np.ndarray, mutations: list[tuple[int, int, int]]) -> np.ndarray | None:
    """The mutated state vector, or None when any mutation lies outside the kept columns."""
    seq = np.array(wild_type, copy=True)
    for column, _, mt in mutations:
        if column < 0:
            return None
        seq[column] = mt
    return seq


def mutant_batch(
    wild_type: np.ndarray, mutations: list[list[tuple[int, int, int]]]
) -> tuple[list[np.ndarray], list[int]]:
    """The scorable mutants' state vectors and their indices in ``mutations`` (mutants touching a
    filtered-out column are left out, so every model scores them as NaN the same way)."""
    seqs, where = [], []
    for k, muts in enumerate(mutations):
        seq = apply_mutations(wild_type, muts)
        if seq is not None:
            seqs.append(seq)
            where.append(k)
    return seqs, where
