"""Training evolution: the model's samples at each quality evaluation, as one animation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from explorer.plotting.figures import PALETTE, animated, scatter


def evolution_figure(data: np.ndarray, frames: Sequence[tuple[int, np.ndarray]], title: str, lim: float = 6.0) -> dict:
    """Data `[n, 2]` under the model's samples at each (step, samples `[m, 2]`) frame, with a step slider."""
    base = [scatter(data, "data", PALETTE["data"], 3, 0.35), scatter(frames[0][1], "model", PALETTE["model"], 4, 0.75)]
    shown = [[scatter(samples, "model", PALETTE["model"], 4, 0.75)] for _, samples in frames]
    return animated(base, shown, [f"{step:,}" for step, _ in frames], title, lim, 560, 150, "step ")
