"""Position probability matrices: information content, shared by motifs, truth and attribution."""

from __future__ import annotations

import numpy as np


def information(ppm: np.ndarray) -> np.ndarray:
    """Information content in bits (2 - entropy) of each probability column (last axis), 0 log 0 = 0."""
    p = np.asarray(ppm, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    return 2.0 + plogp.sum(axis=-1)
