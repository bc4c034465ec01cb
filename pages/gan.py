"""GANs: the discriminator surface, the generator's gradient arrows and its warped noise grid, live."""

import dataclasses

import streamlit as st

from explorer.configs import param
from explorer.kernels.gan_losses import LOSS_TITLES
from explorer.maths.optimal_discriminator import discriminator_view
from explorer.methods import GANConfig
from explorer.plotting import gan as gplot
from explorer.plotting.charts import vega_spec
from explorer.ui import chart, controls, explain, export, live, presets, scaffold, share
from explorer.views import gan as views

FAMILY, KEY = "gan", "gan"
LIVE_POINTS = 200  # points per cloud on the D surface (payload is sent 4 times a second)
MAP_POINTS = 150  # points per cloud beside G's grid

st.title("Generative adversarial networks")
st.caption(
    "D learns to tell data (blue) from G's samples (orange); G follows the arrows, the gradient of its loss "
    "through D. The grid shows what G does to its noise."
)

TABS = ["Conditional GAN", "Optimal discriminator D*", "Lipschitz: ‖∇ₓD‖", "The maths"]


@dataclasses.dataclass(frozen=True)
class View:
    """The page's own widgets (in the URL next to the config)."""

    normalise: bool = param(False, "Normalise arrow lengths")
    tab: str = param(TABS[0], "Tab", choices=tuple(TABS))


GROUPS = {"objective": "Objective", "model": "Networks", "training": "Training", "data": "Data"}

config = scaffold.sidebar_config(
    FAMILY,
    KEY,
    GANConfig(),
    GROUPS,
    expanded=("objective",),
    labels={"loss": LOSS_TITLES.get},
    hide=views.hidden_params,
    view=View(),
)
presets.preset_bar(FAMILY, KEY, GANConfig(), views.PRESETS, config)
for note in views.setting_notes(config):
    st.warning(note, icon=":material/tune:")
session = scaffold.training_session(FAMILY, KEY, config)
method = session.method
controls.step_part_buttons(session, KEY)
label = None
if method.n_classes:
    names = session.density.class_names
    if st.session_state.get(f"{KEY}.y") not in range(method.n_classes):  # e.g. after a density change
        st.session_state[f"{KEY}.y"] = 0
    label = st.selectbox(
        "Class y shown in D(x | y) and G(z, y)", range(method.n_classes), format_func=names.__getitem__, key=f"{KEY}.y"
    )


def render_view(snap) -> None:
    """Live: progress, readouts, the D surface with arrows, G's grid in both spaces."""
    scaffold.live_header(snap, KEY)
    surface = live.shared(lambda s: views.surface_view(method, session.sample_generator(), LIVE_POINTS, label=label))
    mapping = live.shared(lambda s: views.mapping_view(method, session.sample_generator(), MAP_POINTS, label=label))
    left, middle, right = st.columns([5, 4, 3])
    with left:
        normalise = st.toggle("Normalise arrow lengths", key=f"{KEY}.normalise", help="Off: true length.")
        live.plotly(st, lambda s: gplot.surface_figure(surface(s), normalise))
        share.publish_view(KEY, View())
    maps = live.shared(lambda s: gplot.mapping_figures(mapping(s), surface(s).real[:MAP_POINTS]))  # (noise, data)
    live.plotly(middle, lambda s: maps(s)[1])
    live.plotly(right, lambda s: maps(s)[0])
    live.caption(right, lambda s: views.surface_caption(surface(s)))


def render_curves(snap) -> None:
    """D and G losses, the quality curves, mass per mode."""

    def losses(s) -> list:
        return [gplot.losses_chart(s.loss_steps, s.loss, s.extra_losses.get("d_loss"))] if len(s.loss) else []

    def modes(s) -> list:
        view = views.mode_mass_view(s.samples, session.density)
        return [gplot.mode_mass_chart(view)] if view is not None else []

    controls.curves(snap, before=losses, after=modes)


live.live_panel(session, KEY + ".live", [(render_view, live.REFRESH_S), (render_curves, 1.0)])
export.export_panel(session, KEY)
if config.loss in ("wgan", "wgan_gp"):
    st.caption("For the WGANs, −L_D (D's curve, sign flipped) estimates the Wasserstein distance W₁ (plus λ·GP).")

st.caption(f"The tabs show the model at step {session.step_count:,}; they refresh when training pauses or ends.")
snap0 = session.snapshot()
tab_cond, tab_opt, tab_lip, tab_math = st.tabs(TABS, key=f"{KEY}.tab", on_change="rerun")
share.publish_view(KEY, View())
if tab_cond.open:
    with tab_cond:
        if (cv := views.class_view(method, session.sample_generator())) is None:
            st.info(
                "Turn on 'Conditional GAN' under Networks in the sidebar (densities with classes: the Gaussian "
                "mixtures, checkerboard, moons, rings, spirals), then train: G and D both receive the class y."
            )
        else:
            chart.plotly(st, gplot.class_figure(cv))
            st.caption("Each colour is G(z, y) for one class y, from the same noise z; faint points are the data.")
if tab_opt.open:
    with tab_opt:
        if not hasattr(session.density, "log_prob") or not session.density.has_log_prob:
            st.info("D* needs the data density in closed form: pick a Gaussian mixture or the checkerboard.")
        else:
            generated = method.sample(2000, session.sample_generator()).cpu()
            dv = discriminator_view(session.density, generated)
            chart.plotly(st, gplot.optimal_discriminator_figure(dv))
            explain.optimal_discriminator(dv.js, dv.bandwidth)
if tab_lip.open:
    with tab_lip:
        lv = views.lipschitz_view(method, session.sample_generator(), label=label)
        left, right = st.columns([5, 4])
        chart.plotly(left, gplot.lipschitz_figure(lv, views.PENALTY_TITLES))
        if (norms := gplot.layer_norms_chart(snap0.loss_steps, snap0.extra_losses)) is not None:
            right.vega_lite_chart(vega_spec(norms), width="stretch", theme=None)
        right.caption(views.lipschitz_caption(lv))
if tab_math.open:
    with tab_math:
        explain.gan()
