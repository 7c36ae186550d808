"""Potts-model parameters shared by every model of the protein branch, and their energies.

``PottsModel`` is the common currency: the PSSM (fields only), the pseudo-likelihood Potts model, the
multivariate Gaussian and factored attention all end as fields ``h (L, q)`` and couplings
``J (L, L, q, q)`` with ``J[i, j, a, b] == J[j, i, b, a]`` and zero diagonal blocks, so contact maps,
mutation effects and files work the same for all of them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..io import atomic_path


@dataclass
class PottsModel:
    """Fields and (optional) couplings; ``energy`` is the log-probability up to log Z.

    Sign convention as EVmutation's "statistical energy": higher is more probable, so a mutation's
    effect ``E(mutant) - E(wild type)`` is negative when it is deleterious.
    """

    h: np.ndarray
    J: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)  # model-specific (attention maps, ...)

    @property
    def length(self) -> int:
        return int(self.h.shape[0])

    @property
    def q(self) -> int:
        return int(self.h.shape[1])

    def energy(self, seqs: np.ndarray, chunk: int = 256) -> np.ndarray:
        """``sum_i h_i(x_i) + sum_{i<j} J_ij(x_i, x_j)`` for each row of ``(M, L)`` states."""
        seqs = np.atleast_2d(np.asarray(seqs, dtype=np.intp))
        rows = np.arange(self.length)
        out = self.h[rows, seqs].sum(axis=1).astype(np.float64)
        if self.J is None:
            return out
        i, j = np.triu_indices(self.length, k=1)
        for start in range(0, len(seqs), chunk):
            block = seqs[start : start + chunk]
            out[start : start + chunk] += self.J[i, j, block[:, i], block[:, j]].sum(axis=1)
        return out


def flat_to_blocks(flat: np.ndarray, length: int, q: int) -> np.ndarray:
    """``(L*q, L*q)`` position-major couplings to ``(L, L, q, q)`` blocks."""
    return np.ascontiguousarray(np.asarray(flat).reshape(length, q, length, q).transpose(0, 2, 1, 3))


def save_potts(model: PottsModel, path: str | os.PathLike) -> None:
    """HDF5 with datasets ``h`` and (if any) ``J``; ``info`` as attributes (scalars and strings)."""
    import h5py

    with atomic_path(path) as tmp, h5py.File(tmp, "w") as handle:
        handle.create_dataset("h", data=model.h.astype(np.float32))
        if model.J is not None:
            handle.create_dataset("J", data=model.J.astype(np.float32), compression="gzip", shuffle=True)
        for key, value in model.arrays.items():
            handle.create_dataset(f"arrays/{key}", data=np.asarray(value))
        for key, value in model.info.items():
            if isinstance(value, str | int | float | bool | np.integer | np.floating):
                handle.attrs[key] = value


def load_potts(path: str | os.PathLike) -> PottsModel:
    import h5py

    path = Path(path)
    if not path.is_file():
        raise InputError(f"model file {path} does not exist")
    with h5py.File(path, "r") as handle:
        if "h" not in handle:
            raise InputError(f"{path}: not a Potts model file (no 'h' dataset)")
        h = handle["h"][()]
        couplings = handle["J"][()] if "J" in handle else None
        info = {k: (v.item() if hasattr(v, "item") else v) for k, v in handle.attrs.items()}
        arrays = {k: v[()] for k, v in handle["arrays"].items()} if "arrays" in handle else {}
    return PottsModel(h=h, J=couplings, info=info, arrays=arrays)
