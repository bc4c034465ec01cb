"""Every family on one density, with equal wall-clock budgets: which model to use for what.

A `Comparison` trains each family's default page configuration (only the density, seed and device
changed) through its own `TrainingSession`, for `budget_s` seconds of wall time each, then scores
`n_samples` samples with the session's `QualityMeter` and times the sampler. Decisions:

- **One family at a time.** Families train sequentially in one background thread, so each gets the
  machine to itself (two cores here: running five at once would measure contention, not the models).
  A comparison of F families therefore takes about F x budget seconds.
- **Untimed warm-up.** TorchScript kernels compile on their first chunk (~0.5 s); a few steps are
  taken and the weights reset before the clock starts, so compilation is not charged to the budget.
- **Schedule fitted to the budget** (`fit_schedule`, on by default). Families with a cosine learning-
  rate schedule decay it over their default step count; a slower family cut off by the budget would
  stop mid-schedule at a high rate. While training, the run's step count is re-estimated from the
  measured rate so that the decay ends with the budget (never beyond the default count). A family
  that reaches its default count sooner stops there, and its seconds say so.
- **Network evaluations per sample** as in `explorer.training.sampling_cost` (RealNVP: one pass through its flow),
  next to the measured time to draw 1,000 samples.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from explorer.configs import TrainingConfig, param
from explorer.data.densities import Density
from explorer.device import DEVICE_OPTIONS, configure_training_thread
from explorer.maths.entropy import target_entropy
from explorer.methods import FAMILIES, Method
from explorer.training.sampling_cost import evaluations_per_sample, sampling_seconds, synchronize
from explorer.training.session import DIVERGED, FINISHED, RUNNING, TrainingSession
from explorer.training.slots import SLOTS, TrainingSlots

SLICE_S = 0.1  # one session.run call: the stop flag and the schedule fit are checked this often
WARMUP_STEPS = 8
TIMING_SAMPLES = 1000  # sampling time is reported per this many samples
NLL_POINTS = 1000  # fresh data points for the NLL of the families with a likelihood (standard error ~0.04 nats)
IDLE_TIMEOUT_S = 15.0  # a busy 2-core machine can delay a page's refreshes by several seconds
FIT_AFTER, FIT_MARGIN = 0.2, 1.05  # schedule fitting: from this fraction of the budget on; spare steps

READY, DONE, STOPPED = "ready", "done", "stopped"  # a comparison's status (and RUNNING, as a session's)


@dataclasses.dataclass(frozen=True)
class CompareConfig:
    """The Compare page's settings (widgets keyed `cmp.{field}`; in the URL via `explorer.ui.share`)."""

    density: str = param("eight_gaussians", "Target density", help="Uploads from the Densities page are offered too.")
    budget_s: int = param(
        10, "Seconds per family", lo=2, hi=60, slider=True, help="Wall-clock training time each family gets."
    )
    seed: int = param(0, "Seed", lo=0, hi=2**31 - 1)
    device: str = param("auto", "Device", choices=DEVICE_OPTIONS)
    families: str = param(",".join(FAMILIES), "Families", help="Comma-separated registry names.")
    fit_schedule: bool = param(
        True,
        "Fit the learning-rate schedule to the budget",
        help="A cosine schedule then decays to 0 when the budget ends, instead of being cut off part way.",
    )


def parse_families(text: str) -> tuple[list[str], list[str]]:
    """(registered families named in comma-separated `text`, in registry order; unknown names)."""
    names = [n.strip() for n in str(text).split(",") if n.strip()]
    return [f for f in FAMILIES if f in names], [n for n in names if n not in FAMILIES]


def family_title(family: str) -> str:
    entry = FAMILIES.get(family)
    return entry.title if entry is not None else family.replace("_", " ").capitalize()


@dataclass(frozen=True)
class FamilyResult:
    """One family's run: its samples `[n, 2]` (CPU numpy), quality metrics by key, and what it cost."""

    family: str
    ended: str  # "budget", "schedule done", "stopped", "diverged" or "error"
    message: str = ""
    steps: int = 0
    schedule_steps: int = 0  # the step count the learning-rate schedule spanned (fitted, or the default)
    seconds: float = 0.0
    nfe: int = 0
    nfe_note: str = ""
    sample_ms: float = math.nan  # wall time to draw TIMING_SAMPLES samples
    n_params: int = 0
    samples: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.float32))
    metrics: dict[str, float] = field(default_factory=dict)
    perfect: dict[str, float] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    exact_log_prob: bool = False  # the model itself gives log p(x) of new points

    @property
    def title(self) -> str:
        return family_title(self.family)

    @property
    def ok(self) -> bool:
        return self.ended != "error" and bool(self.metrics) and "nonfinite" not in self.metrics


