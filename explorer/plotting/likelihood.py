"""Densities a model defines, drawn beside the target's on one colour scale so that equal colours mean equal
densities (Normalizing flows, the continuous normalizing flow tabs of Flow matching and Diffusion, the VAE's
likelihood tab), and the continuity equation's two sides. Reads views by attribute only (no torch import)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from explorer.plotting.figures import DENSITY_SCALE, DIVERGING_SCALE, PALETTE, VIRIDIS, figure, heatmap, scatter

if TYPE_CHECKING:
    from explorer.views.cnf import DensityView
    from explorer.views.vae_likelihood import EstimatesView

ESTIMATOR_COLORS = {"naive": "#868e96", "importance": "#7048e8", "reference": "#2b8a3e", "elbo": "#e8590c"}


def density_top(*images: np.ndarray | None) -> float:
    """One colour scale's top for densities drawn side by side: the largest 99.5th percentile of their finite
    values (a few hot pixels do not wash the rest out), so that equal colours mean equal densities."""
    tops = [float(np.percentile(f, 99.5)) for im in images if im is not None and (f := im[np.isfinite(im)]).size]
    return max(tops, default=0.0) or 1.0


def density_figure(
    axis: np.ndarray,
    image: np.ndarray,
    title: str,
    samples: np.ndarray | None = None,
    samples_name: str = "samples",
    lim: float = 6.0,
    height: int = 400,
    top: float | None = None,
    smooth: bool = False,
) -> dict:
    """A density `[k, k]` as a heatmap from white = 0 to `top` (default: `density_top(image)`; pass the same
    `top` to figures shown side by side), optionally under samples `[n, 2]`."""
    traces = [heatmap(axis, axis, image, "density", DENSITY_SCALE, 0.0, top or density_top(image), "p(x)")]
    if smooth:  # a smooth density on a coarse grid: interpolate between its points (not for sharp cell edges)
        traces[0]["zsmooth"] = "best"
    if samples is not None and len(samples):
        traces.append(scatter(samples, samples_name, PALETTE["model"], 3, 0.5))
    return figure(traces, title, lim, height=height)


def log_density_top(*log_images: np.ndarray | None) -> float:
    """One log-scale top for log-densities drawn side by side: the largest finite value among them."""
    tops = [float(f.max()) for im in log_images if im is not None and (f := im[np.isfinite(im)]).size]
    return max(tops, default=0.0)


def log_density_figure(
    axis: np.ndarray, log_image: np.ndarray, title: str, floor: float = -12.0, top: float | None = None
) -> dict:
    """log p `[k, k]` on a colour scale from `top + floor` to `top` (default: its own maximum; pass the same `top`
    to figures shown side by side)."""
    top = log_density_top(log_image) if top is None else top
    trace = heatmap(axis, axis, log_image, "log p", VIRIDIS, top + floor, top, "log p")
    return figure([trace], title, 6.0, height=400)


def pair_figures(
    axis: np.ndarray, learned: np.ndarray, exact: np.ndarray | None, titles: tuple[str, str], height: int = 360
) -> list[dict]:
    """The learned density and (where known) the exact one, on one colour scale."""
    top = density_top(learned, exact)
    figures = [density_figure(axis, learned, titles[0], top=top, height=height, smooth=True)]
    if exact is not None:
        figures.append(density_figure(axis, exact, titles[1], top=top, height=height, smooth=True))
    return figures


def rate_figures(axis: np.ndarray, dp_dt: np.ndarray, minus_div_flux: np.ndarray, t: float) -> list[dict]:
    """The continuity equation's two sides at t on one symmetric scale (red: density arriving, blue: leaving)."""
    top = float(np.percentile(np.abs(np.concatenate([dp_dt.ravel(), minus_div_flux.ravel()])), 99.5)) or 1.0
    titles = (f"∂p_t/∂t at t = {t:.2f}", f"−∇·(p_t u_t) at t = {t:.2f}")
    return [
        figure(
            [{**heatmap(axis, axis, image, name, DIVERGING_SCALE, -top, top, "rate"), "zsmooth": "best"}],
            name,
            height=360,
        )
        for image, name in zip((dp_dt, minus_div_flux), titles, strict=True)
    ]


