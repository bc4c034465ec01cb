"""What the Normalizing flows page shows, computed from a `NormalizingFlow` method as numpy arrays.

- `layers_view`: a grid and samples carried layer by layer, from the base N(0, I) to data space
  through f (noise -> data), and a data-space grid with data samples carried back through f^{-1}.
- `logdet_view`: where each layer stretches or squeezes, over data space: for a point x carried
  back to noise, the term l_k(x) = log |det df_k^{-1}/dy| = -s_k that layer k adds to log p, beside
  the base term log N(f^{-1}(x); 0, I); their sum is log p_theta(x).
- `density_view`: the learned log p_theta(x) on a grid next to the exact target density, the NLL
  on fresh data, the target's entropy H(p) (the NLL's floor), and two checks of exactness: the
  integral of p_theta over the grid (~1) and the round-trip error |f(f^{-1}(x)) - x|.
- `setting_notes`: what extreme settings do, in words; `PRESETS`: the lecture's demonstrations.

The views read the weights while a worker thread trains them in place (no autograd is involved),
so at worst a frame mixes weights from two consecutive steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from explorer.data.densities import Density
from explorer.kernels.realnvp import standard_normal_log_prob
from explorer.maths.entropy import Entropy, target_entropy
from explorer.maths.grid import make_grid
from explorer.methods.realnvp import FlowConfig, NormalizingFlow
from explorer.training.presets import Preset

NOISE_LIM = 3.0  # the noise-space grid covers [-3, 3]^2
DATA_LIM = 4.5  # the data-space grid carried back covers [-4.5, 4.5]^2
MAX_SHOWN_LAYERS = 12  # per-layer panels shown at most (evenly spaced when K is larger)


def _np(x: torch.Tensor) -> np.ndarray:
    return x.detach().float().cpu().numpy()


def grid_lines(lim: float, lines: int = 9, vertices: int = 41) -> torch.Tensor:
    """Lines of a grid over [-lim, lim]^2, `[2 * lines, vertices, 2]`: first `lines` lines of constant
    y (horizontal), then `lines` of constant x (vertical)."""
    t = torch.linspace(-lim, lim, vertices)
    c = torch.linspace(-lim, lim, lines)
    horizontal = torch.stack([t[None].expand(lines, -1), c[:, None].expand(-1, vertices)], dim=-1)
    return torch.cat([horizontal, horizontal.flip(-1)], dim=0)


def shown_layers(n_layers: int, at_most: int = MAX_SHOWN_LAYERS) -> list[int]:
    """Indices 0..K of the stages to draw (0: before any layer, K: after all), evenly spaced."""
    if n_layers + 1 <= at_most:
        return list(range(n_layers + 1))
    return sorted({int(round(i)) for i in np.linspace(0, n_layers, at_most)})


@dataclass(frozen=True)
class LayersView:
    """Stages 0..S of both directions (stage j of `forward_*`: after j layers of f, from z; stage j of
    `inverse_*`: after undoing j layers, from x). Lines are `[stages, L, k, 2]`, points `[stages, n, 2]`.
    The S layers are the K couplings, then the bounded output where the flow has one."""

    n_layers: int  # S
    forward_lines: np.ndarray
    forward_points: np.ndarray
    inverse_lines: np.ndarray
    inverse_points: np.ndarray
    family: np.ndarray  # [L] 0: lines of constant second coordinate, 1: of constant first
    target: np.ndarray  # [m, 2] data samples (the forward direction's goal)
    noise: np.ndarray  # [m, 2] N(0, I) samples (the inverse direction's goal)


@torch.no_grad()
def layers_view(
    method: NormalizingFlow, generator: torch.Generator, n: int = 200, lines: int = 7, vertices: int = 31
) -> LayersView:
    """Carry a noise grid and n noise samples through f, and a data grid and n data samples through f^{-1}."""
    flow, dev = method.flow, method.device
    z = torch.randn((n, 2), generator=generator, device=generator.device).to(dev)
    x = method.density.sample(n, generator).to(dev)
    noise_lines = grid_lines(NOISE_LIM, lines, vertices).to(dev)
    data_lines = grid_lines(DATA_LIM, lines, vertices).to(dev)
    shape = noise_lines.shape
    forward_lines = flow.forward_layers(noise_lines.reshape(-1, 2))[0].reshape(-1, *shape)
    inverse_lines = flow.inverse_layers(data_lines.reshape(-1, 2)).reshape(-1, *shape)
    return LayersView(
        n_layers=len(flow.stages),
        forward_lines=_np(forward_lines),
        forward_points=_np(flow.forward_layers(z)[0]),
        inverse_lines=_np(inverse_lines),
        inverse_points=_np(flow.inverse_layers(x)),
        family=np.repeat([0, 1], lines),
        target=_np(x),
        noise=_np(torch.randn((n, 2), generator=generator, device=generator.device)),
    )


@dataclass(frozen=True)
class LogDetView:
    """Per-layer log-det terms of log p_theta over a data-space grid, `[S, k, k]` indexed [layer, y, x]
    (S: the K couplings, then the bounded output where the flow has one)."""

    axis: np.ndarray  # [k]
    couplings: int  # K: terms[:K] are the couplings', terms[K] (if any) the bounded output's
    terms: np.ndarray  # [S, k, k]: l_k(x) = log |det df_k^{-1}/dy| at the point y that x reaches (nan outside a box)
    base: np.ndarray  # [k, k]: log N(f^{-1}(x); 0, I) (nan outside a bounded output's box)
    log_prob: np.ndarray  # [k, k]: base + sum_k terms (-inf outside the box)

    @property
    def names(self) -> tuple[str, ...]:
        """[S] "layer 1" .. "layer K", then "bounded" (short: the strip's panel titles sit side by side)."""
        return tuple(f"layer {k + 1}" if k < self.couplings else "bounded" for k in range(len(self.terms)))


@torch.no_grad()
def logdet_view(method: NormalizingFlow, lim: float = 6.0, fine: int = 33) -> LogDetView:
    """Carry every grid point back through the layers (the last first) and record each layer's term."""
    flow = method.flow
    grid = make_grid(lim, fine, method.device)
    y, terms = grid.points, []
    for stage in reversed(flow.stages):
        y, term = stage.inverse(y)
        terms.insert(0, term)
    base = standard_normal_log_prob(y)
    log_prob = flow.zero_outside(grid.points, base + sum(terms))
    if flow.output is not None:  # no x outside the box comes from any z: its terms are blank there (nan)
        outside = flow.output.outside(grid.points)
        base, terms = base.masked_fill(outside, math.nan), [term.masked_fill(outside, math.nan) for term in terms]
    k = grid.n
    stack = np.stack([grid.as_image(term) for term in terms]) if terms else np.zeros((0, k, k))
    return LogDetView(grid.axis, flow.n_layers, stack, grid.as_image(base), grid.as_image(log_prob))


@dataclass(frozen=True)
class DensityView:
    """Learned and exact densities on one grid, the NLL against its floor, and exactness checks."""

    axis: np.ndarray  # [k]
    learned_log_prob: np.ndarray  # [k, k] log p_theta
    exact_log_prob: np.ndarray | None  # [k, k] log p(x) (-inf where p = 0), None without a closed form
    nll: float  # E_data[-log p_theta] on fresh data, nats
    nll_stderr: float
    entropy: Entropy | None  # H(p), the floor of the NLL
    integral: float  # sum of p_theta over the grid cells (the mass inside the view)
    round_trip: float  # max |f(f^{-1}(x)) - x| over fresh data

    @property
    def kl(self) -> float | None:
        """NLL - H(p) = KL(p || p_theta) (nats), where H(p) is known."""
        return None if self.entropy is None else self.nll - self.entropy.value


@torch.no_grad()
def density_view(
    method: NormalizingFlow, generator: torch.Generator, lim: float = 6.0, fine: int = 81, n: int = 4000
) -> DensityView:
    """log p_theta on a fine grid, the exact log p on the same grid, and the NLL of n fresh data points."""
    density, dev = method.density, method.device
    grid = make_grid(lim, fine, dev)
    learned = method.log_prob(grid.points)
    exact_log = grid.as_image(density.log_prob(grid.points.cpu())) if density.has_log_prob else None
    x = density.sample(n, generator).to(dev)
    nll = -method.log_prob(x).double()
    round_trip = (method.flow(method.flow.inverse(x)[0]) - x).abs().max()
    cell = grid.spacing**2
    return DensityView(
        axis=grid.axis,
        learned_log_prob=grid.as_image(learned),
        exact_log_prob=exact_log,
        nll=float(nll.mean()),
        nll_stderr=float(nll.std() / np.sqrt(n)),
        entropy=target_entropy(density),
        integral=float(torch.exp(learned.double()).sum() * cell),
        round_trip=float(round_trip),
    )


@torch.no_grad()
def learned_image(method: NormalizingFlow, lim: float = 6.0, fine: int = 61) -> tuple[np.ndarray, np.ndarray]:
    """(axis, p_theta image `[k, k]`) for the live view."""
    grid = make_grid(lim, fine, method.device)
    return grid.axis, grid.as_image(torch.exp(method.log_prob(grid.points)))


def exact_image(density: Density, lim: float = 6.0, fine: int = 61) -> tuple[np.ndarray, np.ndarray] | None:
    """(axis, exact p image `[k, k]`) of the target, or None without a closed form."""
    if not density.has_log_prob:
        return None
    grid = make_grid(lim, fine)
    with torch.no_grad():
        return grid.axis, grid.as_image(torch.exp(density.log_prob(grid.points)))


def setting_notes(config: FlowConfig, has_log_prob: bool) -> list[str]:
    """Plain-language notes for settings at or near their extremes (empty when none applies)."""
    notes = []
    if config.n_layers == 1:
        notes.append(
            "With one coupling only x₂ moves, and only as an affine function of x₁: x₁ stays N(0, 1) and, given x₁, "
            "x₂ stays Gaussian. No training can fit more than that; add layers."
        )
    elif config.n_layers == 2:
        notes.append(
            "Two couplings move each coordinate once: every conditional stays Gaussian-shaped, so multimodal "
            "targets come out blurred. Four or more layers start to carve modes."
        )
    if config.n_layers >= 24:
        notes.append(
            f"{config.n_layers} couplings: each step costs {config.n_layers} conditioner passes forward and back, "
            "so training is slower, and deep stacks of stretches are less stable (lower the learning rate if "
            "it diverges)."
        )
    if config.scale_bound <= 0.25:
        notes.append(
            f"S = {config.scale_bound:g}: a layer stretches by at most e^S = {np.exp(config.scale_bound):.2f}, so "
            "squeezing N(0, I) into narrow modes takes many layers; mostly the shifts t do the work."
        )
    elif config.scale_bound >= 5:
        notes.append(
            f"S = {config.scale_bound:g}: one layer may stretch by up to e^S = {np.exp(config.scale_bound):,.0f}. "
            "Stacked, such stretches make the NLL spiky and training can diverge: 1-3 is the usual range."
        )
    if config.lr >= 0.02:
        notes.append(
            "A learning rate this large usually diverges within a few hundred steps; training then pauses and keeps "
            "the last good weights."
            + (
                " Or it kills the ReLU units (every one inactive on every input): s and t freeze into constants and "
                "the NLL stops moving. Reset, with a smaller rate."
                if config.activation == "relu"
                else ""
            )
        )
    if config.hidden <= 8:
        notes.append(f"Width {config.hidden}: each coupling's s and t are very smooth functions; expect blurry edges.")
    if not has_log_prob:
        notes.append(
            "This density has no closed-form log p: there is no exact density to compare with and no entropy floor "
            "under the NLL curve. The NLL itself is still exact for the model."
        )
    return notes


# Measured on the 2-core machine at these settings over the page defaults, seed 0 (docs/decisions.md, "Models").
PRESETS: dict[str, Preset] = {
    "one_coupling": Preset(
        "One coupling",
        {"density": "two_gaussians", "n_layers": 1, "steps": 5000},
        "A single coupling never moves x₁, so x₁ stays N(0, 1): the two modes at x₁ = ±3 cannot appear and the "
        "NLL stalls about 4 nats above its floor H(p). Set K = 2 (0.3 nats above after 5,000 steps), then K = 4 "
        "(0.04): each pair of couplings moves both coordinates once more.",
    ),
    "sharp": Preset(
        "Checkerboard, ReLU couplings",
        {"density": "checkerboard", "activation": "relu"},
        "The page's default: piecewise-linear s and t cut sharp cell edges. After the 3,000 steps about 4% of the "
        "samples fall outside the black cells and the NLL ends about 0.07 nats above log 32. Watch the noise grid "
        "fold, coupling after coupling; untick *Bounded output for data in a box* (Flow) to see samples spill past "
        "the edges.",
    ),
    "smooth": Preset(
        "Checkerboard, SiLU couplings",
        {"density": "checkerboard", "activation": "silu"},
        "The same flow with smooth SiLU conditioners: the cell edges stay slanted and blurred, and about 10% of the "
        "samples fall outside the cells after as many steps (ReLU: about 4%).",
    ),
    "bridges": Preset(
        "Eight modes: bridges",
        {"density": "eight_gaussians"},
        "An invertible, continuous f cannot tear N(0, I) into eight pieces: thin bridges of mass stay between "
        "the modes. Each mode gets its share (mode TV about 0.025) and the NLL comes to about 0.15 nats of H(p), "
        "yet the log-density gap stays near 0.6 nats: those bridges.",
    ),
}
