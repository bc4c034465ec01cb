"""A process-wide cap on how many sessions train at once, served in turn.

Every user's `TrainingWorker` lives in the same server process. With one torch thread per
trainer, more trainers than cores only slow everybody down and starve the threads that render
pages, so a worker must hold a slot to train. Waiting workers queue first come, first served; a
holder gives its slot back after `QUANTUM_S` when someone is waiting, then queues again, so ten
students training at once each get their turn and every page keeps refreshing. The waiting
ones show their place in the queue.

The capacity is `EXPLORER_MAX_TRAINING` from the environment, else one less than the cores this
process may use (at least one): the remaining core serves the pages. In a container the cores are its CPU limit,
given as `EXPLORER_CPU_LIMIT` (deploy/kubernetes/deployment.yaml sets it from the pod's limit).
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque

QUANTUM_S = 1.0


def default_capacity() -> int:
    """`EXPLORER_MAX_TRAINING`, else the cores minus one: `EXPLORER_CPU_LIMIT` (a container's CPU limit, which the
    scheduler enforces but the affinity mask does not show), else the cores this process may run on."""
    if (configured := os.environ.get("EXPLORER_MAX_TRAINING", "").strip()).isdigit() and int(configured) > 0:
        return int(configured)
    if (limit := os.environ.get("EXPLORER_CPU_LIMIT", "").strip()).isdigit() and int(limit) > 0:
        return max(1, int(limit) - 1)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores - 1)


class TrainingSlots:
    """`capacity` slots handed out in arrival order; owners are any hashable (a worker)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, int(capacity))
        self._cond = threading.Condition()
        self._queue: deque = deque()
        self._holders: set = set()

    def acquire(self, owner, timeout: float) -> bool:
        """Queue `owner` (once) and wait up to `timeout` s for a slot; True once it holds one."""
        deadline = time.monotonic() + timeout
        with self._cond:
            if owner in self._holders:
                return True
            if owner not in self._queue:
                self._queue.append(owner)
            while not (self._queue[0] is owner and len(self._holders) < self.capacity):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            self._queue.popleft()
            self._holders.add(owner)
            self._cond.notify_all()  # the next in line may fit too
            return True

    def release(self, owner) -> None:
        """Give the slot back (and leave the queue, if waiting)."""
        with self._cond:
            self._holders.discard(owner)
            if owner in self._queue:
                self._queue.remove(owner)
            self._cond.notify_all()

    def contended(self) -> bool:
        """Someone is waiting for a slot."""
        return bool(self._queue)

    def position(self, owner) -> int | None:
        """How many are ahead of `owner` in the queue (None: not waiting)."""
        with self._cond:
            return self._queue.index(owner) if owner in self._queue else None

    @property
    def training(self) -> int:
        return len(self._holders)


SLOTS = TrainingSlots(default_capacity())
