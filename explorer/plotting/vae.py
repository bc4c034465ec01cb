"""Figures for the VAE page, from the view dataclasses of explorer.views.vae (read by attribute only, so
this module imports no torch): data space and latent space linked by one colour code (each data point
coloured by where it sits in the plane, its code the same colour), the decoder manifold, the ELBO's
terms over training, KL per latent dimension, codebook usage. The tabs' figures (the reparametrisation
trick, latent holes) are in `explorer.plotting.vae_panels`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from explorer.plotting.charts import AXIS_STEP, nominal_color, series_rows, thinned
from explorer.plotting.figures import CATEGORICAL, PALETTE, VIRIDIS, figure, heatmap, polylines, scatter, segments

if TYPE_CHECKING:
    from explorer.views.vae import ElboView, ManifoldView, SpacesView

# Corners of the 2D colour code: (low x, low y), (high x, low y), (low x, high y), (high x, high y).
CORNERS = np.array([[25, 113, 194], [47, 158, 68], [224, 49, 49], [240, 140, 0]], dtype=np.float64)
SAMPLE_COLOR = "#212529"  # decoded prior samples (the data points carry the colour code)
LINK_COLOR = "#adb5bd"  # data point -> reconstruction
PRIOR_COLOR = PALETTE["exact"]  # the prior N(0, I), the reference the aggregate posterior should match
AGGREGATE_SCALE = [[0.0, "#ffffff"], [0.3, "#e9ecef"], [0.7, "#adb5bd"], [1.0, "#495057"]]
LINE_COLORS = ("#7048e8", "#0c8599")  # decoded grid lines of constant z2, of constant z1
CELL_COLORS = ["#e7f5ff", "#fff4e6", "#ebfbee", "#fff0f6", "#f3f0ff", "#fff9db", "#e3fafc", "#f4fce3"]
TERM_COLORS = {"reconstruction": "#1971c2", "KL": "#c2255c", "−ELBO": "#212529", "‖z_e − e‖²": "#f08c00"}
ELLIPSES = 30  # posterior ellipses drawn
HEX = [f"{i:02x}" for i in range(256)]


def position_colors(points: np.ndarray) -> list[str]:
    """A colour per point `[n, 2]` from its position: x and y, each scaled to [0, 1] between the 5th and
    95th percentiles, blend the four CORNERS bilinearly. Neighbours in the plane get similar colours."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if not len(p):
        return []
    lo, hi = np.nanpercentile(p, 5, axis=0), np.nanpercentile(p, 95, axis=0)
    u = np.clip((p - lo) / np.maximum(hi - lo, 1e-9), 0.0, 1.0)
    u = np.nan_to_num(u, nan=0.5)
    a, b = u[:, :1], u[:, 1:]
    rgb = (1 - a) * (1 - b) * CORNERS[0] + a * (1 - b) * CORNERS[1] + (1 - a) * b * CORNERS[2] + a * b * CORNERS[3]
    return ["#" + "".join(HEX[c] for c in row) for row in np.rint(rgb).astype(int).tolist()]


def as_plane(points: np.ndarray, height: np.ndarray | float = 0.0) -> np.ndarray:
    """Latents `[n, d]` as plane points `[n, 2]`: unchanged in 2D, (z, height) in 1D."""
    a = np.asarray(points, dtype=np.float64)
    a = a.reshape(-1, a.shape[-1]) if a.ndim else a.reshape(1, 1)
    if a.shape[1] == 2:
        return a
    return np.stack([a[:, 0], np.broadcast_to(np.asarray(height, dtype=np.float64), (len(a),))], 1)


def data_figure(view: SpacesView, reconstructions: bool = True, samples: bool = True, lim: float = 6.0) -> dict:
    """Data space: data points in the colour code, a grey line from each to its reconstruction m(z)
    (drawn as a small dot of the same colour), and the decoded prior samples in black."""
    colors = position_colors(view.data)
    traces = []
    if reconstructions:
        traces.append(segments(view.data, view.recon, "x → reconstruction", LINK_COLOR, 0.8, 0.6))
        traces.append(scatter(view.recon, "reconstructions", colors, 3, 0.9, showlegend=False))
    traces.append(scatter(view.data, "data x (colour: position)", colors, 6, 0.75))
    if samples:
        traces.append(scatter(view.samples, "prior samples", SAMPLE_COLOR, 3, 0.55))
    return figure(traces, "Data space", lim, height=430)


