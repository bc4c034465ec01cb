"""Diffusion: schedules, the forward kernel, Tweedie conversions, samplers on the exact score, training."""

from __future__ import annotations

import math

import pytest
import torch

from explorer.data.densities import GaussianMixture, eight_gaussians
from explorer.device import make_generator
from explorer.maths.diffusion_samplers import SAMPLERS, run_sampler
from explorer.maths.exact import MixturePath
from explorer.maths.metrics import QualityMeter
from explorer.maths.schedules import SCHEDULES, eps_to_score, eps_to_x0, score_to_eps, x0_to_eps
from explorer.methods import DiffusionConfig
from explorer.training.session import TrainingSession
from explorer.views.diffusion import relative_score_error, time_at_abar

SCHEDULE_NAMES = list(SCHEDULES)


@pytest.mark.parametrize("name", SCHEDULE_NAMES)
def test_schedule_endpoints_and_beta_is_minus_dlog_abar(name: str) -> None:
    schedule = SCHEDULES[name]()
    assert float(schedule.abar(0.0)) == pytest.approx(1.0)
    assert float(schedule.abar(1.0)) < 1e-3  # x_1 is (almost) pure noise
    t = torch.tensor([0.1, 0.3, 0.6, 0.9], dtype=torch.float64)
    h = 1e-6
    finite_difference = -(schedule.abar(t + h).log() - schedule.abar(t - h).log()) / (2 * h)
    torch.testing.assert_close(schedule.beta(t), finite_difference, rtol=1e-4, atol=1e-6)
    # alpha^2 + sigma^2 = 1 (variance preserving), and the path derivatives are consistent
    torch.testing.assert_close(schedule.alpha(t) ** 2 + schedule.sigma(t) ** 2, torch.ones_like(t))
    torch.testing.assert_close(
        schedule.d_alpha(t), (schedule.alpha(t + h) - schedule.alpha(t - h)) / (2 * h), rtol=1e-4, atol=1e-6
    )


@pytest.mark.parametrize("name", SCHEDULE_NAMES)
def test_forward_kernel_moments_match_the_closed_form(name: str) -> None:
    """Data N(m, s^2 I): x_t = alpha x0 + sigma eps has mean alpha m and variance alpha^2 s^2 + sigma^2."""
    schedule = SCHEDULES[name]()
    m, s = torch.tensor([2.0, -1.0]), 0.5
    g = make_generator(0)
    x0 = m + s * torch.randn(200_000, 2, generator=g)
    for t in (0.1, 0.4, 0.8):
        a, sig = float(schedule.alpha(t)), float(schedule.sigma(t))
        xt = a * x0 + sig * torch.randn(x0.shape, generator=g)
        torch.testing.assert_close(xt.mean(0), a * m, atol=0.01, rtol=0)
        assert xt.var(0) == pytest.approx(torch.full((2,), a * a * s * s + sig * sig), abs=0.01)


def test_eps_score_x0_conversions_agree_with_gaussian_conditioning() -> None:
    """For x₀ ~ N(m, s² I) and x_t = α x₀ + σ ε, (x₀, ε, x_t) are jointly Gaussian, so conditioning gives each
    prediction in closed form (v = α² s² + σ²): the score −(x − α m) / v, E[ε | x] = σ (x − α m) / v and
    E[x₀ | x] = m + α s² (x − α m) / v. The conversions must carry each one into the others."""
    g = make_generator(1)
    x = 3 * torch.randn(100, 2, generator=g, dtype=torch.float64)
    m, s, alpha, sigma = torch.tensor([1.5, -0.5], dtype=torch.float64), 0.7, 0.6, 0.8
    v = alpha**2 * s**2 + sigma**2
    score, eps, x0 = -(x - alpha * m) / v, sigma * (x - alpha * m) / v, m + alpha * s**2 * (x - alpha * m) / v
    torch.testing.assert_close(eps_to_score(eps, sigma), score)
    torch.testing.assert_close(score_to_eps(score, sigma), eps)
    torch.testing.assert_close(eps_to_x0(x, eps, alpha, sigma), x0)  # Tweedie's formula
    torch.testing.assert_close(x0_to_eps(x, x0, alpha, sigma), eps)


@pytest.mark.parametrize("name", SCHEDULE_NAMES)
def test_exact_mixture_score_under_the_schedule_matches_autograd(name: str) -> None:
    truth = MixturePath(eight_gaussians(), SCHEDULES[name]())
    x = 3 * torch.randn(64, 2, generator=make_generator(2), dtype=torch.float64)
    for t in (0.05, 0.3, 0.7):
        xx = x.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(truth.log_prob(xx, t).sum(), xx)
        torch.testing.assert_close(truth.score(x, t), grad, rtol=1e-6, atol=1e-8)


