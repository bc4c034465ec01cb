"""Figures for the GAN page, from the view dataclasses of explorer.views.gan (read by attribute only,
so this module imports no torch): the discriminator surface under real and generated samples with
the generator's gradient arrows, the noise grid and its image under G, per-mode mass, the D and G
loss curves, a conditional GAN's samples per class, ||grad_x D|| with the penalty's points and the layers'
largest singular values over training."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from explorer.plotting.charts import AXIS_STEP, nominal_color, series_rows, thinned
from explorer.plotting.figures import (
    CATEGORICAL,
    PALETTE,
    VIRIDIS,
    arrow_scale,
    figure,
    heatmap,
    polylines,
    quiver,
    scatter,
)

if TYPE_CHECKING:
    from explorer.views.gan import ClassView, LipschitzView, MappingView, ModeMassView, SurfaceView

# Pale diverging scale: the "fake" end (low D) orange, the "real" end (high D) blue, white in between,
# light enough that the orange and blue samples drawn on top stay visible.
SURFACE_SCALE = [[0.0, "#f7b98f"], [0.25, "#fde3cf"], [0.5, "#ffffff"], [0.75, "#d3e4f5"], [1.0, "#8fb8e3"]]
ARROW_COLOR = "#2b2d42"
# True-scale arrows: this many data units per unit of |grad_x l_G|, capped so one strong gradient
# does not cross the plot. A fixed scale keeps vanishing gradients visible as vanishing arrows.
ARROW_UNIT, ARROW_CAP = 0.5, 1.5
LINE_COLORS = ("#7048e8", "#0c8599")  # grid lines of constant z2, of constant z1
SURFACE_TITLES = {
    "probability": "D(x) = P(real | x)",
    "critic": "critic f(x)",
    "output": "D(x)",
}


def _surface_range(view: SurfaceView) -> tuple[float, float]:
    """(zmin, zmax) with the fake target at zmin and the real target at zmax; critics (defined up to a
    constant) are centred between their mean on real and on generated samples."""
    if view.reference is not None:
        return view.reference
    values = view.values[np.isfinite(view.values)]
    centre = 0.5 * (view.real_mean + view.fake_mean)
    if not np.isfinite(centre):
        centre = float(np.median(values)) if values.size else 0.0
    half = float(np.percentile(np.abs(values - centre), 98)) if values.size else 1.0
    return centre - (half or 1.0), centre + (half or 1.0)


def capped(vectors: np.ndarray, unit: float = ARROW_UNIT, cap: float = ARROW_CAP) -> np.ndarray:
    """vectors `[m, 2]` times `unit`, each shortened to at most `cap` (direction kept)."""
    v = np.nan_to_num(np.asarray(vectors, dtype=np.float64) * unit)
    length = np.linalg.norm(v, axis=1, keepdims=True)
    return v * np.minimum(1.0, cap / np.maximum(length, 1e-12))


def surface_figure(view: SurfaceView, normalise: bool = False, arrows: int = 100, lim: float = 6.0) -> dict:
    """The surface as a heatmap, data (blue) and generated (orange) samples, and the generator's
    gradient arrows on the first `arrows` generated samples: at true scale (ARROW_UNIT per unit
    gradient, capped) or `normalise`d so that the longest are about a grid cell long."""
    zmin, zmax = _surface_range(view)
    flip = zmin > zmax  # e.g. LSGAN with a > b: keep "fake" orange and "real" blue
    lo, hi = (zmax, zmin) if flip else (zmin, zmax)
    scale = [[1 - s, c] for s, c in reversed(SURFACE_SCALE)] if flip else SURFACE_SCALE
    name = SURFACE_TITLES[view.kind]
    surface = heatmap(view.axis, view.axis, view.values, name, scale, lo, hi, name.split(" = ")[0], opacity=0.9)
    surface["zsmooth"] = "fast"  # the browser's image smoothing: as cheap as blocks
    fake, grads = view.fake[:arrows], view.arrows[:arrows]
    if normalise:
        vectors, unit = grads, arrow_scale(grads, 0.8)
    else:
        vectors, unit = capped(grads), 1.0
    traces = [
        surface,
        scatter(view.real, "data", PALETTE["data"], 4, 0.55),
        scatter(view.fake, "generated G(z)", PALETTE["model"], 4, 0.8),
        quiver(fake, vectors, "−∇ₓ l_G (push on G(z))", ARROW_COLOR, unit, width=1.2, head=0.35),
    ]
    title = f"{name} · median |∇ₓ l_G| at G(z) = {view.grad_median:.2g}"
    return figure(traces, title, lim, height=480)


def mapping_figures(view: MappingView, data: np.ndarray, lim: float = 6.0) -> tuple[dict, dict]:
    """(noise space, data space): the noise grid with noise samples, and its image under G over the
    data `[n, 2]`. Latent 1: the segment z in [-3, 3] and the curve G(z), both coloured by z."""
    z_lim = 3.6
    if view.latent_dim == 2:
        noise = [
            *_grid_traces(view.noise_lines, view.family),
            scatter(view.z, "z ~ N(0, I)", PALETTE["source"], 3, 0.5),
        ]
        mapped = [
            scatter(data, "data", PALETTE["data"], 3, 0.25),
            *_grid_traces(view.data_lines, view.family),
            scatter(view.fake, "G(z)", PALETTE["model"], 3, 0.6),
        ]
        noise_title, data_title = "Noise space: a grid over [−3, 3]²", "G warps the grid into data space"
    else:
        t = np.linspace(-z_lim, z_lim, 121)
        pdf = np.stack([t, 2.5 * np.exp(-0.5 * t**2) / np.sqrt(2 * np.pi)], axis=1)
        jitter = np.random.default_rng(0).uniform(-0.35, -0.05, len(view.z))
        noise = [
            polylines(pdf[None], "N(0, 1) density (×2.5)", PALETTE["source"], 1.5),
            scatter(np.stack([view.z[:, 0], jitter], axis=1), "z ~ N(0, 1)", PALETTE["source"], 3, 0.5),
            _coloured_curve(view.noise_lines[0], view.line_z),
        ]
        mapped = [
            scatter(data, "data", PALETTE["data"], 3, 0.25),
            _coloured_curve(view.data_lines[0], view.line_z),
            scatter(view.fake, "G(z)", PALETTE["model"], 3, 0.6),
        ]
        noise_title, data_title = "Noise z ∈ [−3, 3] (colour: z)", "G maps the segment to a curve"
    noise_fig = figure(noise, noise_title, z_lim, height=380)
    if view.latent_dim == 1:
        noise_fig["layout"]["yaxis"].update(range=[-1.0, 1.5], scaleanchor=None)
    return noise_fig, figure(mapped, data_title, lim, height=380)


def _grid_traces(lines: np.ndarray, family: np.ndarray) -> list[dict]:
    """Grid lines `[L, k, 2]` as two traces, one colour per family (constant z2, constant z1)."""
    return [
        polylines(lines[family == f], label, LINE_COLORS[f], 1.0, 0.9)
        for f, label in enumerate(("lines z₂ = const", "lines z₁ = const"))
    ]


def _coloured_curve(points: np.ndarray, param: np.ndarray) -> dict:
    """A curve `[k, 2]` drawn as line + markers coloured by `param` `[k]` (Viridis)."""
    trace = scatter(points, "z ∈ [−3, 3] (colour: z)", list(np.round(param, 2)), 6, 0.95)
    trace.update(mode="lines+markers", line={"color": "#adb5bd", "width": 1})
    trace["marker"].update(colorscale=VIRIDIS, cmin=float(param.min()), cmax=float(param.max()))
    return trace


def mode_mass_chart(view: ModeMassView, height: int = 220) -> dict:
    """Generated mass per mode (bars) against the target's (green ticks)."""
    names = [name.removeprefix("component ").removeprefix("cell ") for name in view.names]
    rows = [
        {"mode": n, "generated": float(g), "target": float(t)}
        for n, g, t in zip(names, view.mass.tolist(), view.target.tolist(), strict=True)
    ]
    x = {"field": "mode", "type": "nominal", "sort": names, "title": "mode", "axis": {"labelAngle": 0}}
    top = 1.15 * float(max(view.mass.max(), view.target.max(), 1e-3))
    bars = {
        "mark": {"type": "bar", "color": PALETTE["model"], "opacity": 0.75},
        "encoding": {
            "x": x,
            "y": {"field": "generated", "type": "quantitative", "title": "mass", "scale": {"domain": [0, top]}},
            "tooltip": [
                {"field": "mode", "type": "nominal"},
                {"field": "generated", "type": "quantitative", "format": ".3f"},
                {"field": "target", "type": "quantitative", "format": ".3f"},
            ],
        },
    }
    ticks = {
        "mark": {"type": "tick", "color": PALETTE["exact"], "thickness": 3, "size": 24},
        "encoding": {"x": x, "y": {"field": "target", "type": "quantitative"}},
    }
    subtitle = [f"green: target · {view.covered} of {len(names)} covered", f"{100 * view.off:.0f}% {view.off_label}"]
    return {
        "title": {"text": "Mass per mode", "subtitle": subtitle},
        "height": height,
        "data": {"values": rows},
        "layer": [bars, ticks],
    }


