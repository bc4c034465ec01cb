"""Regular grids over the plane, as torch points and numpy axes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Grid:
    """An n x n grid over [-lim, lim]^2: `points` `[n * n, 2]` in row-major (y-major) order."""

    axis: np.ndarray
    points: torch.Tensor
    lim: float

    @property
    def n(self) -> int:
        return len(self.axis)

    @property
    def spacing(self) -> float:
        return float(self.axis[1] - self.axis[0]) if self.n > 1 else 1.0

    def as_image(self, values: torch.Tensor | np.ndarray) -> np.ndarray:
        """Per-point values `[n * n]` -> `[n, n]` image indexed [y, x]."""
        values = values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else values
        return np.asarray(values, dtype=np.float64).reshape(self.n, self.n)


def make_grid(lim: float, n: int, device: torch.device | str = "cpu") -> Grid:
    """Points in torch's default dtype (float32 in the app, float64 in the tests that compare exactly)."""
    axis = np.linspace(-lim, lim, n)
    a = torch.tensor(axis, dtype=torch.get_default_dtype())
    yy, xx = torch.meshgrid(a, a, indexing="ij")
    return Grid(axis, torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1).to(device), lim)


def density_image(log_prob, lim: float = 6.0, n: int = 80) -> tuple[np.ndarray, np.ndarray]:
    """(axis, exp(log p) image `[n, n]`) for any `log_prob(points [m, 2]) -> [m]`."""
    grid = make_grid(lim, n)
    with torch.no_grad():
        return grid.axis, grid.as_image(torch.exp(log_prob(grid.points)))
