"""The distributions the Divergences page compares: 1D mixtures of Gaussians and boxes, and 2D
canonical densities moved and scaled.

`Measure1D` is a finite mixture on the real line of Gaussian components N(m, s^2) and uniform
"boxes" U[a, b]:

    p(x) = sum_k w_k p_k(x),   F(x) = sum_k w_k F_k(x),

with exact log-density, CDF, quantile function F^{-1}(u) = inf {x : F(x) >= u}, samples and support.
The notes' earth-mover example is two such mixtures of boxes (`earth_mover_pair`). `Moved` wraps a
2D `Density` with an exact log_prob as the law of s X + b (X ~ base): log q(x) = log p((x - b) / s) - 2 log s.
Everything here is numpy float64 (1D) or torch (2D), no streamlit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import torch
from scipy.special import ndtr
from torch import Tensor

from explorer.data.densities import Checkerboard, Density, GaussianMixture

NORMAL, BOX = "normal", "box"
# A Gaussian component's window: beyond m +- WINDOW s its density is below exp(-WINDOW^2 / 2) ~ 1e-31 of its peak.
WINDOW = 12.0


@dataclass(frozen=True)
class Measure1D:
    """sum_k w_k p_k on the real line; component k is N(a_k, b_k^2) if kinds[k] == "normal",
    U[a_k, b_k] if "box". `weights` are normalised on construction; all tuples have length K."""

    kinds: tuple[str, ...]
    a: tuple[float, ...]
    b: tuple[float, ...]
    weights: tuple[float, ...]
    title: str = "measure"

    def __post_init__(self) -> None:
        k = len(self.kinds)
        if not (k and len(self.a) == len(self.b) == len(self.weights) == k):
            raise ValueError("a 1D measure needs at least one component, with a, b and a weight for each")
        if any(kind not in (NORMAL, BOX) for kind in self.kinds):
            raise ValueError(f"component kinds are '{NORMAL}' or '{BOX}'")
        values = np.array([*self.a, *self.b, *self.weights], dtype=np.float64)
        if not np.isfinite(values).all():
            raise ValueError("component parameters must be finite")
        if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
            raise ValueError("weights must be non-negative with a positive sum")
        for kind, a, b in zip(self.kinds, self.a, self.b, strict=True):
            if (kind == NORMAL and b <= 0) or (kind == BOX and b <= a):
                raise ValueError("a Gaussian needs std > 0 and a box needs lo < hi")
        total = float(sum(self.weights))
        object.__setattr__(self, "weights", tuple(float(w) / total for w in self.weights))

    # --- arrays ---------------------------------------------------------------------------------
    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(is_normal, a, b, w) as float64 arrays `[K]`."""
        normal = np.array([kind == NORMAL for kind in self.kinds])
        return normal, np.array(self.a, float), np.array(self.b, float), np.array(self.weights, float)

    def log_pdf(self, x: np.ndarray) -> np.ndarray:
        """log p(x) `[n]` for `x: [n]`, by logsumexp over components; -inf off the support.

        Normal: log w - (x - m)^2 / (2 s^2) - log(s sqrt(2 pi)); box: log w - log(b - a) on [a, b]."""
        x = np.asarray(x, dtype=np.float64)[:, None]
        normal, a, b, w = self._arrays()
        std = np.where(normal, b, 1.0)  # a box's b is its upper edge, not a scale
        with np.errstate(divide="ignore"):
            log_w = np.log(w)
            gauss = -0.5 * ((x - a) / std) ** 2 - np.log(std * math.sqrt(2 * math.pi))
            box = np.where((x >= a) & (x <= b), -np.log(np.where(normal, 1.0, b - a)), -np.inf)
        terms = log_w + np.where(normal, gauss, box)  # [n, K]
        top = terms.max(1, keepdims=True)
        safe = np.where(np.isfinite(top), top, 0.0)
        with np.errstate(divide="ignore"):
            return (np.log(np.exp(terms - safe).sum(1, keepdims=True)) + safe)[:, 0]

    def pdf(self, x: np.ndarray) -> np.ndarray:
        """p(x) `[n]`."""
        return np.exp(self.log_pdf(x))

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """F(x) = sum_k w_k F_k(x) `[n]`: Phi((x - m) / s) for a Gaussian, clip((x - a) / (b - a), 0, 1) for a box."""
        x = np.asarray(x, dtype=np.float64)[:, None]
        normal, a, b, w = self._arrays()
        gauss = ndtr((x - a) / np.where(normal, b, 1.0))
        box = np.clip((x - a) / np.where(normal, 1.0, b - a), 0.0, 1.0)
        return np.clip((w * np.where(normal, gauss, box)).sum(1), 0.0, 1.0)

    def quantile(self, u: np.ndarray, iters: int = 100) -> np.ndarray:
        """F^{-1}(u) = inf {x : F(x) >= u} `[n]` for `u: [n]` in (0, 1), by bisection on the exact CDF
        inside `hull()` (to ~1e-12 of the hull's width)."""
        u = np.asarray(u, dtype=np.float64)
        lo_edge, hi_edge = self.hull()
        lo, hi = np.full_like(u, lo_edge), np.full_like(u, hi_edge)
        for _ in range(iters):
            mid = 0.5 * (lo + hi)
            above = self.cdf(mid) >= u
            hi, lo = np.where(above, mid, hi), np.where(above, lo, mid)
            if np.all(hi - lo <= 1e-12 * (hi_edge - lo_edge)):
                break
        return hi

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n independent draws `[n]`: a component by its weight, then a draw from it."""
        normal, a, b, w = self._arrays()
        k = rng.choice(len(w), size=n, p=w)
        z, u = rng.standard_normal(n), rng.random(n)
        return np.where(normal[k], a[k] + b[k] * z, a[k] + (b[k] - a[k]) * u)

    # --- geometry -------------------------------------------------------------------------------
    def windows(self) -> list[tuple[float, float]]:
        """Where each component has its mass: [m - 12 s, m + 12 s] for a Gaussian, [a, b] for a box."""
        return [
            (a - WINDOW * b, a + WINDOW * b) if kind == NORMAL else (a, b)
            for kind, a, b in zip(self.kinds, self.a, self.b, strict=True)
        ]

    def hull(self) -> tuple[float, float]:
        """The smallest interval holding every window."""
        wins = self.windows()
        return min(lo for lo, _ in wins), max(hi for _, hi in wins)

    def support(self) -> list[tuple[float, float]]:
        """The exact support {p > 0} as sorted disjoint closed intervals (the whole line if any Gaussian)."""
        if NORMAL in self.kinds:
            return [(-math.inf, math.inf)]
        return merge_intervals([(a, b) for a, b, w in zip(self.a, self.b, self.weights, strict=True) if w > 0])

    def gaussian(self) -> tuple[float, float] | None:
        """(mean, std) if this is a single Gaussian, else None."""
        if self.kinds == (NORMAL,):
            return self.a[0], self.b[0]
        return None

    def moved(self, shift: float = 0.0, scale: float = 1.0) -> Measure1D:
        """The law of scale * X + shift for X ~ this measure (scale > 0)."""
        if not (scale > 0 and math.isfinite(scale) and math.isfinite(shift)):
            raise ValueError(f"scale must be positive and finite and shift finite, got scale={scale}, shift={shift}")
        a = tuple(scale * a + shift for a in self.a)
        b = tuple(
            scale * b if kind == NORMAL else scale * b + shift for kind, b in zip(self.kinds, self.b, strict=True)
        )
        return replace(self, a=a, b=b)


def merge_intervals(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted union of closed intervals, touching or overlapping ones merged."""
    merged: list[tuple[float, float]] = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def normal(mean: float = 0.0, std: float = 1.0, title: str = "") -> Measure1D:
    return Measure1D((NORMAL,), (mean,), (std,), (1.0,), title or f"N({mean:g}, {std:g}²)")


