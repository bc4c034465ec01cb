"""Critics estimating divergences from samples alone (the Divergences page's critic tab): the dual objectives at
their optima against quadrature and closed forms, a trained critic against the exact KL and JS, every lecture demo
checked for what its sentence says, and the tab rendering under AppTest."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from apptest_pages import ok
from page_figures import plotly_figures
from streamlit.testing.v1 import AppTest

from explorer.data.densities import get_density
from explorer.maths.divergences import integration_square, kl_gaussians
from explorer.maths.dual_divergences import LOG4, donsker_varadhan, js_from_objective, js_objective
from explorer.maths.grid import make_grid
from explorer.maths.measures import Moved
from explorer.maths.optimal_discriminator import js_divergence_grid
from explorer.methods import CriticConfig
from explorer.training.presets import apply_preset
from explorer.training.session import FINISHED, TrainingSession
from explorer.views import critic as views

TAB = "A critic estimates the divergence"
PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "divergences.py")


def _quadrature(q, p) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Grid points `[N, 2]` and the quadrature weights of q and of p there (each summing to 1 up to the grid)."""
    lim, n = integration_square(q, p)
    grid = make_grid(lim, n)
    x = grid.points.double()
    area = grid.spacing**2
    return x, q.log_prob(x).double().exp() * area, p.log_prob(x).double().exp() * area


@pytest.mark.parametrize(("shift", "scale"), [((1.5, 0.0), 1.0), ((0.5, -1.0), 1.5), ((0.0, 0.0), 0.75)])
def test_donsker_varadhan_at_log_q_over_p_is_the_exact_kl(shift: tuple[float, float], scale: float) -> None:
    q, p = get_density("gaussian"), Moved(get_density("gaussian"), shift, scale)
    x, w_q, w_p = _quadrature(q, p)
    f = q.log_prob(x).double() - p.log_prob(x).double()
    exact = kl_gaussians(np.zeros(2), 1.0, np.array(shift), scale, 2)
    assert float(donsker_varadhan(f, f, w_q, w_p)) == pytest.approx(exact, abs=1e-6)
    # any other critic reads less: the same f tilted, or shifted (a constant changes nothing)
    assert float(donsker_varadhan(f + 3.0, f + 3.0, w_q, w_p)) == pytest.approx(exact, abs=1e-6)
    tilted = f + 0.3 * x[:, 0]
    assert float(donsker_varadhan(tilted, tilted, w_q, w_p)) < exact - 1e-3


def test_the_gan_objective_at_d_star_is_twice_js_minus_log_4() -> None:
    q, p = get_density("eight_gaussians"), Moved(get_density("gaussian"), (0.5, 0.0), 2.0)
    x, w_q, w_p = _quadrature(q, p)
    logit = q.log_prob(x).double() - p.log_prob(x).double()  # D* = q / (q + p) = sigmoid(log q - log p)
    logit = torch.nan_to_num(logit, nan=0.0)
    lim, n = integration_square(q, p)
    js = js_divergence_grid(q.log_prob, p.log_prob, lim, n)
    value = float(js_objective(logit, logit, w_q, w_p))
    assert value == pytest.approx(2 * js - LOG4, abs=1e-6)
    assert js_from_objective(value) == pytest.approx(js, abs=1e-6)
    assert float(js_objective(0.5 * logit, 0.5 * logit, w_q, w_p)) < value - 1e-3


def test_sample_estimates_are_means_and_a_log_mean_exp() -> None:
    f_q, f_p = torch.tensor([1.0, 3.0]), torch.tensor([0.0, math.log(3.0)])
    assert float(donsker_varadhan(f_q, f_p)) == pytest.approx(2.0 - math.log(2.0))
    assert float(js_objective(torch.zeros(3), torch.zeros(5))) == pytest.approx(-2 * math.log(2.0))


def _trained(config: CriticConfig) -> TrainingSession:
    session = TrainingSession("critic", config)
    session.start()
    while session.run(1.0):
        pass
    assert session.status == FINISHED, session.message
    return session


