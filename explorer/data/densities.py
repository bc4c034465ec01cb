"""The canonical 2D toy densities (docs/architecture.md) behind one registry.

Every density samples `x: [n, 2]` with labels `y: [n]` (a component, moon, ring, arm or cell
index) from a caller's `torch.Generator`, on that generator's device. Where the table in
docs/architecture.md says the density is exact, `log_prob(x) -> [n]` is exact too, and Gaussian mixtures
also give the exact score grad_x log p(x) -> [n, 2] and expose their components.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor


class Density:
    """A 2D distribution the explorer can train on. Subclasses implement `sample_labelled`."""

    name: str = "density"
    title: str = "Density"
    n_classes: int = 1
    class_names: tuple[str, ...] = ("all",)
    has_log_prob: bool = False
    has_score: bool = False
    box: float | None = None  # b where every sample lies in [-b, b]^2 (a bounded support), else None

    def sample_labelled(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """Draw `n` points `[n, 2]` and their labels `[n]` (int64)."""
        raise NotImplementedError

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        """Draw `n` points, `[n, 2]` float32, on the generator's device."""
        return self.sample_labelled(n, generator)[0]

    def log_prob(self, x: Tensor) -> Tensor:
        """Exact log-density `[n]` of points `x: [n, 2]` (only where `has_log_prob`)."""
        raise NotImplementedError(f"{self.title} has no closed-form density")

    def score(self, x: Tensor) -> Tensor:
        """Exact score grad_x log p(x), `[n, 2]` (only where `has_score`)."""
        raise NotImplementedError(f"{self.title} has no closed-form score")


def _uniform(n: int, generator: torch.Generator) -> Tensor:
    return torch.rand(n, generator=generator, device=generator.device)


def _normal(shape: tuple[int, ...], generator: torch.Generator) -> Tensor:
    return torch.randn(shape, generator=generator, device=generator.device)


