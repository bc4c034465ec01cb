"""Figures for the Normalizing flows page, from the views of explorer.views.realnvp (read by attribute
only, so this module imports no torch): the grid and samples warped layer by layer (small multiples,
and a client-side animation in either direction), each layer's log-det term as a heatmap, and the NLL
curve with the target's entropy as its floor. The learned and exact densities: `explorer.plotting.likelihood`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from explorer.plotting.charts import AXIS_STEP, series_rows, thinned
from explorer.plotting.figures import DIVERGING_SCALE, PALETTE, VIRIDIS, animated, heatmap, polylines, scatter

if TYPE_CHECKING:
    from explorer.views.realnvp import LayersView, LogDetView

LINE_COLORS = ("#7048e8", "#0c8599")  # grid lines of constant second coordinate, of constant first
# l_k = log|det df_k^{-1}/dy| > 0 (red): layer k squeezes this region together, raising p; < 0 (blue): spreads it.
LOGDET_SCALE = DIVERGING_SCALE
MAX_FRAMES = 40  # animation frames at most (the payload grows with them)


def _stage_name(j: int, n_layers: int, inverse: bool) -> str:
    if inverse:
        return "x (data)" if j == 0 else ("z (noise)" if j == n_layers else f"{j} undone")
    return "z (noise)" if j == 0 else ("x = f(z)" if j == n_layers else f"after {j}")


def _grid_traces(lines: np.ndarray, family: np.ndarray, width: float = 1.0, legend: bool = True) -> list[dict]:
    """Grid lines `[L, k, 2]` as two traces, one colour per family."""
    names = ("grid: horizontal lines", "grid: vertical lines")
    return [polylines(lines[family == f], names[f], LINE_COLORS[f], width, 0.85, showlegend=legend) for f in range(2)]


def panels(
    contents: Sequence[list[dict]],
    titles: Sequence[str],
    lim: float = 6.0,
    columns: int = 7,
    panel_height: int = 190,
    coloraxis: dict | None = None,
) -> dict:
    """Small multiples: panel i holds the traces `contents[i]`, on square axes over [-lim, lim]^2."""
    n = len(contents)
    rows = max(1, -(-n // columns))
    cols = min(columns, max(1, n))
    gap_x, gap_y = 0.012, 0.03
    layout: dict = {
        "height": rows * panel_height + 30,
        "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
        "showlegend": False,
        "plot_bgcolor": "white",
        "annotations": [],
    }
    data: list[dict] = []
    for i, (traces, title) in enumerate(zip(contents, titles, strict=True)):
        r, c = divmod(i, cols)
        suffix = "" if i == 0 else str(i + 1)
        x_domain = [c / cols + gap_x, (c + 1) / cols - gap_x]
        y_domain = [1 - (r + 1) / rows + gap_y, 1 - r / rows - gap_y * 2]
        axis = {"range": [-lim, lim], "showgrid": False, "zeroline": False, "autorange": False, "showticklabels": False}
        layout[f"xaxis{suffix}"] = dict(axis, domain=x_domain, anchor=f"y{suffix}")
        layout[f"yaxis{suffix}"] = dict(
            axis, domain=y_domain, anchor=f"x{suffix}", scaleanchor=f"x{suffix}", constrain="domain"
        )
        layout["annotations"].append(
            {
                "text": title,
                "x": (x_domain[0] + x_domain[1]) / 2,
                "y": y_domain[1],
                "xref": "paper",
                "yref": "paper",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 11},
            }
        )
        data += [dict(trace, xaxis=f"x{suffix}", yaxis=f"y{suffix}") for trace in traces]
    if coloraxis is not None:
        layout["coloraxis"] = coloraxis
    return {"data": data, "layout": layout}


def _columns(n: int, one_row: int = 6) -> int:
    """Panels per row: all in one row up to `one_row`, else two rows."""
    return n if n <= one_row else -(-n // 2)


def layer_strip_figure(view: LayersView, stages: Sequence[int], lim: float = 6.0) -> dict:
    """The noise grid and samples after the listed stages of f (0: z, K: x), one small panel each."""
    contents = [
        [
            *_grid_traces(view.forward_lines[j], view.family, 0.8, legend=False),
            scatter(view.forward_points[j], "samples", PALETTE["model"], 2.5, 0.7, showlegend=False),
        ]
        for j in stages
    ]
    titles = [_stage_name(j, view.n_layers, False) for j in stages]
    return panels(contents, titles, lim, _columns(len(stages)), panel_height=230)


def _symmetric_range(values: np.ndarray) -> float:
    finite = np.abs(values[np.isfinite(values)])
    return max(float(np.percentile(finite, 99)) if finite.size else 0.0, 0.5)


def logdet_strip_figure(view: LogDetView, layers: Sequence[int], lim: float = 6.0) -> dict:
    """Each listed layer's term l_k(x) = log |det df_k^{-1}/dy| over data space (shared diverging colours),
    then the base term log N(f^{-1}(x)) and their sum log p_theta(x)."""
    couplings = [k for k in layers if k < view.couplings]  # the colours span the couplings' terms; the bounded
    # output's (large at the box's edges) saturate
    top = _symmetric_range(view.terms[couplings or list(layers)]) if len(layers) else 1.0
    contents, titles = [], []
    names = view.names
    for k in layers:
        trace = heatmap(view.axis, view.axis, view.terms[k], names[k], showscale=False)
        trace.pop("colorscale")
        trace["coloraxis"] = "coloraxis"
        contents.append([trace])
        titles.append(names[k])
    base_max = float(np.nanmax(view.log_prob)) if np.isfinite(view.log_prob).any() else 0.0
    for name, image in (("base: log N(f⁻¹(x))", view.base), ("sum: log p_θ(x)", view.log_prob)):
        trace = heatmap(view.axis, view.axis, image, name, VIRIDIS, base_max - 12, base_max, showscale=False)
        contents.append([trace])
        titles.append(name)
    coloraxis = {
        "colorscale": LOGDET_SCALE,
        "cmin": -top,
        "cmax": top,
        "colorbar": {"title": {"text": "log|det|"}, "thickness": 10, "len": 0.8},
    }
    n = len(contents)
    return panels(contents, titles, lim, n if n <= 7 else -(-n // 2), panel_height=200, coloraxis=coloraxis)


def layers_animation(view: LayersView, inverse: bool = False, lim: float = 6.0, duration_ms: int = 80) -> dict:
    """Grid and samples carried through the layers, played in the browser: noise -> data through f, or
    (`inverse`) data -> noise through f^{-1}. Between two stages the points slide linearly, which is
    exactly what a coupling does: only one coordinate moves."""
    lines = view.inverse_lines if inverse else view.forward_lines
    points = view.inverse_points if inverse else view.forward_points
    k = view.n_layers
    sub = max(1, MAX_FRAMES // max(k, 1))
    stops: list[float] = [j + i / sub for j in range(k) for i in range(sub)] + [float(k)]

    def at(arr: np.ndarray, position: float) -> np.ndarray:
        j = min(int(position), k - 1) if k else 0
        alpha = position - j
        return arr[j] if k == 0 else (1 - alpha) * arr[j] + alpha * arr[j + 1]

    sample_name, color = ("data carried back", PALETTE["data"]) if inverse else ("z carried forward", PALETTE["model"])
    goal = view.noise if inverse else view.target
    goal_name = "N(0, I) (the goal)" if inverse else "data (the goal)"

    def frame(position: float) -> list[dict]:
        return [
            *_grid_traces(at(lines, position), view.family),
            scatter(at(points, position), sample_name, color, 4, 0.8),
        ]

    base = [scatter(goal, goal_name, PALETTE["source"] if inverse else PALETTE["data"], 3, 0.18), *frame(0.0)]
    labels = [f"{p:.2f}".rstrip("0").rstrip(".") for p in stops]
    title = "Data → noise through f⁻¹ (couplings K … 1)" if inverse else "Noise → data through f (couplings 1 … K)"
    prefix = "undone: " if inverse else "layers: "
    return animated(base, [frame(p) for p in stops], labels, title, lim, 560, duration_ms, prefix)


def nll_chart(
    steps: np.ndarray, nll: np.ndarray, floor: float | None, floor_label: str = "", height: int = 220
) -> dict:
    """NLL per chunk against the step, with the target's entropy H(p) as a dashed floor (where known)."""
    keep = thinned(len(steps), 300)
    rows = series_rows(np.asarray(steps)[keep], {"NLL": np.asarray(nll)[keep]}, value="NLL")
    recent = np.array([r["NLL"] for r in rows[len(rows) // 5 :]])
    top = float(recent.max()) if len(recent) else 1.0
    bottom = float(recent.min()) if len(recent) else 0.0
    if floor is not None:
        top, bottom = max(top, floor + 0.5), min(bottom, floor)
    pad = 0.05 * max(top - bottom, 0.1)
    scale = {"domain": [bottom - pad, top + pad], "clamp": True, "nice": False, "zero": False}
    line = {
        "data": {"values": rows},
        "mark": {"type": "line", "color": "#4C6EF5", "clip": True},
        "encoding": {
            "x": AXIS_STEP,
            "y": {"field": "NLL", "type": "quantitative", "title": "NLL (nats)", "scale": scale},
            "tooltip": [
                {"field": "step", "type": "quantitative"},
                {"field": "NLL", "type": "quantitative", "format": ".4f"},
            ],
        },
    }
    subtitle = ["blue: mean −log p_θ(x) of each fresh batch"]
    layers = [line]
    if floor is not None:
        rule = {
            "data": {"values": [{"H": float(floor), "label": floor_label or "entropy H(p)"}]},
            "mark": {"type": "rule", "color": PALETTE["exact"], "strokeDash": [5, 4], "strokeWidth": 2},
            "encoding": {
                "y": {"field": "H", "type": "quantitative"},
                "tooltip": [
                    {"field": "label", "type": "nominal", "title": "floor"},
                    {"field": "H", "type": "quantitative", "format": ".4f"},
                ],
            },
        }
        layers.append(rule)
        subtitle.append("green: the floor H(p); the gap is KL(p ‖ p_θ)")
    return {"title": {"text": "Negative log-likelihood", "subtitle": subtitle}, "height": height, "layer": layers}
