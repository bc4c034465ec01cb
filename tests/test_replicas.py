"""A class served by two replicas behind nginx (deploy/serve_class.py), end to end on loopback.

Protocol clients (tests/protocol_client.py) connect through the proxy from several client addresses in
127.0.0.0/8, each with the sticky cookie a browser would hold, open a training page and train. Checked:
every session stays on one replica for its whole life (its id is listed by that replica's
/explorer-status and never by the other), HTTP requests with the same cookie reach the same replica,
the sessions are split over both replicas, nothing raises. Then one replica is killed: its clients'
websockets close, they reconnect through the proxy and get fresh, working sessions on a live replica;
the other replica's sessions never notice (same ids, no reconnect, their fragments kept running); the
launcher restarts the dead replica.

Skipped where Debian's nginx is absent (CI installs it). Marked `proxy`: `pytest -m proxy` runs it alone.
"""

from __future__ import annotations

import http.client
import json
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from protocol_client import ProtocolClient

from explorer.bench.server import free_port

ROOT = Path(__file__).resolve().parents[1]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
if not Path(NGINX).exists():
    pytest.skip(f"nginx not found at {NGINX} (Debian: apt-get install nginx)", allow_module_level=True)

pytestmark = pytest.mark.proxy
PAGES = ("flow_matching", "gan", "diffusion")
LONG_RUN = "steps=1000000"
PER_REPLICA = 3  # clients pinned to each replica


def _get(url: str, cookie: str = "", source: str | None = None) -> tuple[int, dict[str, str], bytes]:
    parts = urllib.request.urlparse(url)
    connection = http.client.HTTPConnection(
        parts.hostname, parts.port, timeout=10, source_address=(source, 0) if source else None
    )
    connection.request("GET", parts.path or "/", headers={"Cookie": cookie} if cookie else {})
    response = connection.getresponse()
    body, headers = response.read(), {k.lower(): v for k, v in response.getheaders()}
    connection.close()
    return response.status, headers, body


def _status(url: str, cookie: str = "", source: str | None = None) -> dict:
    status, _, body = _get(f"{url}/explorer-status", cookie, source)
    assert status == 200, status
    return json.loads(body)


def _wait(predicate, seconds: float, what: str) -> None:
    end = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > end:
            pytest.fail(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.1)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    """(proxy url, [replica urls]) of `serve_class.py --replicas 2` on free loopback ports."""
    proxy_port, base = free_port(), free_port()
    while base + 1 == proxy_port:
        base = free_port()
    run_dir = tmp_path_factory.mktemp("class")
    argv = [sys.executable, str(ROOT / "deploy" / "serve_class.py"), "--replicas", "2", "--host", "127.0.0.1"]
    argv += ["--port", str(proxy_port), "--base-port", str(base), "--run-dir", str(run_dir), "--fail-timeout", "3"]
    launcher = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    proxy, replicas = f"http://127.0.0.1:{proxy_port}", [f"http://127.0.0.1:{base + i}" for i in range(2)]
    try:
        _wait(lambda: all(_healthy(u) for u in replicas) and _healthy(proxy), 120, "the replicas and the proxy")
        yield proxy, replicas
    finally:
        launcher.send_signal(signal.SIGTERM)
        try:
            launcher.wait(30)
        except subprocess.TimeoutExpired:
            launcher.kill()
        for log in sorted(run_dir.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text(errors='replace')[-1500:]}")


def _pinned_cookies(proxy: str, replicas: list[str]) -> dict[str, list[str]]:
    """PER_REPLICA sticky cookies per replica name, found by asking the proxy which replica each key reaches
    (the keys are the browsers' own once set; which replica a key hashes to is nginx's business)."""
    found: dict[str, list[str]] = {}
    for k in range(200):
        cookie = f"explorer_replica=browser-{k}"
        name = _status(proxy, cookie)["replica"]
        if len(found.setdefault(name, [])) < PER_REPLICA:
            found[name].append(cookie)
        if len(found) == len(replicas) and all(len(v) == PER_REPLICA for v in found.values()):
            return found
    pytest.fail(f"200 keys did not reach both replicas: {found}")


def test_the_proxy_sets_a_sticky_cookie_and_answers_its_health(classroom) -> None:
    proxy, _ = classroom
    status, headers, body = _get(f"{proxy}/explorer-proxy-health")
    assert status == 200 and body == b"ok\n"
    status, headers, _ = _get(f"{proxy}/", source="127.0.9.9")
    assert status == 200 and headers["set-cookie"].startswith("explorer_replica=")
    cookie = headers["set-cookie"].split(";")[0]
    names = {_status(proxy, cookie, source=f"127.0.{k}.7")["replica"] for k in range(1, 6)}
    assert len(names) == 1  # one browser, one replica, whatever its address
    assert _get(f"{proxy}/_stcore/health", cookie)[0] == 200


