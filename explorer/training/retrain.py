"""Retraining a generative model on its own samples, generation after generation (the self-consuming loop).

Generation 0 fits n points of the target. Every generation then adds a batch of n training points: a share
`fresh` (lambda) of real data, fresh draws from the target or (`fixed_real`) drawn from generation 0's real
set, and the rest samples of the previous generation's model. Without `accumulate` a generation trains on its
newest batch only (the replacing loop, which collapses without real data); with it, on every batch so far
(which does not). A family's model starts from fresh weights each generation, or (`fine_tune`) from the
previous generation's; the Gaussian mixture is refitted by EM (`explorer.maths.gmm`).

Each generation is scored against the exact target on samples of its model: the covariance trace, and for
Gaussian mixtures the log-density gap, mode TV and the mass of each mode. A family trains through the
registry and `TrainingSession`, on its page defaults with `steps` per generation, its data a point cloud.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from explorer.configs import param
from explorer.data.densities import Density, GaussianMixture, PointCloud, get_density
from explorer.device import make_generator
from explorer.maths.gmm import fit_gmm
from explorer.maths.metrics import log_density_gap, mode_tv
from explorer.methods import FAMILIES
from explorer.training.session import FINISHED, TrainingSession

MODELS = ("gmm", *FAMILIES)
SCORED_SAMPLES = 4000  # model samples scored per generation (besides the n it hands on)
FILM_POINTS = 600  # samples kept per generation for the filmstrip


@dataclass(frozen=True)
class RetrainConfig:
    """One self-consuming loop (the page's settings; in the URL)."""

    model: str = param("gmm", "Model", choices=MODELS, group="loop")
    density: str = param("eight_gaussians", "Target density", group="loop")
    n: int = param(1000, "Points per generation (n)", lo=10, hi=20_000, group="loop")
    generations: int = param(50, "Generations", lo=1, hi=2000, group="loop")
    fresh: float = param(0.0, "Share of real data λ", lo=0.0, hi=1.0, group="loop", slider=True)
    fixed_real: bool = param(
        False, "Real data from one fixed set", group="loop", help="Off: fresh draws from the target every generation."
    )
    accumulate: bool = param(
        False,
        "Accumulate the data",
        group="loop",
        help="Keep every earlier generation's points instead of replacing them.",
    )
    fine_tune: bool = param(
        False, "Fine-tune", group="model", help="A trained family starts each generation from the previous weights."
    )
    components: int = param(8, "Mixture components (EM)", lo=1, hi=32, group="model")
    steps: int = param(2000, "Training steps per generation", lo=10, hi=100_000, group="model")
    seed: int = param(0, "Seed", lo=0, hi=2**31 - 1, group="model")


@dataclass(frozen=True)
class Generation:
    """What one generation's model does, scored against the exact target."""

    generation: int
    seconds: float
    cov_trace: float
    training_points: int
    logp_gap: float | None = None
    mode_tv: float | None = None
    mode_mass: tuple[float, ...] | None = None
    samples: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.float32), repr=False)

    @property
    def min_mode_mass(self) -> float | None:
        return min(self.mode_mass) if self.mode_mass else None

    def record(self) -> dict:
        """The bench's JSON line."""
        out = {"generation": self.generation, "cov_trace": round(self.cov_trace, 6), "seconds": round(self.seconds, 4)}
        if self.logp_gap is not None:
            out.update(logp_gap=round(self.logp_gap, 4), mode_tv=round(self.mode_tv, 4))
            out["min_mode_mass"] = round(self.min_mode_mass, 4)
        return out


