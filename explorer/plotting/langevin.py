"""Figures for the Langevin page, from the view dataclasses of explorer.views.langevin (read by
attribute only, so this module imports no torch): the animated chains with fading trails over the
target density, the marginal histograms against the target, per-mode masses and metric curves."""

from __future__ import annotations

from typing import TYPE_CHECKING

import altair as alt
import numpy as np
import pandas as pd

from explorer.plotting.figures import DENSITY_SCALE, PALETTE, animated, heatmap, polylines, scatter

if TYPE_CHECKING:
    from explorer.views.langevin import ChainsView, CurvesView, MarginalsView

TRAIL_COLOR = "#7048e8"
TRAIL_OPACITY = (0.15, 0.35, 0.7)  # oldest to newest segment: the fade


def _trail_traces(trails: np.ndarray, showlegend: bool) -> list[dict]:
    """`[t, TRAIL + 1, 2]` positions -> one trace per segment age, older ones fainter."""
    count = trails.shape[1] - 1
    opacities = TRAIL_OPACITY[-count:] if count <= len(TRAIL_OPACITY) else [0.5] * count
    return [
        polylines(trails[:, j : j + 2], "trails", TRAIL_COLOR, 1.4, opacities[j], showlegend and j == count - 1)
        for j in range(count)
    ]


def _frame(view: ChainsView, i: int, showlegend: bool = True) -> list[dict]:
    dots = scatter(view.dots[i], "chains", PALETTE["model"], 4, 0.8, showlegend)
    return [*_trail_traces(view.trails[i], showlegend), dots]


def chains_figure(view: ChainsView, title: str = "", height: int = 620, duration_ms: int = 80) -> dict:
    """The chains played client side: the target under them (exact p as a heatmap, else its
    samples), each frame replacing the trails and the dots."""
    if view.density is not None:
        zmax = float(view.density.max()) or 1.0
        background = heatmap(view.axis, view.axis, view.density, "target p(x)", DENSITY_SCALE, 0.0, zmax, "p(x)")
        background.update(showscale=False, zsmooth="best")
    else:
        background = scatter(view.target, "target samples", PALETTE["data"], 3, 0.25)
    frames = [_frame(view, i, showlegend=True) for i in range(len(view.steps))]
    base = [background, *frames[0]]
    return animated(base, frames, view.labels, title, view.lim, height, duration_ms, slider_prefix="step ")


def _bars(edges: np.ndarray, heights: np.ndarray, name: str) -> dict:
    centres = 0.5 * (edges[:-1] + edges[1:])
    return {
        "type": "bar",
        "x": np.round(centres, 3).tolist(),
        "y": np.round(heights, 4).tolist(),
        "width": float(edges[1] - edges[0]),
        "name": name,
        "marker": {"color": PALETTE["model"], "opacity": 0.55, "line": {"width": 0}},
        "hovertemplate": "%{x:.2f}: %{y:.3f}<extra>chains</extra>",
    }


def marginal_figure(view: MarginalsView, dim: int, height: int = 230) -> dict:
    """Histogram of the final chain states' coordinate `dim` (0: x, 1: y) against the target's marginal."""
    name = "xy"[dim]
    target = {
        "type": "scatter",
        "mode": "lines",
        "x": np.round(view.axis, 3).tolist(),
        "y": np.round(view.target[dim], 4).tolist(),
        "name": "target p(" + name + ")" + ("" if view.exact else ", from samples"),
        "line": {"color": PALETTE["exact"], "width": 2, "shape": "linear" if view.exact else "hvh"},
        "hoverinfo": "skip",
    }
    lim = float(view.edges[-1])
    return {
        "data": [_bars(view.edges, view.chains[dim], "chains (final states)"), target],
        "layout": {
            "title": {"text": f"Marginal of {name}", "x": 0.02, "font": {"size": 13}},
            "height": height,
            "margin": {"l": 35, "r": 10, "t": 32, "b": 25},
            "xaxis": {"range": [-lim, lim], "zeroline": False},
            "yaxis": {"rangemode": "tozero", "zeroline": False},
            "bargap": 0,
            "showlegend": dim == 0,
            "legend": {"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right", "yanchor": "bottom"},
            "plot_bgcolor": "white",
        },
    }


