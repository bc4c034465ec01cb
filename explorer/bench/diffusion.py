"""Diffusion's benchmark hooks: the plain regression loop, the learned score's error against the exact one
where alpha_t^2 = 1/2, the likelihood of its probability-flow ODE (`explorer.bench.likelihood`), `--field-out` (the
score on a grid at a few diffusion times, t = 0 data, with alpha_t and sigma_t; `density_points`,
`density_log_prob`: log p_theta on the likelihood's grid), and the live panel the page renders (`--live-seconds`)."""

from __future__ import annotations

import numpy as np
import torch

from explorer.bench.likelihood import likelihood_figures
from explorer.bench.plain_loop import regression_steps_per_s as plain_steps_per_s  # noqa: F401 (the hook)
from explorer.bench.trained import live_frame
from explorer.maths.grid import make_grid


def figures(session, samples: torch.Tensor, args) -> dict:
    """The score's relative error at alpha_t^2 = 1/2 (exact targets), and `--field-out`."""
    from explorer.views.diffusion import relative_score_error, time_at_abar

    method, result = session.method, {}
    if method.exact() is not None:
        t = time_at_abar(method, 0.5)
        error = relative_score_error(method, t, torch.Generator().manual_seed(args.seed + 4), 20_000)
        result.update({"score_t_at_alpha2_half": round(t, 4), "score_rel_error": round(error, 4)})
    figures_, likelihood = likelihood_figures(method, session.density, args.seed, args.field_grid, args.nll_samples)
    result.update(figures_)
    if args.field_out:
        grid = make_grid(6.0, args.field_grid, session.device_choice.device)
        times = sorted({0.1, round(time_at_abar(method, 0.5), 4), 0.5, 0.9})
        with torch.no_grad():
            score = [method.score(grid.points, t).float().cpu().numpy() for t in times]
        np.savez(
            args.field_out,
            points=grid.points.cpu().numpy().astype(np.float32),
            t=np.asarray(times, np.float32),
            alpha=np.asarray([float(method.schedule.alpha(t)) for t in times], np.float32),
            sigma=np.asarray([float(method.schedule.sigma(t)) for t in times], np.float32),
            score=np.stack(score).astype(np.float32),
            **{"density_" + k: v for k, v in likelihood.items()},  # log p_theta of the PF-ODE over [-5, 5]^2
        )
    return result


def live_render(session) -> object:
    """What the page renders every frame: samples over data and the score field with its error map."""
    from explorer.views.diffusion import score_view

    return live_frame(session, lambda generator: score_view(session.method, 0.3, generator))
