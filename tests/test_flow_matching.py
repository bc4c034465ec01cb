"""Flow matching end to end: a short run through TrainingSession reaches the exact ground truth.

Thresholds were measured on CPU (torch 2.13, seed 0, lr 5e-3, 3000 steps of batch 256), with the ODE sampler
(the default is now the SDE: seeds 0-2 gap -0.027-0.004, TV 0.019-0.025, near-mode 0.976-0.983):
    trained   |log gap| 0.020 (0.02-0.06 over seeds 0-6), mode TV 0.012 (<= 0.027),
              near-mode fraction 0.966 (>= 0.96), relative field error at t = 0.5: 0.049 (<= 0.056)
    untrained log gap ~44, near-mode fraction 0.004, relative field error ~1.0
    (mode TV cannot tell: an untrained model is a radially symmetric blob, TV ~0.013).
The loss falls from ~9 to ~4.3 (ratio 0.48-0.50); the CFM loss has an irreducible floor.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from numerics import assert_close_to_scale

from explorer.data.densities import get_density
from explorer.device import make_generator
from explorer.maths.coupling import mean_pairing_cost, ot_permutation
from explorer.maths.metrics import QualityMeter
from explorer.maths.samplers import INTEGRATORS
from explorer.methods import FlowMatching, FlowMatchingConfig
from explorer.training.session import FINISHED, TrainingSession
from explorer.views.flow_matching import (
    coupling_view,
    flow_animation,
    integrator_view,
    paths_view,
    relative_field_error,
    straightness,
    velocity_view,
)

pytestmark = pytest.mark.slow

GAP_MAX, MODE_TV_MAX, NEAR_MIN, FIELD_ERROR_MAX = 0.2, 0.05, 0.9, 0.1


def _train(config: FlowMatchingConfig) -> TrainingSession:
    session = TrainingSession("flow_matching", config, quality_every=1000, quality_samples=500)
    session.start()
    while session.run(1.0):
        pass
    assert session.status == FINISHED
    return session


def _near_mode_fraction(samples: torch.Tensor, means: torch.Tensor) -> float:
    """Fraction of samples within 3 std (0.9) of a mean; a perfect sampler has 98.9%."""
    return float((torch.cdist(samples, means).min(1).values < 0.9).float().mean())


@pytest.fixture(scope="module")
def trained(device) -> TrainingSession:
    return _train(FlowMatchingConfig(steps=3000, lr=5e-3, seed=0, device=device.type))


@pytest.fixture(scope="module")
def untrained(device) -> TrainingSession:
    return TrainingSession("flow_matching", FlowMatchingConfig(steps=3000, lr=5e-3, seed=0, device=device.type))


@pytest.fixture(scope="module")
def meter(trained) -> QualityMeter:
    return QualityMeter(trained.density, 4000, seed=5)


def _quality(session: TrainingSession, meter: QualityMeter) -> tuple[float, float, float]:
    samples = session.method.sample(4000, make_generator(7, session.device_choice.device)).cpu()
    metrics = meter(samples)
    assert "nonfinite" not in metrics
    return metrics["logp_gap"].value, metrics["mode_tv"].value, _near_mode_fraction(samples, session.density.means)


def test_training_lowers_the_loss(trained):
    loss = trained.history.loss
    assert trained.step_count == 3000
    assert all(np.isfinite(loss))
    # the CFM loss has an irreducible floor (~3.7 here); the untrained start is ~9
    assert np.mean(loss[-5:]) < 0.6 * loss[0]
    gaps = trained.history.quality["logp_gap"]
    assert gaps[-1] < gaps[0] / 10


def test_trained_model_reaches_the_quality_threshold(trained, meter):
    gap, tv, near = _quality(trained, meter)
    assert abs(gap) < GAP_MAX
    assert tv < MODE_TV_MAX
    assert near > NEAR_MIN


def test_untrained_model_fails_the_quality_threshold(untrained, meter):
    gap, _, near = _quality(untrained, meter)
    assert abs(gap) > 10 * GAP_MAX
    assert near < NEAR_MIN / 2


def test_learned_velocity_approaches_the_exact_field(trained, untrained):
    # measured over seeds 0-2: t = 0.25: 0.13-0.14, t = 0.5: 0.049-0.051, t = 0.75: 0.082-0.084
    for t, limit in ((0.25, 0.25), (0.5, FIELD_ERROR_MAX), (0.75, 0.15)):
        assert relative_field_error(trained.method, t, make_generator(3)) < limit
        assert relative_field_error(untrained.method, t, make_generator(3)) > 0.5


def test_the_sde_sampler_leaves_fewer_samples_between_the_modes(trained, meter):
    # the default sampler; measured (seeds 0-2, 4,000 samples): near-mode fraction 0.976-0.983 with the SDE
    # (mode TV 0.019-0.025) against 0.963-0.967 with the ODE (0.028-0.039), same trained model
    method = trained.method
    assert method.stochastic and FlowMatchingConfig().sampler == "sde"
    sde_near = _quality(trained, meter)[2]
    trained.update(dataclasses.replace(trained.config, sampler="ode"))
    try:
        assert not method.stochastic
        ode_near = _quality(trained, meter)[2]
    finally:
        trained.update(dataclasses.replace(trained.config, sampler="sde"))
    assert sde_near > ode_near + 0.008
    assert method.evaluations_per_sample(trained.config) == (100, "100 SDE steps (ε = 1) × 1")


@pytest.mark.parametrize("change", [{"coupling": "ot"}, {"source": "two_gaussians"}])
def test_the_sde_falls_back_to_the_ode_without_a_gaussian_score(change):
    # its score -E[x0 | x] / sigma_t needs x0 ~ N(0, I) independent of x1
    config = FlowMatchingConfig(steps=10, **change)
    method = FlowMatching(config, get_density("eight_gaussians"), torch.device("cpu"))
    assert config.sampler == "sde" and not method.stochastic
    x = method.sample(200, make_generator(4))
    x0 = method.source.sample(200, make_generator(4))
    torch.testing.assert_close(x, method.trajectories(x0)[-1])
    assert method.evaluations_per_sample(config)[0] == 2 * config.sampler_steps  # midpoint


def test_guided_samples_land_at_the_chosen_component(device):
    config = FlowMatchingConfig(steps=1500, lr=5e-3, seed=0, guidance=True, guidance_scale=3.0, device=device.type)
    session = _train(config)
    method = session.method
    assert method.conditional and method.net.n_classes == 8
    density = session.density
    for k in (0, 3, 6):
        session.update(dataclasses.replace(session.config, guidance_class=k))
        samples = method.sample(1000, make_generator(7, device), guided=True).cpu()
        # measured: 100% at component k for k = 0, 3, 6 (w = 3)
        assert float((density.nearest_component(samples) == k).float().mean()) > 0.8
    # w = 0 is the unconditional model: every component, ~1/8 each (measured 0.12)
    session.update(dataclasses.replace(session.config, guidance_scale=0.0))
    samples = method.sample(1000, make_generator(7, device), guided=True).cpu()
    assert float((density.nearest_component(samples) == 6).float().mean()) < 0.3
    assert session.step_count == 1500  # guidance settings are live: no reset


def test_minibatch_ot_coupling_trains(device):
    config = FlowMatchingConfig(steps=200, lr=5e-3, seed=0, coupling="ot", batch_size=128, device=device.type)
    session = _train(config)
    loss = session.history.loss
    assert all(np.isfinite(loss))
    assert np.mean(loss[-3:]) < 0.5 * loss[0]
    assert session.method.exact() is None  # the OT marginal has no closed form
    assert relative_field_error(session.method, 0.5, make_generator(0)) is None
    view = velocity_view(session.method, 0.5, arrows=5, fine=8)
    assert view.exact is None and view.density is None and view.error is None and view.relative_error is None
    assert view.learned.shape == (25, 2)
    # the animation's true paths are paired by the same coupling: re-pairing cannot lower their cost
    anim = flow_animation(session.method, make_generator(1), n=64, frames=5)
    x0, x1 = torch.from_numpy(anim.truth[0]), torch.from_numpy(anim.truth[-1])
    assert mean_pairing_cost(x0, x1) == pytest.approx(mean_pairing_cost(x0, x1[ot_permutation(x0, x1)]), abs=1e-4)


def test_field_view_shapes(trained):
    view = velocity_view(trained.method, 0.5, lim=6.0, arrows=21, fine=60)
    assert view.t == 0.5
    assert view.points.shape == view.learned.shape == view.exact.shape == (441, 2)
    assert view.axis.shape == (60,)
    assert view.density.shape == view.error.shape == (60, 60)
    assert np.all(view.density >= 0)
    # |v_theta - u_t| is drawn exactly where p_t carries mass (blank, NaN, on the empty rim beyond)
    from explorer.views.fields import SUPPORT_FRACTION

    drawn = np.isfinite(view.error)
    support = view.density > SUPPORT_FRACTION * view.density.max()
    assert drawn[support].all() and not drawn[~support].any()
    assert np.all(view.error[drawn] >= 0)
    assert view.spacing == pytest.approx(0.6)
    # p_t is a density: it integrates to ~1 over the plotted square
    h = view.axis[1] - view.axis[0]
    assert view.density.sum() * h * h == pytest.approx(1.0, abs=0.03)
    assert 0 < view.relative_error < FIELD_ERROR_MAX


def test_flow_animation_shapes(trained):
    anim = flow_animation(trained.method, make_generator(1), n=200, frames=11)
    frames = len(anim.times)
    assert anim.times[0] == 0.0 and anim.times[-1] == 1.0
    assert np.all(np.diff(anim.times) > 0)
    assert anim.model.shape == anim.truth.shape == (frames, 200, 2)
    np.testing.assert_allclose(anim.model[0], anim.truth[0])  # both start from the same noise
    for array in (anim.times, anim.model, anim.truth):
        assert isinstance(array, np.ndarray) and np.isfinite(array).all()


def test_paths_view_shapes(trained):
    view = paths_view(trained.method, make_generator(2), n=30, steps=20)
    assert view.conditional.shape == view.marginal.shape == (21, 30, 2)
    np.testing.assert_allclose(view.conditional[0], view.marginal[0])
    # conditional paths of the linear path are straight lines
    chord = view.conditional[-1] - view.conditional[0]
    assert_close_to_scale(view.conditional[10], view.conditional[0] + 0.5 * chord, ulps=8)  # float32 points


def test_integrator_view_shapes(trained):
    counts = (2, 4, 8, 16)
    view = integrator_view(trained.method, make_generator(3), n=100, step_counts=counts, reference_steps=32)
    assert view.step_counts == list(counts)
    assert set(view.errors) == set(view.evals) == set(view.final) == set(INTEGRATORS)
    for name in INTEGRATORS:
        assert len(view.errors[name]) == len(view.evals[name]) == len(counts)
        assert view.final[name].shape == (100, 2)
        assert view.errors[name][-1] < view.errors[name][0]  # finer steps approach the reference
    assert view.evals["euler"] == list(counts)
    assert view.evals["midpoint"] == [2 * c for c in counts]


def test_coupling_view_shapes(trained):
    view = coupling_view(trained.method, make_generator(4), n=32)
    assert view.x0.shape == view.x1_independent.shape == view.x1_ot.shape == (32, 2)
    # OT re-pairs the same points at a lower cost
    np.testing.assert_allclose(np.sort(view.x1_ot, axis=0), np.sort(view.x1_independent, axis=0))
    assert view.cost_ot < view.cost_independent
    assert view.straightness >= 0


def test_straightness_is_zero_for_straight_paths():
    start, end = torch.randn(10, 2), torch.randn(10, 2)
    line = torch.stack([start + s * (end - start) for s in torch.linspace(0, 1, 9)])
    assert straightness(line) == pytest.approx(0.0, abs=1e-10)
    bent = line.clone()
    bent[4] += 1.0
    assert straightness(bent) > 1.0


def test_method_can_be_built_without_a_session():
    config = FlowMatchingConfig(hidden=16, depth=2, batch_size=32)
    method = FlowMatching(config, get_density("two_gaussians"), torch.device("cpu"))
    losses = method.train_chunk([1e-3] * 3, make_generator(0))
    assert losses.shape == (3,) and torch.isfinite(losses).all()
    assert method.sample(10, make_generator(1)).shape == (10, 2)
    assert method.trajectories(torch.zeros(5, 2), steps=4).shape == (5, 5, 2)
