"""Files the app's own page loads, served by the app's server with long-lived caching.

plotly.js reaches the browser from here: a partial bundle of plotly.js 4.1.1 (`vendor/`, MIT) with the
trace types the explorer draws, scatter, bar and heatmap, built from npm's plotly.js by `vendor/build/`
(`npm ci && npm run build`), under a versioned name with `Cache-Control: immutable`, so a browser
fetches it once and keeps it. Its evaluation is what a page open waits for before its first chart:
loaded from the cache into a blank page in headless Chromium here, the full plotly.js (4.8 MB) took
1.04-1.31 s, npm's cartesian bundle (1.5 MB, eleven trace types) 0.41-0.51 s, this one (1.2 MB)
0.11-0.17 s. Streamlit's server serves component files without a lifetime or validators (refetched at
every open), hence a route of the app's own (`app.py`).

The live panels' Vega-Lite curves are drawn by vega-embed with vega and vega-lite (BSD-3-Clause), bundled the
same way by `vendor/vega-build/` into one file served from here too (loaded by the page only when a live panel
draws its curves).
"""

from __future__ import annotations

import functools
import gzip
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

VENDOR = Path(__file__).with_name("vendor")
PLOTLY = "plotly-explorer-4.1.1.min.js"  # versioned: a new bundle gets a new name, so `immutable` is safe
VEGA = "vega-explorer-6.4.1.min.js"  # vega-lite's version: the Vega-Lite schema Altair writes (v6)
PREFIX = "explorer-assets"
TRACE_TYPES = frozenset(("bar", "heatmap", "scatter"))  # what the bundle draws (vendor/build/entry.js)
CACHE = "public, max-age=31536000, immutable"


@functools.cache
def _file(name: str) -> tuple[bytes, bytes]:
    """The file's bytes and their gzip (compressed once, at the first request)."""
    data = (VENDOR / name).read_bytes()
    return data, gzip.compress(data, compresslevel=6)


async def _serve(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in (PLOTLY, VEGA):
        return Response("not found", status_code=404)
    data, zipped = _file(name)
    headers = {"Cache-Control": CACHE, "Vary": "Accept-Encoding", "X-Content-Type-Options": "nosniff"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        data, headers["Content-Encoding"] = zipped, "gzip"
    return Response(data, media_type="text/javascript", headers=headers)


def routes(base_url: str = "") -> list[Route]:
    """`/explorer-assets/{name}`, and the same under Streamlit's `server.baseUrlPath` when one is set (the
    page asks for it relative to Streamlit's own scripts)."""
    return served_at(f"/{PREFIX}/{{name}}", _serve, base_url)


def served_at(path: str, endpoint, base_url: str = "") -> list[Route]:
    """GET routes for `path` (e.g. "/explorer-live/{token}"), and for the same under Streamlit's `server.baseUrlPath`
    when one is set: the app's own routes for plotly.js, the live feeds and the status."""
    paths = {path}
    if base_url.strip("/"):
        paths.add(f"/{base_url.strip('/')}{path}")
    return [Route(p, endpoint, methods=["GET"]) for p in sorted(paths)]
