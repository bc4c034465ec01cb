"""The live-training loop: a worker thread trains, the page shows the latest state.

While the session runs, `live_panel` keeps one `TrainingWorker` per session training in the
background and renders each panel in its own fragment. A panel's charts and readouts drawn with
`plotly(where, build)` and `html(where, build)` (build: Snapshot -> figure dict or HTML) refresh
without Streamlit reruns: the page fetches them from the panel's feed (`explorer.ui.live_feed`),
as often as the browser can afford. The Train button reruns only its own fragment, whose `start_signal`
sets the page fetching. A panel with nothing fed reruns at its own interval instead, and so does every
panel where the app runs without the feed's route (`streamlit run router.py`). Every fetch or render of a
panel is the worker's heartbeat. When training stops (finished, diverged, paused by the worker), the
fragment that sees it triggers one full rerun so that every panel shows the final model.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import TypeVar

import streamlit as st

from explorer.training.session import RUNNING, Snapshot, TrainingSession
from explorer.training.worker import TrainingWorker
from explorer.ui import chart, live_feed

REFRESH_S = 0.25
FRAMES_KEPT = 20  # refresh times kept for the "view refresh / s" readout: about the last 5 s at 4 per second
# A refresh that finds the run ending within its interval waits for the end (at most this long) and draws it at
# once: otherwise "Finished." showed 0.3-1.0 s after the last step (the next timer, then a slow render).
END_WAIT_S = 1.0

Render = Callable[[Snapshot], None]
T = TypeVar("T")


@dataclass
class _Panel:
    """The panel being rendered: its snapshot, and the items it feeds ({place: payload builder})."""

    snap: Snapshot
    path: str  # the feed's URL path, "" where the route is not served
    items: dict[str, live_feed.Item] = field(default_factory=dict)

    @property
    def running(self) -> bool:
        return self.snap.status == RUNNING


_PANEL: contextvars.ContextVar[_Panel | None] = contextvars.ContextVar("live_panel", default=None)


def static_config(snap: Snapshot) -> dict:
    """While training, static plots (no hover layers or modebar) redraw far cheaper in the browser."""
    return {"staticPlot": snap.status == RUNNING}


def plotly(where, build: Callable[[Snapshot], dict], every: float = 0.0) -> None:
    """A chart of a live panel: `build(snap)` drawn now, and rebuilt from newer snapshots while training runs, at
    every refresh or at most every `every` seconds."""
    panel = _current()
    place = chart.plotly(where, build(panel.snap), static_config(panel.snap), feed=panel.path, running=panel.running)
    payload = functools.partial(_chart_payload, build, place=place, feed=panel.path)
    panel.items[place] = live_feed.Item(payload, every, time.monotonic())


def _chart_payload(build: Callable[[Snapshot], dict], snap: Snapshot, place: str, feed: str) -> bytes:
    return chart.payload(build(snap), static_config(snap), place, feed=feed)


def html(where, build: Callable[[Snapshot], str]) -> None:
    """HTML of a live panel (readouts): `build(snap)` now, and from each newer snapshot while training runs."""
    panel = _current()
    place = chart.html(where, build(panel.snap), feed=panel.path, running=panel.running)
    panel.items[place] = live_feed.Item(lambda snap: chart.html_payload(build(snap), place, panel.path), at_stop=True)


def vega_grid(where, build: Callable[[Snapshot], list], per_row: int, every: float = 0.0) -> None:
    """Vega-Lite charts of a live panel in a grid (`build(snap)`: specs, `None` for an empty cell), rebuilt from
    newer snapshots while training runs, at most every `every` seconds."""
    panel = _current()
    place = chart.vegas(where, build(panel.snap), per_row, feed=panel.path, running=panel.running)
    payload = functools.partial(_vegas_payload, build, per_row=per_row, place=place, feed=panel.path)
    panel.items[place] = live_feed.Item(payload, every, time.monotonic())


def _vegas_payload(build: Callable[[Snapshot], list], snap: Snapshot, per_row: int, place: str, feed: str) -> bytes:
    return chart.vegas_payload(build(snap), per_row, place, feed)


def caption(where, build: Callable[[Snapshot], str]) -> None:
    """A caption of a live panel (plain text from `build(snap)`), refreshed like `html`."""
    html(where, lambda snap: f'<div class="explorer-caption">{escape(build(snap))}</div>{CAPTION_CSS}')


CAPTION_CSS = "<style>.explorer-caption {font-size: 0.875rem; opacity: 0.6; margin-bottom: 0.5rem;}</style>"


def shared(compute: Callable[[Snapshot], T]) -> Callable[[Snapshot], T]:
    """`compute(snap)` once per snapshot: the items of one refresh drawn from the same view share it."""
    last: list = [None, None]

    def once(snap: Snapshot) -> T:
        if last[0] is not snap:
            last[:] = [snap, compute(snap)]
        return last[1]

    return once


def _current() -> _Panel:
    panel = _PANEL.get()
    if panel is None:
        raise RuntimeError("live.plotly / live.html draw a live panel's items: call them from a live_panel render")
    return panel


@contextlib.contextmanager
def _feeding(panel: _Panel) -> Iterator[None]:
    token = _PANEL.set(panel)
    try:
        yield
    finally:
        _PANEL.reset(token)


def worker_for(session: TrainingSession) -> TrainingWorker:
    """This user's one worker for `session`, whichever page shows it (a new session gets a new one)."""
    key = f"worker:{session.family}"
    worker: TrainingWorker | None = st.session_state.get(key)
    if worker is None or worker.session is not session:
        worker = TrainingWorker(session)
        st.session_state[key] = worker
    return worker


