"""What the Diffusion page shows, computed from a `Diffusion` method as numpy arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from explorer.maths.diffusion_samplers import EVALS_PER_STEP, SAMPLERS
from explorer.maths.metrics import QualityMeter
from explorer.methods.diffusion import Diffusion
from explorer.training.presets import Preset
from explorer.views.fields import FieldView, error_caption, field_view, relative_l2


def _np(x: torch.Tensor) -> np.ndarray:
    return x.detach().float().cpu().numpy()


def time_at_abar(method: Diffusion, abar: float) -> float:
    """The diffusion time where abar_t = `abar` (alpha_t^2), by bisection."""
    lo, hi = 0.0, 1.0
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if float(method.schedule.abar(mid)) > abar else (lo, mid)
    return 0.5 * (lo + hi)


@torch.no_grad()
def relative_score_error(method: Diffusion, t: float, generator: torch.Generator, n: int = 4000) -> float | None:
    """sqrt(E_{p_t} |s_theta - grad log p_t|^2 / E_{p_t} |grad log p_t|^2), x ~ p_t sampled exactly."""
    truth = method.exact()
    if truth is None:
        return None
    x = truth.marginal(t).sample(n, generator).to(method.device)
    return relative_l2(method.score(x, t), truth.score(x, t))


def score_view(
    method: Diffusion,
    t: float,
    generator: torch.Generator | None = None,
    lim: float = 6.0,
    arrows: int = 13,
    fine: int = 40,
) -> FieldView:
    """The learned score at diffusion time t with the exact score overlaid where known."""
    truth = method.exact()
    return field_view(
        lambda x: method.score(x, t),
        (lambda x: truth.score(x, t)) if truth is not None else None,
        (lambda x: truth.log_prob(x, t)) if truth is not None else None,
        t,
        lim,
        arrows,
        fine,
        relative_error=(lambda: relative_score_error(method, t, generator or torch.Generator().manual_seed(0), 2000)),
        device=method.device,
    )


def score_caption(view: FieldView, t: float) -> str:
    """The live score field's caption: its error against the exact score, or why there is none."""
    return error_caption(view, t, "the learned score", "No closed-form score for this density: learned field only.")


@dataclass(frozen=True)
class ForwardView:
    """Data dissolving into noise: x_t = alpha_t x_0 + sigma_t eps with fixed (x_0, eps) per point."""

    times: np.ndarray  # [F]
    alpha: np.ndarray  # [F]
    sigma: np.ndarray  # [F]
    points: np.ndarray  # [F, n, 2]


@torch.no_grad()
def forward_view(method: Diffusion, generator: torch.Generator, n: int = 300, frames: int = 31) -> ForwardView:
    x0 = method.density.sample(n, generator)
    eps = torch.randn(x0.shape, generator=generator, device=x0.device)
    times = np.linspace(0.0, 1.0, frames)
    alpha = np.array([float(method.schedule.alpha(t)) for t in times])
    sigma = np.array([float(method.schedule.sigma(t)) for t in times])
    points = np.stack([_np(a * x0 + s * eps) for a, s in zip(alpha, sigma, strict=True)])
    return ForwardView(times, alpha, sigma, points)


PF_ODE_CAPTION = (
    "The probability-flow ODE dx/dt = −β_t/2 (x + ∇log p_t(x)) has the same marginals p_t as the noising process; "
    "run from N(0, I) at t = 1 with the learned score, it is the ODE sampler, and its density is the model's p_θ."
)


@dataclass(frozen=True)
class SamplersView:
    """Every sampler run from the same x_1 noise: frames per sampler and quality of the end points."""

    steps: int
    times: np.ndarray  # [F] fraction of the run, 0 (noise) to 1 (done)
    frames: dict[str, np.ndarray]  # sampler -> [F, n, 2]
    evals: dict[str, int]
    quality: dict[str, dict[str, float]]  # sampler -> metric name -> value (on `quality_n` samples)


@torch.no_grad()
def samplers_view(
    method: Diffusion, generator: torch.Generator, steps: int, n: int = 300, quality_n: int = 1000, frames: int = 26
) -> SamplersView:
    x_T = torch.randn((quality_n, 2), generator=generator, device=generator.device)
    meter = QualityMeter(method.density, quality_n)
    out_frames, quality = {}, {}
    for name in SAMPLERS:
        traj = method.trajectories(x_T, generator, sampler=name, steps=steps)
        idx = np.unique(np.linspace(0, traj.shape[0] - 1, frames).round().astype(int))
        out_frames[name] = _np(traj[idx, :n])
        quality[name] = {m.name: m.value for m in meter(traj[-1]).values()}
    times = idx / (traj.shape[0] - 1)
    return SamplersView(steps, times, out_frames, {k: steps * EVALS_PER_STEP[k] for k in SAMPLERS}, quality)