def latent_figure(view: SpacesView, samples: bool = False) -> dict:
    """Latent space: codes in the colour code (the same colour as their data point), and per model the
    aggregate posterior (grey) with 1-sigma ellipses (VAE), or the codebook's Voronoi cells (VQ-VAE),
    the prior's 1, 2, 3-sigma circles in green; 1D latents as a line plot."""
    if view.latent_dim == 1:
        return _latent_figure_1d(view, samples)
    colors = position_colors(view.data)
    traces: list[dict] = []
    if view.aggregate is not None:
        top = float(np.nanmax(view.aggregate)) or 1.0
        traces.append(
            heatmap(view.axis, view.axis, view.aggregate, "q(z)", AGGREGATE_SCALE, 0.0, top, "q(z)", showscale=False)
        )
    if view.cells is not None:
        traces.append(_cells_trace(view))
    theta = np.linspace(0, 2 * np.pi, 41)
    circle = np.stack([np.cos(theta), np.sin(theta)], 1)
    rings = polylines(np.stack([r * circle for r in (1, 2, 3)]), "prior N(0, I): 1, 2, 3σ", PRIOR_COLOR, 1.2, 0.9)
    rings["line"]["dash"] = "dash"
    traces.append(rings)
    if view.sigma is not None:
        ellipses = view.mean[:ELLIPSES, None, :] + view.sigma[:ELLIPSES, None, :] * circle[None]
        traces.append(polylines(ellipses, "1σ ellipses of q(z|x)", "#495057", 1.0, 0.6))
    if samples:
        traces.append(scatter(view.prior_z, "z ~ prior", SAMPLE_COLOR, 3, 0.35))
    label = {"vae": "means μ(x)", "ae": "codes z(x)", "vqvae": "encodings z_e(x)"}[view.kind]
    traces.append(scatter(view.mean, label, colors, 5, 0.8))
    if view.codebook is not None:
        traces.append(_codebook_trace(view.codebook, view.usage))
    title = {"vae": "Latent space: q(z|x) and q(z) (grey)", "ae": "Latent space: codes z(x)"}.get(
        view.kind, "Latent space: codebook and Voronoi cells"
    )
    fig = figure(traces, title, view.lim, height=430)
    fig["layout"]["xaxis"]["title"] = {"text": "z₁"}
    fig["layout"]["yaxis"]["title"] = {"text": "z₂"}
    return fig


def _cells_trace(view: SpacesView) -> dict:
    """The Voronoi cells of the codebook as a categorical heatmap (pale colour per code, cycling)."""
    k = len(view.codebook)
    scale = [[i / max(1, k - 1), CELL_COLORS[i % len(CELL_COLORS)]] for i in range(k)] if k > 1 else "Greys"
    trace = heatmap(view.axis, view.axis, view.cells.astype(np.float64), "code", scale, 0, max(1, k - 1), "k", False)
    trace["hovertemplate"] = "z=(%{x:.2f}, %{y:.2f})<br>cell of code %{z}<extra></extra>"
    return trace


def _codebook_trace(codebook: np.ndarray, usage: np.ndarray | None, one_d: bool = False) -> dict:
    """Codebook vectors as black crosses, sized by usage (an unused, dead code is a small grey cross)."""
    points = np.stack([codebook[:, 0], np.zeros(len(codebook))], 1) if one_d else codebook
    use = np.zeros(len(codebook)) if usage is None else np.asarray(usage)
    size = [round(float(v), 1) for v in 7 + 30 * np.sqrt(use)]
    trace = scatter(points, "codebook e_k (size: usage)", ["#212529" if u > 0 else "#adb5bd" for u in use], 10, 0.95)
    trace["marker"].update(symbol="x-thin", size=size, line={"width": 2.5, "color": "#212529"})
    return trace


