"""Benchmarks: `python -m explorer.bench` (`cli`), the shared training benchmark (`training`), one module of
hooks per family (its figures and its plain PyTorch baseline, named by its registry entry), the plain loops
(`plain_loop`) and the Langevin chains (`langevin`). Commands that print figures; no timed assertions.

May import everything below the UI: `explorer.training`, `explorer.views`, `explorer.plotting`, `explorer.methods`,
`explorer.kernels`, `explorer.maths`, `explorer.data`.
"""

from explorer.bench.cli import main, run

__all__ = ["main", "run"]
