"""Warm a fresh server up before its first visitor: import what the pages use, compile every family's kernels.

A page's first run in a new process paid for importing torch, plotly, altair, pandas, POT and SciPy and for
TorchScript-compiling the family's training kernel and sampler (measured: the first open of Flow
matching got its first message 5.7 s later than the next one). `app.py` calls `import_modules` before
the server takes its first request, then runs `warm_up` in a background thread. The imports must come
first and in one thread: a session importing pandas while another thread did raised "partially
initialized module 'pandas'" (seen in the replicas test). Each compiled kernel is cached for the process
(`explorer.kernels.flat_mlp.compiled`), so nothing else is kept or shared: the sessions here are thrown away.
"""

from __future__ import annotations

import importlib
import logging
import math
import pkgutil
import time

MODULES = ("pandas", "plotly.graph_objects", "altair", "ot", "scipy.stats", "scipy.integrate", "PIL.Image", "torch")
PACKAGES = (
    "explorer.data",
    "explorer.maths",
    "explorer.kernels",
    "explorer.methods",
    "explorer.training",
    "explorer.views",
    "explorer.plotting",
    "explorer.notebook",
    "explorer.ui",
)
WARMUP_STEPS = 3

_LOG = logging.getLogger(__name__)


def import_modules() -> float:
    """Import the libraries and every module of the explorer a page uses, in this thread; seconds taken.
    A module that does not import is logged and skipped: the page that needs it says so itself."""
    start = time.perf_counter()
    names = list(MODULES)
    for package in PACKAGES:
        module = importlib.import_module(package)
        names += [info.name for info in pkgutil.iter_modules(module.__path__, f"{package}.")]
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - e.g. an optional library missing
            _LOG.info("warm-up: %s does not import", name, exc_info=True)
    return time.perf_counter() - start


def warm_up() -> dict[str, float]:
    """Seconds spent per family on one throwaway session (a few steps, a snapshot and samples): the kernels
    compile here instead of in a visitor's first run. Failures are logged, never raised: a page still
    works cold."""
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    from explorer.device import make_generator
    from explorer.methods import FAMILIES
    from explorer.training.session import TrainingSession

    for family in FAMILIES:
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
