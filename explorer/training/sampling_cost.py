"""What drawing one sample costs a trained family: network evaluations, and measured wall time.

Network evaluations per sample (NFE) count the sequential passes of the trained network a sampler
makes: for the ODE / SDE samplers (flow matching, diffusion) sampler steps x evaluations per step
(Euler, DDPM, DDIM, reverse SDE: 1; midpoint and Heun, including diffusion's probability-flow ODE:
2); for one-shot generators 1: the GAN's generator, the VAE's decoder, and the flow (x = f(z)), one
pass through the flow (its K coupling networks run in turn inside that pass, so its pass is about K
small networks: the measured time puts such differences on one scale).
"""

from __future__ import annotations

import time

import numpy as np
import torch

from explorer.configs import TrainingConfig
from explorer.methods import FAMILIES, Method


def evaluations_per_sample(family: str, config: TrainingConfig) -> tuple[int, str]:
    """(network evaluations to draw one sample, how they add up): the family's method answers
    (`Method.evaluations_per_sample`) from its sampler settings."""
    return FAMILIES[family].method.evaluations_per_sample(config)


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so that wall-clock times are honest."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def sampling_seconds(method: Method, generator_fn, n: int = 1000, repeats: int = 3) -> float:
    """Median wall time (s) of `method.sample(n, generator_fn())`, the family's page sampler."""
    times = []
    for _ in range(repeats):
        generator = generator_fn()
        start = time.perf_counter()
        method.sample(n, generator)
        synchronize(method.device)
        times.append(time.perf_counter() - start)
    return float(np.median(times))
