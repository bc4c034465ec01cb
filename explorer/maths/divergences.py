"""KL, Jensen-Shannon and Wasserstein-1: exact or by numerical integration with exact densities.

With p, q densities and m = (p + q) / 2 (notation of the notes, all in nats):

    KL(p || q) = int p log(p / q) dx                       (+inf unless supp p is inside supp q)
    JS(p || q) = 1/2 KL(p || m) + 1/2 KL(q || m)           (0 <= JS <= log 2)
    W_1(p, q)  = inf_{pi in Pi(p, q)} E_{(x, y) ~ pi} |x - y|       (primal: optimal transport)
               = sup_{||f||_L <= 1} E_p f - E_q f                    (Kantorovich-Rubinstein dual)
               = int |F_p(x) - F_q(x)| dx = int_0^1 |F_p^{-1}(u) - F_q^{-1}(u)| du    (in 1D)

1D (`explorer.maths.measures.Measure1D`): integrals are Gauss-Legendre sums on `quadrature`, fine panels
over every window where p or q has mass and one node per gap between windows, in log space so that
far-apart densities do not underflow. KL = +inf is decided exactly from the supports. JS uses the
optimal discriminator D* = p / (p + q) of `explorer.maths.optimal_discriminator` (JS = 1/2 int p log 2D* +
q log 2(1 - D*)). 2D: Riemann sums on a square grid (`kl_grid`; JS and the GAN value come from
`explorer.maths.optimal_discriminator`). Samples: exact optimal transport between two empirical measures
with POT (`w1_samples`). Closed forms for Gaussians and the notes' point masses are here too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import ot
import torch
from scipy.spatial.distance import cdist

from explorer.maths.grid import make_grid
from explorer.maths.measures import Measure1D, merge_intervals, smallest_scale, support_radius
from explorer.maths.optimal_discriminator import LogDensity, log_optimal_discriminator

LOG2 = math.log(2.0)
CELLS = 2000  # cells (or quadrature nodes) per merged window
GAUSS_POINTS = 4  # Gauss-Legendre nodes per panel: exact for polynomials of degree 7


@dataclass(frozen=True)
class Divergences:
    """KL both ways, JS and W_1 between two distributions (nats; W_1 in units of x; inf where infinite)."""

    kl_pq: float
    kl_qp: float
    js: float
    w1: float


# --- closed forms ---------------------------------------------------------------------------------
def point_masses(theta: float) -> Divergences:
    """delta_0 against delta_theta: KL = +inf both ways, JS = log 2, W_1 = |theta| for theta != 0; all 0 at theta = 0.

    The supports {0} and {theta} are disjoint, so p / q is infinite on supp p (KL), D* = 1 on {0} and
    0 on {theta} (JS = 1/2 (log 2 + log 2)), and all the mass moves by |theta| (W_1)."""
    if not math.isfinite(theta):
        raise ValueError(f"theta must be finite, got {theta}")
    if theta == 0:
        return Divergences(0.0, 0.0, 0.0, 0.0)
    return Divergences(math.inf, math.inf, LOG2, abs(theta))


def kl_gaussians(m1: float | np.ndarray, s1: float, m2: float | np.ndarray, s2: float, dim: int = 1) -> float:
    """KL(N(m1, s1^2 I) || N(m2, s2^2 I)) in d = `dim` dimensions (m1, m2 scalars or `[d]`):

    d (log(s2 / s1) + s1^2 / (2 s2^2) - 1/2) + |m1 - m2|^2 / (2 s2^2)."""
    gap = float(np.sum((np.asarray(m1, float) - np.asarray(m2, float)) ** 2))
    return dim * (math.log(s2 / s1) + s1**2 / (2 * s2**2) - 0.5) + gap / (2 * s2**2)


def w1_gaussians_1d(m1: float, s1: float, m2: float, s2: float) -> float:
    """W_1(N(m1, s1^2), N(m2, s2^2)) in closed form.

    The optimal (monotone) map is T(x) = m2 + (s2 / s1)(x - m1), so X - T(X) ~ N(mu, tau^2) with
    mu = m1 - m2, tau = |s1 - s2|, and the folded-normal mean
    W_1 = E|N(mu, tau^2)| = tau sqrt(2/pi) exp(-mu^2 / 2tau^2) + mu (1 - 2 Phi(-mu/tau))
    (|mu| when tau = 0: a translation moves every point by |m1 - m2|)."""
    mu, tau = m1 - m2, abs(s1 - s2)
    if tau == 0:
        return abs(mu)
    z = mu / tau
    return tau * math.sqrt(2 / math.pi) * math.exp(-0.5 * z * z) + mu * math.erf(z / math.sqrt(2))


# --- 1D by numerical integration ------------------------------------------------------------------
def _cells(measures: tuple[Measure1D, ...], n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(midpoints, widths, is_gap) `[M]`: about `n` equal cells per merged window, split at every window's
    ends, and one cell per gap between merged windows."""
    windows = [w for m in measures for w in m.windows()]
    cuts = sorted({x for w in windows for x in w})
    mids, widths, gaps = [], [], []
    previous = None
    for lo, hi in merge_intervals(windows):
        if previous is not None:
            mids.append(np.array([0.5 * (previous + lo)]))
            widths.append(np.array([lo - previous]))
            gaps.append(np.array([True]))
        inner = [lo, *(c for c in cuts if lo < c < hi), hi]
        for a, b in zip(inner[:-1], inner[1:], strict=True):
            k = max(4, round(n * (b - a) / (hi - lo)))
            edges = np.linspace(a, b, k + 1)
            mids.append(0.5 * (edges[1:] + edges[:-1]))
            widths.append(np.diff(edges))
            gaps.append(np.zeros(k, dtype=bool))
        previous = hi
    return np.concatenate(mids), np.concatenate(widths), np.concatenate(gaps)


