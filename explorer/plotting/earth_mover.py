"""Figures for the notes' earth-mover example (explorer.views.earth_mover, read by attribute only): the
piles and the hole with the plan's arrows, the two CDFs with the area between them, the coupling, and the
Kantorovich-Rubinstein critic."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from explorer.plotting.divergences import COLORS, line, plot
from explorer.plotting.figures import VIRIDIS, scatter

if TYPE_CHECKING:
    from explorer.views.earth_mover import EarthMoverView

PIECE_COLORS = ("#1f77b4", "#0c8599", "#5c940d")  # arrows, by the piece of mu they leave


def plan_figure(view: EarthMoverView) -> dict:
    """mu above the line (piles), mu' below it (the hole), and arrows of the optimal plan between them."""
    traces = [
        line(view.x, 1 + view.mu, "μ (piles)", COLORS["p"], fill="toself"),
        line(view.x, -view.nu, "μ′ (hole)", COLORS["q"], fill="toself"),
    ]
    traces[0]["fill"], traces[1]["fill"] = "tonexty", "tozeroy"
    traces.insert(0, line(view.x, np.ones_like(view.x), "", COLORS["p"], width=0.5, showlegend=False))
    annotations = []
    for src, dst, k in zip(view.sources, view.targets, view.piece, strict=True):
        annotations.append(
            {
                "x": float(dst),
                "y": 0.02,
                "ax": float(src),
                "ay": 0.98,
                "xref": "x",
                "yref": "y",
                "axref": "x",
                "ayref": "y",
                "showarrow": True,
                "arrowhead": 2,
                "arrowsize": 1,
                "arrowwidth": 1.3,
                "arrowcolor": PIECE_COLORS[int(k) % len(PIECE_COLORS)],
                "opacity": 0.8,
                "text": "",
            }
        )
    title = f"The optimal plan moves μ onto μ′ (μ′ moved by {view.offset:g})" if view.offset else "The optimal plan"
    return plot(traces, title, "x", "", 360, (view.x[0], view.x[-1]), (-0.65, 1.65), annotations=annotations)


def cdf_figure(view: EarthMoverView) -> dict:
    """F_mu and F_mu' with the area between them (= W_1) shaded."""
    traces = [
        line(view.x, view.cdf_nu, "F<sub>μ′</sub>", COLORS["q"]),
        line(view.x, view.cdf_mu, "F<sub>μ</sub>", COLORS["p"], fill="tonexty", fillcolor="rgba(43,138,62,0.25)"),
    ]
    title = f"Area between the CDFs = W₁ = {view.w1_cdf:.3f}"
    return plot(traces, title, "x", "CDF", 360, (view.x[0], view.x[-1]), (0, 1.05))


def coupling_figure(view: EarthMoverView) -> dict:
    """The support of the optimal coupling pi in the (x, y) plane: the monotone curve (F_mu^{-1}(u), F_mu'^{-1}(u)),
    coloured by the distance |x - y| each bit of mass travels, with the diagonal y = x (no move)."""
    cost = np.abs(view.curve_y - view.curve_x)
    curve = scatter(np.stack([view.curve_x, view.curve_y], 1), "support of π", list(np.round(cost, 2)), 5, 0.9)
    curve["marker"].update(colorscale=VIRIDIS, showscale=True, colorbar={"title": {"text": "|x − y|"}, "thickness": 12})
    lo, hi = float(view.x[0]), float(view.x[-1])
    traces = [line(np.array([lo, hi]), np.array([lo, hi]), "y = x (stay put)", COLORS["now"], "dot", 1), curve]
    fig = plot(traces, "The coupling π: where x ~ μ is sent (y ~ μ′)", "x (from μ)", "y (to μ′)", 360, (lo, hi))
    fig["layout"]["yaxis"]["range"] = [float(view.curve_y.min()) - 1, float(view.curve_y.max()) + 1]
    return fig


def critic_figure(view: EarthMoverView) -> dict:
    """An optimal Kantorovich-Rubinstein critic f (slopes +-1) over the two measures."""
    scale = float(np.max(np.abs(view.critic))) or 1.0
    traces = [
        line(view.x, scale * view.mu, "μ (scaled)", COLORS["p"], width=1, fill="tozeroy", opacity=0.4),
        line(view.x, -scale * view.nu, "μ′ (scaled, down)", COLORS["q"], width=1, fill="tozeroy", opacity=0.4),
        line(view.critic_x, view.critic, "critic f, |f′| ≤ 1", COLORS["closed"], width=2.5),
    ]
    title = f"Dual: E<sub>μ</sub> f − E<sub>μ′</sub> f = {view.w1_dual:.3f}"
    return plot(traces, title, "x", "f(x)", 360, (view.x[0], view.x[-1]))
