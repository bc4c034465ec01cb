"""Small declarative charts (Altair): loss curve and quality curve with its perfect-sampler line."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd


def _downsample(x: np.ndarray, y: np.ndarray, max_points: int = 200) -> tuple[np.ndarray, np.ndarray]:
    if len(x) <= max_points:
        return x, y
    idx = np.linspace(0, len(x) - 1, max_points).round().astype(int)
    return x[idx], y[idx]


def loss_chart(steps: np.ndarray, loss: np.ndarray, height: int = 180, title: str = "Training loss") -> alt.Chart:
    """Loss per chunk against step, log-scaled when it spans more than a decade."""
    steps, loss = _downsample(np.asarray(steps), np.asarray(loss))
    frame = pd.DataFrame({"step": steps, "loss": loss}).replace([np.inf, -np.inf], np.nan).dropna()
    positive = len(frame) and (frame["loss"] > 0).all()
    spread = positive and frame["loss"].max() / max(frame["loss"].min(), 1e-12) > 10
    scale = alt.Scale(type="log") if spread else alt.Scale(zero=False)
    return (
        alt.Chart(frame, title=title, height=height)
        .mark_line(color="#4C6EF5")
        .encode(
            x=alt.X("step:Q", title="step", axis=alt.Axis(format=",d")), y=alt.Y("loss:Q", title="loss", scale=scale)
        )
    )


def quality_chart(steps: np.ndarray, values: np.ndarray, perfect: float, name: str, height: int = 180) -> alt.Chart:
    """A quality metric against step with a dashed rule where a perfect sampler would score.

    The y axis spans the recent half of the run (and the perfect line); earlier values, often orders
    of magnitude larger, are clipped at the top so that convergence stays readable.
    """
    frame = pd.DataFrame({"step": np.asarray(steps), name: np.asarray(values)}).replace([np.inf, -np.inf], np.nan)
    frame = frame.dropna()
    recent = frame[name].to_numpy()[len(frame) // 2 :]
    top = max(3 * abs(perfect), 1.2 * float(recent.max())) if len(recent) else 1.0
    bottom = min(0.0, 1.2 * float(recent.min())) if len(recent) else 0.0
    scale = alt.Scale(domain=[bottom, top or 1.0], clamp=True, nice=False)
    line = (
        alt.Chart(frame, height=height)
        .mark_line(point=True, color="#e8590c", clip=True)
        .encode(
            x=alt.X("step:Q", title="step", axis=alt.Axis(format=",d")),
            y=alt.Y(f"{name}:Q", title=name, scale=scale),
            tooltip=["step", alt.Tooltip(f"{name}:Q", format=".3g")],
        )
    )
    rule = (
        alt.Chart(pd.DataFrame({"perfect": [perfect]}))
        .mark_rule(color="#2b8a3e", strokeDash=[4, 4])
        .encode(y="perfect:Q", tooltip=[alt.Tooltip("perfect:Q", title="a perfect sampler scores up to", format=".3g")])
    )
    return (line + rule).properties(title=name)
