"""explorer.maths.metrics: the sharp metrics (docs/decisions.md, "Quality") on known samplers."""

from __future__ import annotations

import math

import pytest
import torch

from explorer.data.densities import get_density
from explorer.device import make_generator
from explorer.maths.metrics import (
    QualityMeter,
    checkerboard_metrics,
    energy_distance,
    energy_floor,
    expected_multinomial_tv,
    expected_wasserstein_1d,
    log_density_gap,
    mode_tv,
    wasserstein_1d,
)


@pytest.fixture(scope="module")
def eight():
    return get_density("eight_gaussians")


@pytest.fixture(scope="module")
def reference(eight):
    return eight.sample(50_000, make_generator(99))


def _mixture_with_std(eight, std: float, n: int = 4000, seed: int = 1) -> torch.Tensor:
    g = make_generator(seed)
    labels = torch.randint(0, 8, (n,), generator=g)
    return eight.means[labels] + std * torch.randn(n, 2, generator=g)


def test_energy_distance_is_zero_for_identical_samples():
    x = get_density("two_moons").sample(500, make_generator(0))
    assert energy_distance(x, x) == pytest.approx(0.0, abs=1e-12)
    assert energy_distance(x, x[torch.randperm(500, generator=make_generator(1))]) == pytest.approx(0.0, abs=1e-12)