@dataclass(frozen=True)
class Progress:
    """What the page renders while a comparison runs (and after)."""

    status: str
    families: tuple[str, ...]
    results: tuple[FamilyResult, ...]
    current: str | None
    current_step: int
    current_elapsed: float
    budget_s: float
    note: str
    queue_position: int | None = None  # sessions ahead of it for a training slot (None: not waiting)

    @property
    def fraction(self) -> float:
        """Overall progress in [0, 1]: finished families plus the current one's share of its budget."""
        if not self.families:
            return 1.0
        part = min(1.0, self.current_elapsed / self.budget_s) if self.current else 0.0
        return min(1.0, (len(self.results) + part) / len(self.families))


class Comparison:
    """Train `families` one after another on `density` for `budget_s` each; `start()` runs it in a thread.

    `run()` does the work in the calling thread (tests, scripts); `progress()` never waits for training.
    """

    def __init__(
        self,
        families: Sequence[str],
        density: str = "eight_gaussians",
        budget_s: float = 10.0,
        seed: int = 0,
        device: str = "auto",
        custom_densities: dict[str, Density] | None = None,
        fit_schedule: bool = True,
        n_samples: int = 2000,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
        slots: TrainingSlots = SLOTS,
    ) -> None:
        unknown = [f for f in families if f not in FAMILIES]
        if unknown:
            raise KeyError(f"unknown families: {', '.join(unknown)}")
        self.families = tuple(families)
        self.density, self.budget_s, self.seed, self.device = density, float(budget_s), int(seed), device
        self.custom_densities = custom_densities or {}
        self.fit_schedule, self.n_samples, self.idle_timeout_s = fit_schedule, n_samples, idle_timeout_s
        self.slots = slots
        self.notes: list[str] = []  # a density that fell back, a device that fell back
        self._results: list[FamilyResult] = []
        self._session: TrainingSession | None = None
        self._started = 0.0
        self._status = READY
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._last_seen = time.monotonic()
        self._note = ""

    # --- control ---------------------------------------------------------------------------
    def start(self) -> None:
        """Run in a background thread (idempotent); it stops if `heartbeat()` is not called for a while."""
        self.heartbeat()
        if self._thread is None:
            self._status = RUNNING
            self._thread = threading.Thread(target=self.run, name="comparison", daemon=True)
            self._thread.start()

    def stop(self, note: str = "Stopped.") -> None:
        """End the current family's training now (its model is still scored) and skip the rest."""
        if self._status in (READY, RUNNING):
            self._note = note
            self._stop.set()
            if self._thread is None:
                self._status = STOPPED

    def heartbeat(self) -> None:
        """A viewer is still watching."""
        self._last_seen = time.monotonic()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _unwatched(self) -> bool:
        """Started for a page (`start()`) and no heartbeat for `idle_timeout_s`."""
        return self._thread is not None and time.monotonic() - self._last_seen > self.idle_timeout_s

    @property
    def running(self) -> bool:
        return self._status == RUNNING

    # --- the work ----------------------------------------------------------------------------
    def run(self) -> list[FamilyResult]:
        """Train and score every family in turn; returns the results (also in `progress()`).

        The whole comparison holds one of the server's training slots (`explorer.training.slots`), so that
        every family's budget is uninterrupted time; it waits its turn first, like a page does."""
        configure_training_thread()
        self._status = RUNNING
        while not self.slots.acquire(self, timeout=SLICE_S):
            if self._stop.is_set() or self._unwatched():
                self.slots.release(self)
                self._status = STOPPED
                return []
        try:
            for family in self.families:
                if self._stop.is_set():
                    break
                result = self._guarded(family)
                with self._lock:
                    self._results.append(result)
                    self._session = None
        finally:
            self.slots.release(self)
        self._status = STOPPED if self._stop.is_set() else DONE
        return list(self._results)

    def _guarded(self, family: str) -> FamilyResult:
        try:
            return self._run_family(family)
        except Exception as err:  # noqa: BLE001 - one family's bug must not end the comparison
            return FamilyResult(family, "error", f"{type(err).__name__}: {err}")

    def _config(self, family: str) -> TrainingConfig:
        config_cls = FAMILIES[family].config
        return config_cls(density=self.density, seed=self.seed, device=self.device)

    def _run_family(self, family: str) -> FamilyResult:
        session = TrainingSession(
            family,
            self._config(family),
            self.custom_densities,
            quality_every=10**12,
            quality_samples=self.n_samples,
            quality_period_s=math.inf,
        )
        for note in (session.notice, session.device_choice.reason if session.device_choice.fell_back else ""):
            if note and note not in self.notes:
                self.notes.append(note)
        session.step(WARMUP_STEPS)  # compiles the family's kernels; the weights are reset below
        session.reset()
        scoring = _time_scoring(session)
        default_steps = session.config.steps
        with self._lock:
            self._session, self._started = session, time.perf_counter()
        session.start()
        elapsed = 0.0
        while elapsed < self.budget_s:
            if self._stop.is_set() or self._unwatched():
                if not self._stop.is_set():
                    self.stop("Stopped: the page stopped refreshing (tab closed or another page opened).")
                break
            if self.fit_schedule:
                _fit_schedule(session, elapsed, self.budget_s, default_steps)
            if not session.running:
                break
            session.run(min(SLICE_S, self.budget_s - elapsed))
            synchronize(session.device_choice.device)
            elapsed = time.perf_counter() - self._started - scoring[0]
        session.pause()
        return self._score(session, elapsed, default_steps)

    def _score(self, session: TrainingSession, seconds: float, default_steps: int) -> FamilyResult:
        method: Method = session.method
        session.evaluate_quality()
        snap = session.snapshot()
        metrics = {k: float(v[-1]) for k, v in snap.quality.items() if len(v)}
        perfect, names = dict(snap.quality_perfect), dict(snap.quality_names)
        if method.has_log_prob:  # RealNVP; flow matching and diffusion by their ODE
            data = session.density.sample(NLL_POINTS, session.sample_generator())
            metrics["nll"], names["nll"] = float(-method.log_prob(data).double().mean()), "NLL (nats)"
            if (entropy := target_entropy(session.density)) is not None:
                perfect["nll"] = entropy.value  # E_p[-log p] of the target itself
        sample_s = sampling_seconds(method, session.sample_generator, TIMING_SAMPLES)
        nfe, note = evaluations_per_sample(session.family, session.config)
        if snap.status == DIVERGED:
            ended = "diverged"
        elif self._stop.is_set():
            ended = "stopped"
        elif snap.status == FINISHED and session.step_count >= default_steps:
            ended = "schedule done"
        else:
            ended = "budget"
        return FamilyResult(
            family=session.family,
            ended=ended,
            message=snap.message if snap.status == DIVERGED else "",
            steps=session.step_count,
            schedule_steps=session.config.steps,
            seconds=seconds,
            nfe=nfe,
            nfe_note=note,
            sample_ms=1000 * sample_s,
            n_params=method.n_params,
            samples=snap.samples,
            metrics=metrics,
            perfect=perfect,
            names=names,
            exact_log_prob=method.has_log_prob,
        )

    # --- reading -------------------------------------------------------------------------------
    def progress(self) -> Progress:
        with self._lock:
            session, results = self._session, tuple(self._results)
            elapsed = time.perf_counter() - self._started if session is not None else 0.0
        return Progress(
            status=self._status,
            families=self.families,
            results=results,
            current=session.family if session is not None else None,
            current_step=session.step_count if session is not None else 0,
            current_elapsed=min(elapsed, self.budget_s),
            budget_s=self.budget_s,
            note=self._note,
            queue_position=self.slots.position(self),
        )