class GaussianMixture(Density):
    """p(x) = sum_k w_k N(x; m_k, s_k^2 I) with means `[K, 2]`, stds `[K]`, weights `[K]`."""

    has_log_prob = True
    has_score = True

    def __init__(
        self, means: Tensor, stds: Tensor, weights: Tensor, *, name: str = "mixture", title: str = "Gaussian mixture"
    ) -> None:
        self.means = torch.as_tensor(means, dtype=torch.float32).reshape(-1, 2)
        k = self.means.shape[0]
        self.stds = torch.as_tensor(stds, dtype=torch.float32).reshape(-1).expand(k).clone()
        weights = torch.as_tensor(weights, dtype=torch.float32).reshape(-1).expand(k)
        self.weights = weights / weights.sum()
        self.name, self.title = name, title
        self.n_classes = k
        self.class_names = tuple(f"component {i}" for i in range(k))

    def _params(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        return (self.means.to(x.device, x.dtype), self.stds.to(x.device, x.dtype), self.weights.to(x.device, x.dtype))

    def sample_labelled(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        dev = generator.device
        labels = torch.multinomial(self.weights.to(dev), n, replacement=True, generator=generator)
        noise = _normal((n, 2), generator)
        return self.means.to(dev)[labels] + self.stds.to(dev)[labels, None] * noise, labels

    def component_log_probs(self, x: Tensor) -> Tensor:
        """log w_k + log N(x; m_k, s_k^2 I) for every component, `[n, K]`."""
        means, stds, weights = self._params(x)
        sq = (x[:, None, :] - means[None]).pow(2).sum(-1)
        var = stds.pow(2)
        return weights.log() - sq / (2 * var) - torch.log(2 * math.pi * var)

    def log_prob(self, x: Tensor) -> Tensor:
        return torch.logsumexp(self.component_log_probs(x), dim=1)

    def responsibilities(self, x: Tensor) -> Tensor:
        """Posterior component probabilities r_k(x), `[n, K]`."""
        return torch.softmax(self.component_log_probs(x), dim=1)

    def score(self, x: Tensor) -> Tensor:
        """grad log p(x) = sum_k r_k(x) (m_k - x) / s_k^2."""
        means, stds, _ = self._params(x)
        r = self.responsibilities(x)
        return ((r / stds.pow(2))[:, :, None] * (means[None] - x[:, None, :])).sum(1)

    def nearest_component(self, x: Tensor) -> Tensor:
        """Index of the nearest mean for each point, `[n]` (the mode a sample counts toward)."""
        return torch.cdist(x, self.means.to(x.device, x.dtype)).argmin(dim=1)


def gaussian() -> GaussianMixture:
    mix = GaussianMixture(
        torch.zeros(1, 2), torch.ones(1), torch.ones(1), name="gaussian", title="Standard Gaussian N(0, I)"
    )
    mix.class_names = ("all",)
    return mix


def eight_gaussians() -> GaussianMixture:
    angles = torch.arange(8) * math.pi / 4
    means = 4.0 * torch.stack([angles.cos(), angles.sin()], dim=1)
    return GaussianMixture(means, torch.full((8,), 0.3), torch.ones(8), name="eight_gaussians", title="Eight Gaussians")


def two_gaussians() -> GaussianMixture:
    means = torch.tensor([[-3.0, 0.0], [3.0, 0.0]])
    mix = GaussianMixture(means, torch.full((2,), 0.5), torch.ones(2), name="two_gaussians", title="Two Gaussians")
    mix.class_names = ("left", "right")
    return mix


class Checkerboard(Density):
    """Uniform on the 8 cells [2i, 2i+2) x [2j, 2j+2) in [-4, 4]^2 with i + j even; p = 1/32 there."""

    name, title = "checkerboard", "Checkerboard"
    has_log_prob = True
    n_classes = 8
    class_names = tuple(f"cell {i}" for i in range(8))
    CELL = 2.0
    box = 4.0

    def __init__(self) -> None:
        corners = [(i, j) for j in range(-2, 2) for i in range(-2, 2) if (i + j) % 2 == 0]
        self.cells = torch.tensor(corners, dtype=torch.float32) * self.CELL  # lower-left corners [8, 2]

    def sample_labelled(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        dev = generator.device
        labels = torch.randint(0, 8, (n,), generator=generator, device=dev)
        offsets = torch.rand((n, 2), generator=generator, device=dev) * self.CELL
        return self.cells.to(dev)[labels] + offsets, labels

    def cell_index(self, x: Tensor) -> Tensor:
        """Index 0..7 of the black cell containing each point, or -1 outside them, `[n]`."""
        ij = torch.floor(x / self.CELL)
        inside = (ij >= -2).all(1) & (ij <= 1).all(1)
        black = inside & ((ij[:, 0] + ij[:, 1]).remainder(2) == 0)
        corners = self.cells.to(x.device, x.dtype)
        match = (ij[:, None, :] * self.CELL == corners[None]).all(-1)  # [n, 8]
        index = match.float().argmax(1)
        return torch.where(black, index, torch.full_like(index, -1))

    def log_prob(self, x: Tensor) -> Tensor:
        inside = self.cell_index(x) >= 0
        return torch.where(inside, torch.full_like(x[:, 0], -math.log(32.0)), torch.full_like(x[:, 0], -math.inf))


class TwoMoons(Density):
    """theta ~ U[0, pi]; upper (cos, sin), lower (1 - cos, 1/2 - sin); + N(0, 0.1^2); then
    shifted by (-1/2, -1/4) and scaled by 2. Label 0 = upper moon, 1 = lower moon."""

    name, title = "two_moons", "Two moons"
    n_classes = 2
    class_names = ("upper moon", "lower moon")

    def sample_labelled(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        theta = math.pi * _uniform(n, generator)
        labels = (_uniform(n, generator) < 0.5).long()
        upper = torch.stack([theta.cos(), theta.sin()], 1)
        lower = torch.stack([1 - theta.cos(), 0.5 - theta.sin()], 1)
        x = torch.where(labels[:, None] == 0, upper, lower) + 0.1 * _normal((n, 2), generator)
        shift = torch.tensor([-0.5, -0.25], device=x.device)
        return 2.0 * (x + shift), labels


class Rings(Density):
    """Circles of radius 2 and 4, mass proportional to circumference, radial noise std 0.15."""

    name, title = "rings", "Rings"
    n_classes = 2
    class_names = ("inner ring", "outer ring")
    RADII = (2.0, 4.0)

    def sample_labelled(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        inner, outer = self.RADII
        labels = (_uniform(n, generator) < outer / (inner + outer)).long()
        radius = torch.where(labels == 1, outer, inner) + 0.15 * _normal((n,), generator)
        angle = 2 * math.pi * _uniform(n, generator)
        return torch.stack([radius * angle.cos(), radius * angle.sin()], 1), labels


class Spirals(Density):
    """Two interleaved Archimedean spirals r = 0.5 + 4 phi / (3 pi), phi in [0, 3 pi] (1.5 turns,
    r from 0.5 to 4.5), the second rotated by pi; isotropic noise std 0.15. Label = arm."""

    name, title = "spirals", "Spirals"
    n_classes = 2
    class_names = ("arm A", "arm B")
    TURN = 3 * math.pi

    def sample_labelled(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        phi = self.TURN * _uniform(n, generator)
        labels = (_uniform(n, generator) < 0.5).long()
        radius = 0.5 + 4.0 * phi / self.TURN
        angle = phi + math.pi * labels
        x = torch.stack([radius * angle.cos(), radius * angle.sin()], 1)
        return x + 0.15 * _normal((n, 2), generator), labels


class PointCloud(Density):
    """A user's own points `[m, 2]`, sampled by drawing rows uniformly with replacement. Optional
    `labels` `[m]` (any non-negative integers) make it a labelled density: classes 0..K-1 in the order
    of the distinct labels, named "label <value>"; without them it has one class."""

    def __init__(self, points: Tensor, *, name: str, title: str, labels: Tensor | None = None) -> None:
        self.points = torch.as_tensor(points, dtype=torch.float32).reshape(-1, 2)
        self.name, self.title = name, title
        self.labels = torch.zeros(self.points.shape[0], dtype=torch.long)
        if labels is not None:
            values, classes = torch.unique(torch.as_tensor(labels, dtype=torch.long).reshape(-1), return_inverse=True)
            self.labels = classes
            if len(values) > 1:
                self.n_classes = len(values)
                self.class_names = tuple(f"label {int(v)}" for v in values)

    def sample_labelled(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        dev = generator.device
        rows = torch.randint(0, self.points.shape[0], (n,), generator=generator, device=dev)
        return self.points.to(dev)[rows], self.labels.to(dev)[rows]


DENSITIES: dict[str, Callable[[], Density]] = {
    "eight_gaussians": eight_gaussians,
    "two_gaussians": two_gaussians,
    "gaussian": gaussian,
    "checkerboard": Checkerboard,
    "two_moons": TwoMoons,
    "rings": Rings,
    "spirals": Spirals,
}


def get_density(name: str, custom: dict[str, Density] | None = None) -> Density:
    """The density registered under `name`, or a user's uploaded one from `custom`."""
    if custom and name in custom:
        return custom[name]
    if name not in DENSITIES:
        raise KeyError(f"unknown density '{name}'; choose one of {', '.join(DENSITIES)}")
    return DENSITIES[name]()