def test_energy_distance_sees_a_shift_above_the_floor():
    density = get_density("two_moons")
    g = make_generator(2)
    floor = energy_floor(density, 500, g)
    x, y = density.sample(500, g), density.sample(500, g)
    assert floor > 0
    assert energy_distance(x, y) < 4 * floor
    assert energy_distance(x, y + torch.tensor([0.5, 0.0])) > 5 * floor
    assert energy_distance(x, y + torch.tensor([0.5, 0.0])) == pytest.approx(
        energy_distance(y + torch.tensor([0.5, 0.0]), x)
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_log_gap_is_near_zero_for_perfect_samples(eight, reference, seed):
    samples = eight.sample(4000, make_generator(10 + seed))
    assert abs(log_density_gap(eight.log_prob(samples), eight.log_prob(reference))) < 0.06  # typically < 0.04


@pytest.mark.parametrize("std", [0.4, 0.2])
def test_log_gap_of_modes_of_the_wrong_width_is_the_closed_form(eight, reference, std: float):
    """Modes of std s where the target's have sigma = 0.3, far apart (7 sigma and more): per mode,
    E_{N(m, s^2 I)}[log N(x; m, sigma^2 I)] = -log(2 pi sigma^2) - s^2 / sigma^2 against -log(2 pi sigma^2) - 1 for
    the data, so the gap is s^2 / sigma^2 - 1: 0.778 too wide, -0.556 too narrow. Tolerance: four standard errors
    of the two sample means (the model's log p has std s^2 / sigma^2, the data's 1, in nats)."""
    sigma, n = 0.3, 40_000
    gap = log_density_gap(eight.log_prob(_mixture_with_std(eight, std, n=n)), eight.log_prob(reference))
    stderr = math.sqrt((std / sigma) ** 4 / n + 1 / reference.shape[0])
    assert gap == pytest.approx(std**2 / sigma**2 - 1, abs=4 * stderr)


def test_log_gap_sees_mass_on_bridges(eight, reference):
    samples = eight.sample(4000, make_generator(3))
    clean = log_density_gap(eight.log_prob(samples), eight.log_prob(reference))
    angle = 2 * math.pi * torch.rand(80, generator=make_generator(4))
    samples[:80] = 4 * torch.stack([angle.cos(), angle.sin()], 1)  # 2% of the mass spread along the ring
    # measured increase 0.05-0.09 over five seeds (docs/decisions.md: ~0.07 for 2% on bridges)
    assert log_density_gap(eight.log_prob(samples), eight.log_prob(reference)) - clean > 0.04


def test_mode_tv_small_for_perfect_samples(eight):
    samples = eight.sample(4000, make_generator(5))
    assert mode_tv(samples, eight) < 0.03


def test_mode_tv_one_missing_mode(eight):
    samples = eight.sample(4400, make_generator(6))
    samples = samples[eight.nearest_component(samples) != 2]
    assert mode_tv(samples, eight) == pytest.approx(0.125, abs=0.01)


def test_mode_tv_all_in_one_mode(eight):
    samples = eight.means[3] + 0.3 * torch.randn(1000, 2, generator=make_generator(7))
    assert mode_tv(samples, eight) == pytest.approx(7 / 8)


def test_checkerboard_metrics_perfect_and_broken():
    board = get_density("checkerboard")
    samples = board.sample(4000, make_generator(8))
    outside, cell_tv = checkerboard_metrics(samples, board)
    assert outside == 0.0
    assert cell_tv < 0.04
    shifted = samples + torch.tensor([2.0, 0.0])  # black cells -> white cells (or off the board)
    assert checkerboard_metrics(shifted, board) == (1.0, 1.0)
    half = torch.cat([samples[:2000], shifted[:2000]])
    outside, cell_tv = checkerboard_metrics(half, board)
    assert outside == 0.5
    assert cell_tv == pytest.approx(0.5, abs=0.03)
    one_cell = board.cells[0] + torch.rand(500, 2, generator=make_generator(9)) * 2
    assert checkerboard_metrics(one_cell, board) == (0.0, pytest.approx(7 / 8))


def test_expected_multinomial_tv_matches_simulation():
    weights = torch.full((8,), 1 / 8)
    g = make_generator(11)
    tvs = []
    for _ in range(400):
        counts = torch.bincount(torch.multinomial(weights, 1000, True, generator=g), minlength=8) / 1000
        tvs.append(float(0.5 * (counts - weights).abs().sum()))
    assert sum(tvs) / len(tvs) == pytest.approx(expected_multinomial_tv(weights, 1000), rel=0.1)


@pytest.mark.parametrize(
    ("name", "keys"),
    [
        ("eight_gaussians", {"logp_gap", "logp_w1", "off_mode_mass", "mode_tv"}),
        ("two_gaussians", {"logp_gap", "logp_w1", "off_mode_mass", "mode_tv"}),
        ("gaussian", {"logp_gap", "logp_w1", "off_mode_mass"}),
        ("checkerboard", {"outside", "cell_tv"}),
        ("two_moons", {"energy"}),
        ("rings", {"energy"}),
        ("spirals", {"energy"}),
    ],
)
def test_quality_meter_keys_per_density(name, keys):
    density = get_density(name)
    meter = QualityMeter(density, 400, seed=0, reference_size=5000)
    result = meter(density.sample(400, make_generator(12)))
    assert set(result) == keys
    for metric in result.values():
        assert math.isfinite(metric.value) and math.isfinite(metric.perfect)
        assert metric.name
    if "energy" in result:
        assert result["energy"].perfect > 0
        assert result["energy"].value < 5 * result["energy"].perfect


def test_quality_meter_perfect_and_bad_samplers(eight):
    meter = QualityMeter(eight, 4000, seed=0)
    good = meter(eight.sample(4000, make_generator(13)))
    assert abs(good["logp_gap"].value) < 2 * good["logp_gap"].perfect
    assert good["mode_tv"].value < 2 * good["mode_tv"].perfect
    bad = meter(_mixture_with_std(eight, 0.4))
    assert bad["logp_gap"].value > 10 * bad["logp_gap"].perfect


def test_quality_meter_flags_nonfinite_samples(eight):
    meter = QualityMeter(eight, 100, seed=0, reference_size=2000)
    samples = eight.sample(100, make_generator(14))
    samples[:10, 0] = float("nan")
    samples[10:15, 1] = float("inf")
    result = meter(samples)
    assert result["nonfinite"].value == pytest.approx(0.15)
    assert math.isfinite(result["logp_gap"].value)  # scored on the finite rows
    assert abs(result["logp_gap"].value) < 1.0
    broken = meter(torch.full((100, 2), float("nan")))
    assert set(broken) == {"nonfinite"}
    assert broken["nonfinite"].value == 1.0


def test_the_perfect_samplers_band_follows_the_number_of_samples_scored() -> None:
    """The gap's band is 2 std(log p) / sqrt(n) and the mode TV's floor the expected TV of n perfect samples, for
    the n actually scored: a curve of cheap evaluations is drawn against the band of its own sample size."""
    from explorer.maths.metrics import QualityMeter, expected_multinomial_tv

    eight = get_density("eight_gaussians")
    meter = QualityMeter(eight, 2000, seed=0)
    generator = torch.Generator().manual_seed(1)
    small, large = meter(eight.sample(150, generator)), meter(eight.sample(2000, generator))
    assert small["logp_gap"].perfect == pytest.approx(large["logp_gap"].perfect * math.sqrt(2000 / 150))
    assert small["mode_tv"].perfect == pytest.approx(expected_multinomial_tv(eight.weights, 150))
    assert large["mode_tv"].perfect == pytest.approx(expected_multinomial_tv(eight.weights, 2000))


def test_wasserstein_1d_is_the_area_between_the_cdfs():
    """A shift by c moves every quantile by c (W₁ = |c|); against scipy's independent implementation for
    samples of different sizes and spreads."""
    from scipy.stats import wasserstein_distance

    g = make_generator(20)
    x, y = torch.randn(1000, generator=g), 2 * torch.randn(3000, generator=g) + 1
    assert wasserstein_1d(x, x + 0.7) == pytest.approx(0.7, rel=1e-6)  # float32 samples
    assert wasserstein_1d(x, y) == pytest.approx(wasserstein_distance(x.numpy(), y.numpy()), rel=1e-6)
    assert wasserstein_1d(y, x) == pytest.approx(wasserstein_1d(x, y), rel=1e-12)


@pytest.mark.parametrize("n", [150, 2000])
def test_expected_wasserstein_1d_matches_perfect_samplers(eight, n: int):
    """The first-order E[W₁] of n perfect samples' log p against the reference's, against the mean over 60
    simulated perfect samplers: within 20% (the first-order form is 5-10% high for this heavy-tailed law)."""
    g = make_generator(21)
    reference = eight.log_prob(eight.sample(20_000, g))
    simulated = [wasserstein_1d(eight.log_prob(eight.sample(n, g)), reference) for _ in range(60)]
    assert expected_wasserstein_1d(reference, n) == pytest.approx(sum(simulated) / len(simulated), rel=0.2)


def _bridges(eight, n: int, g: torch.Generator) -> torch.Tensor:
    """n points uniform on the segments between neighbouring modes (the bridges a GAN leaves)."""
    k, t = torch.randint(0, 8, (n,), generator=g), torch.rand(n, 1, generator=g)
    return eight.means[k] * (1 - t) + eight.means[(k + 1) % 8] * t


def test_narrow_modes_with_bridges_cancel_in_the_gap_but_not_in_w1_or_off_mode_mass(eight):
    """Modes of std 0.25 (log p too high) plus the share f of the mass on bridges (log p far too low) that makes
    E_model[log p] = E_data[log p]: the gap reads as a perfect sampler's, while the W₁ of log p is over ten times
    a perfect sampler's and over 3% of the samples lie where the data has 1%."""
    g = make_generator(22)
    data_mean = float(eight.log_prob(eight.sample(200_000, g)).double().mean())
    narrow_mean = float(eight.log_prob(_mixture_with_std(eight, 0.25, n=200_000, seed=23)).double().mean())
    bridge_mean = float(eight.log_prob(_bridges(eight, 200_000, g)).double().mean())
    share = (narrow_mean - data_mean) / (narrow_mean - bridge_mean)  # about 8%
    n, on_bridges = 4000, round(share * 4000)
    model = torch.cat([_mixture_with_std(eight, 0.25, n=n - on_bridges, seed=24), _bridges(eight, on_bridges, g)])
    result = QualityMeter(eight, n, seed=0, reference_size=50_000)(model)
    assert abs(result["logp_gap"].value) < 1.5 * result["logp_gap"].perfect
    assert result["logp_w1"].value > 10 * result["logp_w1"].perfect
    assert result["off_mode_mass"].value > 3 * result["off_mode_mass"].perfect
    perfect = QualityMeter(eight, n, seed=0, reference_size=50_000)(eight.sample(n, g))
    assert perfect["logp_w1"].value < 2 * perfect["logp_w1"].perfect
    assert perfect["off_mode_mass"].value == pytest.approx(0.01, abs=4 * math.sqrt(0.01 * 0.99 / n))
