"""Plotly figure dicts onto the page: sent as built, drawn by one component of our own, redrawn in place.

Every Plotly figure of the app goes to `plotly_chart.js` (Streamlit's components v2), not `st.plotly_chart`:

- **No rebuild.** `st.plotly_chart` turns a dict into a `plotly.graph_objects.Figure` (validation) and back:
  for the live heatmaps and the multi-panel layer strips that was 5-25 ms of pure Python per figure, four
  times a second, the largest part of the server's time under a classroom's load. The dict goes as built,
  with the default template the rebuild would have added (tests/test_chart.py: the same JSON).
- **No remount.** Streamlit 1.67 gives every Plotly chart an element id hashed from its figure and only
  ever draws the figure a chart was mounted with: new data, new chart, blank for a moment (measured on the
  VAE page while it trained: all three figures blank in a third of the painted frames). Inside a live panel
  (`in_place`) each chart is keyed by its place, so the component keeps its Plotly chart and redraws it
  with `Plotly.react`.
- **One plotly.js per page, cached.** The component runs in the app's page (no iframe) and loads the
  app's partial plotly.js bundle (scatter, bar, heatmap) once for all charts, from the app's own route with
  long-lived caching (`explorer.ui.assets`). Before: an iframe per live chart fetched the full 4.8 MB
  plotly.js, uncached, and parsed it once per chart; the static charts loaded Streamlit's own copy beside them.

With EXPLORER_CHECK_FIGURES=1 (the test suite sets it) every figure goes through plotly's validation.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import itertools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
import streamlit
from streamlit.components import v2 as components_v2
from streamlit.delta_generator import DeltaGenerator

from explorer.ui import assets

CHECK = os.environ.get("EXPLORER_CHECK_FIGURES") == "1"
DEFAULT_HEIGHT = 450  # plotly.js's, which st.plotly_chart also assumes for a figure without a height
COMPONENT = "explorer_plotly_chart"
_SCRIPT = Path(__file__).with_name("plotly_chart.js")
_STATIC_JS = Path(streamlit.__file__).parent / "static" / "static" / "js"
_PLACES: contextvars.ContextVar[tuple[str, Iterator[int]] | None] = contextvars.ContextVar("places", default=None)


@functools.cache
def _template(name: str | None) -> dict:
    """The template plotly puts into every figure it builds (`plotly.io.templates.default`)."""
    return pio.templates[name].to_plotly_json() if name else {}


def with_template(fig: dict) -> dict:
    """`fig` with the default template in its layout, as plotly's rebuild would add it."""
    layout = fig.get("layout", {})
    if "template" in layout:
        return fig
    return {**fig, "layout": {**layout, "template": _template(pio.templates.default)}}


@contextlib.contextmanager
def in_place(prefix: str) -> Iterator[None]:
    """Within: `plotly` draws each chart in place, the n-th one keyed `prefix.n` (a live panel's charts)."""
    token = _PLACES.set((prefix, itertools.count()))
    try:
        yield
    finally:
        _PLACES.reset(token)


def plotly(
    where: Any, fig: dict, config: dict | None = None, key: str | None = None, feed: str = "", running: bool = False
) -> str:
    """Draw the figure dict `fig` in `where` (st, a column, a container) at full width. `key` tells apart
    two equal figures in one run; in a live panel each chart is keyed by its place unless given one, and `feed`
    (a `live_feed` path) is where the chart fetches its newer figures while training runs (`running`: it runs
    now). Returns the place."""
    place = _next_place()
    _mount(where, fig, key or place or None, payload(fig, config, place, feed=feed, running=running))
    return place


def html(where: Any, markup: str, feed: str = "", running: bool = False) -> str:
    """HTML `markup` through the same component, in place in a live panel (refreshed from `feed` like a chart).
    Returns the place."""
    place = _next_place()
    with where if isinstance(where, DeltaGenerator) else contextlib.nullcontext():
        _component()(key=place or None, data=html_payload(markup, place, feed, running), height="content")
    return place


def vegas(where: Any, specs: list[dict | None], per_row: int, feed: str = "", running: bool = False) -> str:
    """Vega-Lite `specs` in a grid, at most `per_row` to a row (`None` keeps a cell empty), drawn by vega-embed in place
    (refreshed from `feed` like a chart). Returns the place."""
    place = _next_place()
    with where if isinstance(where, DeltaGenerator) else contextlib.nullcontext():
        _component()(key=place or None, data=vegas_payload(specs, per_row, place, feed, running), height="content")
    return place


