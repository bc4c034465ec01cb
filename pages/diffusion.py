"""Diffusion and score: train a denoiser live, compare its score with the exact one, run four samplers."""

import dataclasses

import streamlit as st

from explorer.configs import param
from explorer.methods import DiffusionConfig
from explorer.methods.diffusion import TARGET_TITLES
from explorer.plotting import diffusion as dplot
from explorer.ui import chart, controls, explain, export, live, presets, scaffold, share
from explorer.ui.likelihood_tabs import density_tab
from explorer.views import cnf
from explorer.views import diffusion as views

FAMILY, KEY = "diffusion", "df"
LIVE_POINTS = 300  # points per cloud in the live view (payload is sent 4 times a second)

st.title("Diffusion and score")
st.caption("A network learns to remove noise; its score ∇log p_t is drawn against the exact one (green).")

TABS = [
    "Forward noising",
    "Samplers side by side",
    "ε, score, x₀ (Tweedie)",
    "Score sharpening",
    "Density (probability-flow ODE)",
    "The maths",
]
SAMPLER_STEPS = (2, 5, 10, 20, 50, 100, 200)


@dataclasses.dataclass(frozen=True)
class View:
    """The page's own widgets (in the URL next to the config)."""

    t: float = param(0.3, "noise level t", lo=0.01, hi=1.0)
    bg: str = param("error", "Background", choices=("error", "density", "none"))
    tab: str = param(TABS[0], "Tab", choices=tuple(TABS))
    cmp: int = param(20, "Steps for every sampler", choices=SAMPLER_STEPS)
    tw: float = param(0.4, "noise level t (Tweedie)", lo=0.05, hi=1.0)


GROUPS = {"data": "Data and noise", "model": "Network", "training": "Training", "sampler": "Sampler"}
config = scaffold.sidebar_config(
    FAMILY,
    KEY,
    DiffusionConfig(),
    GROUPS,
    expanded=("data", "model", "sampler"),
    labels={"target": TARGET_TITLES.get},
    view=View(),
)
presets.preset_bar(FAMILY, KEY, DiffusionConfig(), views.PRESETS, config)
session = scaffold.training_session(FAMILY, KEY, config)
method = session.method


def render_view(snap) -> None:
    """Live: progress, readouts, samples, the score field."""
    scaffold.live_header(snap, KEY)
    left, right = st.columns(2)
    title = f"Samples ({config.sampler}, {config.sampler_steps} steps) at step {{:,}}".format
    live.plotly(
        left, lambda s: dplot.samples_figure(*scaffold.live_clouds(session, s, LIVE_POINTS), title(s.samples_step))
    )
    with right:
        t = st.slider(
            "noise level t",
            0.01,
            1.0,
            step=0.01,
            key=f"{KEY}.t",
            help="Diffusion time: 0 is the data, 1 is pure noise.",
        )
        show = st.segmented_control("Background", ["error", "density", "none"], key=f"{KEY}.bg") or "none"
        view = live.shared(lambda s: views.score_view(method, t, session.sample_generator()))
        live.plotly(st, lambda s: dplot.score_figure(view(s), show))
        share.publish_view(KEY, View())
        live.caption(st, lambda s: views.score_caption(view(s), t))


live.live_panel(session, KEY + ".live", [(render_view, live.REFRESH_S), (controls.curves, 1.0)])
export.export_panel(session, KEY)

st.caption(f"The tabs show the model at step {session.step_count:,}; they refresh when training pauses or ends.")
tab_fwd, tab_samp, tab_tw, tab_sharp, tab_cnf, tab_math = st.tabs(TABS, key=f"{KEY}.tab", on_change="rerun")
share.publish_view(KEY, View())
generator = session.sample_generator()
if tab_fwd.open:
    with tab_fwd:
        fwd = views.forward_view(method, generator)
        a, b = st.columns([2, 1])
        forward_fig = dplot.forward_figure(fwd)
        chart.plotly(a, forward_fig)
        with a:
            export.animation_downloads(forward_fig, "diffusion-forward", f"{KEY}.forward")
        b.altair_chart(dplot.noise_chart(fwd.times, fwd.alpha, fwd.sigma), width="stretch")
        b.caption(
            f"Schedule: {config.noise_schedule}. Press ▶ Play: each point keeps its own ε, so it slides "
            "from its data position towards pure noise."
        )
if tab_samp.open:
    with tab_samp:
        steps = st.select_slider("Steps for every sampler", SAMPLER_STEPS, key=f"{KEY}.cmp")
        sv = views.samplers_view(method, generator, steps)
        samplers_fig = dplot.samplers_figure(sv)
        chart.plotly(st, samplers_fig)
        export.animation_downloads(samplers_fig, "diffusion-samplers", f"{KEY}.samplers")
        st.dataframe(dplot.samplers_table(sv), hide_index=True)
        st.caption(views.samplers_caption(config.noise_schedule))
if tab_tw.open:
    with tab_tw:
        t_tw = st.slider("noise level t", 0.05, 1.0, step=0.05, key=f"{KEY}.tw")
        chart.plotly(st, dplot.tweedie_figure(views.tweedie_view(method, t_tw, generator)))
        st.markdown(f"This network predicts **{TARGET_TITLES[config.target]}**; all three forms follow from it:")
        st.latex(
            r"\varepsilon_\theta = -\sigma_t\, s_\theta,\qquad s_\theta = -\frac{\varepsilon_\theta}{\sigma_t},"
            r"\qquad \hat x_0 = \frac{x_t - \sigma_t\,\varepsilon_\theta}{\alpha_t}"
        )
if tab_sharp.open:
    with tab_sharp:
        levels = [1.0, 0.7, 0.5, 0.35, 0.25, 0.18, 0.12, 0.08, 0.05, 0.03]
        chart.plotly(st, dplot.sharpening_figure([views.score_view(method, t, generator, fine=2) for t in levels]))
        st.caption(
            "At high noise the score points to the data's mean; as t drops it splits towards each mode. "
            "Arrows are scaled per frame: their length grows like 1/σ_t as the noise drops."
        )
if tab_cnf.open:
    with tab_cnf:
        density_tab(session, cnf.diffusion_density, KEY, st.session_state.get(f"{KEY}.t", 0.3), "t")
        st.caption(views.PF_ODE_CAPTION)
if tab_math.open:
    with tab_math:
        explain.diffusion()
