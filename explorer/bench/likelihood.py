"""The likelihood figures of every family with one (RealNVP, flow matching, diffusion), for the bench's JSON.

`likelihood_figures` reports the NLL of `NLL_SAMPLES` fresh data points in nats with its standard error, the
target's entropy H(p) where known and the excess NLL - H = KL(p || p_theta), the Riemann sum of p_theta over a
regular grid of [-5, 5]^2 (at least 101 x 101, y-major: `grid_mass`, ~1 when little mass lies outside), and how long
a page-sized density grid takes (`density_grid_s`: the Density tab's 36 x 36 for the ODE families); it returns the
grid and log p_theta there for `--field-out`.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from explorer.maths.entropy import target_entropy
from explorer.maths.grid import make_grid

FIELD_LIM = 5.0
MIN_FIELD_GRID = 101
NLL_SAMPLES = 20_000
PAGE_GRID = 36  # explorer.views.cnf.GRID


@torch.no_grad()
def likelihood_figures(
    method, density, seed: int, field_grid: int = MIN_FIELD_GRID, n: int = NLL_SAMPLES
) -> tuple[dict, dict]:
    """(JSON figures, {"points" [N, 2], "log_prob" [N]} on the grid) for a method with `log_prob(x)`; the NLL on
    `n` fresh points."""
    x = density.sample(n, torch.Generator().manual_seed(seed + 5))
    nll = -method.log_prob(x).double().cpu()
    result = {"nll": round(float(nll.mean()), 4), "nll_stderr": round(float(nll.std() / math.sqrt(len(nll))), 4)}
    result["nll_points"] = n
    entropy = target_entropy(density)
    if entropy is not None:
        result.update({"entropy": round(entropy.value, 4), "entropy_how": entropy.how})
        result["nll_minus_entropy"] = round(result["nll"] - entropy.value, 4)
    grid = make_grid(FIELD_LIM, max(MIN_FIELD_GRID, field_grid), method.device)
    log_prob = method.log_prob(grid.points).float().cpu()
    result["grid_mass"] = round(float(torch.exp(log_prob.double()).sum() * grid.spacing**2), 4)
    page = make_grid(6.0, PAGE_GRID, method.device).points
    start = time.perf_counter()
    method.log_prob(page)
    result["density_grid_s"] = round(time.perf_counter() - start, 3)
    arrays = {"points": grid.points.cpu().numpy().astype(np.float32), "log_prob": log_prob.numpy()}
    return result, arrays
