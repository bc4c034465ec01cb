"""The likelihood tabs: the density a flow-matching or diffusion model's ODE defines (`explorer.views.cnf`), and a
VAE's log-likelihood four ways (`explorer.views.vae_likelihood`). Each is computed once per training step and setting
(up to a second or two) and kept while the learner looks, so that switching tabs or redrawing costs nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import streamlit as st

from explorer.plotting import likelihood as lplot
from explorer.training.session import TrainingSession
from explorer.ui import chart
from explorer.views import vae_likelihood as vl
from explorer.views.cnf import DensityView

K_CHOICES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


def _cached(name: str, session: TrainingSession, setting: tuple, note: str, compute: Callable[[], Any]) -> Any:
    """`compute()` for this model at this step and setting, from the browser session's cache when it has it."""
    cache_key = (id(session.method), session.step_count, session.config, setting)
    cached = st.session_state.get(name)
    if cached is None or cached[0] != cache_key:
        with st.spinner(note):
            cached = (cache_key, compute())
        st.session_state[name] = cached
    return cached[1]


def density_tab(
    session: TrainingSession, view: Callable[..., DensityView | None], key: str, t: float, time_name: str
) -> None:
    """Render the tab for `session`'s model at time `t` (`view(method, t, generator)`, cached per step and t)."""
    dv = _cached(
        f"{key}.cnf",
        session,
        (round(float(t), 4),),
        "Integrating the ODE from every grid point…",
        lambda: view(session.method, float(t), session.sample_generator()),
    )
    if dv is None:
        st.info("The source has no closed-form density, so the ODE carries none to the data: choose a Gaussian source.")
        return
    cols = st.columns(3)
    cols[0].metric("NLL of fresh data", f"{dv.nll:.3f} ± {dv.nll_stderr:.3f}", help="E_p[−log p_θ(x)], 1,000 points")
    cols[1].metric("entropy H(p)", f"{dv.entropy.value:.3f}" if dv.entropy else "unknown")
    cols[2].metric("NLL − H = KL(p ‖ p_θ)", f"{dv.kl:.3f}" if dv.kl is not None else "–", help="0 for a perfect model")
    figures = lplot.cnf_figures(dv, time_name)
    for name, caption in (
        (
            "density",
            "Each point's ODE trajectory is followed to the noise end with d/dt log p_t(x_t) = −∇·v(x_t, t) "
            "beside it: log p_θ(x) is the noise's log-density there plus the divergence integrated on the way.",
        ),
        ("at_t", f"The same flow stopped at {time_name} = {dv.t:.2f}: the model's p_t against the exact one."),
        ("continuity", "The continuity equation ∂p_t/∂t = −∇·(p_t u_t) for the exact field: the two images agree."),
    ):
        if name in figures:
            for col, fig in zip(st.columns(2), figures[name], strict=False):
                chart.plotly(col, fig)
            st.caption(caption)


def vae_likelihood_tab(session: TrainingSession, key: str) -> None:
    """The VAE's log p_θ(x) four ways at a data point (or a batch) and K of the learner's choice."""
    method = session.method
    if method.kind != "vae":
        st.info("Only the VAE has a prior over z to integrate: choose Model → VAE in the sidebar.")
        return
    points = _cached(
        f"{key}.ll.points",
        session,
        (),
        "Drawing points…",
        lambda: vl.candidate_points(method, session.sample_generator()),
    )
    names = [f"x = ({x:.2f}, {y:.2f})" for x, y in points] + [f"a batch of {vl.BATCH} data points (mean)"]
    left, right = st.columns([3, 2])
    which = left.selectbox("Data point", range(len(names)), format_func=names.__getitem__, key=f"{key}.ll.point")
    k = right.select_slider("Samples per estimate K", K_CHOICES, value=100, key=f"{key}.ll.k")

    def estimate():
        batch = method.density.sample(vl.BATCH, session.sample_generator()).cpu().numpy()
        return vl.estimates_view(
            method, points[which : which + 1] if which < len(points) else batch, k, session.sample_generator()
        )

    ev = _cached(f"{key}.ll.est", session, (which, k), "Estimating…", estimate)
    cols = st.columns(4)
    cols[0].metric("log p_θ(x), quadrature", f"{ev.reference:.3f}", help="Rectangle rule over a fine latent grid")
    cols[1].metric("ELBO = IWAE₁", f"{ev.elbo:.3f}")
    cols[2].metric(f"IWAE_{k}", f"{np.mean(ev.importance):.3f}", help="The mean of the importance-sampling estimates")
    if ev.closed_form is not None:
        cols[3].metric("closed form (PPCA)", f"{ev.closed_form:.3f}")
    a, b = st.columns(2)
    chart.plotly(a, lplot.estimates_figure(ev))
    chart.plotly(b, lplot.iwae_figure(ev))
    naive = ev.naive[np.isfinite(ev.naive)]
    spread = f"naive: mean {np.mean(naive):.2f}, sd {np.std(naive):.2f}; importance: sd {np.std(ev.importance):.3f}"
    st.caption(
        f"ELBO ≤ IWAE_K ≤ log p_θ(x). Over {len(ev.naive)} repeats ({spread}): prior draws rarely land where "
        "p(x | z) is large, so the naive estimate is mostly far too low; q(z | x) puts its draws there."
    )
    dv = _cached(
        f"{key}.ll.density",
        session,
        (),
        "Integrating over the latent grid…",
        lambda: vl.density_view(method, session.sample_generator()),
    )
    cols = st.columns(3)
    cols[0].metric(
        "NLL, quadrature", f"{dv.nll_quadrature:.3f} ± {dv.nll_stderr:.3f}", help=f"{vl.NLL_POINTS} fresh data points"
    )
    cols[1].metric(f"NLL, importance (K = {vl.NLL_IS_K})", f"{dv.nll_importance:.3f}")
    cols[2].metric("NLL − H = KL(p ‖ p_θ)", f"{dv.nll_quadrature - dv.entropy.value:.3f}" if dv.entropy else "–")
    for col, fig in zip(
        st.columns(3), lplot.vae_density_figures(dv.axis, dv.learned, dv.target, dv.closed_form), strict=False
    ):
        chart.plotly(col, fig)
