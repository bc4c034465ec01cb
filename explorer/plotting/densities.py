"""Figures for the Densities page, from `explorer.views.densities.DensityView` (read by attribute
only, so this module imports no torch): labelled samples, the exact density heatmap and the exact
score arrows where they are known, and small gallery thumbnails."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from explorer.plotting.figures import CATEGORICAL, DENSITY_SCALE, PALETTE, arrow_scale, figure, heatmap, quiver, scatter

if TYPE_CHECKING:
    from explorer.views.densities import DensityView

SCORE_COLOR = "#e8590c"


def class_colors(n_classes: int) -> list[str]:
    """One colour per class (the data colour for an unlabelled density)."""
    if n_classes <= 1:
        return [PALETTE["data"]]
    return [CATEGORICAL[k % len(CATEGORICAL)] for k in range(n_classes)]


def sample_traces(
    samples: np.ndarray,
    labels: np.ndarray,
    class_names: tuple[str, ...],
    size: float = 4,
    opacity: float = 0.6,
    showlegend: bool = True,
    by_label: bool = True,
) -> list[dict]:
    """Samples `[n, 2]` as one trace per class (`labels` `[n]`), or one trace when unlabelled."""
    samples, labels = np.asarray(samples), np.asarray(labels)
    if not by_label or len(class_names) <= 1:
        return [scatter(samples, "samples", PALETTE["data"], size, opacity, showlegend)]
    colors = class_colors(len(class_names))
    return [
        scatter(samples[labels == k], name, colors[k], size, opacity, showlegend)
        for k, name in enumerate(class_names)
        if (labels == k).any()
    ]


def samples_figure(view: DensityView, by_label: bool = True, height: int = 460) -> dict:
    """The samples of one density, coloured by label where it has classes."""
    n = len(view.samples)
    coloured = by_label and view.labelled
    title = f"{n:,} samples" + (", coloured by label" if coloured else "")
    traces = sample_traces(view.samples, view.labels, view.class_names, 4, 0.6, coloured, by_label)
    return figure(traces, title, view.lim, height, legend=coloured)


def exact_figure(view: DensityView, arrows: bool = True, height: int = 460) -> dict | None:
    """Exact p(x) as a heatmap with the exact score arrows on top, whichever of them is known;
    None when neither is (the page says "no closed form" instead)."""
    traces = []
    if view.density is not None:
        zmax = float(np.nanmax(view.density)) if np.isfinite(view.density).any() else 1.0
        traces.append(
            heatmap(view.axis, view.axis, view.density, "p(x)", DENSITY_SCALE, 0.0, zmax or 1.0, colorbar_title="p(x)")
        )
    if arrows and view.score is not None:
        scale = arrow_scale(view.score, view.spacing)
        traces.append(quiver(view.arrow_points, view.score, "score ∇ log p(x)", SCORE_COLOR, scale, width=1.3))
    if not traces:
        return None
    parts = (["density p(x)"] if view.density is not None else []) + (
        ["score ∇ log p(x)"] if arrows and view.score is not None else []
    )
    return figure(traces, "Exact " + " and ".join(parts), view.lim, height)


def gallery_figure(view: DensityView, height: int = 160) -> dict:
    """A small untitled thumbnail of a density's samples: coloured by label, no legend, no ticks."""
    traces = sample_traces(view.samples, view.labels, view.class_names, 2.5, 0.6, showlegend=False)
    fig = figure(traces, "", view.lim, height, legend=False)
    layout = fig["layout"]
    for axis in ("xaxis", "yaxis"):
        layout[axis].update({"showticklabels": False, "ticks": "", "fixedrange": True})
    layout["margin"] = {"l": 2, "r": 2, "t": 2, "b": 2}
    layout["uirevision"] = view.name
    return fig
