"""Flow matching: train a velocity field live and compare it with the exact marginal field."""

import dataclasses

import streamlit as st

from explorer.configs import param
from explorer.data.densities import DENSITIES
from explorer.methods import FlowMatchingConfig
from explorer.plotting import flow_matching as fmplot
from explorer.ui import chart, controls, explain, export, live, presets, scaffold, share, state
from explorer.ui.likelihood_tabs import density_tab
from explorer.views import cnf
from explorer.views import flow_matching as views

FAMILY, KEY = "flow_matching", "fm"
LIVE_POINTS = 300  # points per cloud in the live view (payload is sent 4 times a second)

st.title("Flow matching")
st.caption("A network v_θ(x, t) learns to move noise (t = 0) onto data (t = 1). Green arrows are the exact field.")

TABS = [
    "Probability path",
    "Conditional vs marginal",
    "Integrators",
    "Coupling",
    "Guidance",
    "Density (CNF)",
    "The maths",
]


@dataclasses.dataclass(frozen=True)
class View:
    """The page's own widgets (in the URL next to the config)."""

    t: float = param(0.5, "time t", lo=0.0, hi=1.0)
    bg: str = param("error", "Background", choices=("error", "density", "none"))
    tab: str = param(TABS[0], "Tab", choices=tuple(TABS))


BACKGROUNDS = ["error", "density", "none"]
GROUPS = {
    "data": "Data and path",
    "model": "Network",
    "training": "Training",
    "sampler": "Sampler",
    "guidance": "Classifier-free guidance",
}


config = scaffold.sidebar_config(
    FAMILY,
    KEY,
    FlowMatchingConfig(),
    GROUPS,
    expanded=("data", "sampler"),
    choices=lambda c: {
        "source": list(DENSITIES) + list(state.custom_densities()),
        "guidance_class": list(range(len(state.class_names(c.density)))),
    },
    labels=lambda c: {"guidance_class": state.class_names(c.density).__getitem__},
    view=View(),
)
presets.preset_bar(FAMILY, KEY, FlowMatchingConfig(), views.PRESETS, config)
session = scaffold.training_session(FAMILY, KEY, config)
method = session.method
if notice := views.sampler_notice(method):
    st.info(notice)


def render_view(snap) -> None:
    """Live: progress, readouts, samples, the velocity field."""
    scaffold.live_header(snap, KEY)
    left, right = st.columns(2)
    sampler = views.sampler_name(method)
    title = "Samples at step {:,}".format
    live.plotly(
        left,
        lambda s: fmplot.samples_figure(
            *scaffold.live_clouds(session, s, LIVE_POINTS), title(s.samples_step), sampler=sampler
        ),
    )
    with right:
        t = st.slider("time t", 0.0, 1.0, step=0.05, key=f"{KEY}.t")
        show = st.segmented_control("Background", BACKGROUNDS, key=f"{KEY}.bg", help="|v_θ − u_t|, or the exact p_t")
        field = live.shared(lambda s: views.velocity_view(method, t, generator=session.sample_generator()))
        live.plotly(st, lambda s: fmplot.field_figure(field(s), show or "none"))
        share.publish_view(KEY, View())
        live.caption(st, lambda s: views.field_caption(field(s), t))


live.live_panel(session, KEY + ".live", [(render_view, live.REFRESH_S), (controls.curves, 1.0)])
export.export_panel(session, KEY)

st.caption(f"The tabs show the model at step {session.step_count:,}; they refresh when training pauses or ends.")
tab_path, tab_cond, tab_int, tab_coup, tab_cfg, tab_cnf, tab_math = st.tabs(TABS, key=f"{KEY}.tab", on_change="rerun")
share.publish_view(KEY, View())
generator = session.sample_generator()
if tab_path.open:
    with tab_path:
        path_fig = fmplot.flow_animation_figure(views.flow_animation(method, generator))
        chart.plotly(st, path_fig)
        export.animation_downloads(path_fig, "flow-matching-path", f"{KEY}.path")
        st.caption("Press ▶ Play or drag the slider: orange particles follow the learned ODE; blue is the true p_t.")
if tab_cond.open:
    with tab_cond:
        cond, marg = fmplot.paths_figures(views.paths_view(method, generator))
        a, b = st.columns(2)
        chart.plotly(a, cond)
        chart.plotly(b, marg)
        st.caption(views.PATHS_CAPTION)
if tab_int.open:
    with tab_int:
        iv = views.integrator_view(method, generator)
        st.altair_chart(fmplot.integrator_chart(iv), width="stretch")
        for col, (name, final) in zip(st.columns(3), iv.final.items(), strict=True):
            chart.plotly(col, fmplot.samples_figure(final, final[:0], f"{name}, {config.sampler_steps} steps"))
if tab_coup.open:
    with tab_coup:
        cv = views.coupling_view(method, generator)
        a, b = st.columns(2)
        ind, ot_fig = fmplot.coupling_figures(cv)
        chart.plotly(a, ind)
        chart.plotly(b, ot_fig)
        st.metric(
            "Straightness of the learned flow (0 = straight lines)", f"{cv.straightness:.3f}", help=views.STRAIGHT
        )
        st.caption(f"Training with '{config.coupling}' coupling. Switch Coupling in the sidebar to compare.")
if tab_cfg.open:
    with tab_cfg:
        if not method.conditional:
            st.info(
                "Turn on 'Train for classifier-free guidance' in the sidebar (densities with classes: "
                "the Gaussian mixtures, checkerboard, moons, rings, spirals), then train."
            )
        else:
            gv = views.guidance_view(method, generator)
            explain.guidance_intro(session.density.class_names[gv.label])
            for col, x, title in zip(st.columns(len(gv.scales)), gv.samples, gv.titles, strict=True):
                chart.plotly(col, fmplot.samples_figure(x, x[:0], title))
            explain.guidance_caption(config.label_dropout)
if tab_cnf.open:
    with tab_cnf:
        density_tab(session, cnf.flow_matching_density, KEY, st.session_state.get(f"{KEY}.t", 0.5), "t")
if tab_math.open:
    with tab_math:
        explain.flow_matching()