class SelfConsumingLoop:
    """Runs a `RetrainConfig` generation by generation (`step`); thread-safe, so a worker can run it while a
    page reads `generations`."""

    def __init__(self, config: RetrainConfig, density: Density | None = None, scored: int = SCORED_SAMPLES) -> None:
        if config.model not in MODELS:
            raise ValueError(f"unknown model '{config.model}': one of {', '.join(MODELS)}")
        self.config = config
        self.target = density if density is not None else get_density(config.density)
        self.generator = make_generator(config.seed)  # the chain: real draws, fits, the samples handed on
        self.score_generator = make_generator(config.seed + 1)  # the scored samples: the chain does not see them
        self.scored = scored
        if isinstance(self.target, GaussianMixture):  # the data's log p, for the log-density gap
            reference = self.target.sample(20_000, make_generator(config.seed + 2))
            self.reference_logp = self.target.log_prob(reference).double()
        self.real = self.target.sample(config.n, self.generator)  # generation 0's real set
        self.batches: list[torch.Tensor] = [self.real]
        self.generations: list[Generation] = []
        self.lock = threading.Lock()
        self._session: TrainingSession | None = None
        self._samples: torch.Tensor | None = None  # the last generation's n samples

    @property
    def done(self) -> bool:
        return len(self.generations) >= self.config.generations

    def training_set(self) -> torch.Tensor:
        """The points the next generation trains on `[N, 2]`."""
        return torch.cat(self.batches) if self.config.accumulate else self.batches[-1]

    def _next_batch(self) -> torch.Tensor:
        """n points: round(lambda n) real, the rest samples of the last model."""
        cfg = self.config
        n_real = int(round(cfg.fresh * cfg.n))
        if n_real == 0:
            real = self.real[:0]
        elif cfg.fixed_real:
            real = self.real[torch.randperm(cfg.n, generator=self.generator)[:n_real]]
        else:
            real = self.target.sample(n_real, self.generator)
        return torch.cat([real, self._samples[: cfg.n - n_real]])

    def step(self) -> Generation:
        """Fit the next generation and score it."""
        with self.lock:
            if self.generations:
                self.batches.append(self._next_batch())
            data = self.training_set()
            start = time.perf_counter()
            sample, covariance = self._fit_gmm(data) if self.config.model == "gmm" else self._train_family(data)
            self._samples = sample(self.config.n, self.generator)
            seconds = time.perf_counter() - start
            generation = self._score(sample(self.scored, self.score_generator), covariance, seconds, data.shape[0])
            self.generations.append(generation)
            return generation

    def _fit_gmm(self, data: torch.Tensor):
        """(sampler, the model's exact covariance)."""
        fit = fit_gmm(data, self.config.components, self.generator)
        return (lambda n, generator: fit.sample(n, generator).float()), fit.covariance()

    def _train_family(self, data: torch.Tensor):
        cfg, g = self.config, len(self.generations)
        name = f"generation {g}"
        cloud = PointCloud(data, name=name, title=f"Generation {g}'s training data")
        family = FAMILIES[cfg.model]
        config = dataclasses.replace(family.config(), density=name, steps=cfg.steps, seed=cfg.seed + g, device="cpu")
        session = TrainingSession(cfg.model, config, {name: cloud}, quality_every=10**9, quality_period_s=math.inf)
        if cfg.fine_tune and self._session is not None:
            session.method.load_state_dict(self._session.method.state_dict())
        session.start()
        while session.run(1.0):
            pass
        if session.status != FINISHED:
            raise RuntimeError(f"generation {g} did not finish training: {session.message}")
        self._session = session
        return (lambda n, generator: session.method.sample(n, generator).detach().float().cpu()), None

    def _score(self, samples: torch.Tensor, cov: torch.Tensor | None, seconds: float, n_train: int) -> Generation:
        """Metrics of the model's samples `[m, 2]`; the covariance trace is the model's own where it is known
        (`cov` `[2, 2]`, the mixture's), else its samples'."""
        finite = samples[torch.isfinite(samples).all(1)]
        if cov is None:
            cov = torch.cov(finite.double().T) if finite.shape[0] > 1 else torch.full((2, 2), math.nan)
        result = Generation(
            len(self.generations), seconds, float(cov.trace()), n_train, samples=finite[:FILM_POINTS].numpy()
        )
        if isinstance(self.target, GaussianMixture) and finite.shape[0]:
            nearest = self.target.nearest_component(finite)
            mass = torch.bincount(nearest, minlength=self.target.n_classes).double() / finite.shape[0]
            result = dataclasses.replace(
                result,
                logp_gap=log_density_gap(self.target.log_prob(finite).double(), self.reference_logp),
                mode_tv=mode_tv(finite, self.target) if self.target.n_classes > 1 else 0.0,
                mode_mass=tuple(float(m) for m in mass),
            )
        return result


class LoopRunner:
    """Runs a loop's generations in a background thread, one training slot (`explorer.training.slots`) per
    generation, until it is done, paused, or no page has asked about it for IDLE_S (the tab was closed)."""

    IDLE_S = 15.0

    def __init__(self, loop: SelfConsumingLoop, slots=None) -> None:
        from explorer.training.slots import SLOTS

        self.loop, self.slots = loop, slots or SLOTS
        self.error = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen = time.monotonic()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def touch(self) -> None:
        """A page is watching: keep going."""
        self._seen = time.monotonic()

    def start(self) -> None:
        if self.running or self.loop.done:
            return
        self._stop.clear()
        self.touch()
        self._thread = threading.Thread(target=self._work, name="retrain", daemon=True)
        self._thread.start()

    def pause(self) -> None:
        self._stop.set()

    def _work(self) -> None:
        from explorer.device import configure_training_thread

        configure_training_thread()
        while not (self._stop.is_set() or self.loop.done) and time.monotonic() - self._seen < self.IDLE_S:
            if not self.slots.acquire(self, timeout=0.5):
                continue
            try:
                self.loop.step()
            except Exception as err:  # noqa: BLE001 - shown on the page; the loop keeps its generations
                self.error = f"Generation {len(self.loop.generations)} failed: {err}"
                return
            finally:
                self.slots.release(self)
