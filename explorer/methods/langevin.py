"""The Langevin page's settings and one whole run: settings -> levels -> chains -> metrics per frame.

`LangevinConfig` is a frozen dataclass of `param` fields (the page builds its widgets from them
and `clamp` repairs any value); its defaults are the page's defaults and the benchmark's settings.
`plan` turns settings and a score source into `Level`s, switching off what cannot run (MALA
without a log-density or without noise) with a notice instead of an error. `run_chains` starts the
chains, simulates them, and scores every recorded frame against the target with `QualityMeter`
(log-density gap and mode coverage for Gaussian mixtures, energy distance otherwise).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch

from explorer.configs import clamp, param
from explorer.data.densities import GaussianMixture
from explorer.device import make_generator
from explorer.maths.langevin import (
    MAX_FRAMES,
    Level,
    Trajectory,
    annealed_steps,
    geometric_ladder,
    noise_start,
    point_start,
    simulate,
)
from explorer.maths.metrics import QualityMeter

# Caps so that one run stays interactive: 2e6 chain-steps take about 0.7 s on one CPU core for
# eight_gaussians (1.4 s with MALA, which also evaluates log p).
MAX_CHAINS, MAX_STEPS, MAX_WORK = 4000, 2000, 2_000_000
SCORES = ("exact", "learned")
INITS = ("noise", "point", "mode")
STEP_PRESETS = (1e-4, 2e-4, 5e-4, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.5, 1.0, 2.0)


@dataclass(frozen=True)
class LangevinConfig:
    density: str = param("eight_gaussians", "Target density", group="target")
    score: str = param(
        "exact",
        "Score",
        choices=SCORES,
        group="target",
        help="exact: the closed form (Gaussian mixtures); learned: a diffusion model's score network.",
    )
    step_size: float = param(
        0.002, "Step size ε", lo=1e-5, hi=10.0, presets=STEP_PRESETS, group="dynamics", help="With annealing: ε_L."
    )
    n_steps: int = param(
        500, "Steps", lo=1, hi=MAX_STEPS, presets=(1, 10, 50, 100, 200, 500, 1000, 2000), group="dynamics"
    )
    n_chains: int = param(
        1000, "Chains", lo=1, hi=MAX_CHAINS, presets=(1, 10, 100, 500, 1000, 2000, 4000), group="dynamics"
    )
    noise_scale: float = param(
        1.0,
        "Noise scale τ",
        lo=0.0,
        hi=3.0,
        slider=True,
        group="dynamics",
        help="τ = 1 samples p; τ < 1 samples the sharper p^(1/τ²), τ = 0 is gradient ascent.",
    )
    mala: bool = param(False, "MALA: accept / reject", group="dynamics", help="Needs log p in closed form.")
    seed: int = param(0, "Seed", lo=0, hi=2**31 - 1, group="dynamics")
    init: str = param("noise", "Start from", choices=INITS, group="start")
    init_scale: float = param(1.0, "Spread s₀ of N(0, s₀² I)", lo=0.0, hi=8.0, slider=True, group="start")
    init_x: float = param(0.0, "Start x", lo=-8.0, hi=8.0, slider=True, group="start")
    init_y: float = param(0.0, "Start y", lo=-8.0, hi=8.0, slider=True, group="start")
    init_mode: int = param(0, "Start at mode", lo=0, hi=63, group="start")
    annealed: bool = param(False, "Annealed Langevin", group="annealing")
    n_levels: int = param(10, "Noise levels L", lo=2, hi=30, slider=True, group="annealing")
    sigma_max: float = param(
        5.0, "Largest noise σ₁", lo=0.01, hi=50.0, presets=(0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 10.0, 20.0), group="annealing"
    )
    sigma_min: float = param(
        0.05, "Smallest noise σ_L", lo=0.001, hi=10.0, presets=(0.01, 0.02, 0.05, 0.1, 0.2, 0.5), group="annealing"
    )


@dataclass(frozen=True)
class Plan:
    """What will actually run: the levels, whether MALA is on, and why anything was changed."""

    levels: list[Level]
    mala: bool
    notices: list[str]


def plan(config: LangevinConfig, source) -> Plan:
    """Levels for plain or annealed Langevin on `source` (an ExactScore or LearnedScore)."""
    notices: list[str] = []
    if config.n_chains * config.n_steps > MAX_WORK:
        steps = max(1, MAX_WORK // config.n_chains)
        notices.append(
            f"{config.n_chains:,} chains × {config.n_steps:,} steps is over the {MAX_WORK:,} chain-steps a run may "
            f"take here: running {steps:,} steps."
        )
        config = dataclasses.replace(config, n_steps=steps)
    mala = config.mala
    if mala and config.noise_scale == 0:
        mala = False
        notices.append("MALA is off: with noise scale τ = 0 the proposal has no spread (q is a point mass).")
    if not config.annealed:
        sigmas, steps, eps = [source.min_sigma], [config.n_steps], [config.step_size]
    else:
        hi, lo = max(config.sigma_max, config.sigma_min), min(config.sigma_max, config.sigma_min)
        if config.sigma_max < config.sigma_min:
            notices.append("σ₁ was below σ_L: the ladder runs from the larger to the smaller.")
        if lo < source.min_sigma or hi > source.max_sigma:
            lo, hi = min(max(lo, source.min_sigma), source.max_sigma), max(min(hi, source.max_sigma), source.min_sigma)
            notices.append(f"Noise levels clipped to what the model knows: σ from {hi:.3g} down to {lo:.3g}.")
        sigmas = geometric_ladder(hi, lo, config.n_levels)
        per = max(1, config.n_steps // len(sigmas))
        steps = [per] * len(sigmas)
        steps[-1] += max(0, config.n_steps - per * len(sigmas))
        if config.n_steps < len(sigmas):
            notices.append(f"{config.n_steps} steps for {len(sigmas)} levels: running one step per level.")
        eps = annealed_steps(config.step_size, sigmas)
    levels = []
    for sigma, n, e in zip(sigmas, steps, eps, strict=True):
        score, log_prob = source.at(sigma)
        levels.append(Level(sigma, e, n, score, log_prob))
    if mala and any(level.log_prob is None for level in levels):
        mala = False
        what = "the noised densities p_σ" if config.annealed else f"{source.density.title}"
        notices.append(f"MALA is off: it needs log p, and {what} has no closed form here.")
    return Plan(levels, mala, notices)


def start_states(config: LangevinConfig, source, generator: torch.Generator) -> tuple[torch.Tensor, list[str]]:
    """Initial chains `[n, 2]`: s0 N(0, I), one point, or a mode (a component mean of a mixture)."""
    n, device = config.n_chains, generator.device
    if config.init == "point":
        return point_start(n, (config.init_x, config.init_y), device), []
    if config.init == "mode":
        density = source.density
        if isinstance(density, GaussianMixture):
            k = min(config.init_mode, density.n_classes - 1)
            note = [] if k == config.init_mode else [f"{density.title} has {density.n_classes} modes: starting at {k}."]
            return point_start(n, density.means[k], device), note
        point = density.sample(1, generator)[0]
        return point_start(n, point, device), [f"{density.title} has no modes in closed form: starting at a sample."]
    return noise_start(n, config.init_scale, generator), []


@dataclass
class LangevinRun:
    """One run: the settings it used, its trajectory, notices, and per-frame quality metrics
    (`metrics[key][i]` scores `trajectory.frames[i]`; `perfect[key]` is a perfect sampler's value)."""

    config: LangevinConfig
    trajectory: Trajectory
    mala: bool
    notices: list[str]
    metrics: dict[str, list[float]]
    metric_names: dict[str, str]
    perfect: dict[str, float]

    def final(self, key: str) -> float:
        values = self.metrics.get(key, [])
        return values[-1] if values else math.nan


def score_frames(frames: torch.Tensor, meter: QualityMeter) -> tuple[dict, dict, dict]:
    """QualityMeter on every frame `[F, n, 2]`: (values per key [F], names, perfect values)."""
    values: dict[str, list[float]] = {}
    names: dict[str, str] = {}
    perfect: dict[str, float] = {}
    for i, frame in enumerate(frames):
        for key, metric in meter(frame).items():
            values.setdefault(key, [math.nan] * i).append(metric.value)
            names[key], perfect[key] = metric.name, metric.perfect
        for series in values.values():
            series.extend([math.nan] * (i + 1 - len(series)))
    return values, names, perfect


def run_chains(
    config: LangevinConfig,
    source,
    device: torch.device | str = "cpu",
    frames: int = MAX_FRAMES,
    reference_size: int = 20000,
) -> LangevinRun:
    """Clamp the settings, plan, start and simulate the chains, and score every recorded frame
    (against `reference_size` target samples for the log-density gap)."""
    config = clamp(config)
    generator = make_generator(config.seed, device)
    with source.lock:
        the_plan = plan(config, source)
        x0, notes = start_states(config, source, generator)
        trajectory = simulate(x0, the_plan.levels, generator, tau=config.noise_scale, mala=the_plan.mala, frames=frames)
    if trajectory.blowup and hasattr(source, "stable_step"):
        # eps_l = eps sigma_l^2 / sigma_L^2 must stay below 2 min_k (s_k^2 + sigma_l^2) at every level
        last = the_plan.levels[-1].sigma ** 2 if config.annealed else 1.0
        limit = min(
            source.stable_step(lv.sigma) * (last / lv.sigma**2 if config.annealed else 1.0) for lv in the_plan.levels
        )
        trajectory.blowup += (
            f" On this density{' with this ladder' if config.annealed else ''} ε must stay below {limit:.3g}."
        )
    meter = QualityMeter(source.density, config.n_chains, seed=config.seed, reference_size=reference_size)
    values, names, perfect = score_frames(trajectory.frames.cpu(), meter)
    return LangevinRun(config, trajectory, the_plan.mala, the_plan.notices + notes, values, names, perfect)


def with_fields(config: LangevinConfig, **changes) -> LangevinConfig:
    """`config` with some fields replaced and clamped (for presets and query parameters)."""
    return clamp(dataclasses.replace(config, **changes))