def live_panel(session: TrainingSession, key: str, panels: Sequence[tuple[Render, float]]) -> None:
    """Render each `(render, interval_s)` of `panels` in a fragment: its fed items refresh from the panel's feed
    while training runs, a panel without any reruns every `interval_s`. The session's Train button is drawn with
    `start_signal(session, key)`."""
    worker = worker_for(session)
    worker.ensure_running()
    st.session_state[f"{key}.was_running"] = session.running  # this full run draws every panel in the current state
    for index, (render, interval) in enumerate(panels):
        _fragment(session, worker, key, index, render, interval)
    st.session_state[f"{key}.fed"] = all(st.session_state.get(f"{key}.{index}.fed") for index in range(len(panels)))


def _fragment(session: TrainingSession, worker: TrainingWorker, panel_key: str, index: int, render: Render, every):
    key, main = f"{panel_key}.{index}", index == 0
    # a panel that fed items at its last render needs no timer while the feed is served
    fed = live_feed.FEEDS.served and st.session_state.get(f"{key}.fed", False)
    run_every = every if session.running and not fed else None

    @st.fragment(run_every=run_every, key=key)
    def _panel() -> None:
        if main and run_every and session.running and (ends_in := session.seconds_to_finish()) < run_every:
            session.wait_until_stopped(min(END_WAIT_S, ends_in + run_every))
        snap = session.snapshot()
        token = _feed_token(panel_key)
        panel = _Panel(snap, live_feed.path(token))
        with chart.in_place(key), _feeding(panel):  # redrawn, not remounted, at every refresh
            if main:  # one element, always there (empty unless waiting), so the element tree keeps its shape
                html(st, lambda s: waiting_note(worker))
            render(snap)
        st.session_state[f"{key}.fed"] = bool(panel.items)
        if token:
            live_feed.FEEDS.publish(token, session, worker, key, panel.items)
        worker.ensure_running()
        if main:
            frames = st.session_state.setdefault(f"{key}.frames", [])
            frames.append(time.time())
            del frames[:-FRAMES_KEPT]
        _rerun_when_stopped(panel_key, panel.running)

    _panel()


def start_signal(session: TrainingSession, key: str) -> None:
    """Drawn with the Train button, in its fragment: an empty element that sets the page fetching the live panel
    `key`'s feed as soon as training runs, so that pressing Train reruns the buttons, not the page. Where the panel is
    not fed (no route, or a panel on a timer), starting reruns the page instead; a stop seen here reruns it too."""
    running = session.running
    worker_for(session).ensure_running()
    started = running and not st.session_state.get(f"{key}.was_running", False)
    _rerun_when_stopped(key, running)
    if started and not (live_feed.FEEDS.served and st.session_state.get(f"{key}.fed", False)):
        st.rerun()
    with chart.in_place(f"{key}.start"):
        chart.html(st, START_HTML, feed=live_feed.path(_feed_token(key)), running=running)


# the start signal takes no room: its element container is hidden (it still runs), so the layout's gap goes too
START_HTML = (
    '<div class="explorer-start"></div>'
    '<style>[data-testid="stElementContainer"]:has(.explorer-start) {display: none;}</style>'
)


def _feed_token(key: str) -> str | None:
    """This viewer's token for the live panel `key`'s feed (None where the route is not served)."""
    return st.session_state.setdefault(f"{key}.token", live_feed.new_token()) if live_feed.FEEDS.served else None


def _rerun_when_stopped(key: str, running: bool) -> None:
    """One full rerun when a fragment of the live panel `key` (or its start signal) sees the run it showed stop: every
    panel then draws the final model."""
    was_running = st.session_state.get(f"{key}.was_running", False)
    st.session_state[f"{key}.was_running"] = running
    if was_running and not running:
        st.rerun()


WAITING_CSS = (
    "<style>.explorer-waiting:not(:empty) {padding: 0.75rem 1rem; border-radius: 0.5rem; margin-bottom: 0.5rem;"
    " background: rgba(28, 131, 225, 0.1); color: rgb(0, 66, 128);}"
    ' [data-testid="stElementContainer"]:has(.explorer-waiting:empty) {display: none;}</style>'
)


def waiting_note(worker: TrainingWorker) -> str:
    """HTML saying so while this session waits for a training slot (`explorer.training.slots`), else an empty
    element: refreshed with the live view, the note goes as soon as the session trains."""
    ahead = worker.queue_position
    note = ""
    if ahead is not None:
        place = "next in line" if ahead == 0 else f"{ahead} ahead of you"
        note = escape(
            f"⌛ Waiting for the machine ({place}): this server trains {worker.slots.capacity} session(s) at a "
            "time, taking turns; yours continues by itself."
        )
    return f'<div class="explorer-waiting">{note}</div>{WAITING_CSS}'


def refresh_rate(key: str) -> Callable[[], float]:
    """How to read the refreshes per second of the panel `key`'s first fragment: its feed's fetches while it is
    fed, else its reruns (0 when fewer than two)."""
    token = st.session_state.get(f"{key}.token")
    frames = list(st.session_state.get(f"{key}.0.frames", []))

    def rate() -> float:
        feed = live_feed.FEEDS.get(token) if token else None
        if feed is not None and len(feed.polls) > 1:
            return feed.refresh_rate
        if len(frames) < 2 or frames[-1] == frames[0]:
            return 0.0
        return (len(frames) - 1) / (frames[-1] - frames[0])

    return rate
