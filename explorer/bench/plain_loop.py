"""The benchmarks' yardstick: a textbook PyTorch training loop, timed.

Every family's bench compares its session's throughput with `autograd_steps_per_s` on a model of
the same size built from `plain_mlp`: nn.Sequential, `loss.backward()` and a torch.optim optimizer,
timed in the same process and thread count.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from torch import Tensor, nn

from explorer.kernels.activations import LEAKY_SLOPE


def plain_mlp(
    in_dim: int, out_dim: int, hidden: int, depth: int, device: torch.device, activation: str = "silu"
) -> nn.Sequential:
    """Linear -> act -> ... -> Linear with `depth` hidden layers (the shape of `nets.MLP`); act SiLU, or leaky ReLU
    (slope `activations.LEAKY_SLOPE`)."""
    dims, layers = [in_dim] + [hidden] * depth, []
    for a, b in zip(dims[:-1], dims[1:], strict=True):
        layers += [nn.Linear(a, b), nn.LeakyReLU(LEAKY_SLOPE) if activation == "leaky_relu" else nn.SiLU()]
    return nn.Sequential(*layers, nn.Linear(dims[-1], out_dim)).to(device)


def steps_per_s(step: Callable[[], None], seconds: float, device: torch.device) -> float:
    """How many times a second `step()` runs, over about `seconds` of wall time."""
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        steps += 1
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps / (time.perf_counter() - start)


def autograd_steps_per_s(
    loss: Callable[[], Tensor], optimizer: torch.optim.Optimizer, seconds: float, device: torch.device
) -> float:
    """Steps/s of zero_grad, loss().backward(), optimizer.step()."""

    def step() -> None:
        optimizer.zero_grad()
        loss().backward()
        optimizer.step()

    return steps_per_s(step, seconds, device)


def regression_steps_per_s(session, seconds: float) -> float:
    """Steps/s of a textbook loop (nn.Sequential + torch.optim.Adam + loss.backward) of the session's
    width and depth, on batches drawn per step by the family's own `training_pairs` (same data): the
    plain baseline of the regression families (flow matching, diffusion)."""
    from explorer.device import make_generator

    cfg, device, method = session.config, session.device_choice.device, session.method
    torch.manual_seed(cfg.seed)
    net = plain_mlp(method.net.mlp.layers[0].in_features, 2, cfg.hidden, cfg.depth, device)
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    generator = make_generator(cfg.seed, device)

    def loss() -> Tensor:
        inputs, targets = method.training_pairs(1, generator)
        return (net(inputs[0]) - targets[0]).pow(2).mean()

    return autograd_steps_per_s(loss, optimizer, seconds, device)
