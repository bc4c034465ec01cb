"""Normalizing flows: RealNVP trained live by exact maximum likelihood; the change of variables made visible."""

import dataclasses

import streamlit as st

from explorer.configs import param
from explorer.maths.entropy import target_entropy
from explorer.methods import FlowConfig
from explorer.plotting import likelihood as lplot
from explorer.plotting import realnvp as nfplot
from explorer.plotting.fields import samples_figure
from explorer.ui import chart, controls, export, live, presets, scaffold, share
from explorer.views import realnvp as views
from explorer.views.realnvp_maths import MATHS

FAMILY, KEY = "flow", "nf"
LIVE_POINTS = 300  # model samples per live frame (payload is sent 4 times a second)
LAYERS_REFRESH_S = 2.0  # the per-layer strips: two multi-panel figures, the heaviest for the browser

st.title("Normalizing flows")
st.caption(
    "RealNVP: K invertible coupling layers carry N(0, I) onto the data, and the change of variables gives the "
    "exact log-likelihood, which training maximises. Watch the grid warp layer by layer."
)

TABS = ["Layer by layer", "Density check", "The maths"]


@dataclasses.dataclass(frozen=True)
class View:
    """The page's own widgets (in the URL next to the config)."""

    tab: str = param(TABS[0], "Tab", choices=tuple(TABS))


GROUPS = {"model": "Flow (RealNVP)", "training": "Training", "data": "Data"}
config = scaffold.sidebar_config(FAMILY, KEY, FlowConfig(), GROUPS, expanded=("model", "data"), view=View())
presets.preset_bar(FAMILY, KEY, FlowConfig(), views.PRESETS, config)
session = scaffold.training_session(FAMILY, KEY, config)
method = session.method
for note in views.setting_notes(config, session.density.has_log_prob):
    st.warning(note, icon=":material/tune:")
entropy = target_entropy(session.density)
exact = views.exact_image(session.density)  # the target does not change while training: computed once per run


def render_view(snap) -> None:
    """Live: progress, readouts, the learned density, the target, samples over data."""
    scaffold.live_header(snap, KEY, extra=nll_readouts)
    left, middle, right = st.columns(3)
    clouds = live.shared(lambda s: live_clouds())
    image = live.shared(lambda s: views.learned_image(method))
    # one colour scale for both
    top = live.shared(lambda s: lplot.density_top(image(s)[1], exact[1] if exact is not None else None))
    live.plotly(left, lambda s: lplot.density_figure(*image(s), "Learned density p_θ(x), exact", top=top(s)))
    if exact is not None:
        live.plotly(middle, lambda s: lplot.density_figure(*exact, "Target density p(x)", top=top(s)))
    else:
        live.plotly(middle, lambda s: samples_figure(clouds(s)[1][:0], clouds(s)[1], "Data (no closed-form density)"))
    live.plotly(right, lambda s: samples_figure(*clouds(s), "Samples x = f(z) over data"))


def nll_readouts(snap) -> dict[str, str]:
    """The entropy floor and the NLL's distance to it, where the target's entropy is known."""
    if entropy is None or not len(snap.loss):
        return {}
    return {"floor H(p)": f"{entropy.value:.3f}", "NLL − H ≈ KL": f"{snap.loss[-1] - entropy.value:.3f}"}


def live_clouds():
    """(flow samples, data) `[LIVE_POINTS, 2]` each, the same noise at every refresh."""
    generator, n = session.sample_generator(), LIVE_POINTS
    return method.sample(n, generator).cpu().numpy(), session.density.sample(n, generator).cpu().numpy()


