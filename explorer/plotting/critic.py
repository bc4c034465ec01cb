"""Figures for the critic tab of the Divergences page, from `explorer.views.critic.CriticView` and the session's
estimate history: the learned f and D beside their optima, and each estimate against its exact value."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from explorer.plotting.charts import AXIS_STEP, series_rows
from explorer.plotting.divergences import COLORS, NO_MASS, SURFACE_SCALE
from explorer.plotting.figures import figure, heatmap, scatter

if TYPE_CHECKING:
    from explorer.views.critic import CriticView

RATIO_SCALE = [[0.0, "#e8590c"], [0.5, "#ffffff"], [1.0, "#1c7ed6"]]  # log(q / p): p's side orange, q's blue
FADE = 1e-3  # a map is blank where (q + p) / 2 is below this share of its peak (no samples, no evidence)


def _faded(view: CriticView, image: np.ndarray) -> np.ndarray:
    return np.where(view.mass > FADE * view.mass.max(), image, np.nan)


def _plane(view: CriticView, image: np.ndarray, name: str, scale, lo: float, hi: float, title: str) -> dict:
    trace = heatmap(view.axis, view.axis, np.clip(_faded(view, image), lo, hi), name, scale, lo, hi, name)
    trace["zsmooth"] = "fast"
    traces = [
        trace,
        scatter(view.q_samples, "samples of q", COLORS["p"], 3, 0.45),
        scatter(view.p_samples, "samples of p", COLORS["q"], 3, 0.45),
    ]
    fig = figure(traces, title, view.lim, height=400)
    fig["layout"]["plot_bgcolor"] = NO_MASS
    return fig


def ratio_range(view: CriticView) -> float:
    """The symmetric colour range of f and log(q / p): the 99th percentile of |log(q / p)| where either density
    lives (of |f| where the ratio is infinite everywhere there), at least 1."""
    shown = np.abs(_faded(view, view.f_optimum))
    finite = shown[np.isfinite(shown)]
    if finite.size == 0:
        finite = np.abs(_faded(view, view.f))[np.isfinite(_faded(view, view.f))]
    return max(1.0, float(np.percentile(finite, 99))) if finite.size else 1.0


def critic_figures(view: CriticView) -> tuple[dict, dict, dict, dict]:
    """(learned f, log(q / p), learned D, D* = q / (q + p)); each pair on one colour scale."""
    r = ratio_range(view)
    return (
        _plane(view, view.f, "f", RATIO_SCALE, -r, r, "Learned f − log E_p e^f"),
        _plane(view, view.f_optimum, "log q/p", RATIO_SCALE, -r, r, "Its optimum log(q / p)"),
        _plane(view, view.d, "D", SURFACE_SCALE, 0.0, 1.0, "Learned discriminator D = σ(l)"),
        _plane(view, view.d_optimum, "D*", SURFACE_SCALE, 0.0, 1.0, "Its optimum D* = q / (q + p)"),
    )


def estimate_chart(steps: np.ndarray, values: np.ndarray, exact: float, title: str, height: int = 220) -> dict:
    """An estimate against the step with the exact value as a dashed line (an infinite one named in the title).
    The y axis spans 0 to 1.5 times the exact value (or the estimates' recent range when it is infinite); values
    beyond are drawn at the edge."""
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    recent = finite[len(finite) // 2 :]
    if np.isfinite(exact):
        top, bottom = 1.5 * max(exact, 1e-3), min(0.0, -0.5 * max(exact, 1e-3))
    else:
        top, bottom = (1.2 * float(recent.max()) if recent.size else 1.0), 0.0
        title += " (exact: ∞)"
    line = {
        "data": {"values": series_rows(steps, {"estimate": values})},
        "mark": {"type": "line", "point": True, "color": "#e8590c", "clip": True},
        "encoding": {
            "x": AXIS_STEP,
            "y": {
                "field": "value",
                "type": "quantitative",
                "title": "nats",
                "scale": {"domain": [bottom, max(top, 1e-3)], "clamp": True, "nice": False},
            },
            "tooltip": [
                {"field": "step", "type": "quantitative"},
                {"field": "value", "type": "quantitative", "title": "estimate", "format": ".4g"},
            ],
        },
    }
    layers = [line]
    if np.isfinite(exact):
        layers.append(
            {
                "data": {"values": [{"exact": float(exact)}]},
                "mark": {"type": "rule", "color": "#2b8a3e", "strokeDash": [4, 4]},
                "encoding": {
                    "y": {"field": "exact", "type": "quantitative"},
                    "tooltip": [{"field": "exact", "type": "quantitative", "title": "exact", "format": ".4g"}],
                },
            }
        )
    return {"title": title, "height": height, "layer": layers}
