"""Start `streamlit run app.py` on a free port (the browser and load tests, the page benchmark, the pictures);
stop it afterwards."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(env: dict[str, str] | None = None, root: Path = ROOT) -> Iterator[tuple[str, subprocess.Popen]]:
    """(url, process) of a healthy server of the app in `root`; raises RuntimeError if it does not answer within 60 s.

    The server's output goes to a file (a pipe nobody reads would stall the server once full);
    `server_log(process)` returns its end."""
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    cmd += ["--server.headless", "true", "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
    log = tempfile.NamedTemporaryFile("w+", prefix="streamlit-", suffix=".log", delete=False)  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(cmd, cwd=root, stdout=log, stderr=subprocess.STDOUT, text=True, env=env)
    proc.log_path = log.name
    url = f"http://127.0.0.1:{port}"
    start = time.monotonic()
    try:
        while True:
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(f"streamlit exited early:\n{server_log(proc)}") from None
                if time.monotonic() - start > 60:
                    raise RuntimeError("streamlit did not become healthy within 60 s") from None
                time.sleep(0.1)
        print(f"\nserver healthy after {time.monotonic() - start:.2f} s", file=sys.stderr)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        Path(log.name).unlink(missing_ok=True)


def server_log(proc: subprocess.Popen, chars: int = 4000) -> str:
    """The last `chars` characters the server printed."""
    return Path(proc.log_path).read_text(errors="replace")[-chars:]
