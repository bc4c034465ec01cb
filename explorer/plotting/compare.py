"""The Compare page's grid: one small figure per family, its samples (orange) over the data (blue)."""

from __future__ import annotations

import numpy as np

from explorer.plotting.figures import PALETTE, figure, scatter

GRID_HEIGHT = 300


def family_figure(samples: np.ndarray, data: np.ndarray, title: str, lim: float = 6.0) -> dict:
    """Model samples `[n, 2]` over data samples `[m, 2]` on [-lim, lim]^2, compact, no legend; `title` may
    hold Plotly markup (two lines)."""
    traces = [scatter(data, "data", PALETTE["data"], 3, 0.3), scatter(samples, "model", PALETTE["model"], 3, 0.6)]
    fig = figure(traces, title, lim, GRID_HEIGHT, legend=False)
    fig["layout"]["margin"] = {"l": 25, "r": 5, "t": 48, "b": 20}
    return fig
