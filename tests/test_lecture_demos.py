"""Every lecture demo of the training pages, trained as a lecturer would click it (seed 0, its settings over the
defaults), checked for the one thing its sentence tells the learner to watch. The numbers quoted in each preset's
text are the ones asserted here (with room for another CPU's rounding), so the sentence cannot drift from the model.

The GAN's vanishing-gradient and clipping demos are checked in tests/test_views_gan.py, the VAE's posterior collapse
and autoencoder holes in tests/test_views_vae.py, the Langevin demos in tests/test_page_langevin.py."""

from __future__ import annotations

import dataclasses
import importlib
import math

import pytest
import torch

from explorer.device import make_generator
from explorer.maths.entropy import target_entropy
from explorer.maths.metrics import QualityMeter, energy_distance, energy_floor
from explorer.methods import FAMILIES
from explorer.training.presets import apply_preset
from explorer.training.session import FINISHED, TrainingSession
from explorer.views import gan as gan_views

VIEWS = {"flow_matching": "flow_matching", "diffusion": "diffusion", "gan": "gan", "vae": "vae", "flow": "realnvp"}
N = 4000  # samples scored per check


def _demo(family: str, name: str, steps: int | None = None, curves: bool = False, **changes) -> TrainingSession:
    """The demo `name` of `family`'s page trained to the end of its schedule (or `steps`); quality curves only
    when `curves`."""
    views = importlib.import_module(f"explorer.views.{VIEWS[family]}")
    config = apply_preset(FAMILIES[family].config(device="cpu"), views.PRESETS[name])
    config = dataclasses.replace(config, **({"steps": steps} if steps else {}), **changes)
    kwargs = {} if curves else {"quality_every": 10**9, "quality_period_s": math.inf}
    session = TrainingSession(family, config, **kwargs)
    session.start()
    while session.run(1.0):
        pass
    assert session.status == FINISHED, (family, name, session.message)
    return session


def _quality(session: TrainingSession, samples: torch.Tensor | None = None) -> dict[str, float]:
    if samples is None:
        samples = session.method.sample(N, make_generator(4))
    meter = QualityMeter(session.density, N, seed=0, reference_size=50_000)
    return {key: metric.value for key, metric in meter(samples.float().cpu()).items()}


def _mode_masses(session: TrainingSession) -> torch.Tensor:
    samples = session.method.sample(N, make_generator(4)).float()
    nearest = session.density.nearest_component(samples)
    return torch.bincount(nearest, minlength=len(session.density.weights)).double() / N


# --- GAN -------------------------------------------------------------------------------------------------
def test_gan_mode_collapse_leaves_modes_nearly_empty_while_others_hold_twice_their_share() -> None:
    session = _demo("gan", "collapse", steps=1500, curves=True)
    h = session.history
    late = [tv for step, tv in zip(h.quality_steps, h.quality["mode_tv"], strict=True) if step >= 1000]
    assert late and min(late) > 0.2, late  # "mode TV about 0.3"
    masses = _mode_masses(session)
    assert int((masses < 0.04).sum()) >= 2 and float(masses.max()) > 0.2, masses


def test_wgan_gp_keeps_every_mode_near_its_share_from_the_first_hundreds_of_steps() -> None:
    session = _demo("gan", "wgan_gp", steps=1500, curves=True)
    h = session.history
    later = [tv for step, tv in zip(h.quality_steps, h.quality["mode_tv"], strict=True) if step >= 300]
    assert later and max(later) < 0.08, later
    masses = _mode_masses(session)
    assert float((masses - 1 / 8).abs().max()) < 0.04, masses


def test_dragan_holds_the_slope_near_one_at_the_shaken_data_and_fills_every_mode() -> None:
    session = _demo("gan", "dragan")
    view = gan_views.lipschitz_view(session.method, make_generator(3))
    assert view.penalty == "perturbed_real" and len(view.points) == 200
    assert abs(view.points_grad_norm - 1) < 0.2, view.points_grad_norm
    assert view.max_grad_norm > 1.3  # free elsewhere
    assert _mode_masses(session).min() > 0.08


