"""The Divergences page's tab where critics estimate KL and JS from samples alone, trained live through the
session machinery (`explorer.methods.critic`)."""

from __future__ import annotations

import streamlit as st

from explorer.methods import CriticConfig
from explorer.plotting import critic as cplot
from explorer.plotting.charts import loss_chart, vega_spec
from explorer.ui import controls, export, live, presets, scaffold, share, state, widgets
from explorer.views import critic as views
from explorer.views.divergences import density_title

FAMILY = "critic"
DEFAULT = CriticConfig()
INTRO = (
    "Here nothing is computed from the densities: two small networks see only samples of q and of p. "
    "**f** climbs the Donsker–Varadhan bound KL(q ‖ p) ≥ E_q f − log E_p e^f (equality at f = log q/p), and "
    "**D** the GAN discriminator's objective E_q log D + E_p log(1 − D) ≤ 2 JS(q ‖ p) − log 4 (equality at "
    "D* = q / (q + p)). The dashed lines are the exact values, from the densities."
)


def critic_tab(key: str) -> None:
    """Settings, demos, Train / Pause / Step / Reset, and the live maps and estimate curves."""
    st.markdown(INTRO)
    config = scaffold.with_widget_values(state.stored_config(FAMILY, DEFAULT), key)  # a link's values included
    presets.preset_bar(FAMILY, key, DEFAULT, views.PRESETS, config)
    labels = {"density": density_title, "reference": density_title}
    with st.expander("Densities, critic and training", expanded=False, key=f"{key}.critic_settings"):
        for col, group in zip(st.columns(3), ("data", "model", "training"), strict=True):
            with col:
                config = widgets.config_widgets(config, key, [group], labels=labels)
    state.store_config(FAMILY, config)
    share.publish((config, DEFAULT))
    session = scaffold.training_session(FAMILY, key, config)
    lim = views.plane_limit(session.method)

    def render_view(snap) -> None:
        scaffold.live_header(snap, key, extra=lambda s: _exact_readouts(session))
        figures = live.shared(lambda s: cplot.critic_figures(views.critic_view(session.method, lim)))
        for first in (0, 2):
            for index, col in enumerate(st.columns(2), start=first):
                live.plotly(col, lambda s, index=index: figures(s)[index])

    def render_curves(snap) -> None:
        def charts(s) -> list:
            first = [loss_chart(s.loss_steps, s.loss, title="−(DV objective) per chunk")] if len(s.loss) else []
            for name, title in (("kl_dv", "KL(q ‖ p): Donsker–Varadhan"), ("js", "JS(q ‖ p): from D")):
                if name in s.quality:
                    exact = float(s.quality_perfect_at[name][-1])
                    first.append(cplot.estimate_chart(s.quality_steps, s.quality[name], exact, title))
            return [vega_spec(c) for c in first]

        live.vega_grid(st, charts, per_row=3, every=controls.CURVES_EVERY_S)

    live.live_panel(session, f"{key}.live", [(render_view, live.REFRESH_S), (render_curves, 1.0)])
    export.notebook_button(FAMILY, config, session.density, f"{key}.critic")


def _exact_readouts(session) -> dict[str, str]:
    kl, js = session.method.exact
    return {"exact KL(q ‖ p)": "∞" if kl == float("inf") else f"{kl:.3g}", "exact JS(q ‖ p)": f"{js:.3g}"}