def losses_chart(
    steps: np.ndarray, g_loss: np.ndarray, d_loss: np.ndarray | None, height: int = 200, max_points: int = 200
) -> dict:
    """L_G and L_D per chunk against the step (each minimised by its own network), at most `max_points`."""
    keep = thinned(len(steps), max_points)
    series = {"G: L_G": np.asarray(g_loss)[keep]}
    if d_loss is not None and len(d_loss) == len(steps):
        series["D: L_D"] = np.asarray(d_loss)[keep]
    return {
        "title": "Losses L_G and L_D",
        "height": height,
        "data": {"values": series_rows(np.asarray(steps)[keep], series, "network", "loss")},
        "mark": "line",
        "encoding": {
            "x": {**AXIS_STEP, "title": "step (G updates)"},
            "y": {"field": "loss", "type": "quantitative", "title": "loss", "scale": {"zero": False}},
            "color": nominal_color("network", ["G: L_G", "D: L_D"], [PALETTE["model"], PALETTE["data"]]),
            "tooltip": [
                {"field": "network", "type": "nominal"},
                {"field": "step", "type": "quantitative"},
                {"field": "loss", "type": "quantitative", "format": ".4g"},
            ],
        },
    }


def class_figure(view: ClassView, lim: float = 6.0) -> dict:
    """Data (faint) and generated samples (solid) coloured per class."""
    traces = []
    for k, name in enumerate(view.names):
        color = CATEGORICAL[k % len(CATEGORICAL)]
        traces.append(scatter(view.real[k], f"data: {name}", color, 3, 0.18, showlegend=False))
    for k, name in enumerate(view.names):
        color = CATEGORICAL[k % len(CATEGORICAL)]
        label = name if view.fidelity is None else f"{name} ({100 * view.fidelity[k]:.0f}% on target)"
        traces.append(scatter(view.fake[k], label, color, 4, 0.85))
    return figure(traces, "Conditional samples G(z, y), coloured by class y (faint: data)", lim, height=480)