@dataclass(frozen=True)
class TweedieView:
    """Noisy points x_t and their denoised estimates E[x_0 | x_t], learned and exact."""

    t: float
    noisy: np.ndarray  # [n, 2]
    learned: np.ndarray  # [n, 2]
    exact: np.ndarray | None  # [n, 2]


@torch.no_grad()
def tweedie_view(method: Diffusion, t: float, generator: torch.Generator, n: int = 150) -> TweedieView:
    x0 = method.density.sample(n, generator).to(method.device)
    eps = torch.randn(x0.shape, generator=generator, device=x0.device)
    xt = float(method.schedule.alpha(t)) * x0 + float(method.schedule.sigma(t)) * eps
    truth = method.exact()
    exact = None
    if truth is not None:
        exact = _np((xt + float(method.schedule.sigma(t)) ** 2 * truth.score(xt, t)) / float(method.schedule.alpha(t)))
    return TweedieView(t, _np(xt), _np(method.denoise(xt, t)), exact)


def samplers_caption(noise_schedule: str) -> str:
    """The Samplers tab's caption; with the cosine schedule, why DDIM does worse than the ODE there."""
    text = (
        "All four start from the same noise. Quality on 1,000 samples; the perfect-sampler levels are on the "
        "quality curves above. DDIM uses the sidebar's eta."
    )
    if noise_schedule != "cosine":
        return text
    # Measured at the page defaults (seeds 0 and 1, 20,000 samples), 20 steps: DDIM mode TV 0.28 with the learned
    # eps and 0.007 with the exact one, the ODE 0.019-0.028; the same model with the exact eps above t = 0.95
    # and its own below: DDIM TV 0.021 at 50 steps. The linear schedule: DDIM TV 0.020 at 20 steps.
    return text + (
        " With the cosine schedule ᾱ₁ = 10⁻⁴, so DDIM's first steps divide the network's error in ε at t ≈ 1 by "
        "√ᾱ ≈ 0.01: a small error there sends samples to the wrong modes (at 20 steps, mode TV about 0.28 with "
        "the learned ε, 0.007 with the exact one). The reverse SDE and DDPM wash such errors out with fresh "
        "noise, and the ODE's β is capped near t = 1. With the linear schedule DDIM matches the ODE."
    )


# Measured at the page defaults (seed 0, eight_gaussians, cosine schedule, 3,000 steps, 4,000 samples):
# log-density gap / mode TV with 8 steps: reverse SDE 0.98 / 0.016, DDPM 0.08 / 0.055, DDIM 0.39 / 0.15,
# probability-flow ODE (Heun) -0.04 / 0.022 (50 steps: 0.12, 0.005, 0.23, 0.05); score error at t = 0.05
# with the score target 74% (ε target 34%; at t = 0.1: 73% and 13%), gap 4.1 nats with the ODE.
PRESETS: dict[str, Preset] = {
    "sde_few": Preset(
        "Reverse SDE, 8 steps",
        {"sampler": "sde", "sampler_steps": 8},
        "With only 8 Euler–Maruyama steps the noise injected along the way is never removed: the samples stay "
        "blurred around the modes (gap about 1 nat, against 0.1 at 50 steps). Raise Sampler steps while it "
        "trains: no reset.",
    ),
    "ode_few": Preset(
        "Probability-flow ODE, 8 steps",
        {"sampler": "ode", "sampler_steps": 8},
        "The same network, sampled by the deterministic ODE with 8 Heun steps, already lands on the modes (gap "
        "within 0.1 nats of its 50-step samples); the Samplers tab runs all four from the same noise (at 8 steps "
        "DDIM puts the wrong mass on the modes, mode TV about 0.15, and the SDE blurs them).",
    ),
    "score_target": Preset(
        "Predicting the score",
        {"target": "score"},
        "The target −ε/σ_t grows without bound as t → 0, so the network fits small noise levels badly: drag the "
        "noise level t towards 0 and the error map lights up (score error about 74% at t = 0.05, against 34% "
        "for the ε target, and 73% against 13% at t = 0.1), and the samples come out smeared (gap about 4 nats).",
    ),
}
