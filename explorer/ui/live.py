"""The live-training loop: a worker thread trains, a timed fragment renders the latest state.

While the session runs, `live_panel` keeps one `TrainingWorker` per session training in the
background and re-renders `render(snapshot)` every `interval` seconds (each render is also the
worker's heartbeat). When training stops (finished, diverged, paused by the worker) the fragment
triggers one full rerun so that every panel shows the final model and the timer switches off.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import streamlit as st

from explorer.session import Snapshot, TrainingSession
from explorer.worker import TrainingWorker

REFRESH_S = 0.25


def worker_for(session: TrainingSession, key: str) -> TrainingWorker:
    """This user's worker for `session` (a new session gets a new worker)."""
    worker: TrainingWorker | None = st.session_state.get(f"{key}.worker")
    if worker is None or worker.session is not session:
        worker = TrainingWorker(session)
        st.session_state[f"{key}.worker"] = worker
    return worker


def live_panel(
    session: TrainingSession, render: Callable[[Snapshot], None], key: str, interval: float = REFRESH_S
) -> None:
    """Render `render(snapshot)` in a fragment that refreshes every `interval` s while training."""
    worker = worker_for(session, key)
    worker.ensure_running()

    @st.fragment(run_every=interval if session.running else None, key=key)
    def _panel() -> None:
        worker.ensure_running()
        snap = session.snapshot()
        render(snap)
        frames = st.session_state.setdefault(f"{key}.frames", [])
        frames.append(time.time())
        del frames[:-20]
        was_running = st.session_state.get(f"{key}.was_running", False)
        st.session_state[f"{key}.was_running"] = snap.status == "running"
        if was_running and snap.status != "running":
            st.rerun()

    _panel()


def refresh_rate(key: str) -> float:
    """Views per second over the last few fragment runs (0 when fewer than two)."""
    frames = st.session_state.get(f"{key}.frames", [])
    if len(frames) < 2 or frames[-1] == frames[0]:
        return 0.0
    return (len(frames) - 1) / (frames[-1] - frames[0])


def throttled(key: str, period_s: float, build: Callable[[], object]) -> object:
    """`build()` at most every `period_s` seconds; in between, the object built last time.

    Re-sending a byte-identical chart lets Streamlit's message cache and the browser skip the
    work, so slow-changing panels (loss and quality curves) need not cost a redraw every frame.
    Cache a chart's spec dict (Altair's `to_dict()`), not the chart: Streamlit would re-validate
    an Altair object on every frame.
    """
    cached = st.session_state.get(f"{key}.throttled")
    now = time.monotonic()
    if cached is None or now - cached[0] >= period_s:
        cached = (now, build())
        st.session_state[f"{key}.throttled"] = cached
    return cached[1]
