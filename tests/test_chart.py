"""Charts as plain dicts: a Plotly figure handed to Streamlit as built (explorer/ui/chart.py) reaches
the browser as the same JSON as through plotly's validation; a live panel's charts keep their identity
from refresh to refresh (redrawn in place, not remounted); the live Vega-Lite charts, written without
Altair, are valid against the Vega-Lite schema."""

from __future__ import annotations

import json
from pathlib import Path

import altair.vegalite.v6.schema as vegalite_schema
import jsonschema
import numpy as np
import plotly
import plotly.io
import plotly.tools
import pytest
from streamlit.testing.v1 import AppTest

from explorer.densities import get_density
from explorer.device import make_generator
from explorer.plotting import gan as gplot
from explorer.plotting import realnvp as nfplot
from explorer.plotting import vae as vplot
from explorer.plotting.charts import loss_chart, quality_chart
from explorer.plotting.fields import samples_figure
from explorer.plotting.figures import animated, figure, heatmap, scatter
from explorer.ui import chart
from explorer.views import gan as gan_views
from explorer.views import vae as vae_views


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


def _live_charts() -> dict[str, dict]:
    """Every chart the training pages redraw once a second, on small inputs (with an infinite value)."""
    steps = np.arange(0, 300, 10)
    loss = np.linspace(3.0, 1.0, len(steps))
    loss[3] = np.inf
    modes = gan_views.mode_mass_view(
        get_density("eight_gaussians").sample(500, make_generator(0)).numpy(), get_density("eight_gaussians")
    )
    elbo = vae_views.ElboView("vae", 1.0, np.array([0.8, 0.0]), 0.8, np.array([0.3, 0.001]), np.array([True, False]))
    return {
        "loss": loss_chart(steps, loss),
        "quality": quality_chart(steps, loss, 0.05, "energy distance"),
        "gan losses": gplot.losses_chart(steps, loss, -loss),
        "mass per mode": gplot.mode_mass_chart(modes),
        "vae terms": vplot.terms_chart(steps, {"recon": loss, "kl": loss / 2}),
        "vq terms": vplot.terms_chart(steps, {"recon": loss, "vq": loss / 2}),
        "kl per dimension": vplot.kl_dims_chart(elbo),
        "codebook usage": vplot.usage_chart(np.array([0.5, 0.5, 0.0])),
        "nll with floor": nfplot.nll_chart(steps, loss, 0.5, "H(p)"),
        "nll": nfplot.nll_chart(steps, loss, None),
    }


@pytest.mark.parametrize("name", list(_live_charts()))
def test_live_charts_are_valid_vega_lite_with_finite_inline_data(name: str) -> None:
    spec = _live_charts()[name]
    jsonschema.validate(spec, vegalite_schema.load_schema())
    text = json.dumps(spec, allow_nan=False)  # raises on a NaN or an infinity left in the data
    rows = [row for layer in [spec, *spec.get("layer", [])] for row in layer.get("data", {}).get("values", [])]
    assert rows, text[:200]


def _live_panel_script() -> None:
    """Two charts in a live panel (in place), one outside; each run draws one more point."""
    import streamlit as st

    from explorer.ui import chart

    n = st.session_state["runs"] = st.session_state.get("runs", 0) + 1
    fig = {"data": [{"type": "scatter", "x": list(range(n)), "y": list(range(n))}], "layout": {"height": 321}}
    with chart.in_place("panel"):
        chart.plotly(st, fig)
        chart.plotly(st.columns(2)[1], fig, config={"displayModeBar": False})
    chart.plotly(st, fig)


def _live_charts_on(at) -> list:
    return [e.proto for e in at.get("component_instance") if e.proto.component_name.endswith(chart.COMPONENT)]


def test_live_panel_charts_keep_their_identity_while_their_figure_changes() -> None:
    at = AppTest.from_function(_live_panel_script).run()
    assert not at.exception
    first = _live_charts_on(at)
    assert len(first) == 2 and len(at.get("plotly_chart")) == 1  # only the panel's charts are drawn in place
    at.run()
    second = _live_charts_on(at)
    assert [p.id for p in first] == [p.id for p in second]  # same element: the front end keeps the chart
    assert [p.json_args for p in first] != [p.json_args for p in second]  # ... and gets the new figure
    args = [json.loads(p.json_args) for p in second]
    fig = {"data": [{"type": "scatter", "x": [0, 1], "y": [0, 1]}], "layout": {"height": 321}}
    assert json.loads(args[0]["spec"]) == _sent(fig)  # what st.plotly_chart would have sent
    assert [a["height"] for a in args] == [321, 321]
    assert json.loads(args[1]["config"]) == {"displayModeBar": False}


def test_the_live_chart_is_served_with_plotly_js_from_the_plotly_package() -> None:
    folder = Path(chart._live_chart().path)
    assert (folder / "index.html").read_text() == Path(chart.__file__).with_name("live_chart.html").read_text()
    shipped = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    assert (folder / "plotly.min.js").stat().st_size == shipped.stat().st_size > 1_000_000
    assert '<script src="plotly.min.js">' in (folder / "index.html").read_text()
