"""Plotly figure dicts onto the page: without plotly's rebuild, and, on live panels, redrawn in place.

`st.plotly_chart(fig)` has two costs that a live page pays four times a second:

- **It rebuilds the dict.** A dict becomes a `plotly.graph_objects.Figure` (validation) and back: for the
  live heatmaps and the multi-panel layer strips that is 5-25 ms of pure Python per figure; under a
  classroom's load it was the largest part of the server's time. A `Figure` is taken through its
  `to_dict()` instead: `_Built` is one whose `to_dict()` is the dict as built, with the default template
  that the rebuild would have added (tests/test_chart.py: the browser gets the same JSON).
- **It remounts the chart.** Streamlit 1.67 gives every Plotly chart an element id hashed from its figure;
  the front end keys the chart's component by that id and only ever draws the figure it was mounted with.
  New data, new component: for a moment the chart is blank (measured on the VAE page while it trained: all
  three figures blank in a third of the frames the browser painted). Figures drawn by a live panel
  (`in_place`) therefore go to a small component of our own (`live_chart.html`): one iframe per chart,
  keyed by its place in the panel, which keeps its Plotly chart and redraws it with `Plotly.react`.
  It loads the plotly.js that the plotly package ships (no download).

With EXPLORER_CHECK_FIGURES=1 (the test suite sets it) every figure goes through plotly's validation.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import plotly as plotly_package
import plotly.graph_objects as go
import plotly.io as pio
import streamlit
from streamlit.components import v1 as components
from streamlit.delta_generator import DeltaGenerator

CHECK = os.environ.get("EXPLORER_CHECK_FIGURES") == "1"
DEFAULT_HEIGHT = 450  # plotly.js's, which st.plotly_chart also assumes for a figure without a height
COMPONENT = "explorer_live_chart"
_PAGE = Path(__file__).with_name("live_chart.html")
_PLACES: contextvars.ContextVar[tuple[str, Iterator[int]] | None] = contextvars.ContextVar("places", default=None)


class _Built(go.Figure):
    """An empty `Figure` carrying a finished figure dict, handed over as it is."""

    def __init__(self, spec: dict) -> None:
        super().__init__()
        self._spec = spec

    def to_dict(self) -> dict:
        return with_template(self._spec)


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


def plotly(where: Any, fig: dict, config: dict | None = None, key: str | None = None) -> None:
    """Draw the figure dict `fig` in `where` (st, a column, a container) at full width. `key` tells apart
    two equal figures in one run; in a live panel each chart is keyed by its place unless given one."""
    if CHECK:
        go.Figure(fig)  # raises on anything plotly would reject
    places = _PLACES.get()
    if places is None:
        where.plotly_chart(_Built(fig), config=config, key=key)
        return
    prefix, counter = places
    with where if isinstance(where, DeltaGenerator) else contextlib.nullcontext():  # `st`: where st.* would go
        _live_chart()(
            spec=pio.to_json(with_template(fig), validate=False),
            config=pio.to_json(config or {}, validate=False),
            height=height_of(fig),
            key=key or f"{prefix}.{next(counter)}",
            default=None,
        )


def height_of(fig: dict) -> int:
    """The figure's layout height in pixels, or plotly.js's default."""
    height = fig.get("layout", {}).get("height")
    return int(height) if isinstance(height, (int, float)) and height > 0 else DEFAULT_HEIGHT


@functools.cache
def _live_chart():
    """The component: `live_chart.html` as index.html beside plotly.js and the app's font (if found), in a
    folder Streamlit serves."""
    folder = Path(tempfile.gettempdir()) / f"{COMPONENT}-{plotly_package.__version__}"
    folder.mkdir(exist_ok=True)
    _copy(Path(plotly_package.__file__).parent / "package_data" / "plotly.min.js", folder / "plotly.min.js")
    media = Path(streamlit.__file__).parent / "static" / "static" / "media"
    for font in sorted(media.glob("SourceSansVF-Upright*.woff2"))[:1]:  # else the browser's sans-serif
        _copy(font, folder / "source-sans.woff2")
    _copy(_PAGE, folder / "index.html", again=True)
    return components.declare_component(COMPONENT, path=str(folder))


def _copy(source: Path, target: Path, again: bool = False) -> None:
    """Copy `source` to `target` (unless there, or `again`) atomically: a server starting at the same time
    sees the whole file or none."""
    if target.exists() and not again:
        return
    partial = target.with_name(f"{target.name}.{os.getpid()}")
    shutil.copyfile(source, partial)
    partial.replace(target)