def _latent_figure_1d(view: SpacesView, samples: bool) -> dict:
    """1D latent: prior density (green), aggregate posterior (grey, VAE), codes below the axis (with
    their 1-sigma intervals for the VAE), the codebook with its cell boundaries (VQ-VAE)."""
    colors = position_colors(view.data)
    n = len(view.mean)
    rng = np.random.default_rng(0)
    height = -0.08 - 0.3 * rng.random(n)  # a strip below the axis, jittered
    top = float(np.nanmax(view.prior_density))
    traces: list[dict] = []
    if view.aggregate is not None:
        agg = np.stack([view.axis, view.aggregate], 1)
        trace = polylines(agg[None], "aggregate posterior q(z)", "#495057", 1.5)
        trace.update(fill="tozeroy", fillcolor="rgba(173,181,189,0.35)")
        traces.append(trace)
        top = max(top, float(np.nanmax(view.aggregate)))
    traces.append(polylines(np.stack([view.axis, view.prior_density], 1)[None], "prior N(0, 1)", PRIOR_COLOR, 2.0))
    traces[-1]["line"]["dash"] = "dash"
    if view.sigma is not None:
        lo = np.stack([view.mean[:, 0] - view.sigma[:, 0], height], 1)
        hi = np.stack([view.mean[:, 0] + view.sigma[:, 0], height], 1)
        traces.append(segments(lo[:ELLIPSES], hi[:ELLIPSES], "μ ± σ of q(z|x)", "#868e96", 1.0, 0.7))
    if view.codebook is not None:
        edges = np.sort(view.codebook[:, 0])
        bounds = 0.5 * (edges[1:] + edges[:-1])
        if len(bounds):
            lines = np.stack(
                [np.stack([bounds, np.full_like(bounds, -0.45)], 1), np.stack([bounds, np.full_like(bounds, top)], 1)],
                1,
            )
            traces.append(polylines(lines, "cell boundaries", "#adb5bd", 1.0, 0.8))
        traces.append(_codebook_trace(view.codebook, view.usage, one_d=True))
    if samples:
        strip = np.stack([view.prior_z[:, 0], -0.42 + 0.02 * rng.random(len(view.prior_z))], 1)
        traces.append(scatter(strip, "z ~ prior", SAMPLE_COLOR, 3, 0.35))
    label = {"vae": "means μ(x)", "ae": "codes z(x)", "vqvae": "encodings z_e(x)"}[view.kind]
    traces.append(scatter(np.stack([view.mean[:, 0], height], 1), label, colors, 5, 0.8))
    fig = figure(traces, "Latent space (1D): codes below, densities above", view.lim, height=430, square=False)
    fig["layout"]["yaxis"].update(range=[-0.5, 1.1 * top + 0.05], title={"text": "density"})
    fig["layout"]["xaxis"]["title"] = {"text": "z"}
    return fig


