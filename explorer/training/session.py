"""The one training loop every family runs through.

A `TrainingSession` owns a config, a `Method`, a step counter, the learning-rate schedule and the
loss / quality histories. `run(budget_s)` trains in chunks until the time budget is spent, so a
page can call it from a timed fragment without ever freezing. After every chunk it checks the
losses: a non-finite or exploding loss restores the last good weights, pauses, and says why.
`snapshot()` returns plain CPU numpy arrays for rendering.

Every public method holds `self.lock`, so a training worker thread (`explorer.training.worker`) and the
UI thread can share one session: the worker trains in short slices and the UI's pause, reset
or config change lands between two slices.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import math
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from explorer.configs import TrainingConfig, clamp, learning_rate, needs_reset
from explorer.data.densities import DENSITIES, Density, get_density
from explorer.device import DeviceChoice, configure_training_thread, make_generator, resolve_device
from explorer.maths.metrics import QualityMeter
from explorer.methods import Method, trainable
from explorer.training.evaluator import BackgroundEvaluator

READY, RUNNING, PAUSED, FINISHED, DIVERGED = "ready", "running", "paused", "finished", "diverged"

# A loss this many times the untrained model's counts as divergence even while still finite: far above any healthy
# run's spikes (WGAN critics reach ~100x their first loss and recover) and reached within steps by a run that blows up.
EXPLOSION_FACTOR = 1e4
CHUNK_S = 0.03  # shortest target duration of one chunk: the lock is held and the GIL mostly released this long
# A chunk's bookkeeping (history, last good weights, loss checks) is a few dozen small tensor ops; on
# a busy server each waits for the GIL, and a chunk of 0.03 s could spend ten times that on them.
# The chunk then grows until they are at most 1/BOOKKEEPING_SHARE of it, up to MAX_CHUNK_S.
MAX_CHUNK_S = 0.25
BOOKKEEPING_SHARE = 4
MAX_CHUNK_STEPS = 2048  # bounds one chunk's stacked batches ([steps, batch, dim]) and the losses kept per chunk
EVOLUTION_POINTS = 500  # samples kept per frame of the training-evolution animation
EVOLUTION_FRAMES = 120  # frames kept (older ones thinned evenly)
RATE_WINDOW_S = 2.0  # the steps/s readout averages over this much wall time
# Quality is scored every `quality_every` steps, and at least this often for slow configurations.
QUALITY_PERIOD_S = 2.0
# At most this share of a running session's time (training + evaluation) goes to time-based quality evaluations
# (those beyond the quality points scheduled over a run, `Method.quality_points`). Sampling for it
# is a Python loop of small tensor ops; on a busy server (many sessions rendering in one process)
# every op waits for the GIL, an evaluation then takes seconds, and without this cap a worker
# spent ~80% of its turn evaluating instead of training (profiled with py-spy, ten sessions).
QUALITY_SHARE = 0.25
# Model samples per full-precision quality evaluation (the last point of a run, and whenever training is not
# running). The log-density gap of a sampler's samples is heavy-tailed (a few samples between the modes, log p ~ -20,
# move the mean): at 1,000 the finished defaults of flow matching and diffusion read -0.06 to 0.12 nats over seeds
# 0-4 (0.02 on 20,000 samples); at 2,000, -0.06 to 0.08 and mode TV 0.014-0.039 (1,000: 0.023-0.048).
QUALITY_SAMPLES = 2000
# While training runs, an evaluation draws about QUALITY_PASSES network passes' worth of samples: all of
# QUALITY_SAMPLES for one-pass samplers (GAN, VAE, RealNVP), 160 and 150 for the 100- and 200-step samplers of flow
# matching and diffusion (about 15 and 20 ms an evaluation on a quiet machine against 74 and 140 ms at 2,000), so a
# default run gets its quality points for about what its three full evaluations cost before (the time cap let
# no more through). The perfect-sampler band drawn with the curve follows the sample size.
QUALITY_PASSES = 16_000
RUNNING_SAMPLES_MIN = 150  # below this the mode TV's noise (~0.08 at 150) hides the curve's trend
ENERGY_POINTS = 1000  # the energy distance's floor is computed when a session is made: 0.04 s here, 0.2 s at 2,000
MIN_QUALITY_EVERY = 50  # a short run still trains between its points (12 points of 600 steps: 50 apart)


@dataclass
class History:
    """Loss per chunk (mean over its steps) and quality metrics every `every` steps."""

    loss_steps: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    quality_steps: list[int] = field(default_factory=list)
    quality: dict[str, list[float]] = field(default_factory=dict)
    quality_perfect_at: dict[str, list[float]] = field(default_factory=dict)  # what a perfect sampler scores, per point
    quality_names: dict[str, str] = field(default_factory=dict)
    extra: dict[str, list[float]] = field(default_factory=dict)  # other per-chunk losses (e.g. d_loss)
    # samples at each quality evaluation, for the training-evolution animation: (step, [n, 2])
    frames: list[tuple[int, np.ndarray]] = field(default_factory=list)


@dataclass(frozen=True)
class Snapshot:
    """What a page renders: plain numbers and CPU numpy arrays only."""

    family: str
    step: int
    total_steps: int
    status: str
    message: str
    steps_per_s: float
    lr: float
    n_params: int
    device: str
    device_reason: str
    loss_steps: np.ndarray
    loss: np.ndarray
    quality_steps: np.ndarray
    quality: dict[str, np.ndarray]
    quality_perfect: dict[str, float]  # what a perfect sampler scores at the last point's sample size
    quality_names: dict[str, str]
    samples: np.ndarray  # [n, 2] model samples scored at the last quality evaluation ([0, 2] before any)
    samples_step: int
    extra_losses: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)  # aligned with loss_steps
    # what a perfect sampler scores at each quality point (aligned with quality_steps: cheaper points, wider band)
    quality_perfect_at: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)

    @property
    def progress(self) -> float:
        return min(1.0, self.step / max(1, self.total_steps))


def _clone(state):
    """A deep copy of a state (tensors cloned, nested dicts and lists copied, other values kept)."""
    if isinstance(state, torch.Tensor):
        return state.detach().clone()
    if isinstance(state, dict):
        return {k: _clone(v) for k, v in state.items()}
    if isinstance(state, list | tuple):
        return type(state)(_clone(v) for v in state)
    return state


def _last_finite(values: list[float]) -> float:
    """The last finite value of a series (nan if none)."""
    return next((v for v in reversed(values) if math.isfinite(v)), math.nan)


def _locked(method):
    """Run a TrainingSession method while holding the session's lock."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self.lock:
            return method(self, *args, **kwargs)

    return wrapper


