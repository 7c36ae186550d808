"""Pseudo-likelihood Potts model (the plmDCA / CCMpred / GREMLIN model), fitted full-batch on the CPU.

Couplings are one ``(L*q, L*q)`` matrix kept symmetric with zero diagonal blocks (its gradient is
projected onto such matrices), so ``J_ij(a, b) = J_ji(b, a)`` holds exactly; fields start at the PSSM's
``log f`` (the optimum without couplings), couplings at zero. The penalty conventions are described in
:mod:`cislens.protein.pll`. The fit itself is :func:`cislens.protein.plm.fit_potts`: compiled numba
loops, as plmc and CCMpred fit it in C, with no TensorFlow.
"""

from __future__ import annotations

from .plm import fit_potts as fit

__all__ = ["fit"]
