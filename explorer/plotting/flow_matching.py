"""Figures for the Flow matching page, from the view dataclasses of explorer.views.flow_matching
(read by attribute only, so this module imports no torch)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import altair as alt
import numpy as np
import pandas as pd

from explorer.plotting import fields
from explorer.plotting.figures import (
    PALETTE,
    animated,
    figure,
    paths,
    scatter,
    segments,
)

if TYPE_CHECKING:
    from explorer.views.fields import FieldView
    from explorer.views.flow_matching import CouplingView, FlowAnimation, IntegratorView, PathsView


def samples_figure(
    model: np.ndarray, data: np.ndarray, title: str = "Samples", lim: float = 6.0, sampler: str = "ODE"
) -> dict:
    """Model samples (legend: which sampler carried them from t = 0) over data samples."""
    return fields.samples_figure(model, data, title, f"model ({sampler} from t = 0)", lim)


def field_figure(view: FieldView, show: str = "error", lim: float = 6.0) -> dict:
    """The velocity field: learned v_theta, exact u_t on top where known."""
    return fields.field_figure(view, show, "learned v_θ", "exact u_t", f"Velocity field at t = {view.t:.2f}", lim)


def flow_animation_figure(anim: FlowAnimation, lim: float = 6.0) -> dict:
    base = [
        scatter(anim.truth[0], "true p_t (interpolated pairs)", PALETTE["data"], 3, 0.3),
        scatter(anim.model[0], "model particles (ODE)", PALETTE["model"], 4, 0.75),
    ]
    frames = [
        [
            scatter(anim.truth[i], "true p_t (interpolated pairs)", PALETTE["data"], 3, 0.3),
            scatter(anim.model[i], "model particles (ODE)", PALETTE["model"], 4, 0.75),
        ]
        for i in range(len(anim.times))
    ]
    return animated(base, frames, [f"{t:.2f}" for t in anim.times], "From noise (t = 0) to data (t = 1)", lim)


def _journeys(traj: np.ndarray, line: str, color: str, end: str, end_color: str, title: str, lim: float) -> dict:
    """Trajectories `[T, n, 2]` with their start and end points marked."""
    return figure(
        [
            paths(traj, line, color, 1.1, 0.7),
            scatter(traj[0], "x0", PALETTE["source"], 5, 0.9),
            scatter(traj[-1], end, end_color, 5, 0.9),
        ],
        title,
        lim,
    )


def paths_figures(view: PathsView, lim: float = 6.0) -> tuple[dict, dict]:
    """Conditional paths (straight, crossing) beside the marginal ODE trajectories (curved, never crossing)."""
    return (
        _journeys(
            view.conditional,
            "x_t = t x1 + (1 − t) x0",
            PALETTE["pair"],
            "x1",
            PALETTE["data"],
            "Conditional paths: the training targets",
            lim,
        ),
        _journeys(
            view.marginal,
            "ODE trajectory",
            PALETTE["path"],
            "x(1)",
            PALETTE["model"],
            "Marginal flow: what the model follows",
            lim,
        ),
    )


def integrator_chart(view: IntegratorView) -> alt.Chart:
    rows = [
        {"integrator": name, "steps": k, "network evaluations": e, "error": err}
        for name in view.errors
        for k, e, err in zip(view.step_counts, view.evals[name], view.errors[name], strict=True)
    ]
    frame = pd.DataFrame(rows)
    return (
        alt.Chart(frame, title="Discretisation error vs cost", height=260)
        .mark_line(point=True)
        .encode(
            x=alt.X("network evaluations:Q", scale=alt.Scale(type="log")),
            y=alt.Y("error:Q", title="mean |x_N − x_ref|", scale=alt.Scale(type="log")),
            color="integrator:N",
            tooltip=["integrator", "steps", "network evaluations", "error"],
        )
    )


def coupling_figures(view: CouplingView, lim: float = 6.0) -> tuple[dict, dict]:
    def pairs(x1: np.ndarray, title: str) -> dict:
        return figure(
            [
                segments(view.x0, x1, "pairs", PALETTE["pair"], 1.0, 0.8),
                scatter(view.x0, "x0 (source)", PALETTE["source"], 5, 0.9),
                scatter(x1, "x1 (target)", PALETTE["data"], 5, 0.9),
            ],
            title,
            lim,
        )

    return (
        pairs(view.x1_independent, f"Independent: E|x1 − x0|² = {view.cost_independent:.1f}"),
        pairs(view.x1_ot, f"Minibatch OT: E|x1 − x0|² = {view.cost_ot:.1f}"),
    )
