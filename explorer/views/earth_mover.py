"""The notes' earth-mover example as numbers for pictures: mu = 1/4 1[1,2] + 1/4 1[3,4] + 1/2 1[9,10]
against mu' = 1/2 1[5,7] (optionally moved), with W_1 = 3 four ways, the optimal (monotone) transport
plan as arrows and as the support of the coupling, and an optimal Kantorovich-Rubinstein critic."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.maths.divergences import (
    divergences_1d,
    kantorovich_potential_1d,
    monotone_plan,
    w1_quantiles,
    w1_samples,
)
from explorer.maths.measures import earth_mover_pair

POT_SAMPLES = 2000


@dataclass(frozen=True)
class EarthMoverView:
    """mu and mu' (moved by `offset`): densities and CDFs on `x` `[N]`; the monotone plan as `arrows`
    sources / targets `[k]` with the index of mu's piece each source lies in (`piece`); the coupling's
    support (`curve_x`, `curve_y` `[K]`); an optimal critic `critic` on `critic_x`; W_1 four ways: from
    the CDFs, from the quantiles, the dual value E_mu f - E_mu' f, and POT on `n_pot` samples. `pieces`
    lists (interval, mass, target interval, mean distance, cost) per piece of mu."""

    offset: float
    x: np.ndarray
    mu: np.ndarray
    nu: np.ndarray
    cdf_mu: np.ndarray
    cdf_nu: np.ndarray
    sources: np.ndarray
    targets: np.ndarray
    piece: np.ndarray
    curve_x: np.ndarray
    curve_y: np.ndarray
    critic_x: np.ndarray
    critic: np.ndarray
    w1_cdf: float
    w1_quantiles: float
    w1_dual: float
    w1_pot: float
    n_pot: int
    pieces: list[tuple[str, float, str, float, float]]


def earth_mover_view(offset: float = 0.0, arrows: int = 24, seed: int = 0) -> EarthMoverView:
    """The notes' mu = 1/4 1[1,2] + 1/4 1[3,4] + 1/2 1[9,10] against mu' = 1/2 1[5,7] moved by `offset`."""
    mu, nu = earth_mover_pair()
    nu = nu.moved(float(offset))
    x = np.linspace(min(0.0, nu.a[0] - 1), max(11.0, nu.b[0] + 1), 1401)
    sources, targets, _ = monotone_plan(mu, nu, arrows)
    fine_src, fine_dst, fine_mass = monotone_plan(mu, nu, 2000)
    piece = np.array([next(i for i, (a, b) in enumerate(zip(mu.a, mu.b, strict=True)) if s <= b) for s in sources])
    fine_piece = np.array([next(i for i, b in enumerate(mu.b) if s <= b) for s in fine_src])
    pieces = []
    for i, (a, b, w) in enumerate(zip(mu.a, mu.b, mu.weights, strict=True)):
        sel = fine_piece == i
        dist = np.abs(fine_dst[sel] - fine_src[sel])
        lo, hi = fine_dst[sel].min(), fine_dst[sel].max()
        pieces.append(
            (f"[{a:g}, {b:g}]", w, f"[{lo:.2f}, {hi:.2f}]", float(dist.mean()), float(np.sum(dist * fine_mass[sel])))
        )
    cx, f, dual = kantorovich_potential_1d(mu, nu)
    keep = (cx >= x[0]) & (cx <= x[-1])
    rng = np.random.default_rng(seed)
    n_pot = POT_SAMPLES
    return EarthMoverView(
        float(offset),
        x,
        mu.pdf(x),
        nu.pdf(x),
        mu.cdf(x),
        nu.cdf(x),
        sources,
        targets,
        piece,
        fine_src,
        fine_dst,
        cx[keep][:: max(1, keep.sum() // 1200)],
        f[keep][:: max(1, keep.sum() // 1200)],
        divergences_1d(mu, nu).w1,
        w1_quantiles(mu, nu),
        dual,
        w1_samples(mu.sample(n_pot, rng), nu.sample(n_pot, rng)),
        n_pot,
        pieces,
    )
