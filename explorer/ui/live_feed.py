"""`/explorer-live/{token}`: a live panel's newest charts and readouts, fetched by the page while training runs.

A Streamlit rerun costs the browser the same whatever it redraws: measured in Chromium on a training page,
a fragment that drew nothing still cost the page's main thread about 160 ms (React re-renders the app for
every run), so four refreshes a second kept a core busy, and on a two-core laptop the browser and the
training thread took turns (docs/decisions.md, "The live view"). A panel's charts and readouts therefore
refresh without reruns: while the panel renders, `live.plotly` and `live.html` register how to build each
item from a `Snapshot`; the chart component (plotly_chart.js) fetches them all from this route in one
request and redraws in place. It asks for the next refresh after a pause as long as its drawing took (and a
quarter second at least): the route waits that long, or less if training stops, so the browser spends at most
half its time on the view however slow the machine, and the end of a run shows at once. A fetch is the viewer's
heartbeat for the training worker. When training stops the response says so, and the component asks for
one rerun, which draws the whole page at the final step.

A live panel has one feed for all its fragments, published at every render whether training runs or not: the
Train button reruns only its own fragment, whose start signal tells the page to fetch the feed (so starting a
run does not redraw the page).

Tokens are random per viewer and panel; a feed not fetched for `EXPIRE_S` is forgotten.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from explorer.training.session import RUNNING, Snapshot, TrainingSession
from explorer.training.worker import TrainingWorker
from explorer.ui import assets

_LOGGER = logging.getLogger(__name__)
PREFIX = "explorer-live"
EXPIRE_S = 600.0
MAX_FEEDS = 2000  # one per viewer and live panel; the oldest go first
RATE_POLLS = 20  # fetch times kept for the refresh-rate readout
RATE_GAP_S = 5.0  # a fetch after a longer pause (the run before, then idle) starts the readout's count afresh
MAX_WAIT_S = 2.0  # the longest pause a fetch may ask for
WAIT_STEP_S = 0.01  # how often a waiting fetch looks whether training stopped

Build = Callable[[Snapshot], bytes]  # a live item's payload (chart.payload or chart.html_payload) from a snapshot


@dataclass
class Item:
    """A live item: how to build its payload, and at most how often (seconds; 0: at every fetch). Only the items
    `at_stop` (the readouts) come with the frame that says training stopped: the rerun it triggers draws the rest."""

    build: Build
    every: float = 0.0
    built: float = -math.inf  # when it was last built (time.monotonic)
    at_stop: bool = False


@dataclass
class Feed:
    """One viewer's live panel: the session it shows and how to build its items, by the panel's fragments
    ({fragment: {place: item}}: a fragment's rerun replaces its own items only)."""

    session: TrainingSession
    worker: TrainingWorker
    parts: dict[str, dict[str, Item]] = field(default_factory=dict)
    polls: collections.deque = field(default_factory=lambda: collections.deque(maxlen=RATE_POLLS))
    touched: float = field(default_factory=time.monotonic)

    @property
    def items(self) -> dict[str, Item]:
        """Every fragment's items, {place: item}."""
        return {place: item for part in list(self.parts.values()) for place, item in part.items()}

    def next_due(self) -> float:
        """Seconds until one of its items is due to be rebuilt (0: one is due now)."""
        now = time.monotonic()
        return max(0.0, min((item.built + item.every - now for item in self.items.values()), default=0.0))

    @property
    def refresh_rate(self) -> float:
        """Fetches per second over the last few (0 when fewer than two)."""
        polls = self.polls
        return (len(polls) - 1) / (polls[-1] - polls[0]) if len(polls) > 1 and polls[-1] > polls[0] else 0.0


class Feeds:
    """The process's feeds by token, thread-safe, least recently used first out."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._feeds: collections.OrderedDict[str, Feed] = collections.OrderedDict()
        self.served = False  # set when the app serves the route (`routes`): else pages fall back to reruns

    def publish(self, token: str, session: TrainingSession, worker: TrainingWorker, part: str, items: dict) -> Feed:
        """Register the items {place: item} of the fragment `part` in the feed `token` (a new feed if there is none, or
        if it showed another session); the fetch rate carries over."""
        with self._lock:
            feed = self._feeds.pop(token, None)
            if feed is None or feed.session is not session:
                polls = feed.polls if feed is not None else collections.deque(maxlen=RATE_POLLS)
                feed = Feed(session, worker, polls=polls)
            feed.worker, feed.parts[part] = worker, items
            self._feeds[token] = feed
            self._expire()
            return feed

    def get(self, token: str) -> Feed | None:
        with self._lock:
            feed = self._feeds.get(token)
            if feed is not None:
                self._feeds.move_to_end(token)
                feed.touched = time.monotonic()
            return feed

    def _expire(self) -> None:
        now = time.monotonic()
        while self._feeds and (len(self._feeds) > MAX_FEEDS or now - self._oldest().touched > EXPIRE_S):
            self._feeds.popitem(last=False)

    def _oldest(self) -> Feed:
        return next(iter(self._feeds.values()))

    def __len__(self) -> int:
        return len(self._feeds)


FEEDS = Feeds()


def new_token() -> str:
    return secrets.token_urlsafe(16)


def path(token: str | None) -> str:
    """The URL path of the feed `token`, relative to the app ("" for none)."""
    return f"{PREFIX}/{token}" if token else ""


def frame(feed: Feed) -> bytes:
    """The feed's newest state as JSON bytes: {"running": bool, "items": {place: payload}}."""
    feed.worker.heartbeat()
    if feed.polls and time.monotonic() - feed.polls[-1] > RATE_GAP_S:
        feed.polls.clear()
    feed.polls.append(time.monotonic())
    snap, now, parts = feed.session.snapshot(), time.monotonic(), []
    running = snap.status == RUNNING
    for place, item in feed.items.items():
        if (running and now - item.built < item.every) or (not running and not item.at_stop):
            continue
        item.built = now
        try:
            parts.append(b"%s:%s" % (json.dumps(place).encode(), item.build(snap)))
        except Exception:  # noqa: BLE001 - one item failing must not blank the others; the next rerun shows the error
            _LOGGER.exception("live item %s failed", place)
    items = b",".join(parts)
    return b'{"running":%s,"items":{%s}}' % (b"true" if running else b"false", items)


async def _serve(request: Request) -> Response:
    """The feed's frame, after waiting `?wait=` seconds, or until one of its items is due (at most MAX_WAIT_S),
    unless training stops first: the page asks for its next refresh as soon as it has drawn one, and the end of a
    run is answered at once."""
    feed = FEEDS.get(request.path_params["token"])
    if feed is None:
        return Response(b'{"running":false,"items":{}}', status_code=404, media_type="application/json")
    try:
        wait = min(MAX_WAIT_S, max(0.0, float(request.query_params.get("wait", 0))))
    except ValueError:
        wait = 0.0
    deadline = time.monotonic() + min(MAX_WAIT_S, max(wait, feed.next_due()))  # a slow panel waits for its items
    while feed.session.running and time.monotonic() < deadline:
        await asyncio.sleep(min(WAIT_STEP_S, deadline - time.monotonic()))
    body = await run_in_threadpool(frame, feed)
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})


def routes(base_url: str = "") -> list[Route]:
    """`/explorer-live/{token}` (and under Streamlit's `server.baseUrlPath`); marks the feeds as served."""
    FEEDS.served = True
    return assets.served_at(f"/{PREFIX}/{{token}}", _serve, base_url)
