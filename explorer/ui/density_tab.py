"""The "Density (continuous normalizing flow)" tab of Flow matching and Diffusion: the density the model's ODE
defines (`explorer.views.cnf`), computed once per training step and time t (about a second of ODE solves) and
kept while the learner looks, so that switching tabs or redrawing costs nothing."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from explorer.plotting import likelihood as lplot
from explorer.training.session import TrainingSession
from explorer.ui import chart
from explorer.views.cnf import DensityView


def density_tab(
    session: TrainingSession, view: Callable[..., DensityView | None], key: str, t: float, time_name: str
) -> None:
    """Render the tab for `session`'s model at time `t` (`view(method, t, generator)`, cached per step and t)."""
    cache_key = (id(session.method), session.step_count, round(float(t), 4), session.config)
    cached = st.session_state.get(f"{key}.cnf")
    if cached is None or cached[0] != cache_key:
        with st.spinner("Integrating the ODE backwards from every grid point…"):
            cached = (cache_key, view(session.method, float(t), session.sample_generator()))
        st.session_state[f"{key}.cnf"] = cached
    dv = cached[1]
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
