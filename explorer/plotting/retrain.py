"""Figures for the retraining page, from `explorer.views.retrain` series (read by attribute only): each score
against the generation with one line per run, the current run's mass per mode, and its filmstrip of samples."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from explorer.plotting.charts import series_rows
from explorer.plotting.figures import PALETTE, figure, scatter

if TYPE_CHECKING:
    from explorer.views.retrain import RunSeries

AXIS_GENERATION = {"field": "step", "type": "quantitative", "title": "generation"}
RUN_LEGEND = {"orient": "bottom", "columns": 1, "labelLimit": 520}
SCORES = {
    "logp_gap": "log-density gap (nats)",
    "mode_tv": "mode coverage TV",
    "min_mode_mass": "smallest mode's mass",
    "cov_trace": "covariance trace",
}


def score_chart(
    runs: list[RunSeries], key: str, expected: tuple[np.ndarray, np.ndarray] | None = None, height: int = 230
) -> dict | None:
    """Score `key` against the generation, one line per run (the latest last); `expected` (generations, values)
    draws a dashed line. None when no run has the score."""
    series = {run.label: getattr(run, key) for run in runs if np.isfinite(getattr(run, key)).any()}
    if not series:
        return None
    rows = [
        row
        for run in runs
        if run.label in series
        for row in series_rows(run.generation, {run.label: series[run.label]}, key="run")
    ]
    layers = [
        {
            "data": {"values": rows},
            "mark": {"type": "line", "clip": True},
            "encoding": {
                "x": AXIS_GENERATION,
                "y": {"field": "value", "type": "quantitative", "title": None, "scale": {"zero": key != "logp_gap"}},
                "color": {
                    "field": "run",
                    "type": "nominal",
                    "title": None,
                    "legend": {"orient": "bottom", "columns": 1},
                },
                "tooltip": [
                    {"field": "run", "type": "nominal"},
                    {"field": "step", "type": "quantitative", "title": "generation"},
                    {"field": "value", "type": "quantitative", "format": ".4g"},
                ],
            },
        }
    ]
    if expected is not None:
        generations, values = expected
        layers.append(
            {
                "data": {"values": series_rows(generations, {"expected": values}, value="expected")},
                "mark": {"type": "line", "color": "#2b8a3e", "strokeDash": [4, 4]},
                "encoding": {"x": AXIS_GENERATION, "y": {"field": "expected", "type": "quantitative"}},
            }
        )
    return {"title": SCORES[key], "height": height, "layer": layers}


def mode_mass_chart(run: RunSeries, names: tuple[str, ...], target: float, height: int = 230) -> dict | None:
    """The current run's mass of each mode against the generation, with the target's share dashed."""
    if run.mode_mass.shape[1] == 0:
        return None
    series = {names[k] if k < len(names) else f"mode {k}": run.mode_mass[:, k] for k in range(run.mode_mass.shape[1])}
    return {
        "title": "Mass of each mode (this run)",
        "height": height,
        "layer": [
            {
                "data": {"values": series_rows(run.generation, series, key="mode")},
                "mark": {"type": "line", "clip": True},
                "encoding": {
                    "x": AXIS_GENERATION,
                    "y": {"field": "value", "type": "quantitative", "title": None},
                    "color": {"field": "mode", "type": "nominal", "title": None, "legend": None},
                    "tooltip": [{"field": "mode", "type": "nominal"}, {"field": "value", "format": ".3f"}],
                },
            },
            {
                "data": {"values": [{"target": target}]},
                "mark": {"type": "rule", "color": "#2b8a3e", "strokeDash": [4, 4]},
                "encoding": {"y": {"field": "target", "type": "quantitative"}},
            },
        ],
    }


def film_figure(samples: np.ndarray, data: np.ndarray, generation: int, lim: float) -> dict:
    """One frame of the filmstrip: a generation's samples over the target's."""
    traces = [
        scatter(data, "target", PALETTE["data"], 3, 0.35, showlegend=False),
        scatter(samples, f"generation {generation}", PALETTE["model"], 3, 0.7, showlegend=False),
    ]
    fig = figure(traces, f"generation {generation}", lim, height=240)
    fig["layout"]["margin"] = {"l": 20, "r": 5, "t": 30, "b": 20}
    return fig
