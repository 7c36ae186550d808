"""The attribution methods by name: each f(model, x, *, target, task, batch_size, progress, ...) -> (N, L, 4).

What each returns: saliency and smoothgrad a gradient (scored at the observed base after x it);
grad_times_input, integrated and expected gradients and DeepSHAP a map already times the input
or (x - baseline), read at the observed base the same way; ism the raw substitution deltas, scored
through ``evaluate.ism_position_map``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .deeplift import deep_lift_shap
from .gradients import expected_gradients, grad_times_input, integrated_gradients, saliency, smoothgrad
from .ism import ism

METHODS: dict[str, Callable[..., np.ndarray]] = {
    "saliency": saliency,
    "grad_times_input": grad_times_input,
    "smoothgrad": smoothgrad,
    "integrated_gradients": integrated_gradients,
    "expected_gradients": expected_gradients,
    "deep_lift_shap": deep_lift_shap,
    "ism": ism,
}

# Methods built on raw gradients, which take ``correct`` (gradient correction before x input).
CORRECTABLE = frozenset(
    {"saliency", "grad_times_input", "smoothgrad", "integrated_gradients", "expected_gradients"}
)
