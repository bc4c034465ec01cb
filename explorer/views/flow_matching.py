"""What the Flow matching page shows, computed from a `FlowMatching` method as numpy arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from explorer.data.densities import GaussianMixture
from explorer.maths.coupling import mean_pairing_cost, pair
from explorer.maths.samplers import EVALS_PER_STEP, INTEGRATORS, integrate
from explorer.methods.flow_matching import FlowMatching
from explorer.training.presets import Preset
from explorer.views.fields import FieldView, error_caption, field_view, relative_l2


def _np(x: torch.Tensor) -> np.ndarray:
    return x.detach().float().cpu().numpy()


def sampler_name(method: FlowMatching) -> str:
    """What carries the samples from t = 0: "SDE" or "ODE"."""
    return "SDE" if method.stochastic else "ODE"


def sampler_notice(method: FlowMatching) -> str | None:
    """Why the chosen SDE sampler falls back to the ODE, or None."""
    if method.config.sampler != "sde" or method.stochastic:
        return None
    return (
        "The SDE sampler needs the N(0, I) source and independent coupling (its score is Tweedie's formula, "
        "−E[x₀ | x] / σ_t); these samples follow the ODE."
    )


@torch.no_grad()
def relative_field_error(method: FlowMatching, t: float, generator: torch.Generator, n: int = 4000) -> float | None:
    """sqrt(E_{x ~ p_t} |v_theta - u_t|^2 / E_{x ~ p_t} |u_t|^2) by Monte Carlo from the path."""
    exact_field = method.exact_sampling_field()
    truth = method.exact()
    if exact_field is None or truth is None:
        return None
    x = truth.marginal(t).sample(n, generator).to(method.device)
    return relative_l2(method.sampling_field()(x, t), exact_field(x, t))


def velocity_view(
    method: FlowMatching,
    t: float,
    generator: torch.Generator | None = None,
    lim: float = 6.0,
    arrows: int = 13,
    fine: int = 40,
) -> FieldView:
    """The learned velocity at time t with the exact marginal velocity overlaid where known."""
    learned, exact, truth = method.sampling_field(), method.exact_sampling_field(), method.exact()
    known = exact is not None and truth is not None
    return field_view(
        lambda x: learned(x, t),
        (lambda x: exact(x, t)) if known else None,
        (lambda x: truth.log_prob(x, t)) if known else None,
        t,
        lim,
        arrows,
        fine,
        relative_error=lambda: relative_field_error(method, t, generator or torch.Generator().manual_seed(0), 2000),
        device=method.device,
    )


def field_caption(view: FieldView, t: float) -> str:
    """The live field's caption: its error against the exact field, or why there is none."""
    missing = "No closed-form field here (non-Gaussian endpoints or OT coupling): learned field only."
    return error_caption(view, t, "v_θ", missing)


@dataclass(frozen=True)
class FlowAnimation:
    """Model particles along the ODE and true p_t samples (interpolated pairs), per frame."""

    times: np.ndarray  # [F]
    model: np.ndarray  # [F, n, 2]
    truth: np.ndarray  # [F, n, 2]


@torch.no_grad()
def flow_animation(method: FlowMatching, generator: torch.Generator, n: int = 300, frames: int = 31) -> FlowAnimation:
    x0 = method.source.sample(n, generator).to(method.device)
    steps = max(method.config.sampler_steps, frames - 1)
    traj = method.trajectories(x0, steps=steps)
    idx = np.unique(np.linspace(0, steps, frames).round().astype(int))
    times = idx / steps
    x1 = method.density.sample(n, generator).to(method.device)
    order = pair(x0, x1, method.config.coupling)
    x1 = x1[order]
    truth = torch.stack([method.path.interpolate(x0, x1, torch.tensor(float(t))) for t in times])
    return FlowAnimation(times, _np(traj[idx]), _np(truth))


@dataclass(frozen=True)
class PathsView:
    """Conditional (training-target) paths vs the marginal ODE trajectories from the same x0."""

    conditional: np.ndarray  # [T, n, 2]
    marginal: np.ndarray  # [T, n, 2]


@torch.no_grad()
def paths_view(method: FlowMatching, generator: torch.Generator, n: int = 60, steps: int = 40) -> PathsView:
    x0 = method.source.sample(n, generator).to(method.device)
    x1 = method.density.sample(n, generator).to(method.device)
    x1 = x1[pair(x0, x1, method.config.coupling)]
    times = torch.linspace(0, 1, steps + 1, device=method.device)
    conditional = torch.stack([method.path.interpolate(x0, x1, t) for t in times])
    return PathsView(_np(conditional), _np(method.trajectories(x0, steps=steps)))


@dataclass(frozen=True)
class IntegratorView:
    """Discretisation error of each integrator against a fine Heun reference, over step counts."""

    step_counts: list[int]
    errors: dict[str, list[float]]  # integrator -> mean |x_N - x_ref| per step count
    evals: dict[str, list[int]]  # integrator -> network evaluations per step count
    final: dict[str, np.ndarray]  # integrator -> samples at the chosen step count


@torch.no_grad()
def integrator_view(
    method: FlowMatching,
    generator: torch.Generator,
    n: int = 400,
    step_counts: tuple[int, ...] = (2, 4, 8, 16, 32, 64),
    reference_steps: int = 128,
) -> IntegratorView:
    field = method.sampling_field()
    x0 = method.source.sample(n, generator).to(method.device)
    reference = integrate(field, x0, reference_steps, "heun")[-1]
    errors: dict[str, list[float]] = {}
    evals: dict[str, list[int]] = {}
    final: dict[str, np.ndarray] = {}
    for name in INTEGRATORS:
        errors[name] = [float((integrate(field, x0, k, name)[-1] - reference).norm(dim=1).mean()) for k in step_counts]
        evals[name] = [k * EVALS_PER_STEP[name] for k in step_counts]
        final[name] = _np(integrate(field, x0, method.config.sampler_steps, name)[-1])
    return IntegratorView(list(step_counts), errors, evals, final)


