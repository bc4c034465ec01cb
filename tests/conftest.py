"""Shared pytest setup: one torch thread, the repository on sys.path, and a `--device` option.

Run the suite on an accelerator with `python -m pytest --device cuda` (or mps / auto); tests
that take the `device` fixture are skipped when the requested device is not available.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
# Every figure a page draws goes through plotly's validation (the app skips it: explorer/ui/chart.py),
# in AppTest and in the servers the browser tests start.
os.environ.setdefault("EXPLORER_CHECK_FIGURES", "1")
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from explorer.device import DEVICE_OPTIONS, resolve_device  # noqa: E402

# The test machine has two cores; one intra-op thread is the explorer's own policy (docs/decisions.md, "Training").
# EXPLORER_TEST_THREADS=2 runs the suite with two (other reduction orders in torch's kernels), and
# EXPLORER_FLUSH_DENORMAL=1 with denormals flushed to zero: the suite must pass either way.
torch.set_num_threads(int(os.environ.get("EXPLORER_TEST_THREADS", "1")))
if os.environ.get("EXPLORER_FLUSH_DENORMAL") == "1":
    torch.set_flush_denormal(True)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--device",
        action="store",
        default="cpu",
        choices=DEVICE_OPTIONS,
        help="torch device for tests that take the `device` fixture (default: cpu).",
    )


@pytest.fixture(scope="session")
def device(request: pytest.FixtureRequest) -> torch.device:
    """The device asked for with --device; skips the test if it fell back to the CPU."""
    choice = resolve_device(request.config.getoption("--device"))
    if choice.fell_back:
        pytest.skip(choice.reason)
    return choice.device


@pytest.fixture
def float64():
    """Tensors default to float64 for the test: networks, data, kernels and references alike.

    Exact maths computed two ways (a hand-derived kernel against autograd, a decomposition against a
    direct computation) then agrees to ~1e-12 whatever the CPU's kernels and reduction order, so such
    tests compare tightly there instead of with float32 tolerances that one CPU happens to meet."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield torch.float64
    torch.set_default_dtype(previous)
