"""Sample quality against the truth (docs/architecture.md, "Toy densities and quality"; docs/decisions.md, "Quality").

- energy distance E(X, Y) = 2 E|X - Y| - E|X - X'| - E|Y - Y'| (U-statistics), with the
  two-sample noise floor: its mean between two independent true samples of the same size;
- for Gaussian mixtures: the log-density gap E_data[log p] - E_model[log p] in nats; the Wasserstein-1
  distance between the laws of log p(x) under the model and under the data, and the off-mode mass (the
  share of samples below the data's 1% quantile of log p), which cannot cancel as the gap can (mass too
  concentrated on the modes offsets mass on the bridges between them); and mode coverage: the total
  variation between per-component mass (nearest mean) and the weights;
- for the checkerboard: the fraction of samples outside the black cells, and the total
  variation of the per-cell masses (mass outside every cell counts as misplaced).

`quality` picks the metrics a density supports and pairs each with what a perfect sampler of
the same size would score, so a page can draw that reference line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from explorer.data.densities import Checkerboard, Density, GaussianMixture


def energy_distance(x: Tensor, y: Tensor) -> float:
    """Energy distance (V-statistic) between x `[n, d]` and y `[m, d]`: >= 0, and 0 iff x == y as sets."""
    x, y = x.double(), y.double()
    return float(2 * torch.cdist(x, y).mean() - torch.cdist(x, x).mean() - torch.cdist(y, y).mean())


def energy_floor(density: Density, n: int, generator: torch.Generator, repeats: int = 4) -> float:
    """Mean energy distance between two independent n-samples of the target (the noise floor)."""
    values = [energy_distance(density.sample(n, generator), density.sample(n, generator)) for _ in range(repeats)]
    return float(sum(values) / len(values))


def log_density_gap(model_logp: Tensor, data_logp: Tensor) -> float:
    """E_data[log p] - E_model[log p] in nats, from log p of model samples `[n]` and of data `[m]`: ~0 for a
    perfect sampler, > 0 for mass off the modes, < 0 for mass too concentrated on them (the two can cancel)."""
    return float(data_logp.double().mean() - model_logp.double().mean())


def wasserstein_1d(x: Tensor, y: Tensor) -> float:
    """W_1 between the empirical laws of x `[n]` and y `[m]`: int |F_x(t) - F_y(t)| dt, exact from the sorted
    values (sizes may differ)."""
    x, y = torch.sort(x.double().flatten()).values, torch.sort(y.double().flatten()).values
    knots = torch.sort(torch.cat([x, y])).values
    f_x = torch.searchsorted(x, knots[:-1], right=True) / x.numel()
    f_y = torch.searchsorted(y, knots[:-1], right=True) / y.numel()
    return float(((f_x - f_y).abs() * knots.diff()).sum())


def expected_wasserstein_1d(reference: Tensor, n: int) -> float:
    """E[W_1] between n and m = len(reference) independent samples of the law of `reference` `[m]`, to first
    order: sqrt(2 / pi) sqrt(1/n + 1/m) int sqrt(F(t) (1 - F(t))) dt (sqrt(n) (F_n - F) tends to a Brownian
    bridge B(F), and E|B(u)| = sqrt(2 u (1 - u) / pi)); F is the empirical CDF of `reference`."""
    values = torch.sort(reference.double().flatten()).values
    m = values.numel()
    f = torch.arange(1, m, dtype=torch.float64) / m
    spread = float((torch.sqrt(f * (1 - f)) * values.diff()).sum())
    return math.sqrt(2 / math.pi) * math.sqrt(1 / n + 1 / m) * spread


def mode_tv(samples: Tensor, mixture: GaussianMixture) -> float:
    """0.5 sum_k |mass_k - w_k| with mass_k the fraction of samples nearest to mean k."""
    k = mixture.means.shape[0]
    counts = torch.bincount(mixture.nearest_component(samples), minlength=k).double()
    return float(0.5 * (counts / samples.shape[0] - mixture.weights.double().to(counts.device)).abs().sum())


def cell_masses(samples: Tensor, board: Checkerboard) -> tuple[Tensor, float]:
    """(share of samples `[n, 2]` in each black cell `[8]`, share outside every cell)."""
    cells = board.cell_index(samples)
    masses = torch.bincount(cells[cells >= 0], minlength=8).double() / samples.shape[0]
    return masses, float((cells < 0).double().mean())


def checkerboard_metrics(samples: Tensor, board: Checkerboard) -> tuple[float, float]:
    """(fraction outside the black cells, total variation of the per-cell masses vs 1/8, outside counting as
    misplaced)."""
    masses, outside = cell_masses(samples, board)
    return outside, float(0.5 * ((masses - 1 / 8).abs().sum() + outside))


def expected_multinomial_tv(weights: Tensor, n: int) -> float:
    """E[TV] of the empirical masses of n perfect samples: ~ 0.5 sum_k sqrt(2 w_k (1 - w_k) / (pi n))."""
    w = weights.double()
    return float(0.5 * torch.sqrt(2 * w * (1 - w) / (math.pi * n)).sum())


OFF_MODE_QUANTILE = 0.01  # "off the modes": where log p is below the data's 1% quantile (1% of perfect samples)


@dataclass(frozen=True)
class Metric:
    """One quality figure: its value and what a perfect sampler of the same size would score."""

    name: str
    value: float
    perfect: float


class QualityMeter:
    """Scores model samples against one density, with the reference statistics computed once.

    `meter(samples [n, 2]) -> {key: Metric}`: for Gaussian mixtures the log-density gap ("perfect"
    is the 2-sigma noise band at the n samples scored), the W_1 of log p (perfect: its expected value at n),
    the off-mode mass (perfect: OFF_MODE_QUANTILE) and mode TV; for the checkerboard the outside fraction
    and cell TV (perfect: the expected TV of n perfect samples); otherwise the energy distance with the
    two-sample floor, on at most `energy_points` of the samples (its pairwise distances cost n^2: at 2,000 the
    floor takes ~0.2 s, at 1,000 ~0.04 s).
    """

    def __init__(
        self, density: Density, n: int, seed: int = 0, reference_size: int = 20000, energy_points: int = 2000
    ) -> None:
        self.density, self.n = density, n
        generator = torch.Generator().manual_seed(seed)
        if isinstance(density, GaussianMixture):
            self.ref_logp = torch.sort(density.log_prob(density.sample(reference_size, generator)).double()).values
            self.off_mode_level = float(torch.quantile(self.ref_logp, OFF_MODE_QUANTILE))
        elif not isinstance(density, Checkerboard):
            self.reference = density.sample(min(n, energy_points), generator)
            self.floor = energy_floor(density, self.reference.shape[0], generator, repeats=3)

    def __call__(self, samples: Tensor) -> dict[str, Metric]:
        samples = samples.detach().float().cpu()
        finite = torch.isfinite(samples).all(1)
        out: dict[str, Metric] = {}
        if not bool(finite.all()):
            out["nonfinite"] = Metric("non-finite samples", float((~finite).double().mean()), 0.0)
            samples = samples[finite]
            if samples.shape[0] < 2:
                return out
        density, n = self.density, samples.shape[0]
        if isinstance(density, GaussianMixture):
            logp, ref = density.log_prob(samples).double(), self.ref_logp
            band = 2 * float(ref.std()) / math.sqrt(n)
            out["logp_gap"] = Metric("log-density gap (nats)", log_density_gap(logp, ref), band)
            out["logp_w1"] = Metric("W₁ of log p (nats)", wasserstein_1d(logp, ref), expected_wasserstein_1d(ref, n))
            off_mode = float((logp < self.off_mode_level).double().mean())
            out["off_mode_mass"] = Metric("off-mode mass", off_mode, OFF_MODE_QUANTILE)
            if density.n_classes > 1:
                tv_floor = expected_multinomial_tv(density.weights, n)
                out["mode_tv"] = Metric("mode coverage TV", mode_tv(samples, density), tv_floor)
        elif isinstance(density, Checkerboard):
            outside, cell_tv = checkerboard_metrics(samples, density)
            out["outside"] = Metric("fraction outside the cells", outside, 0.0)
            tv_floor = expected_multinomial_tv(torch.full((8,), 1 / 8), n)
            out["cell_tv"] = Metric("cell mass TV", cell_tv, tv_floor)
        else:
            m = self.reference.shape[0]
            out["energy"] = Metric("energy distance", energy_distance(samples[:m], self.reference), self.floor)
        return out
