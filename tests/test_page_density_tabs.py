"""The "Density" tabs of Flow matching and Diffusion, headless (AppTest): after a short run each shows the NLL
against the entropy, the model's density beside the target's on one colour scale, p_t beside the exact p_t, and the
continuity equation's two sides; a model whose source has no density says so. The views' numbers: the continuity
equation's two sides agree, and the model's density matches what its NLL says."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from apptest_pages import run_page
from page_figures import plotly_figures

from explorer.methods import FAMILIES
from explorer.training.session import TrainingSession
from explorer.views import cnf

ROOT = Path(__file__).resolve().parents[1]
PAGES = {
    "flow_matching": ("flow_matching", "fm", "Density (CNF)"),
    "diffusion": ("diffusion", "df", "Density (probability-flow ODE)"),
}


def _trained(family: str, steps: int = 600, **changes) -> TrainingSession:
    config = FAMILIES[family].config(device="cpu", steps=steps, **changes)
    session = TrainingSession(family, config, quality_every=10**9, quality_period_s=math.inf)
    session.step(steps)
    return session


@pytest.mark.parametrize("family", list(PAGES))
def test_the_tab_shows_the_likelihood_the_densities_and_the_continuity_equation(family: str) -> None:
    page, key, tab = PAGES[family]
    session = _trained(family)
    state = {f"config:{family}": session.config, f"session:{family}": session, f"{key}.tab": tab}
    at = run_page(str(ROOT / "pages" / f"{page}.py"), state)
    assert at.session_state[f"session:{family}"] is session and session.step_count == 600
    metrics = {m.label: m.value for m in at.metric}
    nll, kl = float(metrics["NLL of fresh data"].split(" ± ")[0]), float(metrics["NLL − H = KL(p ‖ p_θ)"])
    assert metrics["entropy H(p)"] == "2.507" and nll - 2.507 == pytest.approx(kl, abs=2e-3)
    titles = [f["layout"]["title"]["text"] for f in plotly_figures(at)]
    for title in ("The model's p_θ(x)", "Target p(x)", "Exact p_t", "∂p_t/∂t at t", "−∇·(p_t u_t) at t"):
        assert any(t.startswith(title) for t in titles), (title, titles)
    pair = [f for f in plotly_figures(at) if f["layout"]["title"]["text"] in ("The model's p_θ(x)", "Target p(x)")]
    assert len({f["data"][0]["zmax"] for f in pair}) == 1  # one colour scale


def test_a_source_without_a_density_says_so() -> None:
    session = _trained("flow_matching", 50, source="two_moons")
    state = {"config:flow_matching": session.config, "session:flow_matching": session, "fm.tab": "Density (CNF)"}
    at = run_page(str(ROOT / "pages/flow_matching.py"), state)
    assert any("source has no closed-form density" in i.value for i in at.info)


@pytest.mark.parametrize(("family", "t"), [("flow_matching", 0.5), ("diffusion", 0.3)])
def test_the_continuity_equations_two_sides_agree(family: str, t: float) -> None:
    """dp_t/dt (a central difference of the closed-form p_t) against -div(p_t u_t) (autograd): within 2% of the
    rate's scale on the grid (the difference's own error is O(dt^2))."""
    method = _trained(family, 50).method
    view = (cnf.flow_matching_density if family == "flow_matching" else cnf.diffusion_density)(
        method, t, torch.Generator().manual_seed(0)
    )
    scale = np.abs(view.dp_dt).max()
    assert scale > 0 and np.abs(view.dp_dt - view.minus_div_flux).max() < 0.02 * scale


def _vae(steps: int = 800, **changes) -> TrainingSession:
    return _trained("vae", steps, **changes)


@pytest.mark.parametrize("changes", [{}, {"latent_dim": 1, "linear_decoder": True}], ids=["mlp", "linear"])
def test_the_vae_tab_orders_the_bounds_and_agrees_with_quadrature(changes: dict) -> None:
    """At a data point and K = 100: ELBO <= IWAE_100 <= log p(x) (up to the estimates' noise), IWAE_100 within 0.05
    nats of the quadrature; the NLL by importance sampling within 0.1 of the quadrature's; with a linear decoder the
    PPCA closed form equals the quadrature; three density images on one scale (two without a closed form)."""
    session = _vae(**changes)
    state = {"config:vae": session.config, "session:vae": session, "vae.tab": "Log-likelihood"}
    at = run_page(str(ROOT / "pages/vae.py"), state)
    values = {m.label: m.value for m in at.metric}
    reference, elbo, iwae = (float(values[k]) for k in ("log p_θ(x), quadrature", "ELBO = IWAE₁", "IWAE_100"))
    assert elbo <= iwae + 0.01 and iwae <= reference + 0.01 and abs(iwae - reference) < 0.05, values
    nll = float(values["NLL, quadrature"].split(" ± ")[0])
    assert abs(float(values["NLL, importance (K = 100)"]) - nll) < 0.1
    if changes.get("linear_decoder"):
        assert float(values["closed form (PPCA)"]) == pytest.approx(reference, abs=2e-3)
    titles = [f["layout"]["title"]["text"] for f in plotly_figures(at)]
    assert "The IWAE bound rises with K" in titles and "Target p(x)" not in titles  # two moons: no closed form
    assert ("Closed form (PPCA)" in titles) == bool(changes.get("linear_decoder"))


def test_the_vae_tab_explains_that_an_autoencoder_has_no_likelihood() -> None:
    session = _vae(50, kind="ae")
    state = {"config:vae": session.config, "session:vae": session, "vae.tab": "Log-likelihood"}
    assert any("Only the VAE has a prior" in i.value for i in run_page(str(ROOT / "pages/vae.py"), state).info)