def integration_cells(*measures: Measure1D, n: int = CELLS) -> tuple[np.ndarray, np.ndarray]:
    """Midpoints and widths `[M]` of cells covering the hull of the measures' windows: about `n` equal
    cells per merged window, split at every window's ends (so a box's edges are cell edges), and one
    cell per gap between windows (there the CDFs are constant to ~1e-31 and the densities ~0)."""
    mid, width, _ = _cells(measures, n)
    return mid, width


def quadrature(*measures: Measure1D, n: int = CELLS) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights `[M]` for int g(x) dx ~ sum_i w_i g(x_i) over the hull of the measures' windows:
    the cells of `integration_cells` (n / GAUSS_POINTS per window) with GAUSS_POINTS Gauss-Legendre nodes
    each, and the midpoint of each gap cell. Exact for densities that are constant between window ends
    (boxes), ~1e-13 for Gaussians; a kink of the integrand inside a cell (|F_p - F_q| where the CDFs
    cross) costs O(cell width^2)."""
    mid, width, gap = _cells(measures, max(1, n // GAUSS_POINTS))
    t, wt = np.polynomial.legendre.leggauss(GAUSS_POINTS)
    panel_nodes = (mid[~gap, None] + 0.5 * width[~gap, None] * t).reshape(-1)
    panel_weights = (0.5 * width[~gap, None] * wt).reshape(-1)
    nodes = np.concatenate([panel_nodes, mid[gap]])
    order = np.argsort(nodes, kind="stable")
    return nodes[order], np.concatenate([panel_weights, width[gap]])[order]


def support_within(inner: list[tuple[float, float]], outer: list[tuple[float, float]]) -> bool:
    """Whether every interval of `inner` lies inside one interval of `outer` (both merged, closed)."""
    return all(any(o_lo <= lo and hi <= o_hi for o_lo, o_hi in outer) for lo, hi in inner)


def _kl_cells(lp: np.ndarray, lq: np.ndarray, width: np.ndarray) -> float:
    """sum p (log p - log q) width with 0 log 0 = 0; inf where p > 0 = q on a cell; clipped at 0 (KL >= 0)."""
    positive = np.isfinite(lp)
    if np.any(positive & np.isneginf(lq)):
        return math.inf
    terms = np.where(positive, np.exp(np.where(positive, lp, 0.0)) * (lp - np.where(positive, lq, 0.0)), 0.0)
    return max(0.0, float(np.sum(terms * width)))


def js_from_logs(lp: np.ndarray, lq: np.ndarray, width: np.ndarray | float) -> float:
    """JS = 1/2 sum [p log 2D* + q log 2(1 - D*)] width from log p, log q `[M]` on cells, with
    D* = p / (p + q) from `explorer.maths.optimal_discriminator.log_optimal_discriminator`. Not clipped: each
    term is at most (p + q) log 2 / 2, so JS <= log 2 up to the cells' error in the total mass."""
    log_d, log_1md = log_optimal_discriminator(torch.from_numpy(lp), torch.from_numpy(lq))
    p, q = np.exp(lp), np.exp(lq)
    with np.errstate(invalid="ignore"):  # 0 * -inf where a density is 0: masked to 0 below
        terms = np.where(p > 0, p * (log_d.numpy() + LOG2), 0.0) + np.where(q > 0, q * (log_1md.numpy() + LOG2), 0.0)
    return float(0.5 * np.sum(terms * width))