def _fit_schedule(session: TrainingSession, elapsed: float, budget_s: float, default_steps: int) -> None:
    """Set the run's step count so that its learning-rate schedule ends with the budget (at most the default).

    The count is re-estimated before every slice from the mean rate so far, with FIT_MARGIN to spare so
    that the budget, not the schedule, ends the run; the first FIT_AFTER of the budget (at most 1 s) keeps
    the default while the rate settles. A run that an early estimate let finish is resumed.
    """
    if elapsed < min(1.0, FIT_AFTER * budget_s) or session.step_count >= default_steps:
        return
    if session.status not in (RUNNING, FINISHED):
        return
    rate = session.step_count / elapsed
    target = session.step_count + FIT_MARGIN * rate * max(0.0, budget_s - elapsed)
    steps = int(min(default_steps, max(session.step_count + 1, math.ceil(target))))
    if abs(steps - session.config.steps) > 0.005 * session.config.steps or session.status == FINISHED:
        session.update(dataclasses.replace(session.config, steps=steps))
        if session.status != RUNNING:
            session.start()


def _time_scoring(session: TrainingSession) -> list[float]:
    """Wrap the session's `evaluate_quality` (this instance only) to add its wall time to the returned
    one-element list: the session scores its final model inside `run()` when it finishes, and scoring
    is not training, so it is not charged to the budget."""
    spent = [0.0]
    evaluate = session.evaluate_quality

    def timed(**kwargs) -> None:
        start = time.perf_counter()
        evaluate(**kwargs)
        spent[0] += time.perf_counter() - start

    session.evaluate_quality = timed
    return spent