def optimal_discriminator_figure(view, lim: float = 6.0) -> dict:
    """D* = p / (p + q) as a heatmap, faded to white where (p + q) / 2 is negligible (no evidence there)."""
    mass = 0.5 * (np.exp(view.log_p) + np.exp(view.log_q))
    shown = np.where(mass > 1e-3 * mass.max(), view.d_star, np.nan)
    scale = [[0.0, "#c2255c"], [0.5, "#ffffff"], [1.0, "#1f77b4"]]
    trace = heatmap(view.axis, view.axis, shown, "D*(x)", scale, zmin=0.0, zmax=1.0, colorbar_title="D*")
    return figure(
        [trace], "Optimal discriminator D* = p_data / (p_data + p_g): blue = data-rich, red = generator-rich", lim
    )


# ||grad D|| below 1 blue, 1 white, above 1 red: where a penalty holds it at 1 the map turns white
LIPSCHITZ_SCALE = [[0.0, "#1c7ed6"], [0.5, "#ffffff"], [1.0, "#e03131"]]


def lipschitz_figure(view: LipschitzView, titles: dict[str, str], lim: float = 6.0) -> dict:
    """||grad_x D|| as a heatmap (white at 1, the slope a 1-Lipschitz D may not exceed; red from 2 on) with the
    penalty's points."""
    traces = [heatmap(view.axis, view.axis, view.grad_norm, "‖∇ₓD‖", LIPSCHITZ_SCALE, 0.0, 2.0, "‖∇D‖")]
    if len(view.points):
        traces.append(scatter(view.points[:400], f"penalty at: {titles[view.penalty]}", ARROW_COLOR, 3, 0.6))
    return figure(traces, "‖∇ₓD(x)‖ over the plane: white = 1, red = steeper than 1-Lipschitz", lim, height=480)


def layer_norms_chart(steps: np.ndarray, extra: dict[str, np.ndarray], height: int = 220, max_points: int = 200):
    """The largest singular value σ(W_l) of each layer of D per chunk, and their product (a bound on D's
    Lipschitz constant up to SiLU's slope); None before any step."""
    names = sorted((k for k in extra if k.startswith("sigma_")), key=lambda k: int(k.split("_")[1]))
    if not names or not len(steps):
        return None
    keep = thinned(len(steps), max_points)
    series = {f"layer {k.split('_')[1]}": np.asarray(extra[k])[keep] for k in names}
    series["product"] = np.prod(np.stack(list(series.values())), axis=0)
    return {
        "title": "Largest singular value σ(W) of each layer of D",
        "height": height,
        "data": {"values": series_rows(np.asarray(steps)[keep], series, "layer", "sigma")},
        "mark": "line",
        "encoding": {
            "x": {**AXIS_STEP, "title": "step (G updates)"},
            "y": {"field": "sigma", "type": "quantitative", "title": "σ(W)", "scale": {"type": "log"}},
            "color": {"field": "layer", "type": "nominal", "title": None},
            "tooltip": [
                {"field": "layer", "type": "nominal"},
                {"field": "step", "type": "quantitative"},
                {"field": "sigma", "type": "quantitative", "format": ".4g"},
            ],
        },
    }