def box(lo: float, hi: float, title: str = "") -> Measure1D:
    return Measure1D((BOX,), (lo,), (hi,), (1.0,), title or f"U[{lo:g}, {hi:g}]")


# The 1D shapes a user can move against each other (name -> measure centred near 0).
SHAPES_1D: dict[str, Measure1D] = {
    "gaussian": normal(0.0, 1.0, "Gaussian N(0, 1)"),
    "narrow_gaussian": normal(0.0, 0.5, "Narrow Gaussian N(0, 0.5²)"),
    "two_bumps": Measure1D(
        (NORMAL, NORMAL), (-3.0, 3.0), (0.5, 0.5), (0.5, 0.5), "Two bumps ½N(−3, 0.5²) + ½N(3, 0.5²)"
    ),
    "skewed_mixture": Measure1D(
        (NORMAL, NORMAL), (-1.0, 2.0), (0.6, 1.2), (0.7, 0.3), "Skewed mixture 0.7N(−1, 0.6²) + 0.3N(2, 1.2²)"
    ),
    "uniform": box(-1.0, 1.0, "Uniform U[−1, 1]"),
}


def earth_mover_pair() -> tuple[Measure1D, Measure1D]:
    """The notes' example: mu = 1/4 1[1,2] + 1/4 1[3,4] + 1/2 1[9,10] and mu' = 1/2 1[5,7] (W_1 = 3)."""
    mu = Measure1D((BOX, BOX, BOX), (1.0, 3.0, 9.0), (2.0, 4.0, 10.0), (0.25, 0.25, 0.5), "μ")
    return mu, Measure1D((BOX,), (5.0,), (7.0,), (1.0,), "μ′")


