"""VAEs: data space and latent space linked by one colour code, the decoder manifold, the ELBO's terms, live."""

import dataclasses

import streamlit as st

from explorer.configs import param
from explorer.methods import VAEConfig
from explorer.methods.vae import KIND_TITLES, VARIANCE_TITLES
from explorer.plotting import vae as vplot
from explorer.plotting import vae_panels as panels
from explorer.ui import chart, controls, explain_vae, export, live, presets, scaffold, share
from explorer.ui.likelihood_tabs import vae_likelihood_tab
from explorer.views import vae as views
from explorer.views import vae_holes as holes
from explorer.views import vae_reparam as reparam

FAMILY, KEY = "vae", "vae"
LIVE_POINTS = 200  # data points and prior samples per frame (payload is sent 4 times a second)

st.title("Variational autoencoders")
st.caption(
    "An encoder maps each data point to a distribution over the latent z, a decoder maps z back. Each data point "
    "and its code share one colour; black points are samples decoded from the prior."
)

TABS = ["Reparametrisation", "AE vs VAE: holes", "VQ-VAE", "Log-likelihood", "The maths"]


@dataclasses.dataclass(frozen=True)
class View:
    """The page's own widgets (in the URL next to the config)."""

    from_sample: bool = param(False, "Reconstruct from a sample z ~ q(z|x)")
    show_prior: bool = param(False, "Prior samples in latent space")
    tab: str = param(TABS[0], "Tab", choices=tuple(TABS))


GROUPS = {"objective": "Objective", "model": "Networks", "training": "Training", "data": "Data"}

config = scaffold.sidebar_config(
    FAMILY,
    KEY,
    VAEConfig(),
    GROUPS,
    expanded=("objective",),
    labels={"kind": KIND_TITLES.get, "decoder_variance": VARIANCE_TITLES.get},
    hide=views.hidden_params,
    view=View(),
)
presets.preset_bar(FAMILY, KEY, VAEConfig(), views.PRESETS, config)
for note in views.setting_notes(config):
    st.warning(note, icon=":material/tune:")
session = scaffold.training_session(FAMILY, KEY, config)
method = session.method
options = st.columns(3)
from_sample = options[0].toggle(
    "Reconstruct from a sample z ~ q(z|x)",
    key=f"{KEY}.from_sample",
    disabled=config.kind != "vae",
    help="Off: from the posterior mean μ(x).",
)
show_prior = options[1].toggle("Prior samples in latent space", key=f"{KEY}.show_prior")
share.publish_view(KEY, View())


def render_view(snap) -> None:
    """Live: progress, readouts, data space, latent space, decoder manifold."""
    scaffold.live_header(
        snap, KEY, extra=lambda s: views.elbo_readouts(views.elbo_view(method, session.sample_generator(), 1000))
    )
    spaces = live.shared(
        lambda s: views.spaces_view(method, session.sample_generator(), LIVE_POINTS, LIVE_POINTS, from_sample)
    )
    left, middle, right = st.columns(3)
    live.plotly(left, lambda s: vplot.data_figure(spaces(s)))
    live.plotly(middle, lambda s: vplot.latent_figure(spaces(s), show_prior))
    live.plotly(right, lambda s: vplot.manifold_figure(views.manifold_view(method), spaces(s).data))
    live.caption(st, lambda s: views.spaces_caption(spaces(s)))


def render_curves(snap) -> None:
    """The objective's terms, KL per dimension or codebook usage, the quality curves."""

    def terms(s) -> list:
        charts = [vplot.terms_chart(s.loss_steps, s.extra_losses)] if len(s.loss) else []
        if config.kind == "vae":
            charts.append(vplot.kl_dims_chart(views.elbo_view(method, session.sample_generator(), 2000)))
        elif config.kind == "vqvae":
            charts.append(vplot.usage_chart(method.code_frequencies().cpu().numpy()))
        return charts

    controls.curves(snap, before=terms)


live.live_panel(session, KEY + ".live", [(render_view, live.REFRESH_S), (render_curves, 1.0)])
export.export_panel(session, KEY)

st.caption(f"The tabs show the model at step {session.step_count:,}; they refresh when training pauses or ends.")
tab_rep, tab_holes, tab_vq, tab_ll, tab_math = st.tabs(TABS, key=f"{KEY}.tab", on_change="rerun")
share.publish_view(KEY, View())
if tab_rep.open:
    with tab_rep:
        if config.kind != "vae":
            st.info(
                f"The {KIND_TITLES[config.kind]} has no noise in its encoder: z is a deterministic function of x, "
                "so there is nothing to reparametrise. Choose Model: VAE in the sidebar."
            )
        else:
            pick, draw = st.columns([3, 1], vertical_alignment="bottom")
            index = pick.slider("Data point", 0, reparam.REPARAM_POINTS - 1, 0, key=f"{KEY}.rep_point")
            draws = st.session_state.setdefault(f"{KEY}.rep_draws", 1)
            if draw.button("Draw ε", key=f"{KEY}.rep_draw", icon=":material/casino:", width="stretch"):
                draws = st.session_state[f"{KEY}.rep_draws"] = draws + 1
            x, eps = reparam.reparam_point(method, index), reparam.eps_draws(draws, config.latent_dim)
            rv = reparam.reparam_view(method, x, eps)
            context = session.density.sample(LIVE_POINTS, session.sample_generator()).cpu().numpy()
            for col, fig in zip(st.columns(2), panels.reparam_figures(rv, context), strict=True):
                chart.plotly(col, fig)
            st.latex(panels.reparam_latex(rv))
            explain_vae.reparametrisation_note()
if tab_holes.open:
    with tab_holes:
        if config.kind == "vqvae":
            st.info("A VQ-VAE samples its own codes, never the gaps between them: see the VQ-VAE tab.")
        else:
            hv = holes.holes_view(method, session.sample_generator(), LIVE_POINTS)
            for col, fig in zip(st.columns(2), panels.holes_figures(hv), strict=True):
                chart.plotly(col, fig)
            explain_vae.holes(hv.fraction, config.kind, len(hv.codes), len(hv.prior_z))
if tab_vq.open:
    with tab_vq:
        if config.kind == "vqvae":
            frequencies = method.code_frequencies().cpu().numpy()
            st.vega_lite_chart(vplot.usage_chart(frequencies), width="stretch", theme=None)
            st.caption("The Voronoi cells and the codes (crosses, sized by usage) are in the live latent view above.")
        else:
            st.info("Choose Model: VQ-VAE in the sidebar (or the VQ-VAE demo above) to train a codebook.")
        explain_vae.vq_vae()
if tab_ll.open:
    with tab_ll:
        vae_likelihood_tab(session, KEY)
if tab_math.open:
    with tab_math:
        explain_vae.vae()
