"""Quality points scored on a second thread, from a copy of the weights, while training goes on.

On a page, a running session's quality points (a dozen or more per run, `Method.quality_points`) are samples
drawn through the model's sampler: for flow matching and diffusion a loop of 100-200 network passes, 20-40 ms
each on a quiet core, 0.3-0.6 s over a default run of 1-2 s. Scored inside the training loop they stopped the
training thread each time; scored here they run beside it, on the core the page's server and browser share,
and the training thread only hands over a copy of the weights. The thread runs at a lower priority (niceness
`NICE`), so that it takes the time training and the page leave idle rather than theirs.

The copy goes into a twin of the session's `Method` (built once, same config), which only ever samples. Jobs run
one at a time in submission order, so the points stay in step order; `submit` never waits (a run has a few dozen
points at most, each a copy of a small network's weights), `wait` does until all are done. The thread ends after
`IDLE_S` without work and starts again on the next job.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import threading
from collections.abc import Callable

from explorer.configs import TrainingConfig
from explorer.device import configure_training_thread
from explorer.methods import Method

IDLE_S = 10.0
NICE = 10  # the thread's niceness on Linux: it takes what training and the page leave idle
_LOGGER = logging.getLogger(__name__)

Job = Callable[[Method], None]


class BackgroundEvaluator:
    """Runs `job(twin)` on its own thread, the twin holding the weights given with the job."""

    def __init__(self, make_method: Callable[[], Method]) -> None:
        self._make_method = make_method
        self._twin: Method | None = None
        self._cond = threading.Condition()
        self._jobs: collections.deque[tuple[dict, TrainingConfig, Job]] = collections.deque()
        self._busy = False  # a job is queued or running
        self._thread: threading.Thread | None = None

    def submit(self, state: dict, config: TrainingConfig, job: Job) -> None:
        """Queue `job` for a twin holding `state` under `config`'s live fields. `state` must not change afterwards
        (a clone)."""
        with self._cond:
            self._jobs.append((state, config, job))
            self._busy = True
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="quality-evaluator", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no job is queued or running; True if so within `timeout`."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._busy, timeout)

    def _loop(self) -> None:
        configure_training_thread()
        with contextlib.suppress(AttributeError, OSError):  # per-thread niceness: Linux only
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)
        while True:
            with self._cond:
                if not self._cond.wait_for(lambda: bool(self._jobs), IDLE_S):
                    self._thread = None
                    return
                state, config, job = self._jobs.popleft()
            try:
                if self._twin is None:
                    self._twin = self._make_method()
                self._twin.apply_live(config)
                self._twin.load_state_dict(state)
                job(self._twin)
            except Exception:  # noqa: BLE001 - a failed point must not stop the next ones; training goes on
                _LOGGER.exception("quality evaluation failed")
            finally:
                with self._cond:
                    self._busy = bool(self._jobs)
                    self._cond.notify_all()
