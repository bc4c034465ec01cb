"""The Plotly figures a page drew under AppTest: every one goes to the app's chart component
(`explorer.ui.chart`), live or static."""

from __future__ import annotations

import json

from explorer.ui import assets, chart


def component_payloads(at) -> list[dict]:
    """Every payload of the chart component, in page order: charts ({spec, config, height, place, ...}) and the
    live panels' HTML ({html, place, feed})."""
    return [json.loads(e.proto.bytes) for e in at.get("bidi_component") if e.proto.component_name == chart.COMPONENT]


def chart_payloads(at) -> list[dict]:
    """Every chart's payload ({spec, config, height, place, ...}), in page order."""
    return [p for p in component_payloads(at) if "spec" in p]


def live_html(at) -> str:
    """The live panels' HTML (status line, readouts, captions), joined."""
    return "\n".join(p["html"] for p in component_payloads(at) if "html" in p)


def plotly_figures(at) -> list[dict]:
    """Every Plotly figure dict on the page, in page order; each of its traces is one the page's plotly.js
    (the partial bundle, `explorer.ui.assets`) can draw."""
    figures = [p["spec"] for p in chart_payloads(at)]
    kinds = {trace.get("type", "scatter") for fig in figures for trace in fig.get("data", [])}
    assert kinds <= assets.TRACE_TYPES, f"traces the page's plotly.js cannot draw: {kinds - assets.TRACE_TYPES}"
    return figures