PATHS_CAPTION = (
    "Training pairs are joined by straight lines that cross; the learned flow averages them into trajectories that "
    "never cross (an ODE has one velocity per point)."
)
STRAIGHT = "mean over paths and steps of |N (x_{k+1} − x_k) − (x_N − x_0)|²"


@dataclass(frozen=True)
class CouplingView:
    """One minibatch paired independently and by OT, with mean costs and model-path straightness."""

    x0: np.ndarray
    x1_independent: np.ndarray
    x1_ot: np.ndarray
    cost_independent: float
    cost_ot: float
    straightness: float  # E mean_k || N (x_{k+1} - x_k) - (x_N - x_0) ||^2 of the model's ODE paths


@torch.no_grad()
def straightness(trajectories: torch.Tensor) -> float:
    """Mean squared deviation of the step velocities from the chord, `[T + 1, n, 2]` -> scalar (0 = straight)."""
    steps = trajectories.shape[0] - 1
    velocity = (trajectories[1:] - trajectories[:-1]) * steps
    chord = trajectories[-1] - trajectories[0]
    return float((velocity - chord[None]).pow(2).sum(-1).mean())


@torch.no_grad()
def coupling_view(method: FlowMatching, generator: torch.Generator, n: int = 64) -> CouplingView:
    x0 = method.source.sample(n, generator)
    x1 = method.density.sample(n, generator)
    x1_ot = x1[pair(x0, x1, "ot")]
    traj = method.trajectories(method.source.sample(300, generator).to(method.device), steps=40)
    return CouplingView(
        _np(x0), _np(x1), _np(x1_ot), mean_pairing_cost(x0, x1), mean_pairing_cost(x0, x1_ot), straightness(traj)
    )


@dataclass(frozen=True)
class GuidanceView:
    """Guided samples for the configured class at several guidance scales w."""

    label: int
    scales: list[float]
    samples: list[np.ndarray]  # per scale, [n, 2]
    hit_rate: list[float] | None  # fraction nearest to the class's component (Gaussian mixtures only)

    @property
    def titles(self) -> list[str]:
        """One panel title per scale: w, and the fraction in the class where it is known."""
        hits = self.hit_rate or [None] * len(self.scales)
        return [
            f"w = {w:g}" + (f": {100 * h:.0f}% in the class" if h is not None else "")
            for w, h in zip(self.scales, hits, strict=True)
        ]


@torch.no_grad()
def guidance_view(
    method: FlowMatching, generator: torch.Generator, scales: tuple[float, ...] = (0.0, 1.0, 3.0), n: int = 500
) -> GuidanceView:
    """Sample the same noise with v + w (v(. | y) - v) for each w (the configured w is added)."""
    cfg = method.config
    label = method.guided_class
    scales = sorted({*scales, float(cfg.guidance_scale)})
    x0 = method.source.sample(n, generator).to(method.device)
    field = method.velocity
    samples = [
        integrate(lambda x, t, w=w: field(x, t, label, w), x0, cfg.sampler_steps, cfg.integrator)[-1] for w in scales
    ]
    hits = None
    if isinstance(method.density, GaussianMixture):
        hits = [float((method.density.nearest_component(x) == label).float().mean()) for x in samples]
    return GuidanceView(label, list(scales), [_np(x) for x in samples], hits)


# Measured (seed 0, eight_gaussians, 4,000 samples; tests/test_lecture_demos.py): two Euler steps give a log-density
# gap of 6.1 nats with independent pairs after 6,000 steps and 2.4 with minibatch OT after 4,000 (50 midpoint steps:
# about 0.02). The presets sample with the ODE: the SDE needs an N(0, I) source and independent pairs, and the page
# would say so.
PRESETS: dict[str, Preset] = {
    "curved": Preset(
        "Independent pairs, 2 Euler steps",
        {"coupling": "independent", "sampler": "ode", "integrator": "euler", "sampler_steps": 2, "steps": 6000},
        "Independent pairs cross, so the marginal paths bend (Conditional vs marginal tab) and two straight "
        "Euler steps cut the corners: the samples miss the modes (log-density gap about 6 nats). Raise "
        "Sampler steps while it trains, then load the OT demo.",
    ),
    "straight": Preset(
        "Minibatch OT, 2 Euler steps",
        {"coupling": "ot", "sampler": "ode", "integrator": "euler", "sampler_steps": 2, "steps": 4000},
        "Optimal-transport pairs barely cross (Coupling tab), the paths are nearly straight, and the same two "
        "Euler steps land far closer (gap about 2.4 nats). Each batch solves an exact OT problem, so training "
        "is several times slower.",
    ),
    "guidance": Preset(
        "Classifier-free guidance",
        {"density": "eight_gaussians", "guidance": True, "guidance_class": 2, "guidance_scale": 4.0},
        "One network learns v(x, t | y) and, with the label dropped, v(x, t). After training, the Guidance tab "
        "sweeps w: at w = 0 the samples spread over all eight modes, as w grows they gather on class 2.",
    ),
    "transport": Preset(
        "Data to data",
        {"source": "two_moons", "density": "eight_gaussians", "sampler": "ode"},
        "The source at t = 0 is the moons, not noise: the same regression learns to carry one data set onto "
        "another (Probability path tab). There is no exact field to overlay here.",
    ),
}
