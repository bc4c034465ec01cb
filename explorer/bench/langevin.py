"""Benchmark of the Langevin page's default settings on the exact score:
`python -m explorer.bench --family langevin --json`.

Runs `LangevinConfig()` (only the density, the number of chains and the seed replaced) with the
exact score of a Gaussian mixture, and reports the final states' log-density gap (against 200,000
target samples, so the reference adds almost no noise) and mode-coverage total variation, with the
wall-clock seconds of the chains alone (not the scoring).
"""

from __future__ import annotations

import argparse
import dataclasses

from explorer.data.densities import GaussianMixture, get_density
from explorer.device import resolve_device
from explorer.methods.langevin import LangevinConfig, run_chains, with_fields
from explorer.methods.langevin_scores import ExactScore

REFERENCE_SIZE = 200_000


def run(density: str = "eight_gaussians", n_chains: int = 4000, seed: int = 0, device: str = "cpu") -> dict:
    """The page's default Langevin run with the exact score; a JSON-able dict of its figures."""
    target = get_density(density)
    if not isinstance(target, GaussianMixture):
        raise ValueError(f"{density} has no exact score: the Langevin benchmark needs a Gaussian mixture")
    choice = resolve_device(device)
    config = with_fields(LangevinConfig(), density=density, n_chains=n_chains, seed=seed)
    result = run_chains(config, ExactScore(target), choice.device, reference_size=REFERENCE_SIZE)
    traj, cfg = result.trajectory, result.config
    return {
        "family": "langevin",
        "density": density,
        "device": choice.device.type,
        "seconds": round(traj.seconds, 4),
        "n_chains": cfg.n_chains,
        "steps": traj.steps_done,
        "step_size": cfg.step_size,
        "noise_scale": cfg.noise_scale,
        "init": cfg.init,
        "annealed": cfg.annealed,
        "mala": result.mala,
        "acceptance": traj.acceptance,
        "logp_gap": result.final("logp_gap"),
        "logp_gap_band": result.perfect.get("logp_gap"),
        "mode_tv": result.final("mode_tv"),
        "mode_tv_floor": result.perfect.get("mode_tv"),
        "blowup": traj.blowup or None,
        "config": dataclasses.asdict(cfg),
    }


def run_from_args(args: argparse.Namespace) -> dict:
    """`python -m explorer.bench --family langevin ...`: the chains need no training session."""
    return run(args.density or "eight_gaussians", args.n_chains, args.seed, args.device)
