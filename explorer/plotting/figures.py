"""Plotly figures as plain dicts (cheap to build every frame: no graph_objects validation).

Points are numpy arrays `[n, 2]`; vector fields are drawn as ONE trace of line segments with
arrowheads (NaN-separated), so a 25 x 25 field costs one trace, not 625 annotations.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import plotly.colors

PALETTE = {
    "data": "#1f77b4",
    "model": "#e8590c",
    "source": "#868e96",
    "exact": "#2b8a3e",
    "learned": "#c2255c",
    "path": "#7048e8",
    "pair": "#adb5bd",
}
# Sequential scales that start at white, so zero reads as "nothing here" (Plotly's named "Blues" runs
# dark to light, which would paint the empty plane dark).
DENSITY_SCALE = [[0.0, "#ffffff"], [0.25, "#c5d9f1"], [0.6, "#5b8fd6"], [1.0, "#0b3d91"]]
# signed quantities centred on white at 0: blue < 0 < red (log-determinants, density rates of change)
DIVERGING_SCALE = [[0.0, "#2166ac"], [0.25, "#92c5de"], [0.5, "#ffffff"], [0.75, "#f4a582"], [1.0, "#b2182b"]]
ERROR_SCALE = [[0.0, "#ffffff"], [0.3, "#fcbba1"], [0.7, "#ef3b2c"], [1.0, "#67000d"]]
CATEGORICAL = ["#1f77b4", "#e8590c", "#2b8a3e", "#c2255c", "#7048e8", "#f08c00", "#0c8599", "#5c940d"]


@functools.cache
def named_scale(name: str) -> list[list]:
    """Plotly's named colour scale as stops (plotly.js knows fewer names, some with other colours;
    a figure dict goes to the browser as built, so it carries the stops themselves)."""
    return [list(stop) for stop in plotly.colors.get_colorscale(name)]


VIRIDIS = named_scale("Viridis")


# Coordinates live in about [-6, 6]^2: two decimals are below a pixel, and every frame of a live
# view is serialised, sent and parsed four times a second, so payload size is speed.
DECIMALS = 2


def _xy(points: np.ndarray) -> tuple[list, list]:
    points = np.asarray(points, dtype=np.float64)
    return np.round(points[:, 0], DECIMALS).tolist(), np.round(points[:, 1], DECIMALS).tolist()


def _significant(z: np.ndarray, digits: int = 3) -> np.ndarray:
    """Round an array to about `digits` significant digits of its largest finite magnitude."""
    finite = np.abs(z[np.isfinite(z)])
    top = float(finite.max()) if finite.size else 0.0
    if top == 0.0:
        return z
    return np.round(z, max(0, digits - 1 - int(np.floor(np.log10(top)))))


def scatter(
    points: np.ndarray,
    name: str,
    color: str | Sequence = PALETTE["model"],
    size: float = 4,
    opacity: float = 0.6,
    showlegend: bool = True,
) -> dict:
    x, y = _xy(points)
    marker = {"size": size, "opacity": opacity, "color": color if isinstance(color, str) else list(color)}
    return {
        "type": "scatter",  # SVG at any size: the page's plotly.js has no WebGL traces (explorer.ui.assets)
        "mode": "markers",
        "x": x,
        "y": y,
        "name": name,
        "marker": marker,
        "showlegend": showlegend,
        "hoverinfo": "skip",
    }


def polylines(
    lines: np.ndarray,
    name: str,
    color: str,
    width: float = 1.0,
    opacity: float = 1.0,
    showlegend: bool = True,
) -> dict:
    """Polylines `[n, k, 2]` (n lines of k vertices) as ONE line trace, NaN-separated."""
    lines = np.asarray(lines, dtype=np.float64)
    n, k, _ = lines.shape
    padded = np.concatenate([lines, np.full((n, 1, 2), np.nan)], axis=1).reshape(-1, 2)
    return {
        "type": "scatter",
        "mode": "lines",
        "x": _nan_list(padded[:, 0]),
        "y": _nan_list(padded[:, 1]),
        "name": name,
        "line": {"color": color, "width": width},
        "opacity": opacity,
        "showlegend": showlegend,
        "hoverinfo": "skip",
    }


def segments(
    starts: np.ndarray,
    ends: np.ndarray,
    name: str,
    color: str,
    width: float = 1.0,
    opacity: float = 0.5,
    showlegend: bool = True,
) -> dict:
    """Line segments start_i -> end_i as one trace."""
    return polylines(np.stack([starts, ends], axis=1), name, color, width, opacity, showlegend)


def _nan_list(a: np.ndarray) -> list:
    """`a` rounded, flattened, as Python floats with None (JSON null) for NaN."""
    return json_values(np.round(a.reshape(-1), DECIMALS))


def json_values(a: np.ndarray) -> list:
    """`a` as nested lists of Python floats, None where not finite, vectorised (a per-element test took
    most of a live refresh: ~10 ms per 10,000 values)."""
    a = np.asarray(a, dtype=np.float64)
    values = a.astype(object)
    values[~np.isfinite(a)] = None
    return values.tolist()


def quiver(
    points: np.ndarray,
    vectors: np.ndarray,
    name: str,
    color: str,
    scale: float,
    width: float = 1.5,
    head: float = 0.3,
    showlegend: bool = True,
) -> dict:
    """Arrows from `points` along `vectors * scale`, with heads, as one trace."""
    points = np.asarray(points, dtype=np.float64)
    tips = points + scale * np.asarray(vectors, dtype=np.float64)
    d = tips - points
    length = np.linalg.norm(d, axis=1, keepdims=True)
    unit = d / np.maximum(length, 1e-12)
    normal = np.stack([-unit[:, 1], unit[:, 0]], axis=1)
    h = head * np.minimum(length, 0.6)
    left = tips - h * unit + 0.5 * h * normal
    right = tips - h * unit - 0.5 * h * normal
    # each arrow: tail -> tip -> left barb, then tip -> right barb
    arrows = np.stack([points, tips, left, tips, right], axis=1)
    return polylines(arrows, name, color, width, 1.0, showlegend)


def arrow_scale(vectors: np.ndarray, spacing: float) -> float:
    """A scale so that the 90th-percentile arrow is about 0.9 grid spacing long."""
    norms = np.linalg.norm(np.asarray(vectors), axis=1)
    norms = norms[np.isfinite(norms)]
    ref = float(np.percentile(norms, 90)) if norms.size else 1.0
    return 0.9 * spacing / max(ref, 1e-8)


def heatmap(
    axis_x: np.ndarray,
    axis_y: np.ndarray,
    z: np.ndarray,
    name: str,
    colorscale: str | list = "Blues",
    zmin: float | None = None,
    zmax: float | None = None,
    colorbar_title: str = "",
    showscale: bool = True,
    opacity: float = 1.0,
) -> dict:
    """z `[len(axis_y), len(axis_x)]` on a regular grid."""
    z = _significant(np.asarray(z, dtype=np.float64))
    trace = {
        "type": "heatmap",
        "x": np.round(axis_x, DECIMALS + 1).tolist(),
        "y": np.round(axis_y, DECIMALS + 1).tolist(),
        "z": json_values(z),
        "name": name,
        "colorscale": named_scale(colorscale) if isinstance(colorscale, str) else colorscale,
        "showscale": showscale,
        "opacity": opacity,
        "hovertemplate": "x=%{x:.2f}, y=%{y:.2f}<br>%{z:.3g}<extra>" + name + "</extra>",
        "colorbar": {"title": {"text": colorbar_title}, "thickness": 12, "len": 0.8},
    }
    if zmin is not None:
        trace["zmin"] = zmin
    if zmax is not None:
        trace["zmax"] = zmax
    return trace


def paths(
    trajectories: np.ndarray, name: str, color: str, width: float = 1.0, opacity: float = 0.45, showlegend: bool = True
) -> dict:
    """Trajectories `[T, n, 2]` as one trace."""
    return polylines(np.asarray(trajectories).transpose(1, 0, 2), name, color, width, opacity, showlegend)


def figure(
    traces: list[dict], title: str = "", lim: float = 6.0, height: int = 420, square: bool = True, legend: bool = True
) -> dict:
    """A 2D plane figure over [-lim, lim]^2 with equal axis scales."""
    axis = {"range": [-lim, lim], "zeroline": False, "showgrid": False, "constrain": "domain", "autorange": False}
    layout = {
        "title": {"text": title, "x": 0.02, "font": {"size": 14}},
        "xaxis": dict(axis),
        "yaxis": dict(axis, **({"scaleanchor": "x", "scaleratio": 1} if square else {})),
        "height": height,
        "margin": {"l": 30, "r": 10, "t": 36 if title else 10, "b": 30},
        "showlegend": legend,
        "legend": {"orientation": "h", "y": -0.08, "x": 0},
        "plot_bgcolor": "white",
        "uirevision": title,
    }
    return {"data": traces, "layout": layout}


def animated(
    base: list[dict],
    frames: list[list[dict]],
    labels: Sequence[str],
    title: str = "",
    lim: float = 6.0,
    height: int = 600,
    duration_ms: int = 60,
    slider_prefix: str = "t = ",
    animated_traces: Sequence[int] | None = None,
) -> dict:
    """A client-side animation: `frames[i]` replaces the traces listed in `animated_traces`
    (default: the last len(frames[0]) traces of `base`). Play / pause buttons and a slider."""
    fig = figure(base, title, lim, height)
    k = len(frames[0]) if frames else 0
    indices = list(animated_traces) if animated_traces is not None else list(range(len(base) - k, len(base)))
    names = [str(label) for label in labels]
    fig["frames"] = [{"name": name, "data": data, "traces": indices} for name, data in zip(names, frames, strict=True)]
    play = {
        "frame": {"duration": duration_ms, "redraw": False},
        "fromcurrent": True,
        "transition": {"duration": 0},
        "mode": "immediate",
    }
    fig["layout"]["updatemenus"] = [
        {
            "type": "buttons",
            "direction": "left",
            "x": 0.0,
            "y": -0.12,
            "xanchor": "left",
            "yanchor": "top",
            "pad": {"r": 8, "t": 0},
            "showactive": False,
            "buttons": [
                {"label": "▶ Play", "method": "animate", "args": [None, play]},
                {
                    "label": "❚❚ Pause",
                    "method": "animate",
                    "args": [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}],
                },
            ],
        }
    ]
    fig["layout"]["sliders"] = [
        {
            "active": 0,
            "x": 0.3,  # clear of the Play / Pause buttons (about 150 px) down to a plot 500 px wide
            "len": 0.7,
            "y": -0.06,
            "yanchor": "top",
            "currentvalue": {"prefix": slider_prefix, "font": {"size": 12}, "xanchor": "right"},
            "steps": [
                {
                    "label": name,
                    "method": "animate",
                    "args": [[name], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}],
                }
                for name in names
            ],
        }
    ]
    fig["layout"]["margin"]["b"] = 110
    fig["layout"]["legend"] = {
        "x": 0.01,
        "y": 0.99,
        "xanchor": "left",
        "yanchor": "top",
        "bgcolor": "rgba(255,255,255,0.7)",
    }
    return fig


def animated_panels(
    titles: Sequence[str],
    frames: list[list[dict]],
    labels: Sequence[str],
    lim: float = 6.0,
    height: int = 420,
    duration_ms: int = 80,
    slider_prefix: str = "",
) -> dict:
    """Side-by-side square panels animated together: `frames[i][k]` is panel k's trace at frame i.

    One client-side animation (play, pause, slider) drives every panel, so runs that share their
    initial noise can be compared step by step.
    """
    k = len(titles)
    gap = 0.02
    layout: dict = {
        "height": height,
        "margin": {"l": 20, "r": 10, "t": 40, "b": 100},
        "showlegend": False,
        "plot_bgcolor": "white",
        "annotations": [],
    }
    for i, title in enumerate(titles):
        suffix = "" if i == 0 else str(i + 1)
        domain = [i / k + gap, (i + 1) / k - gap]
        layout[f"xaxis{suffix}"] = {
            "domain": domain,
            "range": [-lim, lim],
            "showgrid": False,
            "zeroline": False,
            "autorange": False,
            "anchor": f"y{suffix}",
        }
        layout[f"yaxis{suffix}"] = {
            "range": [-lim, lim],
            "showgrid": False,
            "zeroline": False,
            "autorange": False,
            "anchor": f"x{suffix}",
            "scaleanchor": f"x{suffix}",
            "constrain": "domain",
        }
        layout["annotations"].append(
            {
                "text": title,
                "x": (domain[0] + domain[1]) / 2,
                "y": 1.06,
                "xref": "paper",
                "yref": "paper",
                "showarrow": False,
                "font": {"size": 13},
            }
        )

    def placed(frame: list[dict]) -> list[dict]:
        return [
            dict(trace, xaxis=f"x{'' if i == 0 else i + 1}", yaxis=f"y{'' if i == 0 else i + 1}")
            for i, trace in enumerate(frame)
        ]

    fig = animated(
        placed(frames[0]),
        [placed(f) for f in frames],
        labels,
        "",
        lim,
        height,
        duration_ms,
        slider_prefix,
        animated_traces=list(range(k)),
    )
    fig["layout"].update({key: value for key, value in layout.items() if key != "annotations"})
    fig["layout"]["annotations"] = layout["annotations"]
    fig["layout"].pop("legend", None)
    return fig
