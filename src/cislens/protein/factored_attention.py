"""Factored attention (Bhattacharya et al. 2021): couplings as attention-weighted amino-acid matrices.

``J_ij(a, b) = sum_h A_h(i, j) W_h(a, b)`` with ``A_h = softmax_j(Q_h K_h^T / sqrt(d))`` built from
per-position query/key embeddings only (no sequence input), so each head is a learned contact pattern
with one shared ``q x q`` amino-acid preference -- far fewer parameters than a Potts model, and heads
that can be read directly as maps. Trained with the Potts model's weighted pseudo-likelihood and penalty
(on the assembled, symmetrised couplings). Not convex: the seed matters. The fit itself is
:func:`cislens.protein.fit.fit_factored_attention` (TensorFlow kept there).
"""

from __future__ import annotations

import numpy as np

from .fit import fit_factored_attention as fit
from .params import PottsModel

__all__ = ["fit", "head_contact_precision", "head_maps"]


def head_maps(model: PottsModel, symmetric: bool = True) -> np.ndarray:
    """``(H, L, L)`` attention maps (symmetrised ``(A + A^T) / 2`` by default, as contacts are)."""
    maps = np.asarray(model.arrays["attention"])
    return 0.5 * (maps + maps.transpose(0, 2, 1)) if symmetric else maps


def head_contact_precision(model: PottsModel, contacts: np.ndarray, k: int, **kwargs: object) -> np.ndarray:
    """Precision of each head's own top-``k`` pairs (which heads learned contacts)."""
    from .contacts import precision_at

    return np.array([precision_at(m, contacts, k, **kwargs) for m in head_maps(model)])
