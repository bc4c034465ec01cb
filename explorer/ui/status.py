"""`/explorer-status`: what this server process is doing, as JSON, for a proxy, a launcher or a lecturer.

    {"replica": "replica-0", "pid": 1234, "sessions": ["<session id>", ...],
     "training": 1, "training_capacity": 1, "waiting": false}

`replica` is `EXPLORER_REPLICA` (set by deploy/serve_class.py), else the host name. The session ids are
the ones Streamlit gives its sessions (a client sees its own in the first message), so a test can tell
which replica holds which session.
"""

from __future__ import annotations

import os
import socket

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from explorer.training.slots import SLOTS
from explorer.ui import assets


def session_ids() -> list[str]:
    """Ids of the sessions this process holds (empty before the runtime starts)."""
    try:
        from streamlit.runtime import Runtime

        if not Runtime.exists():
            return []
        manager = Runtime.instance()._session_mgr  # no public accessor in Streamlit 1.67
        return sorted(info.session.id for info in manager.list_active_sessions())
    except Exception:  # noqa: BLE001 - a status page must answer whatever Streamlit's internals do
        return []


async def _status(_request: Request) -> JSONResponse:
    body = {
        "replica": os.environ.get("EXPLORER_REPLICA") or socket.gethostname(),
        "pid": os.getpid(),
        "sessions": session_ids(),
        "training": SLOTS.training,
        "training_capacity": SLOTS.capacity,
        "waiting": SLOTS.contended(),
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def routes(base_url: str = "") -> list[Route]:
    return assets.served_at("/explorer-status", _status, base_url)
