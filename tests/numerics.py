"""Tolerances for comparisons whose float32 rounding is the point, derived from the quantities' size.

Exact maths computed two ways is compared in float64 (the `float64` fixture in conftest.py). Where a
result is float32 by design (a view's arrays for the browser, the app's float32 densities), its error
comes from rounding, which scales with the magnitude of the values, not from the CPU: these helpers say
so once instead of a fixed rtol / atol that one CPU's kernels happen to meet.
"""

from __future__ import annotations

import numpy as np
import torch

EPS32 = float(np.finfo(np.float32).eps)  # 1.19e-7: the relative spacing of float32 numbers


def _numpy(x) -> np.ndarray:
    return x.detach().cpu().double().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, dtype=np.float64)


def assert_rounded_to_float32(actual, expected) -> None:
    """`actual` is `expected` (float64) rounded once to float32: within half a float32 step of each value."""
    a, e = _numpy(actual), _numpy(expected)
    np.testing.assert_allclose(a, e, rtol=EPS32, atol=1e-12 * max(1.0, float(np.abs(e).max(initial=0.0))))


def assert_close_to_scale(actual, expected, ulps: float) -> None:
    """|actual - expected| <= ulps * EPS32 * max|expected|: float32 arithmetic on values of that size, whose
    rounding errors scale with the largest magnitude in the computation (sums, logsumexp), not each value."""
    a, e = _numpy(actual), _numpy(expected)
    scale = float(np.abs(e).max(initial=0.0))
    err = float(np.abs(a - e).max(initial=0.0))
    assert err <= ulps * EPS32 * scale, f"max error {err:.3g} > {ulps} float32 steps of the scale {scale:.3g}"
