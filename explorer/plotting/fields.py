"""Figures shared by the families: model samples over data, and a learned field with its exact
counterpart (from `explorer.views.fields.FieldView`, read by attribute: no torch import here)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from explorer.plotting.figures import DENSITY_SCALE, ERROR_SCALE, PALETTE, arrow_scale, figure, heatmap, quiver, scatter

if TYPE_CHECKING:
    from explorer.views.fields import FieldView


def samples_figure(
    model: np.ndarray, data: np.ndarray, title: str = "Samples", model_name: str = "model", lim: float = 6.0
) -> dict:
    """Model samples `[n, 2]` (orange) over data samples `[m, 2]` (blue)."""
    return figure(
        [scatter(data, "data", PALETTE["data"], 3, 0.35), scatter(model, model_name, PALETTE["model"], 3, 0.6)],
        title,
        lim,
    )


def field_figure(view: FieldView, show: str, learned_name: str, exact_name: str, title: str, lim: float = 6.0) -> dict:
    """Learned arrows, exact arrows on top where known; background: "error" (|learned - exact| on the
    support of p_t), "density" (p_t) or nothing."""
    traces = []
    if show == "error" and view.error is not None:
        top = float(np.nanpercentile(view.error, 99)) if np.isfinite(view.error).any() else 1.0
        traces.append(
            heatmap(
                view.axis,
                view.axis,
                view.error,
                f"|{learned_name} − {exact_name}|",
                ERROR_SCALE,
                zmin=0,
                zmax=top or 1.0,
                colorbar_title="error",
                opacity=0.75,
            )
        )
    elif show == "density" and view.density is not None:
        traces.append(heatmap(view.axis, view.axis, view.density, "p_t", DENSITY_SCALE, zmin=0, colorbar_title="p_t"))
    scale = arrow_scale(view.exact if view.exact is not None else view.learned, view.spacing)
    traces.append(quiver(view.points, view.learned, learned_name, PALETTE["learned"], scale, width=1.6))
    if view.exact is not None:
        traces.append(quiver(view.points, view.exact, exact_name, PALETTE["exact"], scale, width=1.0))
    return figure(traces, title, lim)
