"""A vector field on the plane, learned and (where known) exact: arrows, p_t and the error map."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from explorer.maths.grid import make_grid

SUPPORT_FRACTION = 0.02  # the error map is drawn where p_t > 2% of its peak: the rim beyond carries no mass

Field = Callable[[Tensor], Tensor]


@dataclass(frozen=True)
class FieldView:
    """The learned field at one time t on an arrow grid, the exact one where known, and errors."""

    t: float
    points: np.ndarray  # [m, 2] arrow tails
    learned: np.ndarray  # [m, 2]
    exact: np.ndarray | None  # [m, 2]
    spacing: float
    axis: np.ndarray  # [k] fine grid for the heatmaps
    density: np.ndarray | None  # [k, k] exact p_t
    error: np.ndarray | None  # [k, k] |learned - exact| where p_t has mass, NaN elsewhere
    relative_error: float | None  # p_t-weighted relative L2 error


def error_caption(view: FieldView, t: float, name: str, missing: str) -> str:
    """A live field's caption: the p_t-weighted relative error of the learned field `name` at t, or `missing` (why
    there is no exact field)."""
    if view.relative_error is None:
        return missing
    return f"p_t-weighted relative error of {name} at t = {t:.2f}: {100 * view.relative_error:.1f}%"


def relative_l2(learned: Tensor, exact: Tensor) -> float:
    """sqrt(mean |learned - exact|^2 / mean |exact|^2) over points `[n, 2]`: sampled from p_t, this is
    the p_t-weighted relative L2 error of a field."""
    return float(((learned - exact).pow(2).sum(1).mean() / exact.pow(2).sum(1).mean().clamp_min(1e-12)).sqrt())


@torch.no_grad()
def field_view(
    learned: Field,
    exact: Field | None,
    log_density: Field | None,
    t: float,
    lim: float = 6.0,
    arrows: int = 13,
    fine: int = 40,
    relative_error: Callable[[], float | None] | None = None,
    device: torch.device | str = "cpu",
) -> FieldView:
    """Evaluate fields `[n, 2] -> [n, 2]` and log p_t `[n, 2] -> [n]` on the arrow and heatmap grids."""
    coarse = make_grid(lim, arrows, device)
    arrows_learned = learned(coarse.points).float().cpu().numpy()
    arrows_exact = density = error = rel = None
    grid = make_grid(lim, fine, device)
    if exact is not None and log_density is not None:
        arrows_exact = exact(coarse.points).float().cpu().numpy()
        diff = learned(grid.points) - exact(grid.points)
        density = grid.as_image(log_density(grid.points).exp())
        # Only where p_t carries mass: elsewhere no training point ever lands and any field is "right".
        error = np.where(density > SUPPORT_FRACTION * density.max(), grid.as_image(diff.norm(dim=1)), np.nan)
        rel = relative_error() if relative_error is not None else None
    return FieldView(
        t, coarse.points.cpu().numpy(), arrows_learned, arrows_exact, coarse.spacing, grid.axis, density, error, rel
    )
