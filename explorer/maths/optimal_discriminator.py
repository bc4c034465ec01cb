"""The optimal GAN discriminator between two densities, and the Jensen-Shannon divergence behind it.

For a fixed generator with density q and data density p, the discriminator maximising the GAN value

    V(D, G) = E_{x ~ p}[log D(x)] + E_{x ~ q}[log(1 - D(x))]

is D*(x) = p(x) / (p(x) + q(x)) (docs/architecture.md, "Ground truth"), and at that optimum

    V(D*, G) = -log 4 + 2 JS(p || q),   JS(p || q) = 1/2 KL(p || m) + 1/2 KL(q || m),   m = (p + q) / 2,

so 0 <= JS <= log 2, with JS = 0 iff q = p (where D* = 1/2 everywhere) and JS = log 2 for disjoint
supports. The data density p is exact for the explorer's Gaussian mixtures and checkerboard; a
generator only gives samples, so its density q is estimated by a Gaussian kernel density estimate
(`kde_log_density`). Log densities are callables `x [n, 2] -> [n]` (a `Density`'s `log_prob`, or a
`Density` itself); everything is computed from logs, so densities far below float precision
(log p = -1000) and exact zeros (log p = -inf, e.g. outside the checkerboard's cells) stay finite.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from explorer.data.densities import Density
from explorer.maths.grid import make_grid

LogDensity = Callable[[Tensor], Tensor]

# Smallest default bandwidth: a generator collapsed onto one point still gives a finite KDE.
MIN_BANDWIDTH = 1e-2
# Kernel exponents below this are treated as exp(-80) ~ 2e-35 (exact for any sum with a term of size 1,
# and it keeps exp() off the slow denormal path, which costs ~10x on CPUs).
_EXP_FLOOR = -80.0
# Kernel evaluations per chunk ([rows, m] matrix): bounds the memory of a KDE call to ~8 MB in float32.
_CHUNK_ELEMENTS = 1 << 21


def _as_log_density(log_density: LogDensity | Density) -> LogDensity:
    """A `Density` -> its `log_prob`; a callable is returned as is."""
    return log_density.log_prob if isinstance(log_density, Density) else log_density


def log_optimal_discriminator(log_p: Tensor, log_q: Tensor) -> tuple[Tensor, Tensor]:
    """(log D*, log(1 - D*)) `[n]` from log p `[n]` and log q `[n]`.

    log D* = -softplus(log q - log p) and log(1 - D*) = -softplus(log p - log q), finite wherever
    either density is positive; where both are zero (both -inf) D* is taken as 1/2 (-log 2).
    """
    both_zero = torch.isneginf(log_p) & torch.isneginf(log_q)
    lp = torch.where(both_zero, torch.zeros_like(log_p), log_p)
    lq = torch.where(both_zero, torch.zeros_like(log_q), log_q)
    return -F.softplus(lq - lp), -F.softplus(lp - lq)


def optimal_discriminator(log_p: LogDensity | Density, log_q: LogDensity | Density, x: Tensor) -> Tensor:
    """D*(x) = p(x) / (p(x) + q(x)) = sigmoid(log p(x) - log q(x)) at points `x: [n, 2]` -> `[n]`.

    Computed from the log densities, so it is exact where p and q underflow; 1 where only p is
    positive, 0 where only q is, and 1/2 where both are zero (the convention of a page's heatmap:
    no evidence either way).
    """
    lp, lq = _as_log_density(log_p)(x), _as_log_density(log_q)(x)
    both_zero = torch.isneginf(lp) & torch.isneginf(lq)
    return torch.where(both_zero, torch.full_like(lp, 0.5), torch.sigmoid(lp - lq))


def _log_kernel_sums(x: Tensor, samples: Tensor, bandwidth: float, exclude_self: bool = False) -> Tensor:
    """log sum_j exp(-|x_i - y_j|^2 / (2 h^2)) for `x: [n, 2]`, `samples: [m, 2]` -> `[n]`.

    Batched over rows of x (chunks of `_CHUNK_ELEMENTS` kernel values). With `exclude_self`, x must
    be `samples` and the j = i term is left out (leave-one-out). Distances are expanded as
    |x|^2 + |y|^2 - 2 x.y about the samples' mean (one matrix product per chunk).
    """
    k = 0.5 / bandwidth**2
    centre = samples.mean(0)
    ys = samples - centre
    y_term = ys.pow(2).sum(1).mul(-k)  # -k |y_j|^2, [m]
    rows = max(1, _CHUNK_ELEMENTS // max(1, samples.shape[0]))
    out = []
    for start in range(0, x.shape[0], rows):
        xs = x[start : start + rows] - centre
        # e_ij = -k (|y_j|^2 - 2 x_i.y_j); the -k |x_i|^2 term is added after the sum
        e = torch.addmm(y_term.expand(xs.shape[0], -1), xs, ys.T, alpha=2 * k)
        if exclude_self:
            e.diagonal(offset=start).fill_(-math.inf)
        top = e.amax(1, keepdim=True)
        w = e.sub_(top).clamp_min_(_EXP_FLOOR).exp_()
        if exclude_self:
            w.diagonal(offset=start).fill_(0.0)
        out.append(w.sum(1).log_() + top[:, 0] - k * xs.pow(2).sum(1))
    return torch.cat(out) if out else x.new_zeros(0)


def scott_bandwidth(samples: Tensor) -> float:
    """Scott's rule for an isotropic 2D Gaussian kernel: h = sigma m^(-1/(d + 4)) = sigma m^(-1/6).

    `samples: [m, 2]`; sigma^2 is the mean of the two per-axis sample variances. In d = 2 Silverman's
    rule, (4 / (d + 2))^(1/(d + 4)) sigma m^(-1/(d + 4)), has the factor (4/4)^(1/6) = 1, so the two
    rules coincide. Both are optimal (in mean integrated squared error) for a Gaussian; for a
    multimodal density they are set by the spread between the modes, not their width, and so
    oversmooth (eight_gaussians: h ~ 0.8 at m = 2000 against a mode std of 0.3). Floored at
    `MIN_BANDWIDTH` so that collapsed samples (all equal) still give a finite density.
    """
    m = samples.shape[0]
    if m < 2:
        return MIN_BANDWIDTH
    sigma = math.sqrt(float(samples.double().var(dim=0).mean()))
    return max(sigma * m ** (-1.0 / 6.0), MIN_BANDWIDTH)


def cv_bandwidth(samples: Tensor, max_points: int = 1000) -> float:
    """The bandwidth maximising the leave-one-out log-likelihood of the samples `[m, 2]`.

        h_cv = argmax_h (1/m) sum_j log q_{h,-j}(y_j),  q_{h,-j} = KDE of the samples other than y_j,

    over the candidates h = h_scott 2^(k/2), k = -8 .. 1 (1/16 to 1.4 times Scott's rule), floored
    at `MIN_BANDWIDTH`. Unlike Scott's rule it follows the width of the modes, not their spread
    (perfect eight_gaussians samples, m = 2000: h_cv ~ 0.14 against h_scott ~ 0.80). Above
    `max_points` samples the search runs on an evenly strided subset of that size and the result is
    rescaled by the m^(-1/6) rate: h_cv(m) = h_cv(subset) (subset / m)^(1/6). ~10 ms at m >= 1000.
    """
    samples = samples.detach().reshape(-1, 2)
    m = samples.shape[0]
    if m < 3:
        return scott_bandwidth(samples)
    subset = samples[torch.linspace(0, m - 1, min(m, max_points)).long()] if m > max_points else samples
    base = scott_bandwidth(subset)
    best_h, best_ll = base, -math.inf
    for k in range(-8, 2):
        h = max(base * 2 ** (k / 2), MIN_BANDWIDTH)
        ll = float(_log_kernel_sums(subset, subset, h, exclude_self=True).mean()) - math.log(2 * math.pi * h**2)
        if ll > best_ll:
            best_h, best_ll = h, ll
    return max(best_h * (subset.shape[0] / m) ** (1.0 / 6.0), MIN_BANDWIDTH)


def resolve_bandwidth(samples: Tensor, bandwidth: float | str | None) -> float:
    """A bandwidth from a rule: a number is used as is; None or "scott" -> `scott_bandwidth`;
    "cv" -> `cv_bandwidth` (leave-one-out likelihood)."""
    if bandwidth is None or bandwidth == "scott":
        return scott_bandwidth(samples)
    if bandwidth == "cv":
        return cv_bandwidth(samples)
    if isinstance(bandwidth, str):
        raise ValueError(f"unknown bandwidth rule '{bandwidth}'; use a number, 'scott' or 'cv'")
    h = float(bandwidth)
    if not (h > 0 and math.isfinite(h)):
        raise ValueError(f"bandwidth must be positive and finite, got {bandwidth}")
    return h


class GaussianKDE:
    """q(x) = (1/m) sum_j N(x; y_j, h^2 I): a Gaussian kernel density estimate from samples `[m, 2]`.

    Calling it gives log q(x) `[n]` for `x: [n, 2]`:

        log q(x) = logsumexp_j(-|x - y_j|^2 / (2 h^2)) - log m - log(2 pi h^2).

    h is `bandwidth`, or the rule it names (`resolve_bandwidth`: None / "scott" -> Scott's rule,
    "cv" -> leave-one-out likelihood). Non-finite sample rows (a diverged generator) are dropped;
    `n_dropped` counts them. The computation runs in the wider of the samples' and the query's
    float dtypes, on the samples' device (m = 2000 samples on a 60 x 60 grid: ~10 ms in float32 on
    one CPU thread).
    """

    def __init__(self, samples: Tensor, bandwidth: float | str | None = None) -> None:
        samples = torch.as_tensor(samples).detach().reshape(-1, 2)
        if not samples.is_floating_point():
            samples = samples.float()
        finite = torch.isfinite(samples).all(1)
        self.n_dropped = int((~finite).sum())
        self.samples = samples[finite]
        if self.samples.shape[0] == 0:
            raise ValueError("a kernel density estimate needs at least one finite sample")
        self.bandwidth = resolve_bandwidth(self.samples, bandwidth)

    @property
    def m(self) -> int:
        return self.samples.shape[0]

    def _log_norm(self, count: int) -> float:
        return math.log(count) + math.log(2 * math.pi * self.bandwidth**2)

    def __call__(self, x: Tensor) -> Tensor:
        dtype = torch.promote_types(self.samples.dtype, x.dtype) if x.is_floating_point() else self.samples.dtype
        xs = x.detach().to(self.samples.device, dtype).reshape(-1, 2)
        sums = _log_kernel_sums(xs, self.samples.to(dtype), self.bandwidth)
        return (sums - self._log_norm(self.m)).to(x.device)

    def log_density_at_samples(self) -> Tensor:
        """Leave-one-out log q_{-j}(y_j) `[m]`: the KDE of the other m - 1 samples at each sample.

        Removes the self-match term N(0; 0, h^2 I) that makes a KDE overrate its own samples.
        Needs m >= 2.
        """
        if self.m < 2:
            raise ValueError("leave-one-out needs at least two samples")
        sums = _log_kernel_sums(self.samples, self.samples, self.bandwidth, exclude_self=True)
        return sums - self._log_norm(self.m - 1)


def kde_log_density(samples: Tensor, bandwidth: float | str | None = None) -> GaussianKDE:
    """log q for the Gaussian KDE of `samples: [m, 2]`: a callable `x [n, 2] -> log q(x) [n]`.

        log q(x) = log (1/m) sum_j N(x; y_j, h^2 I),

    with h = `bandwidth` if a number; by default (None or "scott") Scott's rule h = sigma m^(-1/6),
    equal to Silverman's in 2D (see `scott_bandwidth`: it oversmooths multimodal densities); "cv"
    picks h by leave-one-out likelihood (`cv_bandwidth`). The returned `GaussianKDE` also exposes
    `.bandwidth` and the leave-one-out `.log_density_at_samples()`.
    """
    return GaussianKDE(samples, bandwidth)


def _grid(lim: float, n: int) -> tuple[Tensor, float]:
    """Grid points `[n * n, 2]` (float64, row-major as `make_grid`) and the cell area dA."""
    grid = make_grid(lim, n)
    return grid.points.double(), grid.spacing**2


def _plogp_ratio(p: Tensor, log_ratio: Tensor) -> Tensor:
    """p * log_ratio with the convention 0 * anything = 0 (also 0 * -inf)."""
    return torch.where(p > 0, p * log_ratio, torch.zeros_like(p))


def _js_from_logs(lp: Tensor, lq: Tensor, area: float) -> float:
    """JS = sum_cells [p log(2 D*) + q log(2 (1 - D*))] dA / 2 from log p, log q on grid cells."""
    log_d, log_1md = log_optimal_discriminator(lp, lq)
    p, q = lp.exp(), lq.exp()
    js = 0.5 * (_plogp_ratio(p, log_d + math.log(2)) + _plogp_ratio(q, log_1md + math.log(2))).sum() * area
    return float(js)


def js_divergence_grid(
    log_p: LogDensity | Density, log_q: LogDensity | Density, lim: float = 6.0, n: int = 200
) -> float:
    """JS(p || q) in nats by a Riemann sum on an n x n grid over [-lim, lim]^2.

        JS = 1/2 int p log(p / m) + 1/2 int q log(q / m) dx,  m = (p + q) / 2,
           = 1/2 int p log(2 D*) + q log(2 (1 - D*)) dx.

    Accurate only when both densities put (almost) all their mass inside the square and the grid
    resolves them (spacing 2 lim / (n - 1) below ~ their smallest length scale); mass outside is
    simply not counted. Evaluated in float64.
    """
    points, area = _grid(lim, n)
    with torch.no_grad():
        lp, lq = _as_log_density(log_p)(points).double(), _as_log_density(log_q)(points).double()
    return _js_from_logs(lp, lq, area)


def gan_value_at_optimum(
    log_p: LogDensity | Density, log_q: LogDensity | Density, lim: float = 6.0, n: int = 200
) -> float:
    """V(D*, G) = int p log D* + q log(1 - D*) dx by a Riemann sum on an n x n grid over [-lim, lim]^2.

    Theory: V(D*, G) = -log 4 + 2 JS(p || q), so -log 4 <= V <= 0. Same accuracy caveats as
    `js_divergence_grid` (here mass outside the square also shifts V by up to -log 2 times it).
    """
    points, area = _grid(lim, n)
    with torch.no_grad():
        lp, lq = _as_log_density(log_p)(points).double(), _as_log_density(log_q)(points).double()
    log_d, log_1md = log_optimal_discriminator(lp, lq)
    return float((_plogp_ratio(lp.exp(), log_d) + _plogp_ratio(lq.exp(), log_1md)).sum() * area)


def js_estimate_from_samples(
    log_p: LogDensity | Density, data: Tensor, generated: Tensor, bandwidth: float | str | None = "cv"
) -> float:
    """A sample-based ESTIMATE of JS(p || q) in nats between the data density p and a generator q.

        JS = log 2 + 1/2 E_p[log D*(x)] + 1/2 E_q[log(1 - D*(x))],   D* = p / (p + q),

    with the expectations replaced by means over `data: [n, 2]` (samples of p) and `generated:
    [m, 2]` (the generator's samples), and D* by the plug-in D_h = p / (p + q_h): log p exact, q_h
    the Gaussian KDE of the generated samples (`kde_log_density`; bandwidth by leave-one-out
    likelihood by default, see below). At each generated point q_h leaves that point out, so D_h
    never sees the point it is evaluated at.

    What it is and how it is biased (an estimate, not the truth):
    - it equals (V(D_h, G) + log 4) / 2, the GAN value of the plug-in discriminator; since D*
      maximises V, its expectation is <= JS(p || q) (up to the one left-out sample): it is biased
      LOW, by more the worse q_h matches q. A perfect generator (q = p) scores slightly below 0,
      not 0: measured at n = m = 2000 with the "cv" bandwidth, -0.02 .. 0 nats on the explorer's
      mixtures and the checkerboard; with Scott's rule (`bandwidth=None`), which oversmooths
      multimodal p, -0.24 on eight_gaussians. Compare a model to samples of p at the same sizes.
    - Monte Carlo noise of order 1 / sqrt(n) + 1 / sqrt(m) on top; it never exceeds log 2 (each
      log term is <= 0).
    Non-finite generated rows are dropped by the KDE.
    """
    log_p = _as_log_density(log_p)
    data = torch.as_tensor(data).detach().reshape(-1, 2)
    kde = kde_log_density(generated, bandwidth)
    if kde.m < 2:
        raise ValueError("the estimate needs at least two finite generated samples")
    with torch.no_grad():
        data = data.to(kde.samples)
        log_d_data, _ = log_optimal_discriminator(log_p(data).double(), kde(data).double())
        lq_gen = kde.log_density_at_samples().double()
        _, log_1md_gen = log_optimal_discriminator(log_p(kde.samples).double(), lq_gen)
    return float(math.log(2) + 0.5 * log_d_data.mean() + 0.5 * log_1md_gen.mean())


@dataclass(frozen=True)
class DiscriminatorView:
    """What a page draws for the optimal discriminator against a generator's samples.

    `axis` `[n]` is the grid axis over [-lim, lim]; images are `[n, n]` indexed [y, x] (as
    `Grid.as_image`): `d_star` = p / (p + q_h) in [0, 1], `log_q` = log q_h (the KDE of the
    generated samples, bandwidth `bandwidth`), `log_p` = the exact data log density. `js` is the
    JS estimate in nats, by `js_method`: "grid" (JS(p || q_h) by a Riemann sum of the two images;
    mass outside the square is not counted) or "samples" (`js_estimate_from_samples`). Where both
    p and q_h are negligible (the far tails) d_star is a ratio of two tails and swings to 0 or 1 on
    no evidence; a page can fade it by the mixture density (exp(log_p) + exp(log_q)) / 2.
    """

    axis: np.ndarray
    d_star: np.ndarray
    log_q: np.ndarray
    log_p: np.ndarray
    js: float
    js_method: str
    bandwidth: float
    lim: float


def discriminator_view(
    log_p: LogDensity | Density,
    generated: Tensor,
    lim: float = 6.0,
    n: int = 60,
    *,
    bandwidth: float | str | None = "cv",
    data: Tensor | None = None,
) -> DiscriminatorView:
    """D* = p_data / (p_data + p_g) on an n x n grid over [-lim, lim]^2, p_g = KDE of `generated: [m, 2]`.

    `log_p` is the exact data log density; p_g is `kde_log_density(generated, bandwidth)`, by
    default with the leave-one-out likelihood bandwidth ("cv"), because Scott's rule blurs
    multimodal generators so much that a perfect eight_gaussians sampler would show D* far from 1/2
    (JS(p || q_h) ~ 0.30 nats at m = 2000, against ~0.01 with "cv"). The JS estimate is the Riemann
    sum of the view's own images (`js_method` "grid": JS(p || q_h) >= 0, biased high by the
    smoothing), or, when `data: [k, 2]` samples of p are given, `js_estimate_from_samples`
    ("samples": biased low, and it also counts generated mass outside the square).
    """
    log_p = _as_log_density(log_p)
    kde = kde_log_density(generated, bandwidth)
    grid = make_grid(lim, n, device=kde.samples.device)
    with torch.no_grad():
        lp = log_p(grid.points.to(kde.samples.dtype)).double()
        lq = kde(grid.points).double()
    log_d, _ = log_optimal_discriminator(lp, lq)
    if data is None:
        js, method = _js_from_logs(lp, lq, grid.spacing**2), "grid"
    else:
        js, method = js_estimate_from_samples(log_p, data, kde.samples, kde.bandwidth), "samples"
    return DiscriminatorView(
        axis=grid.axis,
        d_star=grid.as_image(log_d.exp()),
        log_q=grid.as_image(lq),
        log_p=grid.as_image(lp),
        js=js,
        js_method=method,
        bandwidth=kde.bandwidth,
        lim=float(lim),
    )
