"""What the Langevin page shows, as numpy arrays: chains with trails over the target, histograms of
the final states against the target's marginals, per-mode masses, and the metric curves.

`langevin_view(run, density)` turns one `explorer.methods.langevin.LangevinRun` into a `LangevinView`.
Where the chains' score comes from is decided by `exact_source` / `learned_source`, which return
a source or the sentence the page shows instead. The presets (the two classic failures and their
fixes) and the page's explanation live here too, as data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from explorer.data.densities import Density, GaussianMixture
from explorer.maths.grid import density_image
from explorer.methods.langevin import LangevinRun
from explorer.methods.langevin_scores import ExactScore, LearnedScore

VIEW_LIM = 6.0
SHOW_CHAINS = 200  # chains drawn as dots in the animation (all of them are in the histograms)
TRAIL_CHAINS = 30  # of which this many also draw a trail
TRAIL = 3  # a trail joins the last TRAIL + 1 recorded frames
BINS = 60


def _np(x: torch.Tensor) -> np.ndarray:
    return x.detach().float().cpu().numpy()


@dataclass(frozen=True)
class ChainsView:
    """Frames for the animation over [-lim, lim]^2.

    axis `[k]` and density `[k, k]` (exact p, indexed [y, x]) or None, with target `[m, 2]`
    samples to draw instead; dots `[F, c, 2]` (c <= SHOW_CHAINS chains); trails `[F, t, TRAIL + 1, 2]`
    (positions at frames i - TRAIL..i, clamped at 0); steps `[F]`; sigmas `[F]` (noise level, 0 = p).
    """

    lim: float
    axis: np.ndarray
    density: np.ndarray | None
    target: np.ndarray
    dots: np.ndarray
    trails: np.ndarray
    steps: np.ndarray
    sigmas: np.ndarray
    annealed: bool

    @property
    def labels(self) -> list[str]:
        if not self.annealed:
            return [f"{s:,}" for s in self.steps]
        return [f"{s:,} (σ {sigma:.2g})" for s, sigma in zip(self.steps, self.sigmas, strict=True)]


@dataclass(frozen=True)
class MarginalsView:
    """Histograms (as densities) of the final states per coordinate, `chains` `[2, BINS]` over
    `edges` `[BINS + 1]`, against the target's marginal `target` `[2, k]` on `axis` `[k]` (exact
    for mixtures, else a histogram of target samples); per-mode masses `[K]` vs weights `[K]`."""

    edges: np.ndarray
    chains: np.ndarray
    axis: np.ndarray
    target: np.ndarray
    exact: bool
    mode_mass: np.ndarray | None
    mode_weight: np.ndarray | None
    mode_names: tuple[str, ...]


@dataclass(frozen=True)
class CurvesView:
    """Per recorded frame: steps `[F]`, metric series `[F]` by key with names and perfect values,
    MALA acceptance `[F]` (NaN at frame 0) or None, and the first step of each annealing level."""

    steps: np.ndarray
    series: dict[str, np.ndarray]
    names: dict[str, str]
    perfect: dict[str, float]
    acceptance: np.ndarray | None
    level_starts: list[int]


@dataclass(frozen=True)
class LangevinView:
    chains: ChainsView
    marginals: MarginalsView
    curves: CurvesView
    finals: dict[str, float]  # final metric values by key
    names: dict[str, str]
    perfect: dict[str, float]
    acceptance: float | None
    seconds: float
    steps_done: int
    steps_planned: int
    blowup: str
    notices: list[str]


def _trails(frames: np.ndarray) -> np.ndarray:
    """`[F, n, 2]` -> `[F, n, TRAIL + 1, 2]`: positions at frames i - TRAIL..i (clamped at 0)."""
    count = frames.shape[0]
    idx = np.clip(np.arange(count)[:, None] + np.arange(-TRAIL, 1)[None, :], 0, None)  # [F, TRAIL + 1]
    return frames[idx].transpose(0, 2, 1, 3)


def chains_view(run: LangevinRun, density: Density, lim: float = VIEW_LIM, seed: int = 0) -> ChainsView:
    traj = run.trajectory
    frames = _np(traj.frames)
    axis, image = (
        density_image(density.log_prob, lim, 80) if density.has_log_prob else (np.linspace(-lim, lim, 2), None)
    )
    target = np.zeros((0, 2))
    if image is None:
        target = _np(density.sample(1500, torch.Generator().manual_seed(seed)))
    image = None if image is None else np.where(np.isfinite(image), image, 0.0)
    return ChainsView(
        lim,
        axis,
        image,
        target,
        frames[:, :SHOW_CHAINS],
        _trails(frames[:, :TRAIL_CHAINS]),
        np.asarray(traj.steps),
        np.asarray(traj.sigmas),
        traj.annealed,
    )


def _mixture_marginals(mix: GaussianMixture, axis: np.ndarray) -> np.ndarray:
    """sum_k w_k N(u; m_k[d], s_k^2) for d = 0, 1 on `axis`: `[2, k]`."""
    means, stds, w = (t.double().numpy() for t in (mix.means, mix.stds, mix.weights))
    z = (axis[None, None, :] - means.T[:, :, None]) / stds[None, :, None]  # [2, K, k]
    pdf = np.exp(-0.5 * z * z) / (math.sqrt(2 * math.pi) * stds[None, :, None])
    return (w[None, :, None] * pdf).sum(1)


def marginals_view(run: LangevinRun, density: Density, lim: float = VIEW_LIM, seed: int = 0) -> MarginalsView:
    final = _np(run.trajectory.final).astype(np.float64)
    edges = np.linspace(-lim, lim, BINS + 1)
    width = edges[1] - edges[0]
    n = max(len(final), 1)
    chains = np.stack([np.histogram(final[:, d], edges)[0] / (n * width) for d in range(2)])
    mass = weight = None
    names: tuple[str, ...] = ()
    if isinstance(density, GaussianMixture):
        axis = np.linspace(-lim, lim, 241)
        target, exact = _mixture_marginals(density, axis), True
        if density.n_classes > 1:
            nearest = density.nearest_component(torch.as_tensor(final, dtype=torch.float32)).numpy()
            mass = np.bincount(nearest, minlength=density.n_classes) / n
            weight, names = density.weights.double().numpy(), tuple(density.class_names)
    else:
        samples = _np(density.sample(20000, torch.Generator().manual_seed(seed)))
        axis = 0.5 * (edges[:-1] + edges[1:])
        target, exact = np.stack([np.histogram(samples[:, d], edges)[0] / (20000 * width) for d in range(2)]), False
    return MarginalsView(edges, chains, axis, target, exact, mass, weight, names)


def curves_view(run: LangevinRun) -> CurvesView:
    traj = run.trajectory
    steps = np.asarray(traj.steps)
    acceptance = np.asarray(traj.accept, dtype=np.float64) if run.mala else None
    return CurvesView(
        steps,
        {k: np.asarray(v, dtype=np.float64) for k, v in run.metrics.items()},
        dict(run.metric_names),
        dict(run.perfect),
        acceptance,
        list(traj.level_starts) if traj.annealed else [],
    )


def langevin_view(run: LangevinRun, density: Density, lim: float = VIEW_LIM) -> LangevinView:
    """Everything the page draws for one run (`density` is the chains' target)."""
    traj = run.trajectory
    seed = run.config.seed
    return LangevinView(
        chains_view(run, density, lim, seed),
        marginals_view(run, density, lim, seed),
        curves_view(run),
        {k: run.final(k) for k in run.metrics},
        dict(run.metric_names),
        dict(run.perfect),
        traj.acceptance,
        traj.seconds,
        traj.steps_done,
        traj.steps_planned,
        traj.blowup,
        list(run.notices),
    )


# --- where the score comes from ----------------------------------------------------------------
def exact_source(density: Density) -> tuple[ExactScore | None, str]:
    """The exact score of `density`, or why there is none."""
    if isinstance(density, GaussianMixture):
        return ExactScore(density), ""
    return None, (
        f"{density.title} has no closed-form score (only the Gaussian mixtures do). Choose Score → learned "
        "to run the chains on a diffusion model's score trained on it."
    )


def learned_source(session: Any, wanted: str) -> tuple[LearnedScore | None, str]:
    """A trained diffusion session as a score source, or the sentence that says why not.

    `wanted` is the density the user picked; the chains target the one the model was trained on.
    """
    if session is None or getattr(session, "step_count", 0) <= 0:
        return None, "No diffusion model has been trained in this browser session yet."
    source = LearnedScore.from_session(session)
    note = f"Learned score of a diffusion model trained for {session.step_count:,} steps on {session.density.title}."
    if session.density.name != wanted:
        note += f" The chains target {session.density.title}, not the density picked here."
    return source, note


# --- presets: classic failures, each with its fix ----------------------------------------
@dataclass(frozen=True)
class Preset:
    """Settings that show a failure, what to look at, and the one change that fixes it."""

    title: str
    settings: dict[str, Any]
    look: str
    fix_label: str
    fix: dict[str, Any]
    after: str


PRESETS: dict[str, Preset] = {
    "trapped": Preset(
        "Trapped in one mode",
        {
            "density": "two_gaussians",
            "score": "exact",
            "init": "mode",
            "init_mode": 0,
            "step_size": 0.005,
            "n_steps": 1000,
            "n_chains": 500,
            "noise_scale": 1.0,
            "mala": False,
            "annealed": False,
            "n_levels": 10,
            "sigma_max": 6.0,
            "sigma_min": 0.1,
        },
        "Every chain starts in the left mode and stays there: the right one gets no mass (mode TV 0.5). "
        "p is e¹⁷ times smaller halfway between the modes, so a crossing essentially never happens.",
        "Fix: anneal",
        {"annealed": True},
        "Annealing starts at σ₁ = 6, where p_σ is one broad bump: the chains spread over both sides before the "
        "valley forms, and end about half in each mode.",
    ),
    "biased": Preset(
        "Biased at a large step",
        {
            "density": "eight_gaussians",
            "score": "exact",
            "init": "noise",
            "init_scale": 1.0,
            "step_size": 0.1,
            "n_steps": 500,
            "n_chains": 1000,
            "noise_scale": 1.0,
            "mala": False,
            "annealed": False,
        },
        "At ε = 0.1 (over half the stability limit 2s² = 0.18) unadjusted Langevin samples a wider "
        "distribution: the histogram peaks are too broad and the log-density gap is about 1 nat.",
        "Fix: MALA",
        {"mala": True},
        "MALA rejects about 40% of the proposals and the chains sample p exactly: the gap falls to zero at the "
        "same step size.",
    ),
    "no_noise": Preset(
        "No noise: only climbing",
        {
            "density": "eight_gaussians",
            "score": "exact",
            "init": "noise",
            "init_scale": 3.0,
            "step_size": 0.01,
            "n_steps": 500,
            "n_chains": 1000,
            "noise_scale": 0.0,
            "mala": False,
            "annealed": False,
        },
        "With the noise scale τ = 0 the update is plain gradient ascent on log p: every chain climbs to the peak "
        "of its nearest mode and stops, so the histogram shows eight spikes instead of eight bumps.",
        "Fix: add the noise",
        {"noise_scale": 1.0},
        "The √(2ε) z term is what turns optimisation into sampling: with τ = 1 the spikes widen into the "
        "target's bumps.",
    ),
}


# --- the maths, in the lecture notes' notation ---------------------------------------------------
EXPLANATION: list[tuple[str, str]] = [
    (
        "md",
        "**Langevin dynamics** samples p using only its score ∇ log p (no normalising constant). "
        "The unadjusted Langevin algorithm (ULA) takes a gradient step uphill and adds Gaussian noise:",
    ),
    (
        "latex",
        r"x_{k+1} = x_k + \varepsilon\,\nabla_x \log p(x_k) + \sqrt{2\varepsilon}\,\tau\,z_k,"
        r"\qquad z_k\sim\mathcal N(0,I)",
    ),
    (
        "md",
        "With τ = 1 and ε → 0 its stationary law is p; at a finite ε it is biased (for N(m, s²I): variance "
        "s² / (1 − ε / 2s²)), and it diverges once ε > 2s². τ ≠ 1 samples p^(1/τ²) instead. **MALA** treats "
        "the update as a proposal y and accepts it with probability min(1, a), using the Gaussian proposal "
        "density q(y | x) = N(y; x + ε∇log p(x), 2ετ² I):",
    ),
    (
        "latex",
        r"a = \frac{p(y)\,q(x \mid y)}{p(x)\,q(y \mid x)},\qquad "
        r"\log q(y\mid x) = -\frac{\|y - x - \varepsilon\nabla\log p(x)\|^2}{4\varepsilon\tau^2} + \text{const}",
    ),
    (
        "md",
        "so the chain targets p exactly at any step size, at the price of rejections (and it needs log p). "
        "Neither fixes **mixing**: between far-apart modes the score points back to the nearest one. "
        "**Annealed Langevin** (Song & Ermon) runs the chains on p convolved with noise, from a large σ₁ "
        "(one smooth bump) down a geometric ladder to a small σ_L, with a step that shrinks with σ:",
    ),
    (
        "latex",
        r"p_{\sigma}(x) = \int p(y)\,\mathcal N(x; y, \sigma^2 I)\,dy,\qquad "
        r"\sigma_1 > \dots > \sigma_L,\qquad \varepsilon_l = \varepsilon\,\sigma_l^2 / \sigma_L^2",
    ),
    (
        "md",
        "For a Gaussian mixture p_σ is the mixture with variances s_k² + σ². A diffusion model's score "
        "s_θ(x, t) ≈ ∇ log p_t with x_t = α_t x_0 + σ_t z gives the same noised scores: "
        "∇ log p_σ(x) = α_t s_θ(α_t x, t) at the time t where σ_t / α_t = σ. Plain Langevin on a learned "
        "score uses t = 0.03: at smaller t the network's score error grows like 1 / σ_t.",
    ),
]