def divergences_1d(p: Measure1D, q: Measure1D, n: int = CELLS) -> Divergences:
    """KL(p || q), KL(q || p), JS(p || q) and W_1(p, q) = int |F_p - F_q| dx by `quadrature`.

    KL is +inf exactly when one support is not inside the other (e.g. two boxes that do not nest, or a
    box against a Gaussian); otherwise the quadrature with exact log densities (box edges are panel
    edges; ~1e-13 for Gaussians). Each kink of |F_p - F_q| (where the CDFs cross) costs O(panel width^2),
    ~1e-5 at the default n."""
    mid, width = quadrature(p, q, n=n)
    lp, lq = p.log_pdf(mid), q.log_pdf(mid)
    kl_pq = _kl_cells(lp, lq, width) if support_within(p.support(), q.support()) else math.inf
    kl_qp = _kl_cells(lq, lp, width) if support_within(q.support(), p.support()) else math.inf
    w1 = float(np.sum(np.abs(p.cdf(mid) - q.cdf(mid)) * width))
    return Divergences(kl_pq, kl_qp, js_from_logs(lp, lq, width), w1)


def w1_cdf(p: Measure1D, q: Measure1D, n: int = CELLS) -> float:
    """W_1(p, q) = int |F_p(x) - F_q(x)| dx with the exact CDFs (the 1D closed form)."""
    mid, width = quadrature(p, q, n=n)
    return float(np.sum(np.abs(p.cdf(mid) - q.cdf(mid)) * width))


def w1_quantiles(p: Measure1D, q: Measure1D, n: int = 4000) -> float:
    """W_1(p, q) = int_0^1 |F_p^{-1}(u) - F_q^{-1}(u)| du (midpoint rule in u): the cost of the monotone plan."""
    src, dst, mass = monotone_plan(p, q, n)
    return float(np.sum(np.abs(dst - src) * mass))


