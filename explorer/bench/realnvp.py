"""The Normalizing flows part of `python -m explorer.bench --family flow`.

`figures` adds, to the bench's common JSON: `layers` (K), the NLL of fresh data in nats with its
standard error, the target's entropy H(p) where known (log 32 for the checkerboard) and the excess
NLL - H = KL(p || p_theta); with `--field-out F.npz` it saves `points` `[N, 2]`, a regular grid over
[-5, 5]^2 (at least 101 x 101, y-major), and the learned `log_prob` `[N]` there, whose Riemann sum
of exp it also reports (`grid_mass`, ~1 when little mass lies outside the grid).

`plain_steps_per_s` times the textbook loop it is compared with: the same `RealNVP` nn.Module (same
K, width, depth, scale bound S and bounded output), `-log_prob(x).mean()`, `loss.backward()` and
`torch.optim.Adam`, one batch drawn per step from the density, in the same process and thread count.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from explorer.bench.plain_loop import autograd_steps_per_s
from explorer.device import make_generator
from explorer.kernels.realnvp import RealNVP
from explorer.maths.entropy import target_entropy
from explorer.maths.grid import make_grid

FIELD_LIM = 5.0
MIN_FIELD_GRID = 101
NLL_SAMPLES = 20_000


def plain_steps_per_s(session, seconds: float) -> float:
    """Steps/s of nn.Module couplings + autograd + torch.optim.Adam at the session's size."""
    cfg, device = session.config, session.device_choice.device
    torch.manual_seed(cfg.seed)
    flow = RealNVP(cfg.n_layers, cfg.hidden, cfg.depth, cfg.scale_bound, cfg.activation, session.method.bound)
    flow = flow.to(device)
    optimizer = torch.optim.Adam(flow.parameters(), lr=cfg.lr)
    generator = make_generator(cfg.seed, device)

    def loss() -> torch.Tensor:
        return -flow.log_prob(session.density.sample(cfg.batch_size, generator)).mean()

    return autograd_steps_per_s(loss, optimizer, seconds, device)


def figures(session, samples: torch.Tensor, args) -> dict:
    """The bench's hook (`explorer.bench.trained`): the flow's own figures; writes `--field-out` when given."""
    return flow_figures(session.method, session.density, args.seed, args.field_out, args.field_grid)


@torch.no_grad()
def flow_figures(method, density, seed: int, field_out: str = "", field_grid: int = MIN_FIELD_GRID) -> dict:
    """The flow's own benchmark figures (see the module doc); writes `field_out` when given."""
    x = density.sample(NLL_SAMPLES, torch.Generator().manual_seed(seed + 5))
    nll = -method.log_prob(x).double().cpu()
    result = {
        "layers": method.config.n_layers,
        "scale_bound": method.config.scale_bound,
        "nll": round(float(nll.mean()), 4),
        "nll_stderr": round(float(nll.std() / math.sqrt(len(nll))), 4),
    }
    entropy = target_entropy(density)
    if entropy is not None:
        result.update({"entropy": round(entropy.value, 4), "entropy_how": entropy.how})
        result["nll_minus_entropy"] = round(result["nll"] - entropy.value, 4)
    grid = make_grid(FIELD_LIM, max(MIN_FIELD_GRID, field_grid), method.device)
    log_prob = method.log_prob(grid.points).float().cpu()
    result["grid_mass"] = round(float(torch.exp(log_prob.double()).sum() * grid.spacing**2), 4)
    if field_out:
        np.savez(field_out, points=grid.points.cpu().numpy().astype(np.float32), log_prob=log_prob.numpy())
    return result
