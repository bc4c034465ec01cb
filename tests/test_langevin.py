"""Langevin kernels against closed forms: ULA's stationary law (and its step-size bias), MALA's
exactness and acceptance, annealing across a mode gap, blow-up handling, and the learned-score
adapter (with a fake diffusion model whose score is the exact one)."""

from __future__ import annotations

import math
import threading

import pytest
import torch
from numerics import EPS32

from explorer.data.densities import GaussianMixture, get_density
from explorer.maths.exact import MixturePath
from explorer.maths.langevin import (
    Level,
    annealed_steps,
    frame_steps,
    geometric_ladder,
    noise_start,
    point_start,
    simulate,
)
from explorer.methods.langevin import MAX_WORK, LangevinConfig, plan, run_chains, with_fields
from explorer.methods.langevin_scores import T_MIN, ExactScore, LearnedScore

MEAN, STD = torch.tensor([1.0, -2.0]), 0.5


def _gaussian(mean: torch.Tensor = MEAN, std: float = STD) -> GaussianMixture:
    return GaussianMixture(mean[None], torch.tensor([std]), torch.ones(1))


def _chains(target: GaussianMixture, eps: float, steps: int, mala: bool = False, n: int = 4000, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    x0 = target.sample(n, generator)  # start in equilibrium: only the kernel's own bias remains
    level = Level(0.0, eps, steps, target.score, target.log_prob)
    return simulate(x0, [level], generator, mala=mala)


def test_ula_with_the_exact_score_converges_to_the_mean_and_variance():
    generator = torch.Generator().manual_seed(1)
    target = _gaussian()
    traj = simulate(noise_start(4000, 3.0, generator), [Level(0.0, 0.005, 600, target.score)], generator)
    x = traj.final
    assert torch.allclose(x.mean(0), MEAN, atol=0.03), x.mean(0)
    expected = STD**2 / (1 - 0.005 / (2 * STD**2))  # ULA's stationary variance, 1% above s^2
    assert x.var(0).sub(expected).abs().max() < 0.06 * STD**2, x.var(0)
    assert traj.blowup == "" and traj.steps_done == 600 and traj.acceptance is None


def test_ula_bias_at_a_large_step_matches_the_closed_form_and_mala_removes_it():
    target = _gaussian()
    eps = 0.25  # eps / (2 s^2) = 1/2: ULA's stationary variance is s^2 / (1 - 1/2) = 2 s^2
    ula = _chains(target, eps, 200).final
    mala = _chains(target, eps, 200, mala=True).final
    assert ula.var(0).div(STD**2).sub(2.0).abs().max() < 0.15, ula.var(0)
    assert mala.var(0).div(STD**2).sub(1.0).abs().max() < 0.1, mala.var(0)
    assert torch.allclose(mala.mean(0), MEAN, atol=0.05)


def test_mala_acceptance_falls_as_the_step_grows():
    target = get_density("eight_gaussians")
    rates = [_chains(target, eps, 40, mala=True, n=1000).acceptance for eps in (0.005, 0.05, 0.2, 1.0)]
    assert all(a > b for a, b in zip(rates, rates[1:], strict=False)), rates
    assert rates[0] > 0.9 and rates[-1] < 0.05, rates


def test_annealing_reaches_both_modes_of_two_gaussians_where_plain_langevin_stays_in_one():
    source = ExactScore(get_density("two_gaussians"))
    trapped = with_fields(
        LangevinConfig(),
        density="two_gaussians",
        init="mode",
        init_mode=0,
        step_size=0.005,
        n_steps=600,
        n_chains=400,
        sigma_max=6.0,
        sigma_min=0.1,
    )
    plain = run_chains(trapped, source)
    right = float((plain.trajectory.final[:, 0] > 0).float().mean())
    assert right == 0.0 and plain.final("mode_tv") == pytest.approx(0.5)
    annealed = run_chains(with_fields(trapped, annealed=True), source)
    right = float((annealed.trajectory.final[:, 0] > 0).float().mean())
    assert 0.35 < right < 0.65, right
    assert annealed.final("mode_tv") < 0.15
    assert annealed.trajectory.annealed and len(annealed.trajectory.ladder) == 10


def test_ladder_and_annealed_steps():
    sigmas = geometric_ladder(5.0, 0.05, 5)
    assert sigmas[0] == pytest.approx(5.0) and sigmas[-1] == pytest.approx(0.05)
    ratios = [a / b for a, b in zip(sigmas, sigmas[1:], strict=False)]
    assert max(ratios) == pytest.approx(min(ratios))
    eps = annealed_steps(0.002, sigmas)
    assert eps[-1] == pytest.approx(0.002)
    assert [e / s**2 for e, s in zip(eps, sigmas, strict=True)] == pytest.approx([0.002 / 0.05**2] * 5)


def test_a_step_that_blows_up_stops_the_run_and_keeps_the_frames_so_far():
    source = ExactScore(get_density("eight_gaussians"))
    run = run_chains(with_fields(LangevinConfig(), step_size=1.0, n_chains=200), source)
    traj = run.trajectory
    assert "blew up" in traj.blowup and "ε must stay below 0.18" in traj.blowup
    assert 0 < traj.steps_done < traj.steps_planned
    assert torch.isfinite(traj.frames).all() and traj.frames.shape[0] == len(traj.steps) >= 2
    assert traj.steps[-1] == traj.steps_done
    # MALA at the same step rejects nearly everything instead of blowing up
    mala = run_chains(with_fields(LangevinConfig(), step_size=1.0, n_chains=200, mala=True), source)
    assert mala.trajectory.blowup == "" and mala.trajectory.acceptance < 0.01


def test_a_nan_score_stops_the_run_with_a_reason():
    generator = torch.Generator().manual_seed(0)
    calls = {"n": 0}

    def score(x: torch.Tensor) -> torch.Tensor:
        calls["n"] += 1
        return -x if calls["n"] < 5 else torch.full_like(x, math.nan)

    traj = simulate(point_start(10, (0.0, 0.0)), [Level(0.0, 0.01, 50, score)], generator)
    assert "NaN" in traj.blowup and traj.steps_done == 4
    assert torch.isfinite(traj.frames).all()


def test_frames_are_subsampled_with_both_ends():
    steps = frame_steps(2000, 61)
    assert steps[0] == 0 and steps[-1] == 2000 and len(steps) == 61
    assert frame_steps(3, 61) == [0, 1, 2, 3]


def test_plan_turns_impossible_settings_into_notices():
    source = ExactScore(get_density("eight_gaussians"))
    p = plan(with_fields(LangevinConfig(), mala=True, noise_scale=0.0), source)
    assert not p.mala and "MALA is off" in p.notices[0]
    p = plan(with_fields(LangevinConfig(), n_chains=4000, n_steps=2000), source)
    assert p.levels[0].steps == MAX_WORK // 4000 and "chain-steps" in p.notices[0]
    p = plan(with_fields(LangevinConfig(), annealed=True, n_levels=20, n_steps=5, sigma_max=0.1, sigma_min=2.0), source)
    assert [lv.steps for lv in p.levels] == [1] * 20
    assert p.levels[0].sigma == pytest.approx(2.0) and len(p.notices) == 2


# --- the learned-score adapter ------------------------------------------------------------------
class _LinearVP:
    """abar(t) = exp(-(0.1 t + 9.95 t^2)), like the linear VP schedule (t = 0 data, 1 noise)."""

    def _abar(self, t) -> torch.Tensor:
        t = torch.as_tensor(float(t)) if not isinstance(t, torch.Tensor) else t
        return torch.exp(-(0.1 * t + 9.95 * t * t))

    def alpha(self, t) -> torch.Tensor:
        return self._abar(t).sqrt()

    def sigma(self, t) -> torch.Tensor:
        return (1 - self._abar(t)).sqrt()


class _FakeDiffusion:
    """Duck-typed stand-in for the diffusion method: its 'learned' score is the exact grad log p_t."""

    def __init__(self, mixture: GaussianMixture) -> None:
        self.schedule = _LinearVP()
        self.device = torch.device("cpu")
        self._truth = MixturePath(mixture, self.schedule)
        self.times: list[float] = []

    def score(self, x: torch.Tensor, t: float) -> torch.Tensor:
        self.times.append(t)
        return self._truth.score(x, t)


class _FakeSession:
    def __init__(self, mixture: GaussianMixture) -> None:
        self.method, self.density, self.step_count = _FakeDiffusion(mixture), mixture, 100
        self.lock = threading.RLock()


@pytest.mark.usefixtures("float64")  # two formulas for the same score, in float64 but for one rounding:
def test_learned_adapter_gives_the_noised_score_at_the_matching_time():
    mix = get_density("two_gaussians")
    learned = LearnedScore(_FakeDiffusion(mix), mix)
    exact = ExactScore(mix)
    x = torch.randn(64, 2, generator=torch.Generator().manual_seed(0)) * 3
    for sigma in (0.2, 1.0, 4.0):
        t = learned.time_for(sigma)
        assert learned.ratio(t) == pytest.approx(sigma, rel=1e-4)
        # the noised mixture keeps its stds sqrt(s^2 + sigma^2) in float32 (a GaussianMixture's storage)
        torch.testing.assert_close(learned.at(sigma)[0](x), exact.at(sigma)[0](x), rtol=8 * EPS32, atol=1e-12)
    # plain Langevin: s(x, t_min), and the target's exact log p for MALA
    score, log_prob = learned.at(learned.min_sigma)
    score(x)
    assert learned.method.times[-1] == T_MIN and log_prob == mix.log_prob
    assert learned.at(1.0)[1] is None  # no closed-form log p_sigma from a network
    assert learned.min_sigma == pytest.approx(learned.ratio(T_MIN)) and learned.max_sigma > 100
    assert 0.05 < learned.min_sigma < 0.15  # linear VP at t = 0.03: sigma / alpha = 0.11


def test_langevin_on_a_learned_score_from_a_session():
    mix = get_density("two_gaussians")
    session = _FakeSession(mix)
    source = LearnedScore.from_session(session)
    config = with_fields(
        LangevinConfig(),
        density="two_gaussians",
        score="learned",
        init="mode",
        step_size=0.005,  # eps / sigma_L^2 = 0.4 with sigma_L = sigma(t_min) / alpha(t_min) = 0.11: stable
        n_steps=300,
        n_chains=300,
        annealed=True,
        sigma_max=6.0,
        sigma_min=0.01,
        mala=True,
    )
    run = run_chains(config, source)
    assert run.trajectory.blowup == ""
    assert not run.mala and any("MALA is off" in n for n in run.notices)  # no log p_sigma from a network
    assert any("clipped" in n for n in run.notices)  # 0.01 is below sigma(t_min) / alpha(t_min)
    assert run.trajectory.ladder[-1] == pytest.approx(source.min_sigma)
    times = session.method.times
    assert max(times) > 0.3 and min(times) == T_MIN  # the diffusion times are the noise levels
    right = float((run.trajectory.final[:, 0] > 0).float().mean())
    assert 0.3 < right < 0.7, right
    # plain Langevin with MALA: proposals from the learned score, accept / reject on the exact log p
    plain = run_chains(with_fields(config, annealed=False, init="noise", n_steps=100, step_size=0.05), source)
    assert plain.mala and 0.3 < plain.trajectory.acceptance < 1.0
