"""Flow matching's benchmark hooks: the plain regression loop, the learned velocity's error against the exact
marginal field, the likelihood of its ODE (`explorer.bench.likelihood`), `--field-out` (the velocity on a grid at a
few times: t = 0 noise, t = 1 data; `density_points`, `density_log_prob`: log p_theta on the likelihood's grid), and
the live panel the page renders (for `--live-seconds`)."""

from __future__ import annotations

import numpy as np
import torch

from explorer.bench.likelihood import likelihood_figures
from explorer.bench.plain_loop import regression_steps_per_s as plain_steps_per_s  # noqa: F401 (the hook)
from explorer.bench.trained import live_frame
from explorer.maths.grid import make_grid

FIELD_TIMES = (0.25, 0.5, 0.75)


def figures(session, samples: torch.Tensor, args) -> dict:
    """The velocity's p_t-weighted relative error at t = 0.5 (exact targets), and `--field-out`."""
    from explorer.views.flow_matching import relative_field_error

    method, result = session.method, {}
    if method.exact() is not None:
        error = relative_field_error(method, 0.5, torch.Generator().manual_seed(args.seed + 4), 20_000)
        result["velocity_rel_error_t05"] = round(error, 4)
    likelihood = {}
    if method.has_log_prob:
        figures_, likelihood = likelihood_figures(method, session.density, args.seed, args.field_grid, args.nll_samples)
        result.update(figures_)
    if args.field_out:
        grid = make_grid(6.0, args.field_grid, session.device_choice.device)
        with torch.no_grad():
            velocity = [method.sampling_field()(grid.points, t).float().cpu().numpy() for t in FIELD_TIMES]
        points = grid.points.cpu().numpy().astype(np.float32)
        density = {"density_" + k: v for k, v in likelihood.items()}  # the likelihood's own grid, over [-5, 5]^2
        times = np.asarray(FIELD_TIMES, np.float32)
        np.savez(args.field_out, points=points, t=times, velocity=np.stack(velocity), **density)
    return result


def live_render(session) -> object:
    """What the page renders every frame: samples over data and the velocity field with its error map."""
    from explorer.views.flow_matching import velocity_view

    return live_frame(session, lambda generator: velocity_view(session.method, 0.5, generator))