# --- 2D ------------------------------------------------------------------------------------------
class Moved(Density):
    """The law of s X + b for X ~ `base` (a 2D density with exact log_prob), s > 0, b = `shift` `[2]`:

    q(x) = p((x - b) / s) / s^2, so log q(x) = log p((x - b) / s) - 2 log s (the Jacobian of a 2D scaling).
    """

    has_score = False

    def __init__(self, base: Density, shift: tuple[float, float] = (0.0, 0.0), scale: float = 1.0) -> None:
        if not base.has_log_prob:
            raise ValueError(f"{base.title} has no closed-form density to move")
        if not (scale > 0 and math.isfinite(scale) and all(math.isfinite(v) for v in shift)):
            raise ValueError(f"scale must be positive and finite and the shift finite, got {scale}, {shift}")
        self.base, self.shift, self.scale = base, (float(shift[0]), float(shift[1])), float(scale)
        self.name, self.has_log_prob = f"moved_{base.name}", True
        moved = self.shift != (0.0, 0.0) or self.scale != 1.0
        where = f" moved by ({shift[0]:g}, {shift[1]:g}), scaled by {scale:g}" if moved else ""
        self.title = base.title + where

    def sample_labelled(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        x, y = self.base.sample_labelled(n, generator)
        return self.scale * x + torch.tensor(self.shift, device=x.device, dtype=x.dtype), y

    def log_prob(self, x: Tensor) -> Tensor:
        b = torch.tensor(self.shift, device=x.device, dtype=x.dtype)
        return self.base.log_prob((x - b) / self.scale) - 2 * math.log(self.scale)


def support_radius(density: Density) -> float:
    """R such that the square [-R, R]^2 holds all but a negligible part (< 1e-13) of the mass: for a
    Gaussian mixture max_k(|m_k|_inf + 8 s_k), for the checkerboard 4; `Moved` maps its base's square."""
    if isinstance(density, Moved):
        return max(abs(v) for v in density.shift) + density.scale * support_radius(density.base)
    if isinstance(density, GaussianMixture):
        return float((density.means.abs().amax(1) + 8 * density.stds).max())
    if isinstance(density, Checkerboard):
        return 4.0
    raise ValueError(f"no known support for {density.title}")


def smallest_scale(density: Density) -> float:
    """The finest length scale of a density (a mixture's smallest std, the checkerboard's cell size 2):
    an integration grid must be finer than this."""
    if isinstance(density, Moved):
        return density.scale * smallest_scale(density.base)
    if isinstance(density, GaussianMixture):
        return float(density.stds.min())
    if isinstance(density, Checkerboard):
        return density.CELL
    raise ValueError(f"no known length scale for {density.title}")
