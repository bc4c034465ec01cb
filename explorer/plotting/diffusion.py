"""Figures for the Diffusion page, from explorer.views.diffusion dataclasses (no torch import)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import altair as alt
import numpy as np
import pandas as pd

from explorer.plotting import fields
from explorer.plotting.figures import PALETTE, animated, animated_panels, arrow_scale, figure, quiver, scatter, segments

if TYPE_CHECKING:
    from explorer.views.diffusion import ForwardView, SamplersView, TweedieView
    from explorer.views.fields import FieldView

SAMPLER_TITLES = {"ddpm": "DDPM ancestral", "ddim": "DDIM", "sde": "reverse SDE (EM)", "ode": "PF-ODE (Heun)"}


def samples_figure(model: np.ndarray, data: np.ndarray, title: str) -> dict:
    return fields.samples_figure(model, data, title, "model (reverse process from noise)")


def score_figure(view: FieldView, show: str = "error") -> dict:
    title = f"Score ∇log p_t at t = {view.t:.2f}"
    return fields.field_figure(view, show, "learned s_θ", "exact ∇log p_t", title)


def forward_figure(view: ForwardView) -> dict:
    name = "x_t = α_t x₀ + σ_t ε"
    frames = [[scatter(view.points[i], name, PALETTE["data"], 4, 0.7)] for i in range(len(view.times))]
    labels = [f"{t:.2f}" for t in view.times]
    return animated(
        [scatter(view.points[0], name, PALETTE["data"], 4, 0.7)],
        frames,
        labels,
        "Forward noising: data (t = 0) dissolves into N(0, I) (t = 1)",
        slider_prefix="t = ",
    )


def samplers_figure(view: SamplersView) -> dict:
    names = list(view.frames)
    frames = [
        [scatter(view.frames[name][i], name, PALETTE["model"], 3, 0.7) for name in names]
        for i in range(len(view.times))
    ]
    titles = [f"{SAMPLER_TITLES.get(n, n)} · {view.evals[n]} evals" for n in names]
    return animated_panels(titles, frames, [f"{100 * f:.0f}%" for f in view.times], slider_prefix="progress ")


def samplers_table(view: SamplersView) -> pd.DataFrame:
    rows = []
    for name, metrics in view.quality.items():
        rows.append(
            {
                "sampler": SAMPLER_TITLES.get(name, name),
                "network evaluations": view.evals[name],
                **{k: round(v, 3) for k, v in metrics.items()},
            }
        )
    return pd.DataFrame(rows)


def tweedie_figure(view: TweedieView) -> dict:
    traces = [
        segments(view.noisy, view.learned, "x_t → learned E[x₀|x_t]", PALETTE["learned"], 1.0, 0.6),
        scatter(view.noisy, "noisy x_t", PALETTE["source"], 4, 0.8),
        scatter(view.learned, "learned E[x₀|x_t]", PALETTE["learned"], 5, 0.9),
    ]
    if view.exact is not None:
        traces.append(scatter(view.exact, "exact E[x₀|x_t] (Tweedie)", PALETTE["exact"], 5, 0.9))
    return figure(traces, f"Denoising at t = {view.t:.2f}: x₀ estimates from ε, score or x₀ alike")


def sharpening_figure(views: list[FieldView]) -> dict:
    """The learned score field animated over noise levels, high noise first."""
    # each frame scaled to its own field: the magnitudes span orders of magnitude from t = 1 to t = 0.03
    name = "learned s_θ (scaled per frame)"
    frames = [
        [quiver(v.points, v.learned, name, PALETTE["learned"], arrow_scale(v.learned, v.spacing), width=1.4)]
        for v in views
    ]
    return animated(
        frames[0],
        frames,
        [f"{v.t:.2f}" for v in views],
        "The learned score sharpens as the noise level t drops",
        slider_prefix="t = ",
        duration_ms=200,
    )


def noise_chart(times: np.ndarray, alpha: np.ndarray, sigma: np.ndarray) -> alt.Chart:
    frame = pd.DataFrame(
        {
            "t": np.concatenate([times, times]),
            "value": np.concatenate([alpha, sigma]),
            "coefficient": ["α_t (signal)"] * len(times) + ["σ_t (noise)"] * len(times),
        }
    )
    return (
        alt.Chart(frame, title="x_t = α_t x₀ + σ_t ε", height=200)
        .mark_line()
        .encode(x="t:Q", y=alt.Y("value:Q", title=""), color="coefficient:N")
    )
