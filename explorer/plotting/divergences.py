"""Figures for the Divergences page as Plotly dicts, from the views of explorer.views.divergences (read
by attribute only, so this module imports no torch): point masses and their divergence curves, two 1D
distributions and the curves against their shift, the earth-mover example (plan, CDFs, coupling,
critic), and the optimal discriminator D* between two 2D densities."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from explorer.plotting.figures import PALETTE, figure, heatmap, json_values, scatter
from explorer.plotting.gan import SURFACE_SCALE

if TYPE_CHECKING:
    from explorer.views.divergences import (
        DiscriminatorView2D,
        PointMassView,
        ShiftCurves,
        ShiftNow,
    )

LOG2 = math.log(2.0)
COLORS = {
    "p": PALETTE["data"],
    "q": PALETTE["model"],
    "kl": "#c2255c",
    "kl_rev": "#f08c00",
    "js": "#7048e8",
    "w1": "#2b8a3e",
    "closed": "#212529",
    "now": "#868e96",
}
NO_MASS = "#e9ecef"  # background of the D* map where neither density has mass


def _r(values: np.ndarray, digits: int = 4) -> list:
    """Rounded list with None for non-finite values (a gap in a line)."""
    return json_values(np.round(np.asarray(values, dtype=np.float64), digits))


def line(x: np.ndarray, y: np.ndarray, name: str, color: str, dash: str = "solid", width: float = 2.0, **extra) -> dict:
    return {
        "type": "scatter",
        "mode": "lines",
        "x": _r(x),
        "y": _r(y),
        "name": name,
        "line": {"color": color, "dash": dash, "width": width},
        "hovertemplate": "%{x:.2f}: %{y:.4g}<extra>" + name + "</extra>",
        **extra,
    }


def markers(x, y, name: str, color: str, size: float = 9, symbol: str = "circle", showlegend: bool = True) -> dict:
    return {
        "type": "scatter",
        "mode": "markers",
        "x": _r(np.atleast_1d(x)),
        "y": _r(np.atleast_1d(y)),
        "name": name,
        "marker": {"color": color, "size": size, "symbol": symbol, "line": {"color": color, "width": 2}},
        "showlegend": showlegend,
        "hovertemplate": "%{x:.2f}: %{y:.4g}<extra>" + name + "</extra>",
    }


def plot(
    traces: list[dict],
    title: str,
    xtitle: str,
    ytitle: str = "",
    height: int = 320,
    xrange: tuple[float, float] | None = None,
    yrange: tuple[float, float] | None = None,
    shapes: list[dict] | None = None,
    annotations: list[dict] | None = None,
) -> dict:
    """A plain x-y figure (not square), legend below."""
    layout = {
        "title": {"text": title, "x": 0.02, "font": {"size": 14}},
        "xaxis": {"title": {"text": xtitle}, "zeroline": False, "showgrid": True, "gridcolor": "#eeeeee"},
        "yaxis": {"title": {"text": ytitle}, "zeroline": False, "showgrid": True, "gridcolor": "#eeeeee"},
        "height": height,
        "margin": {"l": 50, "r": 10, "t": 40, "b": 50},
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.24, "x": 0},
        "plot_bgcolor": "white",
        "shapes": shapes or [],
        "annotations": annotations or [],
    }
    if xrange is not None:
        layout["xaxis"]["range"] = list(xrange)
    if yrange is not None:
        layout["yaxis"]["range"] = list(yrange)
    return {"data": traces, "layout": layout}


def _vline(x: float, color: str = COLORS["now"]) -> dict:
    return {
        "type": "line",
        "x0": x,
        "x1": x,
        "yref": "paper",
        "y0": 0,
        "y1": 1,
        "line": {"color": color, "dash": "dot"},
    }


def _hline(y: float, color: str, dash: str = "dot") -> dict:
    return {"type": "line", "y0": y, "y1": y, "xref": "paper", "x0": 0, "x1": 1, "line": {"color": color, "dash": dash}}


def _note(x: float, y: float, text: str, color: str, xref: str = "x", yref: str = "y", **extra) -> dict:
    return {
        "x": x,
        "y": y,
        "xref": xref,
        "yref": yref,
        "text": text,
        "showarrow": False,
        "font": {"color": color},
        **extra,
    }


def _at(thetas: np.ndarray, theta: float) -> int:
    return int(np.argmin(np.abs(thetas - theta)))


# --- point masses ---------------------------------------------------------------------------------
def point_mass_figure(view: PointMassView) -> dict:
    """delta_0 (blue) and delta_theta (orange) as spikes on the line (or the blurred densities), and the
    transport of all the mass by |theta|."""
    theta = view.theta
    if view.x is None:
        traces = [
            line(np.array([0, 0]), np.array([0, 1]), "δ₀ (data)", COLORS["p"], width=5),
            line(np.array([theta, theta]), np.array([0, 1]), "δ<sub>θ</sub> (generator)", COLORS["q"], width=5),
            markers([0, theta], [1, 1], "", COLORS["p"], 12, "triangle-up", showlegend=False),
        ]
        traces[-1]["marker"]["color"] = [COLORS["p"], COLORS["q"]]
        top = 1.45
    else:
        traces = [
            line(view.x, view.p, "N(0, σ²) (data)", COLORS["p"], fill="tozeroy"),
            line(view.x, view.q, "N(θ, σ²) (generator)", COLORS["q"], fill="tozeroy"),
        ]
        top = 1.45 * float(np.max(view.p))
    annotations = []
    if theta != 0:
        y = 0.84 * top
        annotations.append(
            {
                "x": theta,
                "y": y,
                "ax": 0,
                "ay": y,
                "xref": "x",
                "yref": "y",
                "axref": "x",
                "ayref": "y",
                "showarrow": True,
                "arrowhead": 3,
                "arrowsize": 1.2,
                "arrowcolor": COLORS["w1"],
                "text": "",
            }
        )
        annotations.append(
            _note(theta / 2, y, f"all the mass moves by |θ|: W₁ = {abs(theta):.2f}", COLORS["w1"], yshift=12)
        )
    title = (
        "Point masses δ₀ and δ<sub>θ</sub>" if view.x is None else f"Blurred: N(0, σ²) and N(θ, σ²), σ = {view.blur:g}"
    )
    lim = float(np.max(np.abs(view.thetas))) + 1
    return plot(traces, title, "x", "", 300, (-lim, lim), (0, top), annotations=annotations)


def point_mass_curves_figure(view: PointMassView) -> dict:
    """KL, JS and W_1 against theta, with the current theta marked; JS drawn with its jump at 0."""
    t = view.thetas
    zero = np.isclose(t, 0)
    top = max(float(np.max(view.w1)), LOG2) * 1.15 + 0.3
    kl = np.where(np.isinf(view.kl), np.nan, view.kl)
    js = np.where(zero, np.nan, view.js) if view.blur == 0 else view.js
    traces = [
        line(
            t,
            np.where(zero, np.nan, top - 0.15) if view.blur == 0 else kl,
            "KL(p ‖ q)",
            COLORS["kl"],
            "dash",
        ),
        line(t, js, "JS", COLORS["js"]),
        line(t, view.w1, "W₁", COLORS["w1"]),
    ]
    annotations = [_note(t[-1], LOG2, "log 2", COLORS["js"], xanchor="right", yshift=9)]
    if view.blur == 0:
        traces.append(markers([0, 0], [0, 0], "all three = 0 at θ = 0", COLORS["closed"], 9))
        traces.append(markers([0], [LOG2], "", COLORS["js"], 9, "circle-open", showlegend=False))
        annotations.append(_note(t[0], top - 0.15, "KL = +∞", COLORS["kl"], xanchor="left", yshift=9))
    i = _at(t, view.theta)
    now = [view.now.js, view.now.w1] + ([] if math.isinf(view.now.kl_pq) else [view.now.kl_pq])
    colors = [COLORS["js"], COLORS["w1"], COLORS["kl"]][: len(now)]
    dots = markers([t[i]] * len(now), now, "at θ", COLORS["closed"], 11, showlegend=False)
    dots["marker"].update(color=colors, line={"color": "white", "width": 1})
    traces.append(dots)
    return plot(
        traces,
        "Divergences against θ",
        "θ",
        "nats (KL, JS) / distance (W₁)",
        300,
        (t[0], t[-1]),
        (0, top),
        shapes=[_vline(view.theta), _hline(LOG2, COLORS["js"])],
        annotations=annotations,
    )


# --- two 1D distributions -------------------------------------------------------------------------
def shift_densities_figure(curves: ShiftCurves, now: ShiftNow) -> dict:
    traces = [
        line(curves.x, now.p, f"p: {curves.p_title}", COLORS["p"], fill="tozeroy"),
        line(curves.x, now.q, f"q: {curves.q_title}, moved by θ", COLORS["q"], fill="tozeroy"),
    ]
    top = 1.1 * float(max(np.max(now.p), np.max(now.q)))
    return plot(traces, f"p and q at θ = {now.theta:.1f}", "x", "density", 300, (curves.x[0], curves.x[-1]), (0, top))


def _curve_panel(curves: ShiftCurves, theta: float, series: list[tuple], title: str, ytitle: str) -> dict:
    """One panel of curves against theta: `series` is (values or None, name, color, dash) per line."""
    t, traces, annotations = curves.thetas, [], []
    finite_top = 0.0
    for values, name, color, dash in series:
        if values is None:
            continue
        traces.append(line(t, values, name, color, dash))
        if np.isinf(values).any():  # isolated finite values (e.g. 0 at theta = 0) need markers to show
            traces[-1].update(mode="lines+markers", marker={"color": color, "size": 5})
        finite = values[np.isfinite(values)]
        finite_top = max(finite_top, float(finite.max()) if finite.size else 0.0)
        if np.isinf(values).all():
            annotations.append(
                _note(0.5, 0.9 - 0.1 * len(annotations), f"{name} = +∞ for every θ", color, "paper", "paper")
            )
        elif np.isinf(values).any():
            annotations.append(
                _note(0.5, 0.9 - 0.1 * len(annotations), f"{name} = +∞ where not drawn", color, "paper", "paper")
            )
    i = _at(t, theta)
    for values, name, color, dash in series:
        if values is not None and dash == "solid" and np.isfinite(values[i]):
            traces.append(markers(t[i], values[i], f"{name} at θ", color, 9, showlegend=False))
    fig = plot(traces, title, "shift θ", ytitle, 300, (t[0], t[-1]), None, [_vline(theta)], annotations)
    fig["layout"]["yaxis"]["rangemode"] = "nonnegative"  # divergences are >= 0
    return fig


def shift_curve_figures(curves: ShiftCurves, theta: float) -> tuple[dict, dict, dict]:
    """(KL both ways, JS, W_1) against theta; dashed: the closed forms; dots: W_1 from POT samples."""
    kl = _curve_panel(
        curves,
        theta,
        [
            (curves.kl_pq, "KL(p ‖ q)", COLORS["kl"], "solid"),
            (curves.kl_qp, "KL(q ‖ p)", COLORS["kl_rev"], "solid"),
            (curves.closed_kl_pq, "closed form", COLORS["closed"], "dash"),
            (curves.closed_kl_qp, "closed form (q ‖ p)", COLORS["closed"], "dot"),
        ],
        "KL both ways",
        "nats",
    )
    js = _curve_panel(curves, theta, [(curves.js, "JS(p ‖ q)", COLORS["js"], "solid")], "Jensen–Shannon", "nats")
    js["layout"]["shapes"].append(_hline(LOG2, COLORS["js"]))
    js["layout"]["annotations"].append(_note(1, LOG2, "log 2", COLORS["js"], "paper", "y", xanchor="right", yshift=9))
    js["layout"]["yaxis"]["range"] = [0, LOG2 * 1.12]
    w1 = _curve_panel(
        curves,
        theta,
        [
            (curves.w1, "∫|F<sub>p</sub> − F<sub>q</sub>| dx", COLORS["w1"], "solid"),
            (curves.closed_w1, "closed form", COLORS["closed"], "dash"),
        ],
        "Wasserstein-1",
        "distance",
    )
    w1["data"].append(markers(curves.pot_thetas, curves.pot_w1, "POT on samples", COLORS["w1"], 7, "circle-open"))
    return kl, js, w1


# --- D* in 2D -------------------------------------------------------------------------------------
def discriminator_figure(view: DiscriminatorView2D) -> dict:
    """D* = p / (p + q) as a heatmap under samples of p and q; grey where (p + q)/2 is negligible (below 1e-3
    of its peak: no evidence either way), so that D* = 1/2 (white) stands out where q = p."""
    shown = np.where(view.mass > 1e-3 * view.mass.max(), view.d_star, np.nan)
    trace = heatmap(view.axis, view.axis, shown, "D*(x)", SURFACE_SCALE, 0.0, 1.0, "D*")
    trace["zsmooth"] = "fast"
    traces = [
        trace,
        scatter(view.p_samples, "samples of p (data)", COLORS["p"], 3, 0.55),
        scatter(view.q_samples, "samples of q (generator)", COLORS["q"], 3, 0.55),
    ]
    fig = figure(traces, "D* = p / (p + q): blue where p dominates, orange where q does", view.lim, height=520)
    fig["layout"]["plot_bgcolor"] = NO_MASS
    return fig
