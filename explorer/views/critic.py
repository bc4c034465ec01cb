"""What the critic tab of the Divergences page shows, as numpy arrays: the learned critic f and discriminator D
on a grid beside their optima log(q / p) and q / (q + p), with samples of both densities.

The Donsker-Varadhan objective does not change when a constant is added to f, so f is shown as
f - log E_p[e^f] (on fresh samples of p): at the optimum that is log(q / p) itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from explorer.device import make_generator
from explorer.maths.grid import make_grid
from explorer.methods.critic import DualCritic
from explorer.training.presets import Preset
from explorer.views import divergences

GRID = 64  # points per axis of the learned maps (redrawn live)
SHOWN_SAMPLES = 300
NORMALISING_POINTS = 8192  # samples of p for log E_p[e^f]


@dataclass(frozen=True)
class CriticView:
    """f and D learned, beside their optima, on `axis` `[k]` over [-lim, lim]^2 (images indexed [y, x])."""

    axis: np.ndarray
    lim: float
    f: np.ndarray  # [k, k] f - log E_p e^f
    f_optimum: np.ndarray  # [k, k] log q - log p (+-inf where one density vanishes, nan where both do)
    d: np.ndarray  # [k, k] sigmoid(l)
    d_optimum: np.ndarray  # [k, k] q / (q + p) (nan where both vanish)
    mass: np.ndarray  # [k, k] (q + p) / 2, to fade the maps where neither density lives
    q_samples: np.ndarray  # [m, 2]
    p_samples: np.ndarray  # [m, 2]


def plane_limit(method: DualCritic) -> float:
    """Half-width of the square that holds 99.5% of both densities' samples (5 to 20)."""
    generator = make_generator(0)
    return divergences.plane_limit(method.density.sample(2000, generator), method.reference.sample(2000, generator))


@torch.no_grad()
def critic_view(method: DualCritic, lim: float, n: int = GRID) -> CriticView:
    """The learned maps (now) and the optimal ones on an n x n grid over [-lim, lim]^2."""
    grid = make_grid(lim, n, method.device)
    generator = make_generator(1, method.device)
    xq, xp = method.density.sample(SHOWN_SAMPLES, generator), method.reference.sample(NORMALISING_POINTS, generator)
    f_p = method.critic(xp)
    shift = float(torch.logsumexp(f_p, 0)) - math.log(f_p.shape[0])
    log_q = method.density.log_prob(grid.points.cpu()).double()
    log_p = method.reference.log_prob(grid.points.cpu()).double()
    ratio = log_q - log_p  # +inf where only p vanishes, -inf where only q does, nan where both do
    d_opt = torch.sigmoid(ratio)
    mass = 0.5 * (log_q.exp() + log_p.exp())
    return CriticView(
        axis=grid.axis,
        lim=lim,
        f=grid.as_image(method.critic(grid.points) - shift),
        f_optimum=grid.as_image(ratio),
        d=grid.as_image(torch.sigmoid(method.logit(grid.points))),
        d_optimum=grid.as_image(d_opt),
        mass=grid.as_image(mass),
        q_samples=xq.float().cpu().numpy(),
        p_samples=xp[:SHOWN_SAMPLES].float().cpu().numpy(),
    )


# Measured with seed 0 (tests/test_critic.py trains each and checks its sentence).
PRESETS: dict[str, Preset] = {
    "close": Preset(
        "Close Gaussians",
        {"density": "gaussian", "reference": "gaussian", "shift_x": 0.5, "shift_y": 0.0, "scale": 1.0},
        "KL = 0.125: both estimates settle on their exact lines within a second, and f is the plane "
        "log(q / p) = −0.5 x + 0.125.",
    ),
    "far": Preset(
        "Far Gaussians",
        {"density": "gaussian", "reference": "gaussian", "shift_x": 3.0, "shift_y": 0.0, "scale": 1.0},
        "KL = 4.5 and the Donsker–Varadhan estimate falls apart: where q has samples and p almost none (left "
        "of the origin) nothing stops f from growing, and the few samples of p that land there make log E_p e^f "
        "explode; the estimate swings far below the line. JS, bounded by log 2, stays within 1% of its 0.527.",
    ),
    "small": Preset(
        "A critic too small",
        {"density": "eight_gaussians", "reference": "gaussian", "shift_x": 0.0, "scale": 2.0, "hidden": 2, "depth": 1},
        "Two hidden units cannot draw eight bumps: both bounds stop far below the exact lines (DV about 0.3 nats "
        "against KL = 2.7, JS about 0.08 against 0.53), whatever the number of steps: a bound is only as tight as "
        "its critic.",
    ),
    "disjoint": Preset(
        "Disjoint supports",
        {"density": "checkerboard", "reference": "checkerboard", "shift_x": 2.0, "scale": 1.0, "schedule": "constant"},
        "p is the checkerboard moved by one cell: the white cells of q. KL is infinite, and the Donsker–Varadhan "
        "bound climbs without limit (into the thousands), while JS saturates at log 2 = 0.693.",
    ),
}
