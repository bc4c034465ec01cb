"""The live-training loop: a worker thread trains, timed fragments render the latest state.

While the session runs, `live_panel` keeps one `TrainingWorker` per session training in the
background and renders each panel in its own fragment at its own interval (the fast view four
times a second, slow-changing curves once a second), so a refresh only redraws what changes.
Every render of the first panel is the worker's heartbeat, and says when the session is waiting
for a training slot. When training stops (finished,
diverged, paused by the worker) during a timed refresh, that panel triggers one full rerun so that
every panel shows the final model and the timers switch off.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import streamlit as st

from explorer.training.session import RUNNING, Snapshot, TrainingSession
from explorer.training.worker import TrainingWorker
from explorer.ui import chart

REFRESH_S = 0.25
FRAMES_KEPT = 20  # refresh times kept for the "view refresh / s" readout: about the last 5 s at 4 per second
# A refresh that finds the run ending within its interval waits for the end (at most this long) and draws it at
# once: otherwise "Finished." showed 0.3-1.0 s after the last step (the next timer, then a slow render).
END_WAIT_S = 1.0

Render = Callable[[Snapshot], None]


def worker_for(session: TrainingSession) -> TrainingWorker:
    """This user's one worker for `session`, whichever page shows it (a new session gets a new one)."""
    key = f"worker:{session.family}"
    worker: TrainingWorker | None = st.session_state.get(key)
    if worker is None or worker.session is not session:
        worker = TrainingWorker(session)
        st.session_state[key] = worker
    return worker


def live_panel(session: TrainingSession, key: str, panels: Sequence[tuple[Render, float]]) -> None:
    """Render each `(render, interval_s)` of `panels` in a fragment refreshed every interval while training."""
    worker = worker_for(session)
    worker.ensure_running()
    running = session.running
    # this full run draws every panel in the current state: no second full rerun for a stop seen now
    st.session_state[f"{key}.0.was_running"] = running
    for index, (render, interval) in enumerate(panels):
        _fragment(session, worker, f"{key}.{index}", render, interval if running else None, main=index == 0)


def _fragment(
    session: TrainingSession, worker: TrainingWorker, key: str, render: Render, run_every: float | None, main: bool
) -> None:
    @st.fragment(run_every=run_every, key=key)
    def _panel() -> None:
        if main and run_every and session.running and (ends_in := session.seconds_to_finish()) < run_every:
            session.wait_until_stopped(min(END_WAIT_S, ends_in + run_every))
        snap = session.snapshot()
        if main:  # one element slot, always there, so the fragment's element tree keeps its shape
            _waiting_note(worker, st.empty())
        with chart.in_place(key):  # redrawn, not remounted, at every refresh
            render(snap)
        if not main:
            return
        worker.ensure_running()
        frames = st.session_state.setdefault(f"{key}.frames", [])
        frames.append(time.time())
        del frames[:-FRAMES_KEPT]
        was_running = st.session_state.get(f"{key}.was_running", False)
        st.session_state[f"{key}.was_running"] = snap.status == RUNNING
        if was_running and snap.status != RUNNING:
            st.rerun()

    _panel()


def _waiting_note(worker: TrainingWorker, slot) -> None:
    """Say so in `slot` (an st.empty) while this session waits for a training slot (`explorer.training.slots`).

    The slot is drawn on every refresh, filled or not: an element that came and went at the top of the
    fragment shifted the paths of everything below it, which Streamlit's front end could not follow
    under load ("'setIn' cannot be called on an ElementNode")."""
    ahead = worker.queue_position
    if ahead is None:
        return
    place = "next in line" if ahead == 0 else f"{ahead} ahead of you"
    slot.info(
        f"Waiting for the machine ({place}): this server trains {worker.slots.capacity} session(s) at a time, "
        "taking turns; yours continues by itself.",
        icon=":material/hourglass_top:",
    )


def refresh_rate(key: str) -> float:
    """Refreshes per second of the first panel over its last few runs (0 when fewer than two)."""
    frames = st.session_state.get(f"{key}.0.frames", [])
    if len(frames) < 2 or frames[-1] == frames[0]:
        return 0.0
    return (len(frames) - 1) / (frames[-1] - frames[0])