def cnf_figures(view: DensityView, time_name: str) -> dict[str, list[dict]]:
    """{"density": model vs target, "at_t": model p_t vs exact p_t, "continuity": the equation's two sides}."""
    out = {
        "density": pair_figures(view.axis, view.learned, view.target, ("The model's p_θ(x)", "Target p(x)")),
        "at_t": pair_figures(
            view.axis, view.learned_t, view.exact_t, (f"Model's p_t, {time_name} = {view.t:.2f}", "Exact p_t")
        ),
    }
    if view.dp_dt is not None and view.minus_div_flux is not None:
        out["continuity"] = rate_figures(view.axis, view.dp_dt, view.minus_div_flux, view.t)
    return out


def _hline(y: float, name: str, color: str, dash: str, x: tuple[float, float]) -> dict:
    return {
        "type": "scatter",
        "mode": "lines",
        "x": list(x),
        "y": [y, y],
        "name": name,
        "line": {"color": color, "dash": dash, "width": 2},
        "hoverinfo": "name+y",
    }


def _plain_layout(title: str, x_title: str, y_title: str, height: int = 360, **xaxis) -> dict:
    return {
        "title": {"text": title, "x": 0.02, "font": {"size": 14}},
        "xaxis": {"title": {"text": x_title}, **xaxis},
        "yaxis": {"title": {"text": y_title}},
        "height": height,
        "margin": {"l": 50, "r": 10, "t": 36, "b": 40},
        "legend": {"orientation": "h", "y": -0.25, "x": 0},
        "plot_bgcolor": "white",
        "uirevision": title,
    }


def estimates_figure(view: EstimatesView) -> dict:
    """Each estimator's repeated estimates of log p(x) as a jittered strip, against the quadrature reference, the
    closed form (linear decoder), the ELBO and IWAE_K (the importance estimates' mean)."""
    rng = np.random.default_rng(0)
    traces = []
    for position, (key, values, name) in enumerate(
        (("naive", view.naive, "naive Monte Carlo (prior)"), ("importance", view.importance, "importance sampling (q)"))
    ):
        finite = values[np.isfinite(values)]
        jitter = position + rng.uniform(-0.15, 0.15, len(finite))
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": jitter.tolist(),
                "y": finite.tolist(),
                "name": name,
                "marker": {"color": ESTIMATOR_COLORS[key], "size": 5, "opacity": 0.5},
                "hoverinfo": "y",
            }
        )
    span = (-0.5, 1.5)
    traces.append(_hline(view.reference, "log p_θ(x), quadrature", ESTIMATOR_COLORS["reference"], "solid", span))
    if view.closed_form is not None:
        traces.append(_hline(view.closed_form, "closed form (PPCA)", "#000000", "dot", span))
    traces.append(_hline(view.elbo, "ELBO", ESTIMATOR_COLORS["elbo"], "dash", span))
    traces.append(
        _hline(float(np.mean(view.importance)), f"IWAE_{view.k}", ESTIMATOR_COLORS["importance"], "dash", span)
    )
    low = min(view.elbo, float(np.percentile(view.importance, 1)), view.reference) - 0.5
    high = max(float(np.max(view.importance)), view.reference) + 0.3
    layout = _plain_layout(
        f"{len(view.naive)} estimates of log p_θ(x) with K = {view.k:,}",
        "",
        "nats",
        tickvals=[0, 1],
        ticktext=["naive MC", "importance"],
        range=list(span),
    )
    layout["yaxis"]["range"] = [low, high]  # naive estimates far below are cut off (their mean is in the caption)
    return {"data": traces, "layout": layout}


def iwae_figure(view: EstimatesView) -> dict:
    """IWAE_K against K (log axis): from the ELBO at K = 1 up towards log p_θ(x)."""
    ks = list(view.iwae_ks)
    traces = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": ks,
            "y": view.iwae.tolist(),
            "name": "IWAE_K",
            "line": {"color": ESTIMATOR_COLORS["importance"]},
        },
        _hline(view.reference, "log p_θ(x), quadrature", ESTIMATOR_COLORS["reference"], "solid", (ks[0], ks[-1])),
    ]
    return {"data": traces, "layout": _plain_layout("The IWAE bound rises with K", "K", "nats", type="log")}


def vae_density_figures(
    axis: np.ndarray, learned: np.ndarray, target: np.ndarray | None, closed_form: np.ndarray | None
) -> list[dict]:
    """p_θ(x) by quadrature, the target, and (linear decoder) the PPCA closed form, on one colour scale."""
    top = density_top(learned, target, closed_form)
    images = [(learned, "The VAE's p_θ(x) (quadrature)"), (closed_form, "Closed form (PPCA)"), (target, "Target p(x)")]
    return [
        density_figure(axis, image, title, top=top, height=340, smooth=True)
        for image, title in images
        if image is not None
    ]
