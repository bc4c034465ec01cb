"""Divergences: KL, JS and Wasserstein-1 on point masses, on moving 1D distributions, on the notes'
earth-mover example, the optimal discriminator D* = p / (p + q) between two 2D densities, and critics that
estimate KL and JS from samples alone."""

import dataclasses

import streamlit as st

from explorer.configs import param
from explorer.maths.measures import SHAPES_1D
from explorer.plotting import divergences as dplot
from explorer.plotting import earth_mover as eplot
from explorer.ui import chart, share
from explorer.ui import divergences_widgets as w
from explorer.ui.critic_tab import DEFAULT as CRITIC_DEFAULT
from explorer.ui.critic_tab import critic_tab
from explorer.views import divergences as views
from explorer.views import divergences_text as text

KEY = "div"
st.title("Divergences")
st.caption(
    "How far apart are two distributions? KL, Jensen–Shannon and Wasserstein-1 answer differently, and a "
    "generator only learns from the gradient of the answer. Every number is exact or says how it was computed; "
    "in the critic's tab two networks estimate them from samples alone."
)

TABS = [
    "Point masses",
    "Moving distributions",
    "Earth mover's distance",
    "Optimal discriminator D*",
    "A critic estimates the divergence",
    "The maths",
]


@dataclasses.dataclass(frozen=True)
class View:
    """Every widget of the page, with its default and range (in the URL: `explorer.ui.share`)."""

    tab: str = param(TABS[0], "Tab", choices=tuple(TABS))
    theta: float = param(1.5, "θ", lo=-4.0, hi=4.0)
    blur: float = param(0.0, "Blur σ", choices=tuple(views.BLURS))
    p1: str = param("gaussian", "p (fixed)", choices=tuple(SHAPES_1D))
    q1: str = param("two_bumps", "q (moved)", choices=tuple(SHAPES_1D))
    scale1: float = param(1.0, "q scaled by", choices=tuple(views.SCALES_1D))
    shift1: float = param(2.0, "shift θ of q", lo=-views.SHIFT_MAX, hi=views.SHIFT_MAX)
    offset: float = param(0.0, "Move μ′ by", lo=-6.0, hi=6.0)
    p2: str = param("eight_gaussians", "p (data)", choices=tuple(views.EXACT_2D))
    q2: str = param("gaussian", "q (generator)", choices=tuple(views.EXACT_2D))
    bx: float = param(0.0, "move q: x", lo=-6.0, hi=6.0)
    by: float = param(0.0, "move q: y", lo=-6.0, hi=6.0)
    scale2: float = param(2.0, "scale q", choices=tuple(views.SCALES_2D))


D = View()
share.restore(KEY, D, CRITIC_DEFAULT, densities=views.EXACT_2D)
share.notices(KEY)
w.keep_tab(f"{KEY}.tab", TABS)
tab_point, tab_shift, tab_emd, tab_dstar, tab_critic, tab_math = st.tabs(TABS, key=f"{KEY}.tab", on_change="rerun")
w.remember_tab(f"{KEY}.tab")

if tab_point.open:
    with tab_point:
        left, right = st.columns([3, 2])
        with left:
            theta = w.slider("θ, where the generator's mass sits", -4.0, 4.0, D.theta, f"{KEY}.theta", 0.05)
        with right:
            help_blur = "Replace the point masses by N(0, σ²) and N(θ, σ²)."
            blur = w.select_slider("Blur σ (0: point masses)", views.BLURS, D.blur, f"{KEY}.blur", help=help_blur)
        view = w.point_mass_view(theta, blur)
        w.metrics(text.point_mass_metrics(view), text.SLOPE_HELP)
        a, b = st.columns(2)
        chart.plotly(a, dplot.point_mass_figure(view), key=f"{KEY}.pm")
        chart.plotly(b, dplot.point_mass_curves_figure(view), key=f"{KEY}.pm_curves")
        st.markdown(text.POINT_MASS_LESSON)
        st.caption(text.BLUR_NOTE)

