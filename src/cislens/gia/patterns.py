"""What GIA embeds: a JASPAR motif, a discovered filter PPM, a k-mer or a literal sequence, on either strand.

Every pattern is a (W, 4) probability matrix; a literal is its one-hot and an ``N`` is an all-zero column,
which embedding leaves as the background's own base. ``consensus`` writes the most probable base per
column into every background; ``sample`` draws a fresh instance from the PPM per background, so the
effect averages over the motif's natural variability.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..data.onehot import one_hot
from ..errors import InputError
from .embed import consensus_onehot, sample_pattern

MODES = ("consensus", "sample")
STRANDS = ("+", "-")
_LITERAL = re.compile(r"^[ACGTNacgtn]+$")


@dataclass(frozen=True)
class Pattern:
    """A named (W, 4) matrix in ACGT order, the way to instantiate it, and its strand."""

    name: str
    ppm: np.ndarray
    mode: str = "consensus"
    strand: str = "+"

    def __post_init__(self) -> None:
        ppm = np.asarray(self.ppm, dtype=np.float64)
        if ppm.ndim != 2 or ppm.shape[1] != 4 or len(ppm) == 0:
            raise InputError(f"pattern {self.name!r}: matrix must be (W, 4), got {ppm.shape}")
        if self.mode not in MODES:
            raise InputError(f"pattern {self.name!r}: mode must be one of {MODES}, got {self.mode!r}")
        if self.strand not in STRANDS:
            raise InputError(f"pattern {self.name!r}: strand must be '+' or '-', got {self.strand!r}")
        object.__setattr__(self, "ppm", ppm)

    @property
    def width(self) -> int:
        return int(self.ppm.shape[0])

    @property
    def oriented(self) -> np.ndarray:
        """The matrix as read on this pattern's strand (the reverse complement for '-')."""
        return self.ppm if self.strand == "+" else self.ppm[::-1, ::-1]

    def on(self, strand: str) -> Pattern:
        return replace(self, strand=strand)

    def consensus(self) -> np.ndarray:
        """(W, 4) one-hot of the most probable base per column; N columns stay all-zero."""
        ppm = self.oriented
        return consensus_onehot(ppm) * (ppm.sum(axis=-1, keepdims=True) > 0)

    def instances(self, n: int, seed: int = 0) -> np.ndarray:
        """(W, 4) consensus, or (n, W, 4) draws from the matrix in ``sample`` mode (seeded)."""
        if self.mode == "consensus":
            return self.consensus().astype(np.float32)
        ppm = self.oriented
        called = ppm.sum(axis=-1, keepdims=True) > 0
        draws = sample_pattern(np.where(called, ppm, 0.25), n, seed=seed)
        return (draws * called[None]).astype(np.float32)


def from_sequence(sequence: str, name: str | None = None, strand: str = "+") -> Pattern:
    """A k-mer or literal sequence (ACGT, N = keep the background base)."""
    if not _LITERAL.match(sequence):
        raise InputError(f"pattern {sequence!r} is not a sequence of A, C, G, T or N")
    return Pattern(name or sequence.upper(), one_hot(sequence.upper())[0], "consensus", strand)


def from_ppms(
    ppms: Mapping[str, np.ndarray], mode: str = "consensus", strand: str = "+"
) -> dict[str, Pattern]:
    """Named PPMs (planted motifs, JASPAR, filters) as patterns with one mode and strand."""
    return {name: Pattern(name, ppm, mode, strand) for name, ppm in ppms.items()}


def from_meme(
    path: str | os.PathLike, ids: Sequence[str] | None = None, mode: str = "consensus", strand: str = "+"
) -> dict[str, Pattern]:
    """Motifs of a MEME file (e.g. discovered filter PPMs) by ID, all of them when ``ids`` is None."""
    from ..meme import read_meme

    motifs = {m.id: m for m in read_meme(path)}
    wanted = list(motifs) if ids is None else list(ids)
    missing = [i for i in wanted if i not in motifs]
    if missing:
        raise InputError(f"{path}: no motif {', '.join(missing)}")
    return {i: Pattern(i, motifs[i].ppm, mode, strand) for i in wanted}


def resolve(
    spec: str,
    *,
    database: str | os.PathLike | None = None,
    filters: str | os.PathLike | None = None,
    mode: str = "consensus",
    strand: str = "+",
) -> Pattern:
    """One configured pattern: ``filter:<id>`` (the trial's filters.meme), a JASPAR ID (the database
    MEME), or a literal sequence. A ``-`` suffix after a colon (``MA0079.3:-``) picks the other strand."""
    body, _, suffix = spec.rpartition(":") if spec.endswith((":+", ":-")) else (spec, "", "")
    strand = suffix or strand
    if body.startswith("filter:"):
        if filters is None:
            raise InputError(f"pattern {spec!r} needs the trial's filters MEME file")
        fid = body.removeprefix("filter:")
        return replace(from_meme(filters, [fid], mode, strand)[fid], name=f"filter {fid}")
    if _LITERAL.match(body):
        return from_sequence(body, strand=strand)
    if database is None:
        raise InputError(f"pattern {spec!r} looks like a motif ID but no MEME database was given")
    from ..meme import read_meme

    by_id = {m.id: m for m in read_meme(database)}
    if body not in by_id:
        raise InputError(f"pattern {spec!r}: {body} is not in {database}")
    motif = by_id[body]
    return Pattern(f"{motif.name} {motif.id}", motif.ppm, mode, strand)
