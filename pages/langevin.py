"""Langevin dynamics: chains on a density from its exact score or a learned one; MALA, annealing, and
the two classic failures (a trapped chain, a biased step) with their fixes."""

import dataclasses

import streamlit as st

from explorer.data.densities import DENSITIES, GaussianMixture, get_density
from explorer.methods import FAMILIES
from explorer.methods.langevin import MAX_CHAINS, MAX_STEPS, MAX_WORK, LangevinConfig, run_chains, with_fields
from explorer.plotting import langevin as lplot
from explorer.ui import chart, controls, export, live, share, state, widgets
from explorer.views import langevin as views

FAMILY, KEY, DIFFUSION = "langevin", "lv", "diffusion"
st.title("Langevin dynamics")
st.caption(
    "Chains that follow the score ∇ log p uphill, plus noise, sample p. Watch them on the target, compare their "
    "histogram with it, and break them: a trapped chain, a biased step. No training needed on the exact score."
)
config = state.stored_config(FAMILY, LangevinConfig())


def _apply(changes: dict) -> None:
    """Preset / fix callback: new settings, and the widgets moved to them before they render."""
    new = with_fields(state.stored_config(FAMILY, LangevinConfig()), **changes)
    state.store_config(FAMILY, new)
    for field in dataclasses.fields(new):
        st.session_state[f"{KEY}.{field.name}"] = getattr(new, field.name)


for col, (name, preset) in zip(st.columns(len(views.PRESETS)), views.PRESETS.items(), strict=True):
    with col.container(border=True):
        st.markdown(f"**{preset.title}.** {preset.look}")
        st.caption(preset.after)
        load, fix = st.columns(2)
        load.button("Show it", key=f"{KEY}.preset.{name}", on_click=_apply, args=(preset.settings,), width="stretch")
        fixed = {**preset.settings, **preset.fix}
        fix.button(preset.fix_label, key=f"{KEY}.fix.{name}", on_click=_apply, args=(fixed,), width="stretch")

custom = state.custom_densities()
names = list(DENSITIES) + list(custom)
if linked := share.restore(KEY, LangevinConfig(), densities=names):
    config = with_fields(config, **linked)
share.notices(KEY)
density = get_density(config.density if config.density in names else names[0], custom)
modes = list(range(density.n_classes)) if isinstance(density, GaussianMixture) else [0]
INIT_FIELDS = {"noise": ["init_scale"], "point": ["init_x", "init_y"], "mode": ["init_mode"]}
ALL_START = ["init_scale", "init_x", "init_y", "init_mode"]
with st.sidebar:
    choices = {"density": names, "init_mode": modes}
    for group, title in {"target": "Target and score", "dynamics": "Dynamics", "start": "Start"}.items():
        with st.expander(title, expanded=True):
            config = widgets.config_widgets(config, KEY, [group], choices=choices, hide=ALL_START)
            if group == "start":
                hide = [f for f in ALL_START if f not in INIT_FIELDS[config.init]]
                config = widgets.config_widgets(config, KEY, [group], choices=choices, hide=["init", *hide])
    with st.expander("Annealing", expanded=config.annealed):
        config = widgets.config_widgets(config, KEY, ["annealing"], hide=["n_levels", "sigma_max", "sigma_min"])
        if config.annealed:
            config = widgets.config_widgets(config, KEY, ["annealing"], hide=["annealed"])
    st.caption(
        f"Runs are capped at {MAX_CHAINS:,} chains, {MAX_STEPS:,} steps and {MAX_WORK:,} chain-steps (about 1 s)."
    )
state.store_config(FAMILY, config)
share.publish((config, LangevinConfig()))
density = get_density(config.density, custom)


def _progress(snap) -> None:
    live.html(st, controls.progress_html)  # refreshed from the live feed while the model trains
    controls.status_message(snap)


source, note, cache_key = None, "", None
if config.score == "learned":
    trained = st.session_state.get(f"session:{DIFFUSION}")
    source, note = views.learned_source(trained, config.density)
    if source is None:
        note += " Train one on the Diffusion page, or here (a minute of training gives a usable score)."
    if trained is not None or st.button("Train a diffusion model here", key=f"{KEY}.train"):
        base = trained.config if trained is not None else state.stored_config(DIFFUSION, FAMILIES[DIFFUSION].config())
        if trained is None and hasattr(base, "density"):
            base = dataclasses.replace(base, density=density.name)
        diffusion = state.training_session(DIFFUSION, base)
        with st.expander("Diffusion model (the learned score)", expanded=source is None):
            controls.training_buttons(diffusion, f"{KEY}.dm")
            live.live_panel(diffusion, f"{KEY}.dm.live", [(_progress, live.REFRESH_S)])
    if source is not None:
        cache_key = (config, "learned", id(trained), trained.step_count)
else:
    source, note = views.exact_source(density)
    cache_key = (config, "exact", density.name)
if note:
    (st.info if source is not None else st.warning)(note, icon=":material/info:")

if source is not None:
    cached = st.session_state.get(f"{KEY}.result")
    if cached is None or cached[0] != cache_key:
        with st.spinner("Running the chains…"):
            view = views.langevin_view(run_chains(config, source), source.density)
        st.session_state[f"{KEY}.result"] = cached = (cache_key, view)
    view = cached[1]
    for notice in view.notices:
        st.info(notice, icon=":material/tune:")
    if view.blowup:
        st.error(view.blowup, icon=":material/error:")
    tiles = st.columns(4)
    for col, key in zip(tiles, view.finals, strict=False):
        col.metric(
            f"final {view.names[key]}", f"{view.finals[key]:.3g}", help=f"a perfect sampler: ≲ {view.perfect[key]:.3g}"
        )
    if view.acceptance is not None:
        tiles[2].metric("MALA acceptance", f"{view.acceptance:.1%}")
    tiles[3].metric("steps / time", f"{view.steps_done:,} in {view.seconds:.2f} s")
    left, right = st.columns([3, 2])
    chains_fig = lplot.chains_figure(view.chains)
    chart.plotly(left, chains_fig, key=f"{KEY}.chains")
    with left:
        export.animation_downloads(chains_fig, "langevin-chains", f"{KEY}.chains")
        export.notebook_button(FAMILY, config, density, KEY)
    left.caption("Press ▶ Play or drag the slider: orange dots are chains, purple lines their recent trails.")
    with right:
        for dim in (0, 1):
            chart.plotly(st, lplot.marginal_figure(view.marginals, dim), key=f"{KEY}.marginal.{dim}")
        if (modes_chart := lplot.modes_chart(view.marginals)) is not None:
            st.altair_chart(modes_chart, width="stretch", theme=None)
    curves = [lplot.metric_chart(view.curves, key) for key in view.curves.series]
    if (acceptance := lplot.acceptance_chart(view.curves)) is not None:
        curves.append(acceptance)
    for col, chart in zip(st.columns(max(1, len(curves))), curves, strict=False):
        col.altair_chart(chart, width="stretch", theme=None)

with st.expander("The maths: Langevin, MALA, annealing"):
    for kind, text in views.EXPLANATION:
        (st.latex if kind == "latex" else st.markdown)(text)
