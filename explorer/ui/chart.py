"""Plotly figure dicts onto the page without plotly rebuilding them at every refresh.

`st.plotly_chart` turns a dict into a `plotly.graph_objects.Figure` to validate it, then back into a
dict: for the live heatmaps and the multi-panel layer strips that is 5-25 ms of pure Python per
figure, four times a second per session; under a classroom's load it was the largest part of the
server's time. A `Figure` is taken through its `to_dict()` instead; `_Built` is one whose `to_dict()`
is the dict as built, with the default template that the rebuild would have added (tests/test_chart.py:
the browser gets the same JSON). With EXPLORER_CHECK_FIGURES=1 (the test suite sets it) every figure
goes through plotly's validation as before.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

CHECK = os.environ.get("EXPLORER_CHECK_FIGURES") == "1"


class _Built(go.Figure):
    """An empty `Figure` carrying a finished figure dict, handed over as it is."""

    def __init__(self, spec: dict) -> None:
        super().__init__()
        self._spec = spec

    def to_dict(self) -> dict:
        layout = self._spec.get("layout", {})
        if "template" in layout:
            return self._spec
        return {**self._spec, "layout": {**layout, "template": _template(pio.templates.default)}}


@functools.cache
def _template(name: str | None) -> dict:
    """The template plotly puts into every figure it builds (`plotly.io.templates.default`)."""
    return pio.templates[name].to_plotly_json() if name else {}


def plotly(where: Any, fig: dict, **kwargs: Any) -> Any:
    """`where.plotly_chart(fig, **kwargs)` (`where`: st, a column, a container) for a figure dict."""
    return where.plotly_chart(fig if CHECK else _Built(fig), **kwargs)