def _demo(name: str) -> TrainingSession:
    return _trained(apply_preset(CriticConfig(device="cpu"), views.PRESETS[name]))


def test_the_default_critics_reach_the_exact_kl_and_js_of_two_gaussians() -> None:
    """KL = 1.125 (two unit Gaussians 1.5 apart): the DV bound within 10%, JS within 2%, in a default run."""
    session = _trained(CriticConfig(device="cpu"))
    kl, js = session.method.exact
    assert kl == pytest.approx(1.125, abs=1e-6)
    dv_hat, js_hat = session.method.estimates(torch.Generator().manual_seed(5), 50_000)
    assert abs(dv_hat - kl) < 0.1 * kl and abs(js_hat - js) < 0.02 * js
    snap = session.snapshot()  # the curves the tab draws: estimates against the exact lines
    assert set(snap.quality) == {"kl_dv", "js"} and len(snap.quality_steps) >= 20
    assert snap.quality_perfect_at["kl_dv"][-1] == pytest.approx(kl) and snap.samples.shape == (0, 2)


def test_close_gaussians_settle_on_their_lines() -> None:
    session = _demo("close")
    kl, js = session.method.exact
    assert kl == pytest.approx(0.125, abs=1e-6)
    dv_hat, js_hat = session.method.estimates(torch.Generator().manual_seed(5), 50_000)
    assert abs(dv_hat - kl) < 0.1 * kl and abs(js_hat - js) < 0.02 * js


def test_far_gaussians_break_the_dv_estimate_while_js_stays_within_one_percent() -> None:
    session = _demo("far")
    kl, js = session.method.exact
    assert kl == pytest.approx(4.5, abs=1e-6) and js == pytest.approx(0.527, abs=1e-3)
    dv_hat, js_hat = session.method.estimates(torch.Generator().manual_seed(5), 50_000)
    assert dv_hat < kl - 1.0, dv_hat  # far below the line
    assert abs(js_hat - js) < 0.01 * js


def test_a_critic_too_small_stops_far_below_both_lines() -> None:
    session = _demo("small")
    kl, js = session.method.exact
    dv_hat, js_hat = session.method.estimates(torch.Generator().manual_seed(5), 50_000)
    assert kl == pytest.approx(2.74, abs=0.01)
    assert js == pytest.approx(0.53, abs=0.005)
    assert 0.2 < dv_hat < 0.4 and 0.05 < js_hat < 0.11  # "DV about 0.3 nats against 2.7, JS about 0.08 against 0.53"


def test_disjoint_supports_let_dv_climb_without_limit_and_js_saturate() -> None:
    session = _demo("disjoint")
    kl, js = session.method.exact
    assert math.isinf(kl) and js == pytest.approx(math.log(2), abs=1e-9)
    dv = session.snapshot().quality["kl_dv"]
    assert dv[-1] > 1000 and dv[-1] > 2 * dv[len(dv) // 2]  # into the thousands, still climbing
    assert session.snapshot().quality["js"][-1] > 0.6


def test_the_critic_tab_trains_and_draws_f_d_and_their_optima() -> None:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["div.tab"] = TAB
    ok(at.run())
    at.button(key="div.step").click().run()
    ok(at)
    assert at.session_state["session:critic"].step_count == 1
    titles = [f["layout"]["title"]["text"] for f in plotly_figures(at)]
    assert titles == [
        "Learned f − log E_p e^f",
        "Its optimum log(q / p)",
        "Learned discriminator D = σ(l)",
        "Its optimum D* = q / (q + p)",
    ]
    # a demo's link sets the densities and shows its advice
    at = AppTest.from_file(PAGE, default_timeout=120)
    config = apply_preset(CriticConfig(), views.PRESETS["disjoint"])
    at.query_params.update({"tab": TAB, "density": "checkerboard", "reference": "checkerboard", "shift_x": "2.0"})
    at.query_params["schedule"] = "constant"
    ok(at.run())
    assert at.session_state["session:critic"].config == dataclasses.replace(config, device="auto")
    assert any(views.PRESETS["disjoint"].look in i.value for i in at.info)
