"""The Plotly figures a page drew under AppTest, whichever way: `st.plotly_chart` (static charts) or the
live chart component that redraws in place (`explorer.ui.chart.in_place`)."""

from __future__ import annotations

import json

from explorer.ui import chart


def plotly_figures(at) -> list[dict]:
    """Every Plotly figure dict on the page, in page order within each kind (static ones first)."""
    figures = [json.loads(element.proto.spec) for element in at.get("plotly_chart")]
    for element in at.get("component_instance"):
        if element.proto.component_name.endswith(chart.COMPONENT):
            figures.append(json.loads(json.loads(element.proto.json_args)["spec"]))
    return figures
