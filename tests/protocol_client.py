"""A Streamlit client without a browser: Streamlit's own websocket protocol, no rendering.

The load test uses it to stand in for the students' own laptops. It does what the browser's
Streamlit client does that costs the server anything: opens a page with a query string, re-sends
each fragment's timed rerun request every `run_every` seconds (timers restarted by every full run,
as the front end does), fetches each live panel's feed about four times a second while training runs
(`explorer/ui/live_feed.py`, as the app's chart component does, and one full rerun when it says training
stopped), and clicks buttons by label. It renders nothing, so N of them on the
server's machine measure the server, where N real browsers on a 2-core machine mostly measure
Chromium (two-thirds of the CPU with ten of them).

Widget values are not echoed back: reruns carry only a clicked button's trigger, and the server
keeps every keyed widget at its session-state value.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import socket
import threading
import time
from urllib.parse import urljoin, urlsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from explorer.ui import chart

READOUT = re.compile(r'<div class="label">([^<]*)</div><div class="value">([^<]*)</div>')
STATUS = re.compile(r'<div class="explorer-status">([^<]*)</div>')
FEED_WAIT_S = 0.25  # the pause between two fetches of a feed: the browser's at its fastest


class ProtocolClient:
    """One browser-less Streamlit session on `url` (http://host:port) showing `page` with `query`.

    Through a proxy it behaves as a browser does there: `source` binds its connections to a client address
    (e.g. one of 127.0.0.0/8), `cookie` is sent with the websocket's opening request, and `reconnect()`
    opens a new websocket after the old one closed (a replica that died), as Streamlit's front end does."""

    def __init__(self, url: str, page: str, query: str = "", source: str | None = None, cookie: str = "") -> None:
        self.page, self.query = page, query
        self.url, self.source, self.cookie = url, source, cookie
        self.session_id = ""  # the server's id for this session (its first message carries it)
        self.reconnects = 0
        self.readouts: dict[str, str] = {}  # the latest live readouts (label -> value)
        self.progress = ""  # the latest progress-bar text
        self.exceptions: list[str] = []  # st.exception elements the server sent
        self.fragment_runs = 0  # fragment runs finished, as the server reported them
        self.full_runs = 0  # whole-page runs finished
        self.feed_frames = 0  # live frames fetched from the panels' feeds
        self._feeds: set[str] = set()  # the feeds being fetched (paths)
        self.waiting = False  # the last finished run showed the "waiting for the machine" note
        self._waiting_now = False
        self._buttons: dict[str, tuple[str, str]] = {}  # label -> (widget id, id of the fragment it is in or "")
        self._timers: dict[str, tuple[float, float]] = {}  # fragment id -> (interval, next due)
        self._lock = threading.Lock()
        self._connect()

    def _connect(self) -> None:
        self._closed = threading.Event()
        self._exit = contextlib.ExitStack()
        ws_url = self.url.replace("http", "ws", 1) + "/_stcore/stream"
        sock = None
        if self.source is not None:
            host, port = urlsplit(self.url).hostname, urlsplit(self.url).port or 80
            sock = socket.create_connection((host, port), timeout=10, source_address=(self.source, 0))
        headers = {"Cookie": self.cookie} if self.cookie else None
        self._socket = self._exit.enter_context(
            connect(ws_url, subprotocols=["streamlit"], sock=sock, additional_headers=headers, open_timeout=20)
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._ticker = threading.Thread(target=self._tick, daemon=True)
        self._reader.start()
        self._ticker.start()
        self._rerun()

    @property
    def closed(self) -> bool:
        """The websocket has closed (the server went away, or `close()`)."""
        return self._closed.is_set()

    def reconnect(self) -> None:
        """A new websocket, hence a new session wherever the proxy sends it; the page is opened again."""
        self._exit.close()
        with self._lock:
            self._timers.clear()
        self._buttons.clear()
        self.session_id, self.reconnects = "", self.reconnects + 1
        self._connect()

    def click(self, label: str, timeout: float = 60.0) -> None:
        """Press the button labelled `label` once it has been drawn (a button in a fragment reruns that fragment, as in
        the browser)."""
        deadline = time.monotonic() + timeout
        while label not in self._buttons:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no button {label!r} on {self.page} within {timeout} s")
            time.sleep(0.05)
        widget, fragment = self._buttons[label]
        self._rerun(fragment_id=fragment, trigger=widget, auto=False)

    def close(self) -> None:
        self._closed.set()
        self._exit.close()

    # --- protocol ---------------------------------------------------------------------------
    def _rerun(self, fragment_id: str = "", trigger: str = "", auto: bool = True) -> None:
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string, state.page_name = self.query, self.page
        if fragment_id:
            state.fragment_id, state.is_auto_rerun = fragment_id, auto
        if trigger:
            state.widget_states.widgets.append(WidgetState(id=trigger, trigger_value=True))
        try:
            self._socket.send(msg.SerializeToString())
        except ConnectionClosed:
            self._closed.set()

    @property
    def refreshes(self) -> int:
        """Live refreshes so far: fragment runs and frames fetched from feeds."""
        return self.fragment_runs + self.feed_frames

    def _follow(self, path: str) -> None:
        with self._lock:
            if path in self._feeds:
                return
            self._feeds.add(path)
        threading.Thread(target=self._fetch_feed, args=(path,), daemon=True).start()

    def _fetch_feed(self, path: str) -> None:
        """A live panel's feed, fetched until it says training stopped (then one full rerun) or is gone."""
        parts = urlsplit(urljoin(self.url + "/", path))
        headers = {"Cookie": self.cookie} if self.cookie else {}
        source = (self.source, 0) if self.source is not None else None
        try:
            while not self._closed.is_set():
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30, source_address=source)
                try:
                    connection.request("GET", f"{parts.path}?wait={FEED_WAIT_S}", headers=headers)
                    response = connection.getresponse()
                    body = response.read()
                finally:
                    connection.close()
                if response.status != 200:
                    return
                frame = json.loads(body)
                self.feed_frames += 1
                for item in frame["items"].values():
                    if "html" in item:
                        self._html(item["html"])
                if not frame["running"]:
                    self._rerun()
                    return
        except OSError:
            return
        finally:
            with self._lock:
                self._feeds.discard(path)

    def _html(self, markup: str) -> None:
        """Readouts, the status line and the waiting note from a live panel's HTML."""
        if 'class="explorer-waiting"' in markup:
            self.waiting = self._waiting_now = "Waiting for the machine" in markup
        if readouts := dict(READOUT.findall(markup)):
            self.readouts = readouts
        if status := STATUS.search(markup):
            self.progress = status.group(1)

    def _tick(self) -> None:
        """The front end's setInterval per fragment: a rerun request every interval, finished or not."""
        while not self._closed.wait(0.02):
            now = time.monotonic()
            with self._lock:
                due = [fid for fid, (_, at) in self._timers.items() if at <= now]
                for fid in due:
                    interval, at = self._timers[fid]
                    self._timers[fid] = (interval, max(at + interval, now))
            for fid in due:
                self._rerun(fragment_id=fid)

    def _read(self) -> None:
        try:
            for data in self._socket:
                msg = ForwardMsg()
                msg.ParseFromString(data)
                self._handle(msg)
        except ConnectionClosed:
            pass
        finally:
            self._closed.set()

    def _handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self._waiting_now = False
            if msg.new_session.initialize.session_id:
                self.session_id = msg.new_session.initialize.session_id
            if not msg.metadata.run.fragment_ids:
                with self._lock:  # a full run: its fragments announce their timers afresh
                    self._timers.clear()
        elif kind == "auto_rerun":
            with self._lock:
                interval = msg.auto_rerun.interval
                if self._timers.get(msg.auto_rerun.fragment_id, (None, 0))[0] != interval:
                    self._timers[msg.auto_rerun.fragment_id] = (interval, time.monotonic() + interval)
        elif kind == "stop_auto_rerun":
            with self._lock:
                for fid in msg.stop_auto_rerun.fragment_ids:
                    self._timers.pop(fid, None)
        elif kind == "script_finished":
            self.waiting = self._waiting_now
            self.fragment_runs += msg.script_finished == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY
            self.full_runs += msg.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            self._element(msg.delta.new_element, msg.delta.fragment_id)

    def _element(self, element, fragment_id: str) -> None:
        kind = element.WhichOneof("type")
        if kind == "button":
            self._buttons[element.button.label] = (element.button.id, fragment_id)
        elif kind == "markdown" and 'class="readout"' in element.markdown.body:
            self.readouts = dict(READOUT.findall(element.markdown.body))
        elif kind == "alert" and element.alert.body.startswith("Waiting for the machine"):
            self._waiting_now = True
        elif kind == "progress":
            self.progress = element.progress.text
        elif kind == "bidi_component" and element.bidi_component.component_name == chart.COMPONENT:
            payload = json.loads(element.bidi_component.bytes)
            if "html" in payload:
                self._html(payload["html"])
            if payload.get("feed") and payload.get("running"):  # as the component: fetch while training runs
                self._follow(payload["feed"])
        elif kind == "exception":
            self.exceptions.append(f"{element.exception.type}: {element.exception.message}")