def modes_chart(view: MarginalsView, height: int = 200) -> alt.Chart | None:
    """Fraction of chains nearest each component (bars) against the mixture weights (ticks)."""
    if view.mode_mass is None:
        return None
    names = [name.removeprefix("component ") for name in view.mode_names]  # "component 3" -> "3"
    frame = pd.DataFrame({"mode": names, "chains": view.mode_mass, "target weight": view.mode_weight})
    x = alt.X("mode:N", sort=names, title="mode", axis=alt.Axis(labelAngle=0))
    top = float(view.mode_weight.max())
    bars = (
        alt.Chart(frame)
        .mark_bar(color=PALETTE["model"], opacity=0.7)
        .encode(
            x=x,
            y=alt.Y(
                "chains:Q", title="mass", scale=alt.Scale(domain=[0, 1.15 * float(max(view.mode_mass.max(), top))])
            ),
            tooltip=[alt.Tooltip("chains:Q", format=".3f"), alt.Tooltip("target weight:Q", format=".3f")],
        )
    )
    ticks = alt.Chart(frame).mark_tick(color=PALETTE["exact"], thickness=3, size=30).encode(x=x, y="target weight:Q")
    return (bars + ticks).properties(title="Mass per mode: chains (bars) vs target (green)", height=height)


def _level_rules(view: CurvesView) -> alt.Chart | None:
    if len(view.level_starts) < 2:
        return None
    frame = pd.DataFrame({"step": view.level_starts[1:]})
    return alt.Chart(frame).mark_rule(color="#adb5bd", strokeDash=[2, 3]).encode(x="step:Q")


def metric_chart(view: CurvesView, key: str, height: int = 200) -> alt.Chart:
    """One metric against the step, with a dashed line at what a perfect sampler scores (symlog y:
    the first frames are often orders of magnitude worse than the last)."""
    name = view.names[key]
    frame = pd.DataFrame({"step": view.steps, "value": view.series[key]}).replace([np.inf, -np.inf], np.nan).dropna()
    line = (
        alt.Chart(frame)
        .mark_line(point=alt.OverlayMarkDef(color=PALETTE["model"], size=18), color=PALETTE["model"])
        .encode(
            x=alt.X("step:Q", title="step", axis=alt.Axis(format=",d", tickMinStep=1)),
            y=alt.Y("value:Q", title=name, scale=alt.Scale(type="symlog", constant=0.1)),
            tooltip=["step", alt.Tooltip("value:Q", title=name, format=".3g")],
        )
    )
    perfect = view.perfect.get(key, 0.0)
    rule = (
        alt.Chart(pd.DataFrame({"perfect": [perfect]}))
        .mark_rule(color=PALETTE["exact"], strokeDash=[4, 4])
        .encode(y="perfect:Q", tooltip=[alt.Tooltip("perfect:Q", title="a perfect sampler scores up to", format=".3g")])
    )
    layers = [line, rule] + ([r] if (r := _level_rules(view)) is not None else [])
    return alt.layer(*layers).properties(title=name, height=height)


def acceptance_chart(view: CurvesView, height: int = 200) -> alt.Chart | None:
    """MALA's acceptance rate between recorded frames, against the step."""
    if view.acceptance is None:
        return None
    frame = pd.DataFrame({"step": view.steps, "acceptance": view.acceptance}).dropna()
    line = (
        alt.Chart(frame)
        .mark_line(point=alt.OverlayMarkDef(color=PALETTE["path"], size=18), color=PALETTE["path"])
        .encode(
            x=alt.X("step:Q", title="step", axis=alt.Axis(format=",d", tickMinStep=1)),
            y=alt.Y("acceptance:Q", title="accepted", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
            tooltip=["step", alt.Tooltip("acceptance:Q", format=".1%")],
        )
    )
    layers = [line] + ([r] if (r := _level_rules(view)) is not None else [])
    return alt.layer(*layers).properties(title="MALA acceptance rate", height=height)