def test_spectral_normalisation_keeps_d_gentle_and_fills_every_mode_sharp_with_leaky_relu() -> None:
    session = _demo("gan", "spectral")
    view = gan_views.lipschitz_view(session.method, make_generator(3))
    assert view.spectral and view.penalty == "none" and len(view.points) == 0
    assert 0.1 < view.max_grad_norm < 0.5, view.max_grad_norm
    assert _mode_masses(session).min() > 0.05
    assert abs(_quality(session)["logp_gap"]) < 1.0


def test_spectral_normalisation_with_a_silu_d_is_flatter_still_and_leaves_the_modes_blurred() -> None:
    session = _demo("gan", "spectral", d_activation="silu")
    view = gan_views.lipschitz_view(session.method, make_generator(3))
    assert view.max_grad_norm < 0.05, view.max_grad_norm
    assert _mode_masses(session).min() > 0.05
    assert 2.5 < _quality(session)["logp_gap"] < 6


def test_the_penalty_on_real_and_generated_points_holds_their_slope_and_keeps_every_mode() -> None:
    session = _demo("gan", "penalty_both")
    view = gan_views.lipschitz_view(session.method, make_generator(3))
    assert view.penalty == "real_and_generated" and len(view.points) == 400
    assert abs(view.points_grad_norm - 1) < 0.3, view.points_grad_norm
    assert _mode_masses(session).min() > 0.08


# --- diffusion -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def diffusion_default() -> TrainingSession:
    """The network of the two sampler demos (they change only the live sampler settings)."""
    return _demo("diffusion", "sde_few")


def _diffusion_samples(session: TrainingSession, sampler: str, steps: int) -> torch.Tensor:
    x_T = torch.randn((N, 2), generator=make_generator(3))
    return session.method.trajectories(x_T, make_generator(4), sampler=sampler, steps=steps)[-1]


def test_eight_sde_steps_blur_the_samples_by_about_one_nat(diffusion_default: TrainingSession) -> None:
    few = _quality(diffusion_default, _diffusion_samples(diffusion_default, "sde", 8))
    many = _quality(diffusion_default, _diffusion_samples(diffusion_default, "sde", 50))
    assert 0.7 < few["logp_gap"] < 1.3 and many["logp_gap"] < 0.2, (few, many)  # "about 1 nat, against 0.1"


def test_eight_ode_steps_land_on_the_modes_and_ddim_gives_them_the_wrong_mass(
    diffusion_default: TrainingSession,
) -> None:
    few = _quality(diffusion_default, _diffusion_samples(diffusion_default, "ode", 8))
    many = _quality(diffusion_default, _diffusion_samples(diffusion_default, "ode", 50))
    assert abs(few["logp_gap"] - many["logp_gap"]) < 0.1, (few, many)
    ddim = _quality(diffusion_default, _diffusion_samples(diffusion_default, "ddim", 8))
    assert 0.1 < ddim["mode_tv"] < 0.2, ddim  # "mode TV about 0.15"
    sde = _quality(diffusion_default, _diffusion_samples(diffusion_default, "sde", 8))
    assert sde["logp_gap"] > few["logp_gap"] + 0.5  # "the SDE blurs them"


def test_predicting_the_score_fits_small_noise_levels_badly(diffusion_default: TrainingSession) -> None:
    from explorer.views.diffusion import relative_score_error

    score = _demo("diffusion", "score_target")
    for t, (lo, eps_hi) in {0.05: (0.6, 0.45), 0.1: (0.6, 0.2)}.items():  # "74% / 34%" and "73% / 13%"
        assert relative_score_error(score.method, t, make_generator(5)) > lo
        assert relative_score_error(diffusion_default.method, t, make_generator(5)) < eps_hi
    assert _quality(score)["logp_gap"] > 3  # "smeared (gap about 4 nats)"


