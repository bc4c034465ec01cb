"""What the Divergences page draws, as numpy arrays (no plotting): point masses, two 1D distributions
moved against each other, and the optimal discriminator between two 2D densities (the earth-mover
example is `explorer.views.earth_mover`, the words `explorer.views.divergences_text`).

Each `*_view` takes plain values (names, floats), so the page can cache it. Numbers come from
`explorer.maths.divergences` (and `explorer.maths.optimal_discriminator` for D*, JS and the GAN value).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from explorer.data.densities import DENSITIES, get_density
from explorer.device import make_generator
from explorer.maths.divergences import (
    Divergences,
    divergences_1d,
    integration_square,
    kl_gaussians,
    kl_grid,
    point_masses,
    w1_gaussians_1d,
    w1_samples,
)
from explorer.maths.grid import make_grid
from explorer.maths.measures import SHAPES_1D, Measure1D, Moved, normal
from explorer.maths.optimal_discriminator import gan_value_at_optimum, js_divergence_grid, optimal_discriminator

THETA_MAX = 4.0  # point masses: theta in [-4, 4]
SHIFT_MAX = 8.0  # moving 1D distributions: shift in [-8, 8]
CURVE_CELLS = 800  # quadrature nodes per window for the curves (the current values use the default 2000)
POT_SAMPLES = 2000  # samples per distribution for POT in 1D (exact OT by sorting: fast)
POT_SAMPLES_2D = 600  # and in 2D (network simplex on a 600 x 600 cost matrix: ~0.1 s)
BLURS = [0.0, 0.05, 0.1, 0.25, 0.5, 1.0]  # point masses: blur sigma (0 = exact point masses)
SCALES_1D = [0.25, 0.5, 1.0, 2.0, 4.0]
SCALES_2D = [0.5, 0.75, 1.0, 1.5, 2.0]
EXACT_2D = [name for name, factory in DENSITIES.items() if factory().has_log_prob]
_TITLES = {name: factory().title for name, factory in DENSITIES.items()}


def density_title(name: str) -> str:
    return _TITLES.get(name, name)


def _curve_thetas(limit: float, step: float) -> np.ndarray:
    """limit / step * 2 + 1 values from -limit to limit, 0 included exactly."""
    k = int(round(limit / step))
    return np.arange(-k, k + 1) * step


# --- point masses ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class PointMassView:
    """delta_0 against delta_theta (blur 0), or N(0, s^2) against N(theta, s^2) (blur s > 0).

    `now` holds the divergences at theta; `thetas` `[T]` and the curves `kl`, `js`, `w1` `[T]` (inf
    where infinite); `slope_js`, `slope_w1` the derivatives d/dtheta at theta (what a generator at
    theta learns from); `x`, `p`, `q` `[N]` the two densities when blurred (None for point masses)."""

    theta: float
    blur: float
    now: Divergences
    thetas: np.ndarray
    kl: np.ndarray
    js: np.ndarray
    w1: np.ndarray
    slope_js: float
    slope_w1: float
    x: np.ndarray | None
    p: np.ndarray | None
    q: np.ndarray | None


def point_mass_view(theta: float, blur: float = 0.0, step: float = 0.05) -> PointMassView:
    """The point-mass example at `theta` in [-THETA_MAX, THETA_MAX] (clipped), optionally blurred by `blur` >= 0."""
    theta = float(np.clip(theta, -THETA_MAX, THETA_MAX))
    thetas = _curve_thetas(THETA_MAX, step)
    if blur <= 0:
        values = [point_masses(float(t)) for t in thetas]
        now = point_masses(theta)
        x = p = q = None
        slope_js = 0.0
    else:
        base = normal(0.0, blur)
        values = [divergences_1d(base, base.moved(float(t)), n=CURVE_CELLS) for t in thetas]
        now = divergences_1d(base, base.moved(theta))
        x = np.linspace(-THETA_MAX - 1, THETA_MAX + 1, 801)
        p, q = base.pdf(x), base.moved(theta).pdf(x)
        eps = 1e-3
        up, down = (divergences_1d(base, base.moved(theta + d)).js for d in (eps, -eps))
        slope_js = (up - down) / (2 * eps)
    return PointMassView(
        theta,
        float(max(blur, 0.0)),
        now,
        thetas,
        np.array([v.kl_pq for v in values]),
        np.array([v.js for v in values]),
        np.array([v.w1 for v in values]),
        slope_js,
        float(np.sign(theta)),
        x,
        p,
        q,
    )


# --- two 1D distributions, one moved --------------------------------------------------------------
@dataclass(frozen=True)
class ShiftCurves:
    """KL both ways, JS and W_1 between p and q_theta = s Q + theta against the shift theta.

    `thetas` `[T]` with curves `[T]` (inf where infinite); `closed_kl_pq`, `closed_kl_qp`, `closed_w1`
    `[T]` are the closed forms when p and q are both Gaussian (else None); `pot_thetas` `[P]` with
    `pot_w1` `[P]`, W_1 by exact OT between POT_SAMPLES samples of each; `x` `[N]` a fixed plotting
    range that holds p and q_theta for every theta."""

    p_title: str
    q_title: str
    scale: float
    thetas: np.ndarray
    kl_pq: np.ndarray
    kl_qp: np.ndarray
    js: np.ndarray
    w1: np.ndarray
    closed_kl_pq: np.ndarray | None
    closed_kl_qp: np.ndarray | None
    closed_w1: np.ndarray | None
    pot_thetas: np.ndarray
    pot_w1: np.ndarray
    x: np.ndarray


def shape(name: str) -> Measure1D:
    if name not in SHAPES_1D:
        raise KeyError(f"unknown 1D shape '{name}'; choose one of {', '.join(SHAPES_1D)}")
    return SHAPES_1D[name]


def _visual_range(m: Measure1D) -> tuple[float, float]:
    """Where a measure is visible: +- 4 std around each Gaussian, each box with a margin."""
    spans = [
        (a - 4 * b, a + 4 * b) if kind == "normal" else (a - 0.5, b + 0.5)
        for kind, a, b in zip(m.kinds, m.a, m.b, strict=True)
    ]
    return min(s[0] for s in spans), max(s[1] for s in spans)


def _closed_forms(p: Measure1D, q: Measure1D) -> tuple[float, float, float] | None:
    """(KL(p||q), KL(q||p), W_1) in closed form when both are single Gaussians."""
    gp, gq = p.gaussian(), q.gaussian()
    if gp is None or gq is None:
        return None
    return kl_gaussians(*gp, *gq), kl_gaussians(*gq, *gp), w1_gaussians_1d(*gp, *gq)


def shift_curves(p_name: str, q_name: str, scale: float = 1.0, step: float = 0.1, seed: int = 0) -> ShiftCurves:
    """The curves against theta in [-SHIFT_MAX, SHIFT_MAX] for p = `p_name`, q = `q_name` scaled by `scale`."""
    p, q0 = shape(p_name), shape(q_name).moved(0.0, scale)
    thetas = _curve_thetas(SHIFT_MAX, step)
    values = [divergences_1d(p, q0.moved(float(t)), n=CURVE_CELLS) for t in thetas]
    closed = [_closed_forms(p, q0.moved(float(t))) for t in thetas]
    has_closed = closed[0] is not None
    rng = np.random.default_rng(seed)
    xp, xq = p.sample(POT_SAMPLES, rng), q0.sample(POT_SAMPLES, rng)
    pot_thetas = _curve_thetas(SHIFT_MAX, 1.0)
    pot = np.array([w1_samples(xp, xq + t) for t in pot_thetas])  # the same draws, moved: a smooth curve
    lo_p, hi_p = _visual_range(p)
    lo_q, hi_q = _visual_range(q0)
    x = np.linspace(min(lo_p, lo_q - SHIFT_MAX), max(hi_p, hi_q + SHIFT_MAX), 1201)
    return ShiftCurves(
        p.title,
        q0.title if scale == 1 else f"{q0.title}, scaled ×{scale:g}",
        float(scale),
        thetas,
        np.array([v.kl_pq for v in values]),
        np.array([v.kl_qp for v in values]),
        np.array([v.js for v in values]),
        np.array([v.w1 for v in values]),
        np.array([c[0] for c in closed]) if has_closed else None,
        np.array([c[1] for c in closed]) if has_closed else None,
        np.array([c[2] for c in closed]) if has_closed else None,
        pot_thetas,
        pot,
        x,
    )


@dataclass(frozen=True)
class ShiftNow:
    """The values at the current shift: `now` by quadrature (2000 nodes per window), `closed` the
    Gaussian closed forms (KL(p||q), KL(q||p), W_1) or None, `pot_w1` from POT_SAMPLES fresh samples of
    each and `pot_floor` the larger of the same between two independent samples of p, and of q (the
    sampling noise level: a mixture's component weights fluctuate too);
    `p`, `q` the densities on the curves' `x`."""

    theta: float
    now: Divergences
    closed: tuple[float, float, float] | None
    pot_w1: float
    pot_floor: float
    p: np.ndarray
    q: np.ndarray


def shift_now(p_name: str, q_name: str, scale: float, theta: float, x: np.ndarray, seed: int = 1) -> ShiftNow:
    theta = float(np.clip(theta, -SHIFT_MAX, SHIFT_MAX))
    p, q = shape(p_name), shape(q_name).moved(theta, scale)
    rng = np.random.default_rng(seed)
    xp, xq = p.sample(POT_SAMPLES, rng), q.sample(POT_SAMPLES, rng)
    pot = w1_samples(xp, xq)
    floor = max(w1_samples(xp, p.sample(POT_SAMPLES, rng)), w1_samples(xq, q.sample(POT_SAMPLES, rng)))
    return ShiftNow(theta, divergences_1d(p, q), _closed_forms(p, q), pot, floor, p.pdf(x), q.pdf(x))


# --- the optimal discriminator between two 2D densities -------------------------------------------
@dataclass(frozen=True)
class DiscriminatorView2D:
    """D* = p / (p + q) `[n, n]` on `axis` `[n]` over [-lim, lim]^2 (indexed [y, x]) and the mixture
    density (p + q) / 2 there (`mass`, to fade D* where nothing lives); `p_samples`, `q_samples` `[m, 2]`
    to draw; the divergences by grid integration (`integration_lim`, `integration_n`), the GAN value
    V(D*, G) by the same grid, `now.w1` by exact OT between POT_SAMPLES_2D samples of each (`w1_floor`:
    the same between two independent samples of p, the sampling noise floor), and the
    Gaussian closed form of KL(p || q) when both are Gaussian (else None)."""

    p_title: str
    q_title: str
    axis: np.ndarray
    d_star: np.ndarray
    mass: np.ndarray
    lim: float
    p_samples: np.ndarray
    q_samples: np.ndarray
    now: Divergences
    w1_floor: float
    gan_value: float
    closed_kl: tuple[float, float] | None
    integration_lim: float
    integration_n: int


class _LastCall:
    """A log density that remembers its last grid: the four grid integrals of `discriminator_view_2d`
    (KL both ways, JS, the GAN value) evaluate p and q on the same points, so each is computed once."""

    def __init__(self, log_prob) -> None:
        self.log_prob, self.x, self.value = log_prob, None, None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.x is None or self.x.shape != x.shape or self.x.dtype != x.dtype or not torch.equal(self.x, x):
            self.x, self.value = x, self.log_prob(x)
        return self.value


def pot_floor_2d(p_name: str, seed: int = 0) -> float:
    """W_1 by POT between two independent POT_SAMPLES_2D-samples of p: the sampling noise floor."""
    p, generator = get_density(p_name), make_generator(seed + 1)
    return w1_samples(p.sample(POT_SAMPLES_2D, generator).numpy(), p.sample(POT_SAMPLES_2D, generator).numpy())


def plane_limit(*samples: torch.Tensor) -> float:
    """Half-width of the square that holds 99.5% of the samples `[n, 2]` of both densities (5 to 20)."""
    both = torch.cat([x.double() for x in samples]).abs()
    return float(np.clip(math.ceil(float(torch.quantile(both.amax(1), 0.995)) + 0.5), 5.0, 20.0))


def discriminator_view_2d(
    p_name: str,
    q_name: str,
    shift: tuple[float, float] = (0.0, 0.0),
    scale: float = 1.0,
    n: int = 160,
    seed: int = 0,
    floor: float | None = None,
) -> DiscriminatorView2D:
    """p = the canonical density `p_name`, q = `q_name` moved by `shift` and scaled by `scale` (both exact),
    D* on an n x n grid; `floor` is `pot_floor_2d(p_name, seed)`, computed here when not given."""
    p = get_density(p_name)
    q = Moved(get_density(q_name), shift, scale)
    if not p.has_log_prob:
        raise ValueError(f"{p.title} has no closed-form density: D* needs both densities exactly")
    lim_int, n_int = integration_square(p, q)
    generator = make_generator(seed)
    xp, xq = p.sample(POT_SAMPLES_2D, generator).double(), q.sample(POT_SAMPLES_2D, generator).double()
    lim = plane_limit(xp, xq)
    grid = make_grid(lim, n)
    with torch.no_grad():
        points = grid.points.double()
        d_star = optimal_discriminator(p, q, points)
        mass = 0.5 * (p.log_prob(points).exp() + q.log_prob(points).exp())
    log_p, log_q = _LastCall(p.log_prob), _LastCall(q.log_prob)
    kl_pq = kl_grid(log_p, log_q, lim_int, n_int)
    kl_qp = kl_grid(log_q, log_p, lim_int, n_int)
    js = js_divergence_grid(log_p, log_q, lim_int, n_int)
    closed = None
    if p_name == "gaussian" and q_name == "gaussian":
        closed = (
            kl_gaussians(np.zeros(2), 1.0, np.array(shift), scale, 2),
            kl_gaussians(np.array(shift), scale, np.zeros(2), 1.0, 2),
        )
    return DiscriminatorView2D(
        p.title,
        q.title,
        grid.axis,
        grid.as_image(d_star),
        grid.as_image(mass),
        lim,
        xp[:300].float().numpy(),
        xq[:300].float().numpy(),
        Divergences(kl_pq, kl_qp, js, w1_samples(xp.numpy(), xq.numpy())),
        pot_floor_2d(p_name, seed) if floor is None else floor,
        gan_value_at_optimum(log_p, log_q, lim_int, n_int),
        closed,
        lim_int,
        n_int,
    )
