"""Warm a fresh server up before its first visitor: import what the pages use, compile every family's kernels.

A page's first run in a new process paid for importing torch, plotly, altair, POT and SciPy and for
TorchScript-compiling the family's training kernel and sampler (measured: the first open of Flow
matching got its first message 5.7 s later than the next one). `warm_up` does that work once per
process; `app.py` runs it in a background thread at server start. Each compiled kernel is cached for
the process (`explorer.flat_mlp.compiled`), so nothing it builds is kept or shared: the sessions here
are thrown away.
"""

from __future__ import annotations

import importlib
import logging
import math
import time

MODULES = ("plotly.graph_objects", "altair", "ot", "scipy.stats", "scipy.integrate", "PIL.Image")
WARMUP_STEPS = 3

_LOG = logging.getLogger(__name__)


def warm_up() -> dict[str, float]:
    """Seconds spent per part: the imports, then one throwaway session per family (a few steps, a snapshot
    and samples). Failures are logged, never raised: a page still works cold."""
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    for name in MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # optional for the pages that need it; they say so themselves
            _LOG.info("warm-up: %s is not importable", name)
    from explorer.device import make_generator
    from explorer.methods import METHODS
    from explorer.session import TrainingSession

    seconds["imports"] = time.perf_counter() - start
    for family in METHODS:
        begin = time.perf_counter()
        try:
            session = TrainingSession(family, quality_every=10**9, quality_period_s=math.inf)
            session.step(WARMUP_STEPS)
            session.snapshot()
            session.method.sample(64, make_generator(0, session.device_choice.device))
        except Exception:  # noqa: BLE001 - a warm-up must never take the server down
            _LOG.exception("warm-up of %s failed", family)
        seconds[family] = time.perf_counter() - begin
    _LOG.info("warm-up done in %.1f s: %s", time.perf_counter() - start, seconds)
    return seconds