# --- flow matching ---------------------------------------------------------------------------------------
def test_two_euler_steps_miss_the_modes_with_independent_pairs_and_land_closer_with_ot() -> None:
    from explorer.views.flow_matching import coupling_view

    curved, straight = _demo("flow_matching", "curved"), _demo("flow_matching", "straight")
    curved_gap, straight_gap = _quality(curved)["logp_gap"], _quality(straight)["logp_gap"]
    assert 4 < curved_gap < 9 and 1.5 < straight_gap < 3.5, (curved_gap, straight_gap)  # "about 6" / "about 2.4"
    assert straight_gap < 0.5 * curved_gap
    # "the paths are nearly straight": the learned ODE's trajectories, measured 2.5 against 0.03
    bent = coupling_view(curved.method, make_generator(5)).straightness
    assert coupling_view(straight.method, make_generator(5)).straightness < 0.1 * bent


def test_guidance_gathers_the_samples_on_the_chosen_class() -> None:
    from explorer.views.flow_matching import guidance_view

    view = guidance_view(_demo("flow_matching", "guidance").method, make_generator(6))
    hits = dict(zip(view.scales, view.hit_rate, strict=True))
    assert view.label == 2
    assert abs(hits[0.0] - 1 / 8) < 0.06  # w = 0: all eight modes
    assert min(hits[w] for w in view.scales if w >= 1) > 0.9  # w >= 1: class 2


def test_data_to_data_carries_the_moons_onto_the_modes_with_no_exact_field() -> None:
    session = _demo("flow_matching", "transport")
    assert session.method.exact() is None
    quality = _quality(session)
    assert abs(quality["logp_gap"]) < 0.3 and quality["mode_tv"] < 0.1, quality


# --- VAE -------------------------------------------------------------------------------------------------
def test_a_well_fitted_vae_leaves_no_holes_and_samples_near_the_noise_floor() -> None:
    from explorer.views.vae_holes import holes_view

    session = _demo("vae", "fitted")
    assert holes_view(session.method, make_generator(7)).fraction < 0.03
    samples = session.method.sample(2000, make_generator(4)).float()
    data = session.density.sample(2000, make_generator(5))
    assert energy_distance(samples, data) < 3 * energy_floor(session.density, 2000, make_generator(6))


def test_a_vq_vae_decodes_its_sixteen_codes_to_sixteen_points_on_the_moons() -> None:
    session = _demo("vae", "vq")
    method = session.method
    with torch.no_grad():
        centres = method.decode(method.codebook)
    assert torch.unique(centres.round(decimals=3), dim=0).shape[0] == 16
    data = session.density.sample(20_000, make_generator(8))
    assert torch.cdist(centres, data).min(1).values.median() < 0.3  # on the moons


# --- normalizing flows -----------------------------------------------------------------------------------
def test_one_coupling_cannot_move_x1_and_stalls_four_nats_above_the_floor() -> None:
    one = _demo("flow", "one_coupling")
    floor = target_entropy(one.density).value
    assert 3.0 < one.history.loss[-1] - floor < 5.0  # "about 4 nats above H(p)"
    two = _demo("flow", "one_coupling", n_layers=2)
    assert two.history.loss[-1] - floor < 0.6  # "K = 2: 0.3 nats above"


@pytest.mark.parametrize(("name", "outside"), [("sharp", (0.02, 0.07)), ("smooth", (0.07, 0.14))])
def test_relu_couplings_cut_sharper_cell_edges_than_silu(name: str, outside: tuple[float, float]) -> None:
    session = _demo("flow", name)
    quality = _quality(session)
    assert outside[0] < quality["outside"] < outside[1], quality  # "about 4%" / "about 10%"
    if name == "sharp":
        assert session.history.loss[-1] - math.log(32) < 0.12  # "about 0.07 nats above log 32"


def test_eight_modes_leave_bridges_that_the_gap_sees_and_mode_coverage_does_not() -> None:
    session = _demo("flow", "bridges")
    quality = _quality(session)
    assert quality["mode_tv"] < 0.05 and 0.4 < quality["logp_gap"] < 0.9, quality  # "0.025" / "near 0.6"
    floor = target_entropy(session.density).value
    assert session.history.loss[-1] - floor < 0.25  # "about 0.15 nats of H(p)"
