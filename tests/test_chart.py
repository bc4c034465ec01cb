"""explorer/ui/chart.py: a figure dict handed to Streamlit as built reaches the browser as the same
JSON as through plotly's validation, for the live figures of every training page."""

from __future__ import annotations

import json

import numpy as np
import plotly.io
import plotly.tools
import pytest

from explorer.plotting import realnvp as nfplot
from explorer.plotting.fields import samples_figure
from explorer.plotting.figures import animated, figure, heatmap, scatter
from explorer.ui import chart


def _sent(fig) -> dict:
    """What st.plotly_chart puts in its message (streamlit/elements/plotly_chart.py)."""
    return json.loads(plotly.io.to_json(plotly.tools.return_figure_from_figure_or_data(fig, True), validate=False))


def _figures() -> dict[str, dict]:
    rng = np.random.default_rng(0)
    axis = np.linspace(-6, 6, 31)
    image = np.exp(-(axis[None] ** 2 + axis[:, None] ** 2))
    points = rng.normal(size=(50, 2))
    base = [heatmap(axis, axis, image, "p"), scatter(points, "samples", "#e8590c")]
    frames = [[scatter(points + t, "samples", "#e8590c")] for t in range(3)]
    return {
        "density": nfplot.density_figure(axis, image, "Learned density"),
        "samples": samples_figure(points, points[::-1], "Samples over data"),
        "field": figure(base, "A density and samples"),
        "animation": animated(base, frames, [f"{t}" for t in range(3)]),
    }


@pytest.mark.parametrize("name", list(_figures()))
def test_a_built_figure_is_sent_as_the_validated_one(name: str) -> None:
    fig = _figures()[name]
    assert _sent(chart._Built(fig)) == _sent(fig)


def test_the_built_figure_skips_plotly_s_rebuild(monkeypatch) -> None:
    """The point of the module: no `Figure(**spec)` per refresh (the rebuild is what validates)."""
    built = []
    original = plotly.graph_objs.Figure.__init__

    def counting(self, *args, **kwargs):
        built.append(bool(args or kwargs))
        original(self, *args, **kwargs)

    monkeypatch.setattr(plotly.graph_objs.Figure, "__init__", counting)
    fig = _figures()["density"]
    _sent(chart._Built(fig))
    assert built == [False]  # only _Built's own empty Figure
    _sent(fig)
    assert built[-1] is True  # a dict is rebuilt from its contents
