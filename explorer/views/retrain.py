"""What the retraining page shows, from `explorer.training.retrain` loops: each run's scores per generation
(earlier runs kept beside the current one), the current run's mass per mode, and its filmstrip."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.training.presets import Preset
from explorer.training.retrain import RetrainConfig, SelfConsumingLoop

FILM_FRAMES = 6  # generations shown side by side


@dataclass(frozen=True)
class RunSeries:
    """One run's scores against the generation (nan where a score does not apply to the target)."""

    label: str
    generation: np.ndarray  # [G]
    cov_trace: np.ndarray
    logp_gap: np.ndarray
    mode_tv: np.ndarray
    min_mode_mass: np.ndarray
    mode_mass: np.ndarray  # [G, K] (K = 0 without modes)
    seconds: np.ndarray


def run_label(config: RetrainConfig) -> str:
    """A run's short name on the curves: model, λ and where real data come from, replace or accumulate, n, seed."""
    model = f"EM({config.components})" if config.model == "gmm" else config.model
    real = "fixed" if config.fixed_real else "fresh"
    data = "accumulate" if config.accumulate else "replace"
    tuned = " · fine-tune" if config.fine_tune and config.model != "gmm" else ""
    return f"{model} · λ {config.fresh:g} {real} · {data} · n {config.n}{tuned} · seed {config.seed}"


def run_series(loop: SelfConsumingLoop, label: str | None = None) -> RunSeries:
    gens = list(loop.generations)

    def col(values) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)

    masses = [g.mode_mass for g in gens if g.mode_mass]
    return RunSeries(
        label or run_label(loop.config),
        np.array([g.generation for g in gens], dtype=np.int64),
        col(g.cov_trace for g in gens),
        col(g.logp_gap for g in gens),
        col(g.mode_tv for g in gens),
        col(g.min_mode_mass for g in gens),
        np.array(masses, dtype=np.float64) if len(masses) == len(gens) and masses else np.zeros((len(gens), 0)),
        col(g.seconds for g in gens),
    )


def hidden_params(config: RetrainConfig) -> set[str]:
    """The settings that do not apply to the chosen model (hidden in the sidebar)."""
    return {"steps", "fine_tune"} if config.model == "gmm" else {"components"}


def film_generations(done: int, frames: int = FILM_FRAMES) -> list[int]:
    """Up to `frames` generations spread over the `done` ones so far, the first and the latest included."""
    if done <= 0:
        return []
    return sorted({int(round(i)) for i in np.linspace(0, done - 1, min(frames, done))})


# Measured with seed 0 (tests/test_page_retrain.py runs each and checks what its sentence says).
PRESETS: dict[str, Preset] = {
    "synthetic": Preset(
        "Fully synthetic (collapse)",
        {
            "model": "gmm",
            "density": "eight_gaussians",
            "n": 100,
            "generations": 200,
            "fresh": 0.0,
            "accumulate": False,
            "components": 8,
        },
        "Each generation fits only the previous one's 100 samples. Watch the smallest mode's mass fall to zero "
        "within 40 generations as modes vanish, the log-density gap climb past 4 nats, and the covariance trace "
        "shrink from 16 to under 1.6 by generation 120: what is left is a small clump.",
    ),
    "half_real": Preset(
        "Half real (stable)",
        {
            "model": "gmm",
            "density": "eight_gaussians",
            "n": 100,
            "generations": 200,
            "fresh": 0.5,
            "accumulate": False,
            "components": 8,
        },
        "Half of every generation's data is fresh from the target: the curves wobble but do not drift, the "
        "covariance trace stays near the target's 16, and every mode keeps a few percent of the samples or more.",
    ),
    "accumulate": Preset(
        "Accumulate instead of replace",
        {
            "model": "gmm",
            "density": "eight_gaussians",
            "n": 100,
            "generations": 60,
            "fresh": 0.0,
            "accumulate": True,
            "components": 8,
        },
        "No new real data, but every earlier generation's points are kept: the training set grows, the errors "
        "stop compounding, and every mode keeps at least 4% of the samples through 60 generations. Run the fully "
        "synthetic demo too: both stay on the same curves.",
    ),
    "few": Preset(
        "Few samples per generation",
        {
            "model": "gmm",
            "density": "gaussian",
            "n": 20,
            "generations": 200,
            "fresh": 0.0,
            "accumulate": False,
            "components": 1,
        },
        "A single Gaussian refitted on 20 of its own samples: the covariance trace shrinks by 1 − 1/20 per "
        "generation on average (the dashed line) and the model collapses toward a point.",
    ),
}
