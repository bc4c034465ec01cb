"""explorer.training.worker.TrainingWorker: trains in the background, yields to UI actions, stops unwatched."""

from __future__ import annotations

import time

from explorer.methods import FlowMatchingConfig
from explorer.training.session import PAUSED, TrainingSession
from explorer.training.worker import TrainingWorker

SMALL = FlowMatchingConfig(hidden=16, depth=2, batch_size=64, steps=10**6)


def _wait_for(predicate, seconds: float = 20.0) -> bool:
    end = time.monotonic() + seconds
    while not predicate() and time.monotonic() < end:
        time.sleep(0.01)
    return predicate()


def test_worker_trains_while_running_and_pause_lands_promptly() -> None:
    session = TrainingSession("flow_matching", SMALL, quality_every=10**9)
    worker = TrainingWorker(session, slice_s=0.02)
    worker.ensure_running()
    assert not worker.alive  # not started: the session is not running
    session.start()
    worker.ensure_running()
    assert _wait_for(lambda: session.step_count > 100)
    session.pause()
    steps = session.step_count
    worker.join(5)
    assert not worker.alive
    assert session.status == PAUSED and session.step_count == steps


def test_worker_pauses_the_session_when_nobody_watches() -> None:
    session = TrainingSession("flow_matching", SMALL, quality_every=10**9)
    worker = TrainingWorker(session, slice_s=0.02, idle_timeout_s=0.3)
    session.start()
    worker.ensure_running()
    worker.join(10)
    assert not worker.alive
    assert session.status == PAUSED and "stopped refreshing" in session.message
    assert session.step_count > 0


def test_reset_while_training_gives_a_fresh_stopped_session() -> None:
    session = TrainingSession("flow_matching", SMALL, quality_every=10**9)
    worker = TrainingWorker(session, slice_s=0.02)
    session.start()
    worker.ensure_running()
    assert _wait_for(lambda: session.step_count > 10)
    session.reset()
    worker.join(5)
    assert session.step_count == 0 and session.status == "ready"


def test_slow_motion_takes_single_paced_steps() -> None:
    import dataclasses

    session = TrainingSession("flow_matching", dataclasses.replace(SMALL, slow_motion=True), quality_every=10**9)
    session.start()
    assert session.run(1.0) == 1  # one step per call, whatever the budget
    worker = TrainingWorker(session, slice_s=0.02)
    worker.ensure_running()
    time.sleep(1.1)
    session.pause()
    worker.join(5)
    assert 1 <= session.step_count <= 8  # ~4 steps a second, not thousands


def test_slots_serve_waiting_workers_in_turn() -> None:
    """Capacity 1: two running sessions both progress (turns of QUANTUM_S), the waiting one knows its place."""
    from explorer.training.slots import TrainingSlots

    slots = TrainingSlots(1)
    sessions = [
        TrainingSession("flow_matching", FlowMatchingConfig(hidden=16, batch_size=32, steps=10**6)) for _ in "ab"
    ]
    workers = [TrainingWorker(s, slots=slots) for s in sessions]
    for s, w in zip(sessions, workers, strict=True):
        s.start()
        w.ensure_running()
    positions = set()
    deadline = time.monotonic() + 4.0
    while time.monotonic() < deadline:
        for w in workers:
            w.heartbeat()
            positions.add(w.queue_position)
        assert slots.training <= 1
        time.sleep(0.05)
    for s, w in zip(sessions, workers, strict=True):
        s.pause()
        w.join(5)
    assert all(s.step_count > 0 for s in sessions), [s.step_count for s in sessions]
    assert 0 in positions and None in positions
    assert slots.training == 0 and not slots.contended()


def test_slots_are_first_come_first_served() -> None:
    from explorer.training.slots import TrainingSlots

    slots = TrainingSlots(1)
    assert slots.acquire("a", timeout=0.1)
    assert not slots.acquire("b", timeout=0.05) and not slots.acquire("c", timeout=0.05)
    assert slots.position("b") == 0 and slots.position("c") == 1
    slots.release("a")
    assert not slots.acquire("c", timeout=0.05), "c must not jump ahead of b"
    assert slots.acquire("b", timeout=0.1) and slots.position("c") == 0
    slots.release("b")
    assert slots.acquire("c", timeout=0.1) and slots.training == 1
