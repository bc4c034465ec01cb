"""A background thread that trains a session while a page only renders it.

The worker calls `session.run(slice_s)` in a loop, releasing the session's lock between slices
so that UI actions land promptly. It stops by itself when the session stops running, or when no
viewer has called `heartbeat()` for `idle_timeout_s` (the tab was closed or the user went to
another page): the session is then paused with a note, never left training unwatched.

Training needs one of the process-wide slots of `explorer.training.slots` (a cap on how many sessions
train at once, served in turn); while it waits, `queue_position` says how many are ahead.

Rendering reads the network while the worker updates it in place; tensors are never
reallocated, so at worst a frame mixes weights from two consecutive steps.
"""

from __future__ import annotations

import threading
import time

from explorer.device import configure_training_thread
from explorer.training.session import TrainingSession
from explorer.training.slots import QUANTUM_S, SLOTS, TrainingSlots

SLICE_S = 0.05
IDLE_TIMEOUT_S = 15.0  # a page starved of CPU (many browsers on few cores) can miss refreshes for seconds
SLOW_MOTION_PERIOD_S = 0.25  # one step per view refresh


class TrainingWorker:
    """Owns at most one thread training `session`; `ensure_running()` is idempotent."""

    def __init__(
        self,
        session: TrainingSession,
        slice_s: float = SLICE_S,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
        slots: TrainingSlots = SLOTS,
    ) -> None:
        self.session, self.slice_s, self.idle_timeout_s, self.slots = session, slice_s, idle_timeout_s, slots
        session.quality_in_background = True  # a page watches: its quality points are scored beside training
        self._thread: threading.Thread | None = None
        self._last_seen = time.monotonic()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def queue_position(self) -> int | None:
        """Sessions ahead of this one waiting to train (None: training, or not waiting)."""
        return self.slots.position(self) if self.alive else None

    def heartbeat(self) -> None:
        """A viewer is still watching."""
        self._last_seen = time.monotonic()

    def ensure_running(self) -> None:
        """Start the thread if the session is running and no thread is."""
        self.heartbeat()
        if self.session.running and not self.alive:
            self._thread = threading.Thread(target=self._loop, name="training-worker", daemon=True)
            self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        configure_training_thread()
        try:
            while self.session.running and not self._idle():
                if self.slots.acquire(self, timeout=self.slice_s):
                    try:
                        self._train_turn()
                    finally:
                        self.slots.release(self)
        finally:
            self.slots.release(self)

    def _idle(self) -> bool:
        """No viewer for `idle_timeout_s`: pause with a note."""
        if time.monotonic() - self._last_seen <= self.idle_timeout_s:
            return False
        self.session.pause(note="Paused: the page stopped refreshing (tab closed or another page opened).")
        return True

    def _train_turn(self) -> None:
        """Train while holding a slot: until the session stops, or QUANTUM_S has passed and someone waits."""
        session, turn_end = self.session, time.monotonic() + QUANTUM_S
        while session.running and not self._idle():
            session.run(self.slice_s)
            # let a waiting UI action take the lock; in slow motion, pace single steps
            time.sleep(SLOW_MOTION_PERIOD_S if session.config.slow_motion else 0.001)
            if time.monotonic() > turn_end and self.slots.contended():
                return
