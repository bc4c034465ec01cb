"""The Plotly figures a page drew under AppTest: every one goes to the app's chart component
(`explorer.ui.chart`), live or static."""

from __future__ import annotations

import json

from explorer.ui import assets, chart


def chart_payloads(at) -> list[dict]:
    """Every chart's payload ({spec, config, height, place, ...}), in page order."""
    return [json.loads(e.proto.bytes) for e in at.get("bidi_component") if e.proto.component_name == chart.COMPONENT]


def plotly_figures(at) -> list[dict]:
    """Every Plotly figure dict on the page, in page order; each of its traces is one the page's plotly.js
    (the partial bundle, `explorer.ui.assets`) can draw."""
    figures = [p["spec"] for p in chart_payloads(at)]
    kinds = {trace.get("type", "scatter") for fig in figures for trace in fig.get("data", [])}
    assert kinds <= assets.TRACE_TYPES, f"traces the page's plotly.js cannot draw: {kinds - assets.TRACE_TYPES}"
    return figures
