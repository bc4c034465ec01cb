"""The Normalizing flows part of `python -m explorer.bench --family flow`.

`figures` adds, to the bench's common JSON: `layers` (K), `scale_bound` (S) and the likelihood figures
(`explorer.bench.likelihood`); with `--field-out F.npz` it saves the grid's `points` `[N, 2]` and the learned
`log_prob` `[N]` there.

`plain_steps_per_s` times the textbook loop it is compared with: the same `RealNVP` nn.Module (same
K, width, depth, scale bound S and bounded output), `-log_prob(x).mean()`, `loss.backward()` and
`torch.optim.Adam`, one batch drawn per step from the density, in the same process and thread count.
"""

from __future__ import annotations

import numpy as np
import torch

from explorer.bench.likelihood import likelihood_figures
from explorer.bench.plain_loop import autograd_steps_per_s
from explorer.device import make_generator
from explorer.kernels.realnvp import RealNVP


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
    """The bench's hook (`explorer.bench.trained`): K, S and the likelihood figures; writes `--field-out` when given."""
    method = session.method
    result, arrays = likelihood_figures(method, session.density, args.seed, args.field_grid, args.nll_samples)
    if args.field_out:
        np.savez(args.field_out, **arrays)
    return {"layers": method.config.n_layers, "scale_bound": method.config.scale_bound, **result}
