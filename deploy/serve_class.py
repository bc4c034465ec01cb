"""Serve a class from one command: N Streamlit replicas of the explorer behind nginx, kept alive.

    python deploy/serve_class.py --replicas 4 --port 8080

starts replicas on 127.0.0.1:8501.. (one process each, `EXPLORER_MAX_TRAINING` sessions training at a
time in each, one shared cookie secret), writes an nginx configuration from `nginx.conf.template`
(sticky by browser cookie, websockets upgraded) into a run folder, and starts Debian's nginx on
`--host:--port` in front of them. It then watches: a replica that exits is started again after a short
pause (its students see Streamlit's reconnect notice, and land on a live replica with a fresh session
meanwhile); nginx is restarted too. Ctrl-C (or SIGTERM) stops everything.

Health: `/explorer-proxy-health` is answered by nginx itself; `/_stcore/health` and `/explorer-status`
(replica name, sessions, training slots) come from whichever replica the browser is sticky to; each
replica's own `/explorer-status` is on its port. Sizing: measured, one replica serves about seven
watching-and-training students per core (docs/deploy.md, "Sizing"); give each replica two cores and
`--training-per-replica 1`, or one process per core.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).with_name("nginx.conf.template")
RESTART_PAUSE_S = 1.0


@dataclass
class Child:
    """One supervised process: how to start it, the running process, how often it was restarted."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen | None = None
    restarts: int = 0
    exited_at: float | None = field(default=None, repr=False)

    def start(self) -> None:
        with self.log.open("a") as out:
            self.process = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        self.exited_at = None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def nginx_config(template: str, run_dir: Path, listen: str, ports: list[int], fail_timeout: int) -> str:
    """The configuration: `template` with the run folder, listen address and one server line per replica."""
    servers = "\n".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout={fail_timeout}s;" for port in ports)
    values = {"run_dir": str(run_dir), "listen": listen, "servers": servers, "fail_timeout": f"{fail_timeout}s"}
    return string.Template(template).safe_substitute(values)


def replica(index: int, port: int, training: int, cookie_secret: str, run_dir: Path, python: str) -> Child:
    argv = [python, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address", "127.0.0.1"]
    argv += ["--server.headless", "true", "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
    env = {**os.environ, "EXPLORER_MAX_TRAINING": str(training), "EXPLORER_REPLICA": f"replica-{index}"}
    env["STREAMLIT_SERVER_COOKIE_SECRET"] = cookie_secret  # one secret: a browser's cookies hold on every replica
    return Child(f"replica-{index}", argv, env, run_dir / f"replica-{index}.log")


def wait_healthy(url: str, seconds: float, child: Child) -> bool:
    """Whether `url` answers 200 within `seconds` (False at once if `child` exits meanwhile)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end and child.alive():
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=max(1, (os.cpu_count() or 2) // 2))
    parser.add_argument("--host", default="0.0.0.0", help="address nginx listens on (0.0.0.0: the whole network)")
    parser.add_argument("--port", type=int, default=8080, help="the one port the students open")
    parser.add_argument("--base-port", type=int, default=8501, help="replica i listens on base-port + i (loopback)")
    parser.add_argument("--training-per-replica", type=int, default=1, help="EXPLORER_MAX_TRAINING of each replica")
    parser.add_argument("--fail-timeout", type=int, default=5, help="seconds nginx skips a replica that failed")
    parser.add_argument("--run-dir", default="", help="folder for nginx.conf, pids and logs (default: a temp one)")
    parser.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    args = parser.parse_args(argv)
    if not Path(args.nginx).exists():
        print(f"nginx not found at {args.nginx} (Debian: apt-get install nginx)", file=sys.stderr)
        return 2
    run_dir = Path(args.run_dir or tempfile.mkdtemp(prefix="explorer-class-")).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    ports = [args.base_port + i for i in range(args.replicas)]
    conf = run_dir / "nginx.conf"
    conf.write_text(nginx_config(TEMPLATE.read_text(), run_dir, f"{args.host}:{args.port}", ports, args.fail_timeout))
    secret = secrets.token_hex(32)
    children = [
        replica(i, port, args.training_per_replica, secret, run_dir, sys.executable) for i, port in enumerate(ports)
    ]
    children.append(
        Child(
            "nginx",
            [args.nginx, "-p", str(run_dir), "-c", str(conf), "-g", "daemon off;"],
            dict(os.environ),
            run_dir / "nginx.log",
        )
    )

    stopping = False

    def stop(_signum, _frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for child in children:
        child.start()
    for child, port in zip(children, ports, strict=False):
        if not wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", 90, child):
            print(f"{child.name} (port {port}) did not become healthy: see {child.log}", file=sys.stderr, flush=True)
    print(f"serving {args.replicas} replicas at http://{args.host}:{args.port} (logs: {run_dir})", flush=True)
    while not stopping:
        now = time.monotonic()
        for child in children:
            if child.alive():
                continue
            if child.exited_at is None:
                child.exited_at = now
                print(f"{child.name} exited ({child.process.returncode}); restarting", flush=True)
            elif now - child.exited_at >= RESTART_PAUSE_S:
                child.restarts += 1
                child.start()
        time.sleep(0.2)
    for child in reversed(children):
        child.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