def manifold_figure(view: ManifoldView, data: np.ndarray, lim: float = 6.0) -> dict:
    """The decoder manifold: a regular latent grid (or the segment, in 1D) decoded into data space,
    over the data (faint)."""
    traces = [scatter(data, "data", PALETTE["data"], 3, 0.2)]
    if view.latent_dim == 2:
        for f, label in enumerate(("lines z₂ = const", "lines z₁ = const")):
            traces.append(polylines(view.data_lines[view.family == f], label, LINE_COLORS[f], 1.0, 0.9))
        # the grid's crossings as dots: a decoder that ignores z (posterior collapse) maps them all to one point
        crossings = view.data_lines[view.family == 0][:, :: max(1, (view.data_lines.shape[1] - 1) // 10)]
        traces.append(scatter(crossings.reshape(-1, 2), "m(z) at the grid's crossings", LINE_COLORS[0], 3, 0.8))
        title = f"Decoder manifold: the grid [−{view.lim:g}, {view.lim:g}]² decoded"
    else:
        curve = scatter(view.data_lines[0], f"m(z), z ∈ [−{view.lim:g}, {view.lim:g}] (colour: z)", "#adb5bd", 6, 0.95)
        curve.update(mode="lines+markers", line={"color": "#adb5bd", "width": 1})
        curve["marker"].update(
            color=[round(float(v), 2) for v in view.line_z], colorscale=VIRIDIS, cmin=-view.lim, cmax=view.lim
        )
        traces.append(curve)
        title = "Decoder manifold: the segment decoded into a curve"
    return figure(traces, title, lim, height=430)


def terms_chart(steps: np.ndarray, extra: dict[str, np.ndarray], height: int = 200, max_points: int = 200) -> dict:
    """The objective's terms per chunk against the step: reconstruction −log p(x|z), KL and
    −ELBO = their sum (VAE), reconstruction alone (AE), reconstruction and ‖z_e − e‖² (VQ-VAE)."""
    keep = thinned(len(steps), max_points)
    s = np.asarray(steps)[keep] if len(steps) else np.zeros(0, dtype=int)
    series = {}
    if "recon" in extra and len(extra["recon"]) == len(steps):
        series["reconstruction"] = np.asarray(extra["recon"], dtype=np.float64)[keep]
    if "kl" in extra and len(extra["kl"]) == len(steps):
        series["KL"] = np.asarray(extra["kl"], dtype=np.float64)[keep]
        series["−ELBO"] = series["reconstruction"] + series["KL"]
    if "vq" in extra and len(extra["vq"]) == len(steps):
        series["‖z_e − e‖²"] = np.asarray(extra["vq"], dtype=np.float64)[keep]
    names = list(series)
    # the y axis spans the run after its first 10% (early values, often far larger, are clipped at the top)
    late = np.concatenate([v[len(v) // 10 :] for v in series.values()]) if series else np.zeros(0)
    late = late[np.isfinite(late)]
    lo, hi = (float(late.min()), float(late.max())) if late.size else (0.0, 1.0)
    pad = 0.1 * (hi - lo) or 0.5
    return {
        "title": "Objective terms (nats per point)",
        "height": height,
        "data": {"values": series_rows(s, series, "term")},
        "mark": {"type": "line", "clip": True},
        "encoding": {
            "x": AXIS_STEP,
            "y": {
                "field": "value",
                "type": "quantitative",
                "title": "nats",
                "scale": {"domain": [lo - pad, hi + pad], "clamp": True, "nice": False},
            },
            "color": nominal_color("term", names, [TERM_COLORS[n] for n in names]),
            "tooltip": [
                {"field": "term", "type": "nominal"},
                {"field": "step", "type": "quantitative"},
                {"field": "value", "type": "quantitative", "format": ".4g"},
            ],
        },
    }


def kl_dims_chart(view: ElboView, height: int = 200) -> dict:
    """KL(q(z_j|x) || N(0, 1)) per latent dimension, active dimensions solid, inactive ones faded."""
    d = len(view.kl_dims)
    rows = [
        {"dimension": f"z{j + 1}", "KL": float(kl), "var_mean": float(v), "state": "active" if a else "collapsed"}
        for j, (kl, v, a) in enumerate(
            zip(view.kl_dims.tolist(), view.mean_variance.tolist(), view.active, strict=True)
        )
    ]
    subtitle = f"{view.n_active} of {d} active (Var_x of the posterior mean > 0.01)"
    top = max(0.1, 1.1 * float(view.kl_dims.max()))
    return {
        "title": {"text": "KL per latent dimension", "subtitle": subtitle},
        "height": height,
        "data": {"values": rows},
        "mark": "bar",
        "encoding": {
            "x": {"field": "dimension", "type": "nominal", "title": None, "axis": {"labelAngle": 0}},
            "y": {"field": "KL", "type": "quantitative", "title": "nats", "scale": {"domain": [0, top]}},
            "color": nominal_color("state", ["active", "collapsed"], [TERM_COLORS["KL"], "#ced4da"]),
            "tooltip": [
                {"field": "dimension", "type": "nominal"},
                {"field": "KL", "type": "quantitative", "format": ".3f"},
                {"field": "var_mean", "type": "quantitative", "title": "Var of mean", "format": ".3g"},
            ],
        },
    }


def usage_chart(usage: np.ndarray, height: int = 200) -> dict:
    """Fraction of the data encoded to each codebook vector, with the uniform level 1/K."""
    k = len(usage)
    rows = [{"code": j, "usage": float(u)} for j, u in enumerate(np.asarray(usage, dtype=np.float64).tolist())]
    dead = int((np.asarray(usage) == 0).sum())
    subtitle = f"{k - dead} of {k} codes in use" + (f", {dead} dead" if dead else "") + " · dashed: uniform 1/K"
    bars = {
        "data": {"values": rows},
        "mark": {"type": "bar", "color": CATEGORICAL[6]},
        "encoding": {
            "x": {
                "field": "code",
                "type": "ordinal",
                "title": "code k",
                "axis": {"labelAngle": 0, "labelOverlap": True},
            },
            "y": {"field": "usage", "type": "quantitative", "title": "fraction of the data"},
            "tooltip": [
                {"field": "code", "type": "ordinal"},
                {"field": "usage", "type": "quantitative", "format": ".3f"},
            ],
        },
    }
    rule = {
        "data": {"values": [{"uniform": 1 / max(1, k)}]},
        "mark": {"type": "rule", "strokeDash": [4, 4]},
        "encoding": {"y": {"field": "uniform", "type": "quantitative"}},
    }
    return {"title": {"text": "Codebook usage", "subtitle": subtitle}, "height": height, "layer": [bars, rule]}