# steps each sampler needs with the exact score (measured: DDPM's small posterior variance converges slowly)
EXACT_STEPS = {"ddpm": 1000, "ddim": 200, "sde": 500, "ode": 50}


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_every_sampler_with_the_exact_score_reproduces_the_mixture(sampler: str) -> None:
    density = eight_gaussians()
    schedule = SCHEDULES["cosine"]()
    truth = MixturePath(density, schedule)

    def eps(x: torch.Tensor, t: float) -> torch.Tensor:
        return -float(schedule.sigma(t)) * truth.score(x, t)

    g = make_generator(0)
    x = run_sampler(sampler, eps, schedule, torch.randn(4000, 2, generator=g), EXACT_STEPS[sampler], g)[-1]
    quality = QualityMeter(density, 4000, reference_size=50_000)(x)
    assert abs(quality["logp_gap"].value) < 0.06, quality
    assert quality["mode_tv"].value < 0.04, quality


def test_a_poor_score_fails_the_same_check() -> None:
    """The check above can fail: the score of a wider mixture gives too-wide modes."""
    density = eight_gaussians()
    schedule = SCHEDULES["cosine"]()
    wide = MixturePath(GaussianMixture(density.means, density.stds * 1.5, density.weights), schedule)
    g = make_generator(0)
    x = run_sampler(
        "ode",
        lambda x, t: -float(schedule.sigma(t)) * wide.score(x, t),
        schedule,
        torch.randn(4000, 2, generator=g),
        50,
        g,
    )[-1]
    assert QualityMeter(density, 4000)(x)["logp_gap"].value > 0.3


def test_ddim_with_eta_zero_is_deterministic_and_eta_one_is_not() -> None:
    schedule = SCHEDULES["linear"]()
    truth = MixturePath(eight_gaussians(), schedule)

    def eps(x, t):
        return -float(schedule.sigma(t)) * truth.score(x, t)

    x_T = torch.randn(200, 2, generator=make_generator(0))
    a = run_sampler("ddim", eps, schedule, x_T, 20, make_generator(1), eta=0.0)
    b = run_sampler("ddim", eps, schedule, x_T, 20, make_generator(2), eta=0.0)
    torch.testing.assert_close(a, b)
    c = run_sampler("ddim", eps, schedule, x_T, 20, make_generator(1), eta=1.0)
    d = run_sampler("ddim", eps, schedule, x_T, 20, make_generator(2), eta=1.0)
    assert not torch.allclose(c[-1], d[-1])
    assert a.shape == (21, 200, 2)


def _train(steps: int = 3000, **overrides) -> TrainingSession:
    config = DiffusionConfig(steps=steps, lr=5e-3, seed=0, batch_size=256, ema_decay=0.999, **overrides)
    session = TrainingSession("diffusion", config, quality_every=10**9, quality_period_s=math.inf)
    session.start()
    while session.running:
        session.run(1.0)
    return session


@pytest.fixture(scope="module")
def trained() -> TrainingSession:
    return _train()


def test_short_training_reaches_the_target_and_the_exact_score(trained: TrainingSession) -> None:
    method = trained.method
    samples = method.sample(2000, make_generator(5))
    quality = QualityMeter(trained.density, 2000, reference_size=50_000)(samples)
    assert abs(quality["logp_gap"].value) < 0.25 and quality["mode_tv"].value < 0.05, quality
    t_half = time_at_abar(method, 0.5)
    assert float(method.schedule.abar(t_half)) == pytest.approx(0.5, abs=1e-6)
    assert relative_score_error(method, t_half, make_generator(6), 4000) < 0.2
    loss = trained.history.loss
    assert sum(loss[-5:]) / 5 < 0.8 * loss[0]


def test_an_untrained_denoiser_fails_those_checks() -> None:
    session = TrainingSession("diffusion", DiffusionConfig(seed=0), quality_every=10**9, quality_period_s=math.inf)
    method = session.method
    samples = method.sample(2000, make_generator(5))
    assert QualityMeter(session.density, 2000)(samples)["logp_gap"].value > 1.0
    assert relative_score_error(method, time_at_abar(method, 0.5), make_generator(6), 4000) > 0.5


@pytest.mark.parametrize("target", ["score", "x0"])
def test_other_targets_train_and_convert_to_the_same_denoiser(target: str) -> None:
    session = _train(steps=1500, target=target)
    method = session.method
    t = time_at_abar(method, 0.2)  # a mid noise level, whatever the schedule
    x = torch.randn(500, 2, generator=make_generator(3))
    raw = method.optimizer.predict(method.net.features(x, t), ema=True)
    alpha, sigma = float(method.schedule.alpha(t)), float(method.schedule.sigma(t))
    expected_eps = -sigma * raw if target == "score" else (x - alpha * raw) / sigma
    torch.testing.assert_close(method.eps(x, t), expected_eps)
    assert relative_score_error(method, t, make_generator(6), 4000) < 0.5  # learned something real


def test_ema_weights_are_used_for_sampling_and_lag_the_raw_weights(trained: TrainingSession) -> None:
    method = trained.method
    z = method.net.features(torch.randn(50, 2, generator=make_generator(4)), 0.3)
    ema, raw = method.optimizer.predict(z, ema=True), method.optimizer.predict(z, ema=False)
    assert not torch.allclose(ema, raw)
    assert (ema - raw).abs().max() < 0.5  # an average of recent weights, not something else
    x = torch.randn(10, 2)
    torch.testing.assert_close(method.eps(x, 0.3), method.optimizer.predict(method.net.features(x, 0.3), ema=True))