def _next_place() -> str:
    """The next place of the live panel being drawn (`in_place`), else ""."""
    places = _PLACES.get()
    if places is None:
        return ""
    prefix, counter = places
    return f"{prefix}.{next(counter)}"


def canvas(where: Any, fig: dict, brush: dict, key: str) -> dict | None:
    """Draw `fig` as the drawing canvas (see plotly_chart.js) with `brush` {tool, radius, count}; returns the
    stroke drawn since the last run ({tool, points: [[x, y], ...], id}) in the run it arrives, else None.
    `fig` should hold an empty trace named "current stroke", where a stroke shows while it is drawn."""
    data = payload(fig, {"displayModeBar": False}, draw=brush)
    return _mount(where, fig, key, data, on_stroke_change=_ignore).stroke


def _mount(where: Any, fig: dict, key: str | None, data: bytes, **callbacks: Any) -> Any:
    """The component in `where` (`st`: where st.* would go) with `data`; its result (state and triggers)."""
    if CHECK:
        go.Figure(fig)  # raises on anything plotly would reject
    with where if isinstance(where, DeltaGenerator) else contextlib.nullcontext():
        return _component()(key=key, data=data, height=height_of(fig), **callbacks)


def _ignore() -> None:
    """The canvas's stroke callback: the stroke is read from the component's result in the run it triggers."""


def payload(
    fig: dict,
    config: dict | None = None,
    place: str = "",
    draw: dict | None = None,
    feed: str = "",
    running: bool = False,
) -> bytes:
    """What the component gets: JSON bytes {spec, config, height, place, plotly, chunk, draw, feed, running};
    `place` names a live panel's chart ("" for the others), `draw` is the canvas's brush (null for the others),
    `feed` the path of its live feed ("" for none), fetched while `running`. Bytes travel as they are (Streamlit
    hashes them for a keyless chart's identity instead of re-serialising a dict)."""
    template = b'{"spec":%s,"config":%s,"height":%d,"place":"%s","plotly":"%s","chunk":"%s","draw":%s,"feed":"%s",'
    return (template + b'"running":%s}') % (
        pio.to_json(with_template(fig), validate=False).encode(),
        pio.to_json(config or {}, validate=False).encode(),
        height_of(fig),
        place.encode(),
        f"{assets.PREFIX}/{assets.PLOTLY}".encode(),
        plotly_chunk().encode(),
        json.dumps(draw).encode(),
        feed.encode(),
        b"true" if running else b"false",
    )


def html_payload(markup: str, place: str = "", feed: str = "", running: bool = False) -> bytes:
    """The component's JSON bytes for HTML: {html, place, feed, running}."""
    return json.dumps({"html": markup, "place": place, "feed": feed, "running": running}).encode()


def vegas_payload(
    specs: list[dict | None], per_row: int, place: str = "", feed: str = "", running: bool = False
) -> bytes:
    """The component's JSON bytes for a grid of Vega-Lite charts: {vegas, per_row, place, feed, running, vega}."""
    per_row = min(per_row, max(1, len(specs)))
    vega = f"{assets.PREFIX}/{assets.VEGA}"
    body = {"vegas": specs, "per_row": per_row, "place": place, "feed": feed, "running": running, "vega": vega}
    return json.dumps(body, default=_plain).encode()


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as JSON values."""
    return value.tolist() if hasattr(value, "tolist") else str(value)


def height_of(fig: dict) -> int:
    """The figure's layout height in pixels, or plotly.js's default."""
    height = fig.get("layout", {}).get("height")
    return int(height) if isinstance(height, (int, float)) and height > 0 else DEFAULT_HEIGHT


@functools.cache
def plotly_chunk() -> str:
    """The file name of Streamlit's PlotlyChart chunk (plotly.js inside), beside its entry script: the
    component's fallback where the app runs without app.py's route (`streamlit run router.py`)."""
    found = sorted(_STATIC_JS.glob("PlotlyChart.*.js"))
    if not found:
        raise RuntimeError(f"Streamlit {streamlit.__version__} ships no PlotlyChart chunk in {_STATIC_JS}")
    return found[0].name


@functools.cache
def _component():
    """`plotly_chart.js` run in the app's page (not style-isolated: plotly.js keeps its styles in the page's
    head, as for st.plotly_chart)."""
    return components_v2.component(COMPONENT, js=_compact(_SCRIPT.read_text()), isolate_styles=False)


def _compact(script: str) -> str:
    """The module without its comment lines and indentation: it travels with every chart of every refresh."""
    lines = (line.strip() for line in script.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//"))
