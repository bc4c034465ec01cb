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
import streamlit
from page_figures import chart_payloads
from streamlit.testing.v1 import AppTest

from explorer.data.densities import get_density
from explorer.device import make_generator
from explorer.plotting import gan as gplot
from explorer.plotting import likelihood as lplot
from explorer.plotting import realnvp as nfplot
from explorer.plotting import vae as vplot
from explorer.plotting.charts import loss_chart, quality_chart
from explorer.plotting.fields import samples_figure
from explorer.plotting.figures import animated, figure, heatmap, scatter
from explorer.ui import assets, chart
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
        "density": lplot.density_figure(axis, image, "Learned density"),
        "samples": samples_figure(points, points[::-1], "Samples over data"),
        "field": figure(base, "A density and samples"),
        "animation": animated(base, frames, [f"{t}" for t in range(3)]),
    }


@pytest.mark.parametrize("name", list(_figures()))
def test_a_figure_is_sent_as_the_validated_one(name: str) -> None:
    """The component gets the JSON st.plotly_chart would have sent, without plotly's rebuild."""
    fig = _figures()[name]
    assert json.loads(chart.payload(fig))["spec"] == _sent(fig)


def test_the_payload_skips_plotly_s_rebuild(monkeypatch) -> None:
    """The point of sending dicts: no `Figure(**spec)` per refresh (the rebuild is what validates)."""
    built = []
    original = plotly.graph_objs.Figure.__init__

    def counting(self, *args, **kwargs):
        built.append(bool(args or kwargs))
        original(self, *args, **kwargs)

    monkeypatch.setattr(plotly.graph_objs.Figure, "__init__", counting)
    chart.payload(_figures()["density"])
    assert built == []
    _sent(_figures()["density"])
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
        "quality, band per point": quality_chart(steps, loss, np.where(steps < 200, 0.09, 0.02), "mode coverage TV"),
        "gan losses": gplot.losses_chart(steps, loss, -loss),
        "mass per mode": gplot.mode_mass_chart(modes),
        "vae terms": vplot.terms_chart(steps, {"recon": loss, "kl": loss / 2}),
        "vq terms": vplot.terms_chart(steps, {"recon": loss, "vq": loss / 2}),
        "kl per dimension": vplot.kl_dims_chart(elbo),
        "codebook usage": vplot.usage_chart(np.array([0.5, 0.5, 0.0])),
        "nll with floor": nfplot.nll_chart(steps, loss, 0.5, "H(p)"),
        "nll": nfplot.nll_chart(steps, loss, None),
        "layer norms": gplot.layer_norms_chart(steps, {"d_loss": loss, "sigma_1": loss, "sigma_2": 2 * loss}),
    }


@pytest.mark.parametrize("name", list(_live_charts()))
def test_live_charts_are_valid_vega_lite_with_finite_inline_data(name: str) -> None:
    spec = _live_charts()[name]
    jsonschema.validate(spec, vegalite_schema.load_schema())
    text = json.dumps(spec, allow_nan=False)  # raises on a NaN or an infinity left in the data
    rows = [row for layer in [spec, *spec.get("layer", [])] for row in layer.get("data", {}).get("values", [])]
    assert rows, text[:200]


def test_a_quality_curve_draws_each_points_own_perfect_sampler_band() -> None:
    """Points scored on fewer samples (while training) have a wider band than the last one (full precision): the
    dashed line follows each point's own, where one value draws a rule."""
    steps = np.array([10, 100, 200, 300])
    line, band = quality_chart(steps, np.array([0.3, 0.12, 0.1, 0.03]), np.array([0.09, 0.09, 0.09, 0.024]), "TV")[
        "layer"
    ]
    assert band["mark"]["type"] == "line" and band["mark"]["strokeDash"]
    assert [(r["step"], r["perfect"]) for r in band["data"]["values"]] == [
        (10, 0.09),
        (100, 0.09),
        (200, 0.09),
        (300, 0.024),
    ]
    _, rule = quality_chart(steps, np.array([0.3, 0.12, 0.1, 0.03]), 0.024, "TV")["layer"]
    assert rule["mark"]["type"] == "rule" and rule["data"]["values"] == [{"perfect": 0.024}]


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