def render_layers(snap) -> None:
    """Every two seconds: the grid carried through the layers, and what each layer adds to log p_θ."""
    n_layers = len(method.flow.stages)  # the couplings, and the bounded output if any
    stages = views.shown_layers(n_layers)
    st.markdown("**The noise grid after each coupling** (orange: samples z ~ N(0, I) carried along)")
    live.plotly(
        st,
        lambda s: nfplot.layer_strip_figure(
            views.layers_view(method, session.sample_generator(), n=120, vertices=21), stages
        ),
        every=LAYERS_REFRESH_S,
    )
    st.markdown(
        "**What each layer adds to log p_θ(x)**: log |det ∂f_k⁻¹/∂y| over data space (red: the layer squeezes "
        "this region, raising the density; blue: it spreads it), then the base term and their sum"
    )
    shown = [k for k in views.shown_layers(n_layers - 1) if k < n_layers]
    live.plotly(st, lambda s: nfplot.logdet_strip_figure(views.logdet_view(method), shown), every=LAYERS_REFRESH_S)


def render_curves(snap) -> None:
    """The NLL with its floor, and the quality curves."""
    floor, floor_text = (entropy.value, entropy.describe()) if entropy is not None else (None, "")

    def nll(s) -> list:
        return [nfplot.nll_chart(s.loss_steps, s.loss, floor, floor_text)] if len(s.loss) else []

    controls.curves(snap, before=nll)
    st.caption(entropy.describe() if entropy else "No closed-form density here: no entropy floor.")


PANELS = [(render_view, live.REFRESH_S), (render_curves, 1.0), (render_layers, LAYERS_REFRESH_S)]
live.live_panel(session, KEY + ".live", PANELS)
export.export_panel(session, KEY)

st.caption(f"The tabs show the model at step {session.step_count:,}; they refresh when training pauses or ends.")
tab_layers, tab_check, tab_math = st.tabs(TABS, key=f"{KEY}.tab", on_change="rerun")
share.publish_view(KEY, View())
if tab_layers.open:
    with tab_layers:
        view = views.layers_view(method, session.sample_generator(), vertices=51)  # sharp folds need vertices
        for col, inverse, name in zip(st.columns(2), (False, True), ("noise-to-data", "data-to-noise"), strict=True):
            with col:
                fig = nfplot.layers_animation(view, inverse=inverse)
                chart.plotly(st, fig)
                export.animation_downloads(fig, f"realnvp-{name}", f"{KEY}.{name}")
        st.caption(
            "Press ▶ Play or drag the slider. Each coupling slides points along one axis only (x₂ given x₁, then "
            "x₁ given x₂, …); between two stages the points move in a straight line, as one coupling does."
        )
if tab_check.open:
    with tab_check:
        dv = views.density_view(method, session.sample_generator())
        cols = st.columns(4)
        cols[0].metric("NLL on 4,000 fresh points", f"{dv.nll:.3f} ± {dv.nll_stderr:.3f}")
        cols[1].metric("entropy H(p)", f"{dv.entropy.value:.3f}" if dv.entropy else "unknown")
        cols[2].metric("KL(p ‖ p_θ) = NLL − H", f"{dv.kl:.3f}" if dv.kl is not None else "–")
        cols[3].metric("∫ p_θ over [−6, 6]²", f"{dv.integral:.4f}", help="Riemann sum on the grid; 1 if exact")
        a, b = st.columns(2)
        top = lplot.log_density_top(dv.learned_log_prob, dv.exact_log_prob)  # one colour scale for both
        chart.plotly(a, lplot.log_density_figure(dv.axis, dv.learned_log_prob, "Learned log p_θ(x)", top=top))
        if dv.exact_log_prob is not None:
            chart.plotly(b, lplot.log_density_figure(dv.axis, dv.exact_log_prob, "Exact target log p(x)", top=top))
        st.caption(
            f"Round trip: max |f(f⁻¹(x)) − x| = {dv.round_trip:.1e} on fresh data. "
            + (dv.entropy.describe() if dv.entropy else "No closed-form density: no entropy.")
        )
if tab_math.open:
    with tab_math:
        for kind, text in MATHS:
            if kind == "latex":
                st.latex(text)
            else:
                st.markdown(text)
