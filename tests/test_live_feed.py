"""The live feed (`explorer.ui.live_feed`): what a live panel's page fetches while training runs, and the quality
points scored beside the training thread (`explorer.training.evaluator`)."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import numpy as np
import pytest
from starlette.requests import Request

from explorer.methods import GANConfig
from explorer.training.session import FINISHED, TrainingSession
from explorer.training.worker import TrainingWorker
from explorer.ui import chart, live_feed


def _session(steps: int = 400, **changes) -> TrainingSession:
    return TrainingSession("gan", GANConfig(steps=steps, **changes), quality_every=100)


def _feed(session: TrainingSession, **items: live_feed.Item) -> live_feed.Feed:
    return live_feed.Feed(session, TrainingWorker(session), {"panel.0": dict(items)})


def _publish(feeds: live_feed.Feeds, token: str, session: TrainingSession, part: str = "panel.0", **items) -> None:
    feeds.publish(token, session, TrainingWorker(session), part, dict(items))


def _html(text: str, **kwargs) -> live_feed.Item:
    """Readouts as `live.html` registers them: sent with the frame that says training stopped, too."""
    return live_feed.Item(lambda snap: chart.html_payload(f"{text} {snap.step}", "p"), **({"at_stop": True} | kwargs))


def _frame(feed: live_feed.Feed) -> dict:
    return json.loads(live_feed.frame(feed))


def test_a_frame_builds_every_item_from_one_snapshot_and_is_a_heartbeat() -> None:
    session = _session()
    session.step(30)
    seen = []
    chart_item = live_feed.Item(lambda snap: seen.append(snap) or chart.payload({"data": []}, place="c"))
    feed = _feed(session, header=_html("at step"), chart=chart_item)
    feed.worker._last_seen = 0.0
    body = _frame(feed)
    assert body["running"] is False and set(body["items"]) == {"header"}  # stopped: only the readouts
    session.start()
    body = _frame(feed)
    assert body["running"] is True
    assert body["items"]["header"]["html"] == "at step 30" and body["items"]["chart"]["spec"]["data"] == []
    assert len(seen) == 1 and seen[0].step == 30
    assert feed.worker._last_seen > 0.0  # the viewer is still there: the worker keeps training


def test_an_item_with_a_period_is_rebuilt_only_when_due() -> None:
    session = _session()
    session.start()
    slow = _feed(session, slow=_html("slow", every=0.3, built=time.monotonic()))
    assert _frame(slow)["items"] == {} and 0.0 < slow.next_due() <= 0.3  # the route waits that long for it
    feed = _feed(session, fast=_html("fast"), slow=_html("slow", every=0.3, built=time.monotonic()))
    assert set(_frame(feed)["items"]) == {"fast"} and feed.next_due() == 0.0
    time.sleep(0.31)
    assert set(_frame(feed)["items"]) == {"fast", "slow"}


def test_a_failing_item_leaves_the_others() -> None:
    session = _session()
    session.start()

    def broken(snap):
        raise ValueError("no figure")

    body = _frame(_feed(session, good=_html("good"), bad=live_feed.Item(broken)))
    assert set(body["items"]) == {"good"}


def test_feeds_are_kept_by_token_and_the_oldest_go(monkeypatch) -> None:
    feeds = live_feed.Feeds()
    monkeypatch.setattr(live_feed, "MAX_FEEDS", 3)
    session = _session()
    for token in "abcd":
        _publish(feeds, token, session)
    assert len(feeds) == 3 and feeds.get("a") is None and feeds.get("d") is not None
    old = feeds.get("b")
    old.polls.extend([1.0, 1.5])
    _publish(feeds, "b", _session())  # the panel now shows another session: a new feed, the rate carries over
    assert feeds.get("b") is not old and feeds.get("b").refresh_rate == pytest.approx(2.0)
    feeds._feeds["c"].touched = time.monotonic() - live_feed.EXPIRE_S - 1  # the least recently fetched
    _publish(feeds, "e", session)
    assert feeds.get("c") is None


def test_the_refresh_rate_counts_afresh_after_an_idle_pause() -> None:
    feed = _feed(_session())
    feed.polls.extend([1.0, 1.25, 1.5])  # the last run, long ago
    live_feed.frame(feed)
    assert len(feed.polls) == 1 and feed.refresh_rate == 0.0
    live_feed.frame(feed)
    assert len(feed.polls) == 2


def test_a_panels_fragments_share_its_feed_and_each_rerun_replaces_its_own_items() -> None:
    feeds, session = live_feed.Feeds(), _session()
    _publish(feeds, "t", session, "panel.0", header=_html("a"), chart=_html("b"))
    _publish(feeds, "t", session, "panel.1", curves=_html("c"))
    assert set(feeds.get("t").items) == {"header", "chart", "curves"}
    _publish(feeds, "t", session, "panel.0", header=_html("a"))  # the first fragment reran without its chart
    assert set(feeds.get("t").items) == {"header", "curves"}


def _request(token: str, wait: str = "") -> Request:
    return Request(
        {"type": "http", "method": "GET", "path_params": {"token": token}, "query_string": f"wait={wait}".encode()}
    )


def test_the_route_answers_an_unknown_token_with_404_and_stopped() -> None:
    response = asyncio.run(live_feed._serve(_request("unknown")))
    assert response.status_code == 404 and json.loads(response.body) == {"running": False, "items": {}}


def test_the_route_waits_as_asked_but_answers_at_once_when_training_stops(monkeypatch) -> None:
    feeds = live_feed.Feeds()
    monkeypatch.setattr(live_feed, "FEEDS", feeds)
    session = _session(steps=10**6)
    session.start()
    _publish(feeds, "t", session, header=_html("step"))
    start = time.monotonic()
    response = asyncio.run(live_feed._serve(_request("t", "0.3")))
    assert 0.29 <= time.monotonic() - start < 1.0 and json.loads(response.body)["running"] is True
    threading.Timer(0.1, session.pause).start()
    start = time.monotonic()
    response = asyncio.run(live_feed._serve(_request("t", "1.5")))
    assert time.monotonic() - start < 0.8 and json.loads(response.body)["running"] is False
    assert asyncio.run(live_feed._serve(_request("t", "nonsense"))).status_code == 200


def _trained(background: bool) -> TrainingSession:
    session = _session(steps=500)
    session.quality_in_background = background
    session.start()
    while session.running:
        session.run(0.2)
    return session


def test_quality_points_scored_in_the_background_equal_those_scored_in_the_loop() -> None:
    inline, background = _trained(False), _trained(True)
    assert background.status == inline.status == FINISHED
    assert background.history.quality_steps == inline.history.quality_steps
    assert len(inline.history.quality_steps) >= 5
    for key, values in inline.history.quality.items():
        np.testing.assert_allclose(background.history.quality[key], values, rtol=1e-6, err_msg=key)
    np.testing.assert_array_equal(background.last_samples, inline.last_samples)


def test_a_background_point_of_a_model_since_reset_is_dropped() -> None:
    session = _session(steps=10**6)
    session.quality_in_background = True
    session.start()
    session.run(0.3)
    session.reset()
    session._evaluator.wait(10)
    assert session.history.quality_steps == []


def test_the_waiting_note_is_always_one_element_filled_only_while_waiting() -> None:
    from types import SimpleNamespace

    from explorer.ui.live import waiting_note

    slots = SimpleNamespace(capacity=1)
    assert "Waiting for the machine (2 ahead of you)" in waiting_note(SimpleNamespace(queue_position=2, slots=slots))
    assert "next in line" in waiting_note(SimpleNamespace(queue_position=0, slots=slots))
    idle = waiting_note(SimpleNamespace(queue_position=None, slots=slots))
    assert idle.startswith('<div class="explorer-waiting"></div>')