def monotone_plan(p: Measure1D, q: Measure1D, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The optimal 1D transport plan, discretised: the quantile u_i = (i + 1/2) / k of p goes to the same
    quantile of q. Returns sources F_p^{-1}(u) `[k]`, targets F_q^{-1}(u) `[k]` and masses 1/k `[k]`.
    (In 1D the monotone coupling (F_p^{-1}(U), F_q^{-1}(U)), U ~ U[0, 1], is optimal for any convex cost.)"""
    u = (np.arange(k) + 0.5) / k
    return p.quantile(u), q.quantile(u), np.full(k, 1.0 / k)


def kantorovich_potential_1d(p: Measure1D, q: Measure1D, n: int = CELLS) -> tuple[np.ndarray, np.ndarray, float]:
    """An optimal critic of the Kantorovich-Rubinstein dual in 1D, and the dual value.

    f'(x) = -sign(F_p(x) - F_q(x)) makes f 1-Lipschitz and, integrating by parts,
    E_p f - E_q f = -int f' (F_p - F_q) dx = int |F_p - F_q| dx = W_1. Returns (x `[M]`, f(x) `[M]`
    with f = 0 at the left edge, E_p f - E_q f) on `integration_cells`."""
    mid, width = integration_cells(p, q, n=n)
    slope = -np.sign(p.cdf(mid) - q.cdf(mid))
    f = np.cumsum(slope * width) - 0.5 * slope * width  # f at the cell midpoints
    value = float(np.sum(f * (p.pdf(mid) - q.pdf(mid)) * width))
    return mid, f, value


# --- samples: exact optimal transport with POT ----------------------------------------------------
def w1_samples(x: np.ndarray, y: np.ndarray, max_iter: int = 10_000_000) -> float:
    """W_1 between the empirical measures of `x: [n]` or `[n, d]` and `y: [m]` or `[m, d]` (uniform
    weights), solved exactly with POT: by its network simplex (`ot.emd2`) on the Euclidean cost
    |x_i - y_j|, or in 1D (d = 1) by `ot.emd2_1d`, the same optimum from sorted samples in O(n log n).

    An estimate of W_1 between the laws the samples come from, biased up by sampling noise: two samples
    of the same law are at W_1 ~ c / sqrt(n) in 1D (more in 2D), never 0."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    if not (len(x) and len(y)) or not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("W_1 from samples needs finite, non-empty samples")
    a, b = np.full(len(x), 1.0 / len(x)), np.full(len(y), 1.0 / len(y))
    if x.shape[1] == 1 and y.shape[1] == 1:
        return float(ot.emd2_1d(x[:, 0], y[:, 0], a, b, metric="euclidean"))
    cost = cdist(x, y)  # |x_i - y_j|; 5x faster here than ot.dist's matrix-product route
    return float(ot.emd2(a, b, cost, numItermax=max_iter))


# --- 2D on a grid ---------------------------------------------------------------------------------
def integration_grid(radius: float, finest: float) -> tuple[float, int]:
    """(lim, n) for `make_grid`: spacing h = 1/8 (halved until h <= finest / 1.2) and points at the
    midpoints of the lattice h Z^2, lim = (m + 1/2) h >= radius. A Riemann sum of a Gaussian of std
    >= 1.2 h is then accurate to ~exp(-2 pi^2 1.2^2) ~ 1e-12, and edges on the lattice (the
    checkerboard's, moved by multiples of 1/4 and scaled by the slider's factors) never meet a
    point, so piecewise-constant densities are summed exactly."""
    h = 0.125
    while h > finest / 1.2:
        h /= 2
    m = math.ceil(radius / h)
    return (m + 0.5) * h, 2 * m + 2


def integration_square(*densities) -> tuple[float, int]:
    """(lim, n) of an `integration_grid` that holds every one of `densities` (exact 2D densities) and resolves
    the finest of them."""
    return integration_grid(max(map(support_radius, densities)), min(map(smallest_scale, densities)))


def kl_grid(log_p: LogDensity, log_q: LogDensity, lim: float, n: int) -> float:
    """KL(p || q) in nats by a Riemann sum on an n x n grid over [-lim, lim]^2 (float64):

        KL = sum_cells p (log p - log q) dA,

    +inf if some grid point has p > 0 = q (log p finite, log q = -inf), e.g. a Gaussian against the
    checkerboard. Accurate when the square holds both densities and the spacing 2 lim / (n - 1) is below
    their finest length scale; clipped at 0."""
    grid = make_grid(lim, n)
    with torch.no_grad():
        points = grid.points.double()
        lp, lq = log_p(points).double().numpy(), log_q(points).double().numpy()
    return _kl_cells(lp, lq, np.asarray(grid.spacing**2))