class TrainingSession:
    """Config + method + counters; `run`, `step`, `pause`, `reset`, `update`, `snapshot`."""

    def __init__(
        self,
        family: str,
        config: TrainingConfig | None = None,
        custom_densities: dict[str, Density] | None = None,
        quality_every: int | None = None,
        quality_samples: int = QUALITY_SAMPLES,
        quality_period_s: float = QUALITY_PERIOD_S,
    ) -> None:
        config_cls, self._method_cls = trainable(family)
        self.family = family
        self.custom_densities = custom_densities or {}
        self._quality_every, self.quality_samples = quality_every, quality_samples
        self.quality_period_s = quality_period_s
        self.config = clamp(config if config is not None else config_cls())
        self.notice = ""
        self.lock = threading.RLock()
        # While training runs, score the quality points beside the training thread (`explorer.training.evaluator`):
        # set by the page's TrainingWorker; off, as in the benches and tests, they are scored in the training loop.
        self.quality_in_background = False
        self._generation = 0  # counts rebuilds: a background point of an earlier model is dropped
        self._stopped = threading.Event()  # set exactly while status != RUNNING
        # Guards only the history lists, so that rendering never waits for a training chunk.
        self._history_lock = threading.Lock()
        self._build()

    @property
    def quality_every(self) -> int:
        """Steps between quality evaluations: as given, else about `Method.quality_points` per run of `config.steps`."""
        if self._quality_every is not None:
            return self._quality_every
        return max(MIN_QUALITY_EVERY, self.config.steps // self._method_cls.quality_points)

    @quality_every.setter
    def quality_every(self, steps: int | None) -> None:
        self._quality_every = steps

    # --- construction ----------------------------------------------------------------------
    def _build(self) -> None:
        self._repair_density_names()
        cfg = self.config
        configure_training_thread()
        self.device_choice: DeviceChoice = resolve_device(cfg.device)
        self.density = get_density(cfg.density, self.custom_densities)
        self.method: Method = self._make_method()
        self._generation += 1
        self._evaluator = BackgroundEvaluator(self._make_method)
        self.generator = make_generator(cfg.seed, self.device_choice.device)
        self.sample_seed = cfg.seed + 1
        self.meter = QualityMeter(self.density, self.quality_samples, seed=cfg.seed, energy_points=ENERGY_POINTS)
        self.step_count = 0
        self.status, self.message = READY, ""
        self.history = History()
        self._compute_rate = 0.0  # steps per second inside run(), for sizing chunks
        self._chunk_s = CHUNK_S  # the target duration of one chunk (grows with the bookkeeping's cost)
        self._marks: collections.deque[tuple[float, int]] = collections.deque()  # (time, step) while running
        self._reference_loss: float | None = None
        self._last_good = self._clone_state()
        self._next_quality, self._last_quality_time = 0, time.perf_counter()  # the first point: after the first chunk
        self._kernel_s = 0.0  # seconds spent inside train_chunk, in total (run() reads it per chunk)
        self._quality_s = 0.0  # seconds the training thread spent scoring quality, in total
        self._quality_credit = 0.0  # training seconds not yet matched by evaluation (QUALITY_SHARE)
        self.last_samples, self.last_samples_step = np.zeros((0, 2), dtype=np.float32), 0

    def _repair_density_names(self) -> None:
        """Replace density names that are neither registered nor uploaded (a stale or hand-typed
        value) by the field's default, with a notice instead of an error."""
        known = set(DENSITIES) | set(self.custom_densities)
        for spec in dataclasses.fields(self.config):
            if spec.name in ("density", "source") and getattr(self.config, spec.name) not in known:
                bad = getattr(self.config, spec.name)
                self.config = dataclasses.replace(self.config, **{spec.name: spec.default})
                self.notice = f"There is no density '{bad}' here: using '{spec.default}' instead."

    def _make_method(self) -> Method:
        kwargs = {}
        source = getattr(self.config, "source", None)
        if source is not None:
            kwargs["source"] = get_density(source, self.custom_densities)
        return self._method_cls(self.config, self.density, self.device_choice.device, **kwargs)

    def _clone_state(self) -> dict:
        return _clone(self.method.state_dict())

    # --- controls --------------------------------------------------------------------------
    @property
    def status(self) -> str:
        """READY, RUNNING, PAUSED, FINISHED or DIVERGED."""
        return self._status

    @status.setter
    def status(self, value: str) -> None:
        self._status = value
        (self._stopped.clear if value == RUNNING else self._stopped.set)()

    @property
    def running(self) -> bool:
        return self.status == RUNNING

    def wait_until_stopped(self, timeout: float) -> bool:
        """Block up to `timeout` s while the session runs (a page waiting for the end it is about to see);
        True if it is no longer running. Takes no lock."""
        return self._stopped.wait(timeout)

    def seconds_to_finish(self) -> float:
        """The wall time the remaining steps take at the current rate (inf while unknown or not running)."""
        rate = self.steps_per_s
        return (self.config.steps - self.step_count) / rate if rate > 0 else math.inf

    @_locked
    def start(self) -> None:
        """Train (again): from ready or paused; from finished only if the step budget grew."""
        self._marks.clear()
        if self.step_count >= self.config.steps:
            self.status, self.message = FINISHED, self._finished_message()
            return
        self.status, self.message = RUNNING, ""

    @_locked
    def pause(self, note: str = "") -> None:
        """Stop training after the current chunk; `note` says why when it was not the user. The quality curve's
        last point is then scored at full precision."""
        if self.status == RUNNING:
            self.status, self.message = PAUSED, note
            self.evaluate_quality(full=True)

    @_locked
    def reset(self) -> None:
        """Fresh weights from the seed; the config is kept."""
        self._build()

    @_locked
    def update(self, config: TrainingConfig) -> str:
        """Adopt a new config: live fields apply in place, others rebuild. Returns a notice ('' if none)."""
        config = clamp(config)
        if config == self.config:
            return ""
        changed = needs_reset(self.config, config)
        old_steps, self.config = self.config.steps, config
        if changed:
            labels = ", ".join(f.metadata.get("label", f.name) for f in dataclasses.fields(config) if f.name in changed)
            self._build()
            self.notice = f"Changed {labels}: the model was reset."
            return self.notice
        self.method.apply_live(config)
        if self.status == FINISHED and config.steps > old_steps:
            self.status, self.message = PAUSED, ""
        self.notice = ""
        return ""

    # --- training --------------------------------------------------------------------------
    @_locked
    def run(self, budget_s: float) -> int:
        """Train for about `budget_s` seconds of wall time if running; returns steps taken."""
        if not self.running:
            return 0
        taken, start = 0, time.perf_counter()
        if not self._marks:
            self._marks.append((start, self.step_count))
        if self.config.slow_motion:  # one step per call; the worker paces the calls
            taken += self._train(1)
        while self.running and time.perf_counter() - start < budget_s and not self.config.slow_motion:
            chunk_start, kernel_s, quality_s = time.perf_counter(), self._kernel_s, self._quality_s
            size = max(1, min(MAX_CHUNK_STEPS, int(self._compute_rate * self._chunk_s) or 8))
            if (to_point := self._next_quality - self.step_count) > 0:  # a chunk ends at the next scheduled point
                size = min(size, to_point)
            steps = self._train(size)
            taken += steps
            kernel = self._kernel_s - kernel_s
            if steps and kernel > 0:
                # sized on the training call alone: bookkeeping that slows down on a busy server (every
                # tensor op waits for the GIL) must not shrink the chunks it is amortised over
                rate = steps / kernel
                # smoothed over about three chunks: one slow chunk (a GC pause, a busy core) does not halve the next
                self._compute_rate = rate if self._compute_rate == 0 else 0.7 * self._compute_rate + 0.3 * rate
            bookkeeping = time.perf_counter() - chunk_start - kernel - (self._quality_s - quality_s)
            self._chunk_s = min(MAX_CHUNK_S, max(CHUNK_S, 0.5 * self._chunk_s + 0.5 * BOOKKEEPING_SHARE * bookkeeping))
        now = time.perf_counter()
        self._marks.append((now, self.step_count))
        while len(self._marks) > 2 and now - self._marks[1][0] > RATE_WINDOW_S:
            self._marks.popleft()
        return taken

    @property
    def steps_per_s(self) -> float:
        """Wall-clock training rate over the last few seconds of running (0 when not running)."""
        if not self.running or len(self._marks) < 2:
            return 0.0
        (t0, s0), (t1, s1) = self._marks[0], self._marks[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else 0.0

    @_locked
    def step_part(self, part: str) -> bool:
        """One discriminator ("d") or generator ("g") update of a two-player method (GANs); only a
        generator update counts as a step. Returns False when the method has no such parts."""
        if not hasattr(self.method, "train_part") or self.status == RUNNING or part not in ("d", "g"):
            return False
        result = self.method.train_part(part, learning_rate(self.config, self.step_count), self.generator)
        series = {k: v.detach().float().cpu().reshape(-1) for k, v in result.items()}
        if (worst := self._divergence(series)) is not None:
            self._diverged(worst)
            return True
        self._last_good = self._clone_state()
        if part == "g":
            self.step_count += 1
        with self._history_lock:
            self.history.loss_steps.append(self.step_count)
            self.history.loss.append(
                float(result["loss"])
                if "loss" in result
                else (self.history.loss[-1] if self.history.loss else math.nan)
            )
            for key in {*self.history.extra, *result} - {"loss"}:
                series = self.history.extra.setdefault(key, [math.nan] * (len(self.history.loss) - 1))
                series.append(float(result[key].mean()) if key in result else math.nan)
        if self.status not in (DIVERGED, FINISHED):
            self.status = PAUSED
        return True

    @_locked
    def step(self, n: int = 1) -> int:
        """Take exactly n steps now (the Step button), whatever the status."""
        if self.status in (RUNNING, FINISHED) or self.step_count >= self.config.steps:
            return 0
        if self.status == DIVERGED:  # stepping on from the kept weights clears the stale fault
            self.status, self.message = PAUSED, ""
        taken = self._train(n)
        if self.status not in (DIVERGED, FINISHED):
            self.status = PAUSED
        return taken

    def _train(self, n: int) -> int:
        n = min(n, self.config.steps - self.step_count)
        if n <= 0:
            self.status, self.message = FINISHED, self._finished_message()
            return 0
        lrs = [learning_rate(self.config, self.step_count + i) for i in range(n)]
        start = time.perf_counter()
        result = self.method.train_chunk(lrs, self.generator)
        took = time.perf_counter() - start
        self._kernel_s += took
        self._quality_credit += took
        series = {
            k: v.detach().float().cpu() for k, v in (result if isinstance(result, dict) else {"loss": result}).items()
        }
        losses = series["loss"]
        if (worst := self._divergence(series)) is not None:
            self._diverged(worst)
            return 0
        self.step_count += n
        self._last_good = self._clone_state()
        with self._history_lock:
            self.history.loss_steps.append(self.step_count)
            self.history.loss.append(float(losses.mean()))
            for key, values in series.items():
                if key != "loss":
                    self.history.extra.setdefault(key, []).append(float(values.mean()))
        now = time.perf_counter()
        # The default schedule's quality points always score, so that every run has its curve; the time-based
        # points of a slow run and a denser schedule only within QUALITY_SHARE of the time; explicit steps always.
        within_share = not (self.running and self._quality_credit < 0)
        default_schedule = self.quality_every >= self.config.steps // self._method_cls.quality_points
        scheduled = self.step_count >= self._next_quality and (default_schedule or within_share)
        timed = now - self._last_quality_time >= self.quality_period_s and within_share
        if self.step_count >= self.config.steps:
            self.evaluate_quality(full=True)
            self.status, self.message = FINISHED, self._finished_message()
        elif scheduled or timed:
            self.evaluate_quality()
        return n

    def _divergence(self, series: dict[str, torch.Tensor]) -> float | None:
        """The worst |value| of a chunk's (or a part step's) losses `{name: [n]}` when training diverged: not finite,
        or over EXPLOSION_FACTOR times the untrained model's loss (the first finite "loss" seen); else None."""
        first = series.get("loss")
        if self._reference_loss is None and first is not None and first.numel() and math.isfinite(float(first[0])):
            self._reference_loss = max(abs(float(first[0])), 1.0)  # the untrained model's loss
        worst = max((float(v.abs().max()) for v in series.values() if v.numel()), default=0.0)
        exploded = self.method.bounded_loss and worst > EXPLOSION_FACTOR * (self._reference_loss or 1.0)
        return worst if not math.isfinite(worst) or exploded else None

    def _diverged(self, worst: float) -> None:
        self.method.load_state_dict(self._last_good)
        kind = "not a number" if math.isnan(worst) else ("infinite" if math.isinf(worst) else f"{worst:.3g}")
        self.status = DIVERGED
        self.message = (
            f"Training diverged at step {self.step_count + 1}: the loss became {kind} "
            f"(learning rate {self.config.lr:g}). The last good weights (step {self.step_count}) are "
            f"kept. {self.method.divergence_hint()}"
        )

    @_locked
    def load_weights(self, state: dict, step: int) -> None:
        """Adopt weights from a checkpoint (validated by `explorer.training.checkpoint.load`): paused at `step`,
        histories restarted from there."""
        self.method.load_state_dict(state)
        self._last_good = self._clone_state()
        self.step_count = min(max(0, step), self.config.steps)
        self.history = History()
        self._marks.clear()
        self.status, self.message = PAUSED, f"Loaded a checkpoint trained for {step:,} steps."
        self.evaluate_quality()

    def evolution(self) -> list[tuple[int, np.ndarray]]:
        """Samples at each quality evaluation so far: (step, [n, 2]) pairs, oldest first."""
        with self._history_lock:
            return list(self.history.frames)

    def _finished_message(self) -> str:
        return f"Finished {self.config.steps:,} steps. Raise 'Training steps' to train on."

    @property
    def running_quality_samples(self) -> int:
        """Samples per evaluation while training runs: about QUALITY_PASSES network passes' worth."""
        passes, _ = self._method_cls.evaluations_per_sample(self.config)
        return min(self.quality_samples, max(RUNNING_SAMPLES_MIN, QUALITY_PASSES // max(1, passes)))

    @_locked
    def evaluate_quality(self, full: bool | None = None) -> None:
        """Score fresh model samples against the target; appended to the quality history. `full` (default: when not
        running) draws `quality_samples`, else `running_quality_samples`; a full score replaces a cheaper one of
        the same step. A cheaper one is scored in the background when `quality_in_background`."""
        full = not self.running if full is None else full
        n = self.quality_samples if full else self.running_quality_samples
        self._last_quality_time = time.perf_counter()
        every = self.quality_every
        self._next_quality = (self.step_count // every + 1) * every  # multiples of quality_every
        if self.quality_in_background and not full:
            job = functools.partial(self._score, n=n, step=self.step_count, generation=self._generation)
            self._evaluator.submit(self._clone_state(), self.config, job)
            return
        self._evaluator.wait()  # the background points come first
        h = self.history
        if h.quality_steps and h.quality_steps[-1] == self.step_count and self.last_samples.shape[0] >= n:
            return
        self._quality_s += self._score(self.method, n, self.step_count, self._generation)

    def _score(self, method: Method, n: int, step: int, generation: int) -> float:
        """Score `n` samples of `method` (the model at `step`) and record them, unless the model was rebuilt since;
        returns the seconds it took."""
        start = time.perf_counter()
        generator = make_generator(self.sample_seed, self.device_choice.device)
        if (metrics := method.quality(n, generator)) is None:
            samples = method.sample(n, generator)
            metrics = self.meter(samples)
        else:  # a model without samples (a critic) scores itself
            samples = torch.zeros((0, 2))
        took = time.perf_counter() - start
        h = self.history
        with self._history_lock:
            if generation != self._generation:
                return took
            self._quality_credit = min(self._quality_credit, 0.0) - took * (1 - QUALITY_SHARE) / QUALITY_SHARE
            if h.quality_steps and h.quality_steps[-1] == step:  # the same step scored again, at a higher precision
                h.quality_steps.pop()
                if h.frames and h.frames[-1][0] == step:
                    h.frames.pop()
                for series in (*h.quality.values(), *h.quality_perfect_at.values()):
                    series.pop()
            self.last_samples = samples.detach().float().cpu().numpy()
            self.last_samples_step = step
            h.frames.append((step, self.last_samples[:EVOLUTION_POINTS]))
            if len(h.frames) > EVOLUTION_FRAMES:  # keep the first frame, thin the rest evenly
                del h.frames[1::2]
            h.quality_steps.append(step)
            for key, metric in metrics.items():
                for table, value in ((h.quality, metric.value), (h.quality_perfect_at, metric.perfect)):
                    table.setdefault(key, [math.nan] * (len(h.quality_steps) - 1)).append(value)
                h.quality_names[key] = metric.name
            for series in (*h.quality.values(), *h.quality_perfect_at.values()):
                series.extend([math.nan] * (len(h.quality_steps) - len(series)))
        return took

    # --- rendering -------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        """The current state for rendering; takes only the history lock, never waits for training."""
        h = self.history
        with self._history_lock:
            return self._snapshot(h)

    def _snapshot(self, h: History) -> Snapshot:
        return Snapshot(
            family=self.family,
            step=self.step_count,
            total_steps=self.config.steps,
            status=self.status,
            message=self.message or self.notice,
            steps_per_s=self.steps_per_s,
            lr=learning_rate(self.config, self.step_count),
            n_params=self.method.n_params,
            device=self.device_choice.device.type,
            device_reason=self.device_choice.reason,
            loss_steps=np.asarray(h.loss_steps, dtype=np.int64),
            loss=np.asarray(h.loss, dtype=np.float64),
            quality_steps=np.asarray(h.quality_steps, dtype=np.int64),
            quality={k: np.asarray(v, dtype=np.float64) for k, v in h.quality.items()},
            quality_perfect={k: _last_finite(v) for k, v in h.quality_perfect_at.items()},
            quality_names=dict(h.quality_names),
            samples=self.last_samples,
            samples_step=self.last_samples_step,
            extra_losses={k: np.asarray(v, dtype=np.float64) for k, v in h.extra.items()},
            quality_perfect_at={k: np.asarray(v, dtype=np.float64) for k, v in h.quality_perfect_at.items()},
        )

    def sample_generator(self) -> torch.Generator:
        """A generator seeded the same way every call, so views use the same noise frame to frame."""
        return make_generator(self.sample_seed, self.device_choice.device)