def test_sessions_stay_on_their_replica_and_survive_the_other_one_dying(classroom) -> None:
    proxy, replicas = classroom
    by_name = {_status(url)["replica"]: url for url in replicas}
    cookies = _pinned_cookies(proxy, replicas)
    clients: list[tuple[str, ProtocolClient]] = []
    try:
        for i, (name, jar) in enumerate((n, c) for n, cs in sorted(cookies.items()) for c in cs):
            source = f"127.0.{i + 1}.{10 + i}"
            client = ProtocolClient(proxy, PAGES[i % len(PAGES)], LONG_RUN, source=source, cookie=jar)
            clients.append((name, client))
        for _, client in clients:
            client.click("Train")
        _wait(lambda: all(c.session_id and c.refreshes > 2 for _, c in clients), 90, "every session's live view")

        # every session on its replica, for several seconds; the load is split; nothing raised
        for _ in range(8):
            held = {name: set(_status(url)["sessions"]) for name, url in by_name.items()}
            for name, client in clients:
                assert client.session_id in held[name], (client.page, name, held)
                assert not any(client.session_id in s for other, s in held.items() if other != name)
            time.sleep(1.0)
        assert all(sum(n == name for n, _ in clients) == PER_REPLICA for name in by_name)
        assert not [e for _, c in clients for e in c.exceptions]

        # kill one replica: its clients reconnect through the proxy, the others never notice
        dead = sorted(by_name)[0]
        alive = [c for n, c in clients if n != dead]
        runs_before = {c.session_id: c.refreshes for c in alive}
        pid = _status(by_name[dead])["pid"]
        subprocess.run(["kill", "-9", str(pid)], check=True)
        orphans = [c for n, c in clients if n == dead]
        _wait(lambda: all(c.closed for c in orphans), 20, "the dead replica's websockets to close")
        old_ids = {c.session_id for c in orphans}
        for client in orphans:
            client.reconnect()
        _wait(lambda: all(c.session_id and c.refreshes > 1 for c in orphans), 90, "the reconnected sessions")
        assert not ({c.session_id for c in orphans} & old_ids)  # fresh sessions
        live = {n: set(_status(u)["sessions"]) for n, u in by_name.items() if _healthy(u)}
        for client in orphans:
            assert any(client.session_id in s for s in live.values()), (client.session_id, live)
        _wait(lambda: all(c.refreshes > runs_before[c.session_id] for c in alive), 30, "the other sessions to refresh")
        for client in alive:
            assert not client.closed and client.reconnects == 0
        assert {c.session_id for c in alive} == set(runs_before)
        assert not [e for _, c in clients for e in c.exceptions]
        _wait(lambda: _healthy(by_name[dead]), 90, "the launcher to restart the dead replica")
        assert _status(by_name[dead])["pid"] != pid
    finally:
        for _, client in clients:
            client.close()


@pytest.mark.load
def test_sessions_per_core_through_the_proxy(classroom) -> None:
    """Opt-in (`pytest -m load -s tests/test_replicas.py`): LOAD_SESSIONS protocol students spread evenly over
    the two replicas through the proxy for LOAD_SOAK_S seconds; prints each session's mean refresh rate (the
    page's own "view refresh / s"), to set beside tests/test_load.py's one-process figures."""
    import os
    import statistics

    sessions, soak = int(os.environ.get("LOAD_SESSIONS", "14")), float(os.environ.get("LOAD_SOAK_S", "120"))
    proxy, replicas = classroom
    per = -(-sessions // len(replicas))
    found: dict[str, list[str]] = {}
    for k in range(2000):
        cookie = f"explorer_replica=student-{k}"
        name = _status(proxy, cookie)["replica"]
        if len(found.setdefault(name, [])) < per:
            found[name].append(cookie)
        if sum(map(len, found.values())) >= sessions and len(found) == len(replicas):
            break
    jars = [c for cs in found.values() for c in cs][:sessions]
    pages = ("flow_matching", "gan", "diffusion", "vae", "normalizing_flows")
    clients = [ProtocolClient(proxy, pages[i % len(pages)], LONG_RUN, source=f"127.0.{i + 1}.9", cookie=jar)
               for i, jar in enumerate(jars)]  # fmt: skip
    try:
        for client in clients:
            client.click("Train")
        time.sleep(20)  # every session started and shown
        samples: list[list[float]] = [[] for _ in clients]
        end = time.monotonic() + soak
        while time.monotonic() < end:
            time.sleep(10)
            for i, client in enumerate(clients):
                value = client.readouts.get("view refresh / s", "nan")
                samples[i].append(float(value) if value.replace(".", "", 1).isdigit() else float("nan"))
        means = [statistics.fmean(s) for s in samples]
        for client, mean, values in zip(clients, means, samples, strict=True):
            print(f"{client.page:>18}: mean {mean:.2f} refreshes/s, lowest {min(values):.2f}")
        print(f"{sessions} sessions, {len(replicas)} replicas: means {min(means):.2f}-{max(means):.2f}")
        assert not [e for c in clients for e in c.exceptions]
    finally:
        for client in clients:
            client.close()