if tab_shift.open:
    with tab_shift:
        names = list(SHAPES_1D)
        title = {name: SHAPES_1D[name].title for name in names}.get
        c1, c2, c3, c4 = st.columns([3, 3, 2, 3])
        with c1:
            p_name = w.selectbox("p (fixed)", names, D.p1, f"{KEY}.p1", format_func=title)
        with c2:
            q_name = w.selectbox("q (moved)", names, D.q1, f"{KEY}.q1", format_func=title)
        with c3:
            scale = w.select_slider("q scaled by", views.SCALES_1D, D.scale1, f"{KEY}.scale1")
        with c4:
            shift = w.slider("shift θ of q", -views.SHIFT_MAX, views.SHIFT_MAX, D.shift1, f"{KEY}.shift1", 0.1)
        curves, now = w.shift_curves(p_name, q_name, scale), w.shift_now(p_name, q_name, scale, shift)
        w.metrics(text.shift_metrics(now))
        st.markdown(text.shift_closed_text(now))
        chart.plotly(st, dplot.shift_densities_figure(curves, now), key=f"{KEY}.shift_pq")
        figs = dplot.shift_curve_figures(curves, now.theta)
        for col, fig, name in zip(st.columns(3), figs, ("kl", "js", "w1"), strict=True):
            chart.plotly(col, fig, key=f"{KEY}.curve.{name}")
        st.caption(text.SHIFT_METHOD)

if tab_emd.open:
    with tab_emd:
        st.markdown(text.EARTH_MOVER_TEXT)
        em = w.earth_mover_view(w.slider("Move μ′ by", -6.0, 6.0, D.offset, f"{KEY}.offset", 0.5))
        w.metrics(text.earth_mover_metrics(em))
        a, b = st.columns(2)
        chart.plotly(a, eplot.plan_figure(em), key=f"{KEY}.plan")
        chart.plotly(b, eplot.cdf_figure(em), key=f"{KEY}.cdf")
        chart.plotly(a, eplot.coupling_figure(em), key=f"{KEY}.coupling")
        chart.plotly(b, eplot.critic_figure(em), key=f"{KEY}.critic")
        st.dataframe(text.earth_mover_table(em), hide_index=True)
        st.caption(text.EARTH_MOVER_METHOD)

if tab_dstar.open:
    with tab_dstar:
        names = views.EXACT_2D
        c1, c2, c3, c4, c5 = st.columns([3, 3, 2, 2, 2])
        with c1:
            p2 = w.selectbox("p (data)", names, D.p2, f"{KEY}.p2", format_func=views.density_title)
        with c2:
            q2 = w.selectbox("q (generator)", names, D.q2, f"{KEY}.q2", format_func=views.density_title)
        with c3:
            bx = w.slider("move q: x", -6.0, 6.0, D.bx, f"{KEY}.bx", 0.25)
        with c4:
            by = w.slider("move q: y", -6.0, 6.0, D.by, f"{KEY}.by", 0.25)
        with c5:
            s2 = w.select_slider("scale q", views.SCALES_2D, D.scale2, f"{KEY}.scale2")
        dv = w.discriminator_view(p2, q2, (bx, by), s2)
        w.metrics(text.dstar_metrics(dv))
        fig_col, text_col = st.columns([3, 2])
        chart.plotly(fig_col, dplot.discriminator_figure(dv), key=f"{KEY}.dstar")
        with text_col:
            st.markdown(text.DSTAR_TEXT)
            st.markdown(text.dstar_closed_text(dv))
            for label, preset in text.dstar_presets(p2).items():
                st.button(label, key=f"{KEY}.preset.{label}", on_click=w.set_values, args=(preset,), width="stretch")
        st.caption(f"{text.DSTAR_METHOD} Here n = {dv.integration_n}, R = {dv.integration_lim:.1f}.")

if tab_critic.open:
    with tab_critic:
        critic_tab(KEY)

if tab_math.open:
    with tab_math:
        for kind, words in text.EXPLANATION:
            (st.latex if kind == "latex" else st.markdown)(words)

share.publish((View(**{f.name: w.value(f"{KEY}.{f.name}", getattr(D, f.name)) for f in dataclasses.fields(D)}), D))