def test_live_panel_charts_keep_their_identity_while_their_figure_changes() -> None:
    at = AppTest.from_function(_live_panel_script).run()
    assert not at.exception
    first, first_ids = chart_payloads(at), _ids(at)
    assert [p["place"] for p in first] == ["panel.0", "panel.1", ""]  # the panel's two charts, then a static one
    assert not at.get("plotly_chart")  # every Plotly figure goes to the app's component
    at.run()
    second, second_ids = chart_payloads(at), _ids(at)
    assert first_ids[:2] == second_ids[:2]  # same elements: the front end keeps the charts
    assert [p["spec"] for p in first[:2]] != [p["spec"] for p in second[:2]]  # ... and gets the new figures
    fig = {"data": [{"type": "scatter", "x": [0, 1], "y": [0, 1]}], "layout": {"height": 321}}
    assert second[0]["spec"] == _sent(fig)  # what st.plotly_chart would have sent
    assert [a["height"] for a in second] == [321, 321, 321]
    assert second[1]["config"] == {"displayModeBar": False}
    assert {a["plotly"] for a in second} == {f"{assets.PREFIX}/{assets.PLOTLY}"}
    assert {a["chunk"] for a in second} == {chart.plotly_chunk()}
    assert not any(e.proto.isolate_styles for e in at.get("bidi_component"))  # plotly.js's styles reach it


def _ids(at) -> list[str]:
    return [e.proto.id for e in at.get("bidi_component")]


def test_the_live_chart_takes_plotly_js_from_streamlit_s_own_cached_chunk() -> None:
    """The one plotly.js of the page: Streamlit's hashed PlotlyChart chunk (cached for good by the browser),
    which defines window.Plotly when it is imported; the component's module is sent without its comments."""
    chunk = Path(streamlit.__file__).parent / "static" / "static" / "js" / chart.plotly_chunk()
    text = chunk.read_text()
    assert chunk.stat().st_size > 1_000_000 and "window.Plotly=" in text
    script = chart._compact(chart._SCRIPT.read_text())
    lines = script.splitlines()
    assert "export default function" in script and len(script) < len(chart._SCRIPT.read_text())
    assert not any(line.startswith(("//", " ")) or not line for line in lines)


def _get(path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One GET through the asset routes (a plain ASGI call: no HTTP client needed)."""
    import asyncio

    from starlette.routing import Router

    router, messages = Router(routes=assets.routes("/class")), []
    scope = {
        "type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }  # fmt: skip

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        messages.append(message)

    asyncio.run(router(scope, receive, send))
    start = messages[0]
    head = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], head, b"".join(m.get("body", b"") for m in messages[1:])


def test_plotly_js_is_served_once_per_browser_with_long_lived_caching() -> None:
    import gzip

    for path in (f"/{assets.PREFIX}/{assets.PLOTLY}", f"/class/{assets.PREFIX}/{assets.PLOTLY}"):
        status, head, body = _get(path, {"Accept-Encoding": "gzip, br"})
        assert status == 200 and head["cache-control"] == "public, max-age=31536000, immutable"
        assert head["content-encoding"] == "gzip" and head["content-type"].startswith("text/javascript")
        text = gzip.decompress(body).decode()
        assert "plotly.js (explorer: scatter, bar, heatmap - minified) v4.1.1" in text[:200]
        assert '"use strict";var Plotly=' in text[:400]  # a classic script's top-level var: window.Plotly
        assert len(body) < 0.4 * len(text)  # 1.2 MB as about 0.4 MB on the wire
    status, head, body = _get(f"/{assets.PREFIX}/{assets.PLOTLY}")
    assert status == 200 and "content-encoding" not in head and body.startswith(b"/**")
    assert _get(f"/{assets.PREFIX}/secrets.txt")[0] == 404
    assert _get(f"/{assets.PREFIX}/../chart.py")[0] == 404
