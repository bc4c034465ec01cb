"""The drawing canvas: the points drawn so far (one colour per class label) over [-5, 5]^2, a faint
grid to aim by, and the empty trace "current stroke" where the browser shows a stroke while it is
being drawn (explorer/ui/plotly_chart.js)."""

from __future__ import annotations

import numpy as np

from explorer.plotting.densities import class_colors
from explorer.plotting.figures import figure, scatter

STROKE_TRACE = "current stroke"  # the name plotly_chart.js extends while the mouse is down


def canvas_figure(points: np.ndarray, labels: np.ndarray, erasing: bool, n_labels: int, lim: float) -> dict:
    """Points `[n, 2]` with labels `[n]` in 0..n_labels-1 over [-lim, lim]^2; the stroke trace styled for
    spraying or erasing."""
    colors = class_colors(max(n_labels, int(labels.max(initial=0)) + 1))
    traces = []
    for label in sorted(set(labels.tolist())) or [0]:
        mine = points[labels == label]
        name = f"class {label}" if n_labels > 1 else "your points"
        traces.append(scatter(mine, name, colors[label] if n_labels > 1 else colors[0], 5, 0.75, n_labels > 1))
    stroke = scatter(points[:0], STROKE_TRACE, "#868e96" if erasing else "#212529", 14 if erasing else 5, 0.35, False)
    layout_fig = figure([*traces, stroke], lim=lim, height=520, legend=n_labels > 1)
    layout = layout_fig["layout"]
    layout["dragmode"] = False
    layout["hovermode"] = False
    for axis in ("xaxis", "yaxis"):
        layout[axis].update({"showgrid": True, "gridcolor": "#eef0f3", "dtick": 1, "fixedrange": True})
    return layout_fig
