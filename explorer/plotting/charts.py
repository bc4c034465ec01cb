"""Small declarative charts: loss curve and quality curve with its perfect-sampler line.

The live curves are redrawn once a second in every training session, so they (these two and the
pages' own live charts, built with `series_rows`) are written as plain Vega-Lite dicts with their
data inline: building them through Altair (schema validation, pandas, channel inference) took
~20-25 ms each, and Streamlit converts an Altair chart's named datasets to Arrow on top.
`vega_spec` gives the remaining (Altair) charts, drawn once, the same treatment.
"""

from __future__ import annotations

import math
from typing import Any

import altair as alt
import numpy as np

# labels kept 6 px apart: on a narrow chart the last two ("2,500", "3,000") otherwise touched
AXIS_STEP = {"field": "step", "type": "quantitative", "title": "step", "axis": {"format": ",d", "labelSeparation": 6}}


def thinned(n: int, max_points: int) -> np.ndarray:
    """Indices of at most `max_points` evenly spaced points among n (all n when n <= max_points)."""
    return np.unique(np.linspace(0, n - 1, min(n, max_points)).round().astype(int))


def series_rows(
    steps: np.ndarray, series: dict[str, np.ndarray], key: str | None = None, value: str = "value"
) -> list[dict]:
    """Long-form rows [{step, key: name, value}] of named series over the same steps, finite values
    only (inline Vega-Lite data); without `key`, rows carry no series name."""
    steps = np.asarray(steps).tolist()
    return [
        {"step": int(s), value: float(v)} | ({key: name} if key else {})
        for name, values in series.items()
        for s, v in zip(steps, np.asarray(values, dtype=np.float64).tolist(), strict=True)
        if math.isfinite(v)
    ]


def nominal_color(field: str, names: list[str], colors: list[str]) -> dict:
    """A colour channel with a fixed name -> colour mapping and the legend under the chart."""
    return {
        "field": field,
        "type": "nominal",
        "scale": {"domain": names, "range": colors},
        "legend": {"orient": "bottom", "title": None},
    }


def vega_spec(chart: alt.TopLevelMixin | dict) -> dict:
    """A Vega-Lite dict for `st.vega_lite_chart`: dicts pass through; an Altair chart is converted
    without schema validation and its named datasets are inlined (so Streamlit sends them as JSON)."""
    if isinstance(chart, dict):
        return chart
    spec = chart.to_dict(validate=False)
    datasets = spec.pop("datasets", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"name"} and node["name"] in datasets:
                return {"values": datasets[node["name"]]}
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return inline(spec)


def loss_chart(steps: np.ndarray, loss: np.ndarray, height: int = 180, title: str = "Training loss") -> dict:
    """Loss per chunk against step, log-scaled when it spans more than a decade."""
    keep = thinned(len(steps), 200)
    rows = series_rows(np.asarray(steps)[keep], {"loss": np.asarray(loss)[keep]})
    values = [r["value"] for r in rows]
    spread = bool(values) and min(values) > 0 and max(values) / max(min(values), 1e-12) > 10
    return {
        "title": title,
        "height": height,
        "data": {"values": rows},
        "mark": {"type": "line", "color": "#4C6EF5"},
        "encoding": {
            "x": AXIS_STEP,
            "y": {
                "field": "value",
                "type": "quantitative",
                "title": "loss",
                "scale": {"type": "log"} if spread else {"zero": False},
            },
        },
    }


def quality_chart(
    steps: np.ndarray, values: np.ndarray, perfect: float | np.ndarray, name: str, height: int = 180
) -> dict:
    """A quality metric against step, with a dashed line where a perfect sampler would score: one value, or one per
    point (`perfect` aligned with `steps`: a point scored on fewer samples has a wider band).

    The y axis spans the recent half of the run (and the perfect line); earlier values, often orders
    of magnitude larger, are clipped at the top so that convergence stays readable.
    """
    per_point = np.ndim(perfect) == 1 and len(perfect) == len(steps)
    bands = np.asarray(perfect, dtype=np.float64) if per_point else np.full(1, float(perfect))
    rows = series_rows(steps, {"value": values})
    recent = np.array([r["value"] for r in rows[len(rows) // 2 :]])
    finite_bands = np.abs(bands[np.isfinite(bands)])
    band_top = float(finite_bands[len(finite_bands) // 2 :].max()) if finite_bands.size else 0.0
    top = max(3 * band_top, 1.2 * float(recent.max())) if len(recent) else 1.0
    bottom = min(0.0, 1.2 * float(recent.min())) if len(recent) else 0.0
    line = {
        "data": {"values": rows},
        "mark": {"type": "line", "point": True, "color": "#e8590c", "clip": True},
        "encoding": {
            "x": AXIS_STEP,
            "y": {
                "field": "value",
                "type": "quantitative",
                "title": None,  # the chart's title names it; a long name here ran past a short plot into it
                "scale": {"domain": [bottom, top or 1.0], "clamp": True, "nice": False},
            },
            "tooltip": [
                {"field": "step", "type": "quantitative"},
                {"field": "value", "type": "quantitative", "title": name, "format": ".3g"},
            ],
        },
    }
    tooltip = [{"field": "perfect", "type": "quantitative", "title": "a perfect sampler scores up to", "format": ".3g"}]
    if per_point:
        rule = {
            "data": {"values": series_rows(steps, {"perfect": bands}, value="perfect")},
            "mark": {"type": "line", "color": "#2b8a3e", "strokeDash": [4, 4], "interpolate": "step-before"},
            "encoding": {"x": AXIS_STEP, "y": {"field": "perfect", "type": "quantitative"}, "tooltip": tooltip},
        }
    else:
        rule = {
            "data": {"values": [{"perfect": float(bands[0])}]},
            "mark": {"type": "rule", "color": "#2b8a3e", "strokeDash": [4, 4]},
            "encoding": {"y": {"field": "perfect", "type": "quantitative"}, "tooltip": tooltip},
        }
    return {"title": name, "height": height, "layer": [line, rule]}
