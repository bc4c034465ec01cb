"""What the Densities page shows, computed from a `Density` as numpy arrays.

`density_view` gives labelled samples, the exact density p(x) = exp(log p(x)) on a fine grid
where `has_log_prob` (the checkerboard's is piecewise constant: 1/32 on the black cells, 0 off
them) and the exact score grad log p(x) on a coarse arrow grid where `has_score`. `DEFINITIONS`
holds the one-sentence definition of each canonical density (docs/architecture.md, "Toy densities and quality").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from explorer.data.densities import DENSITIES, Density
from explorer.maths.grid import make_grid

VIEW_LIM = 6.0

DEFINITIONS: dict[str, str] = {
    "gaussian": "The standard Gaussian $\\mathcal{N}(0, I)$; one class.",
    "eight_gaussians": (
        "An equal-weight mixture of 8 isotropic Gaussians with means "
        "$4(\\cos\\frac{k\\pi}{4}, \\sin\\frac{k\\pi}{4})$, $k = 0, \\dots, 7$, "
        "and std 0.3; the label is the component index k."
    ),
    "two_gaussians": (
        "An equal mixture of two Gaussians with means $(-3, 0)$ and $(3, 0)$ and std 0.5; the label is the component."
    ),
    "checkerboard": (
        "Uniform on the 8 cells of side 2 in $[-4, 4]^2$ where "
        "$\\lfloor x/2 \\rfloor + \\lfloor y/2 \\rfloor$ is even: "
        "density $1/32$ there and 0 elsewhere, so the score is 0 inside the cells and undefined at their edges."
    ),
    "two_moons": (
        "$\\theta \\sim U[0, \\pi]$; upper moon $(\\cos\\theta, \\sin\\theta)$, lower moon "
        "$(1 - \\cos\\theta, \\frac12 - \\sin\\theta)$ with equal mass, plus $\\mathcal{N}(0, 0.1^2 I)$ noise, "
        "then shifted by $(-\\frac12, -\\frac14)$ and scaled by 2; the label is the moon."
    ),
    "rings": (
        "Two concentric circles of radii 2 and 4, mass proportional to circumference, radial noise std 0.15; "
        "the label is the ring."
    ),
    "spirals": (
        "Two interleaved Archimedean spirals, radius from 0.5 to 4.5 over 1.5 turns, noise std 0.15; "
        "the label is the arm."
    ),
}


def definition(density: Density) -> str:
    """A one-sentence definition (Markdown with $...$ maths) of a canonical or uploaded density."""
    if density.name in DEFINITIONS:
        return DEFINITIONS[density.name]
    note = getattr(density, "note", None)
    n = density.points.shape[0] if hasattr(density, "points") else None
    source = note or (f"{n:,} uploaded points." if n else "A user-supplied density.")
    return f"Your own points: {source} Sampling draws rows uniformly with replacement (the empirical distribution)."


def unknown_note(density: Density) -> str | None:
    """What the page cannot draw exactly for `density`, in a sentence, or None if it draws both."""
    if density.has_log_prob and density.has_score:
        return None
    if density.has_log_prob:
        return (
            "Exact score: no closed form to draw. The density is piecewise constant, so grad log p is 0 inside "
            "the cells and undefined on their edges; score-based models learn a smoothed version of it."
        )
    if hasattr(density, "points"):
        return (
            "Exact density and score: no closed form. Your points define an empirical distribution (point masses "
            "at the rows of the file); the training pages judge models on it by energy distance to fresh samples."
        )
    return (
        "Exact density and score: no closed form. This density is defined by how it is sampled; the training "
        "pages judge models on it by energy distance to fresh samples."
    )


def _np(x: torch.Tensor) -> np.ndarray:
    return x.detach().float().cpu().numpy()


@dataclass(frozen=True)
class DensityView:
    """Arrays for one density on [-lim, lim]^2.

    samples `[n, 2]`, labels `[n]` (ints in [0, len(class_names))); axis `[k]` and density
    `[k, k]` (indexed [y, x]) where the density is exact, else None; arrow_points `[m, 2]` and
    score `[m, 2]` (grad log p at arrow_points) where the score is exact, else None.
    """

    name: str
    title: str
    samples: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    lim: float
    axis: np.ndarray | None = None
    density: np.ndarray | None = None
    arrow_points: np.ndarray | None = None
    score: np.ndarray | None = None
    spacing: float = 1.0

    @property
    def labelled(self) -> bool:
        return len(self.class_names) > 1


def view_limit(samples: np.ndarray, lim: float = VIEW_LIM) -> float:
    """`lim`, or more when over 1% of the samples lie outside [-lim, lim]^2 (unrescaled uploads)."""
    if len(samples) == 0:
        return lim
    extent = float(np.percentile(np.abs(samples).max(axis=1), 99))
    return lim if extent <= lim else float(math.ceil(extent * 1.1))


@torch.no_grad()
def density_view(
    density: Density, n: int = 1500, seed: int = 0, lim: float = VIEW_LIM, fine: int = 121, arrows: int = 21
) -> DensityView:
    """Samples `[n, 2]` from `density` (seeded), exact p(x) on a `fine` x `fine` grid and the exact
    score on an `arrows` x `arrows` grid, where those are known."""
    generator = torch.Generator().manual_seed(int(seed))
    x, y = density.sample_labelled(int(n), generator)
    samples = _np(x)
    labels = y.detach().cpu().numpy().astype(np.int64)
    lim = view_limit(samples, lim)
    axis = image = points = score = None
    spacing = 1.0
    if density.has_log_prob:
        grid = make_grid(lim, fine)
        axis, image = grid.axis, grid.as_image(torch.exp(density.log_prob(grid.points)))
    if density.has_score:
        coarse = make_grid(lim, arrows)
        points, score, spacing = _np(coarse.points), _np(density.score(coarse.points)), coarse.spacing
    return DensityView(
        density.name,
        density.title,
        samples,
        labels,
        tuple(density.class_names),
        lim,
        axis,
        image,
        points,
        score,
        spacing,
    )


def gallery(n: int = 500, seed: int = 0) -> list[DensityView]:
    """One small labelled sample (no fields) per canonical density, in registry order."""
    views = []
    for factory in DENSITIES.values():
        density = factory()
        generator = torch.Generator().manual_seed(seed)
        x, y = density.sample_labelled(n, generator)
        views.append(
            DensityView(
                density.name, density.title, _np(x), y.cpu().numpy().astype(np.int64), density.class_names, VIEW_LIM
            )
        )
    return views
