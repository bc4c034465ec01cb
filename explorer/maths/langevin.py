"""Langevin dynamics over a score: unadjusted (ULA), Metropolis-adjusted (MALA) and annealed.

A score is a plain callable `score(x: [n, 2]) -> [n, 2]` (grad_x log p), a log-density
`log_prob(x: [n, 2]) -> [n]`. Every kernel is batched over n independent chains and draws its
noise from the caller's `torch.Generator`.

- ULA, with step eps and noise scale tau (tau = 1 samples p up to an O(eps) bias):
      x' = x + eps s(x) + sqrt(2 eps) tau z,   z ~ N(0, I)
- MALA proposes y that way and accepts it with probability min(1, a), using the exact proposal
  density q(y | x) = N(y; x + eps s(x), 2 eps tau^2 I), so the chain targets p exactly:
      log a = log p(y) - log p(x) + log q(x | y) - log q(y | x)
- annealed Langevin (Song and Ermon 2019) runs ULA on p_sigma = p * N(0, sigma^2 I) for a
  geometric ladder sigma_1 > ... > sigma_L, with the step eps_l = eps sigma_l^2 / sigma_L^2
  (eps is the step at the smallest level), so eps_l / sigma_l^2 is the same at every level.

`simulate` runs a list of `Level`s (one for plain Langevin), records at most `frames` states
`[F, n, 2]` and stops early, keeping the frames so far, when a chain leaves the finite plane.
Where the scores come from (exact mixtures, a learned diffusion model) is
`explorer.methods.langevin_scores`; the page's settings and one whole run are `explorer.methods.langevin`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor

ScoreFn = Callable[[Tensor], Tensor]
LogProbFn = Callable[[Tensor], Tensor]

BLOWUP_RADIUS = 1e3  # a chain this far out (the plane of interest is [-6, 6]^2) has diverged
MAX_FRAMES = 61


def _normal(shape: tuple[int, ...], generator: torch.Generator) -> Tensor:
    return torch.randn(shape, generator=generator, device=generator.device)


def ula_step(x: Tensor, score: ScoreFn, eps: float, tau: float, generator: torch.Generator) -> Tensor:
    """One unadjusted Langevin step x' = x + eps s(x) + sqrt(2 eps) tau z, `[n, 2] -> [n, 2]`."""
    return x + eps * score(x) + math.sqrt(2 * eps) * tau * _normal(tuple(x.shape), generator)


def log_q(to: Tensor, frm: Tensor, score_frm: Tensor, eps: float, tau: float) -> Tensor:
    """log q(to | frm) = -|to - frm - eps s(frm)|^2 / (4 eps tau^2) + const, `[n]` (the constant
    cancels in the MALA ratio)."""
    return -(to - frm - eps * score_frm).pow(2).sum(-1) / (4 * eps * tau * tau)


def mala_step(
    x: Tensor,
    score: ScoreFn,
    log_prob: LogProbFn,
    eps: float,
    tau: float,
    generator: torch.Generator,
    cache: tuple[Tensor, Tensor] | None = None,
) -> tuple[Tensor, Tensor, tuple[Tensor, Tensor]]:
    """One MALA step: (x' `[n, 2]`, accepted `[n]` bool, (s(x'), log p(x')) for the next step).

    `cache` holds (s(x), log p(x)) from the previous step, so a step costs one score and one
    log-density evaluation. A proposal that is not finite is rejected; a chain sitting where
    p = 0 (log p = -inf) accepts any finite proposal.
    """
    sx, lx = cache if cache is not None else (score(x), log_prob(x))
    y = x + eps * sx + math.sqrt(2 * eps) * tau * _normal(tuple(x.shape), generator)
    sy, ly = score(y), log_prob(y)
    log_a = ly - lx + log_q(x, y, sy, eps, tau) - log_q(y, x, sx, eps, tau)
    finite_y = torch.isfinite(y).all(1) & torch.isfinite(sy).all(1)
    log_a = torch.where(torch.isneginf(lx) & finite_y, torch.full_like(log_a, math.inf), log_a)
    u = torch.rand(log_a.shape, generator=generator, device=generator.device, dtype=x.dtype)
    accept = (u.clamp_min(1e-38).log() < log_a) & finite_y  # NaN compares False: rejected
    keep = accept[:, None]
    return torch.where(keep, y, x), accept, (torch.where(keep, sy, sx), torch.where(accept, ly, lx))


def noise_start(n: int, scale: float, generator: torch.Generator) -> Tensor:
    """Chains started at scale * N(0, I), `[n, 2]`."""
    return scale * _normal((n, 2), generator)


def point_start(n: int, point: Tensor | tuple[float, float], device: torch.device | str = "cpu") -> Tensor:
    """Every chain started at the same point, `[n, 2]` (the noise separates them)."""
    return torch.as_tensor(point, dtype=torch.float32, device=device).reshape(1, 2).repeat(n, 1)


def geometric_ladder(sigma_max: float, sigma_min: float, levels: int) -> list[float]:
    """sigma_l = sigma_max (sigma_min / sigma_max)^((l - 1) / (L - 1)), l = 1..L (one level: sigma_min)."""
    if levels <= 1:
        return [float(sigma_min)]
    ratio = sigma_min / sigma_max
    return [float(sigma_max * ratio ** (i / (levels - 1))) for i in range(levels)]


def annealed_steps(eps: float, sigmas: list[float]) -> list[float]:
    """eps_l = eps sigma_l^2 / sigma_L^2 (Song and Ermon), one per level."""
    last = sigmas[-1] ** 2
    return [eps * s * s / last for s in sigmas]


@dataclass(frozen=True)
class Level:
    """`steps` Langevin steps of size `eps` on the density with this `score` (and `log_prob` for
    MALA), p convolved with N(0, sigma^2 I) (sigma = 0: the target itself)."""

    sigma: float
    eps: float
    steps: int
    score: ScoreFn
    log_prob: LogProbFn | None = None


@dataclass
class Trajectory:
    """What `simulate` recorded.

    frames `[F, n, 2]` (finite states only), steps `[F]` (step index of each frame, 0 = start),
    sigmas `[F]` (the level's noise in force), accept `[F]` (MALA acceptance rate over the steps
    since the previous frame; NaN at frame 0 and without MALA), acceptance (over the whole run),
    blowup ('' or why the run stopped), steps_done of steps_planned, seconds (wall-clock), and
    the levels' noise `ladder` with the step each level starts at (one level: plain Langevin).
    """

    frames: Tensor
    steps: list[int]
    sigmas: list[float]
    accept: list[float]
    acceptance: float | None
    blowup: str
    steps_done: int
    steps_planned: int
    seconds: float
    ladder: list[float] = field(default_factory=list)
    level_starts: list[int] = field(default_factory=list)

    @property
    def annealed(self) -> bool:
        return len(self.ladder) > 1

    @property
    def final(self) -> Tensor:
        """The last recorded (finite) states, `[n, 2]`."""
        return self.frames[-1]


def frame_steps(total: int, frames: int = MAX_FRAMES) -> list[int]:
    """Up to `frames` step indices from 0 to `total`, evenly spread, both ends included."""
    count = max(2, min(frames, total + 1))
    return sorted({round(i * total / (count - 1)) for i in range(count)})


def _diverged(x: Tensor) -> bool:
    """True when any coordinate is inf / NaN or beyond BLOWUP_RADIUS (NaN fails `<`)."""
    return not bool(x.abs().amax() < BLOWUP_RADIUS) if x.numel() else False


@torch.no_grad()
def simulate(
    x0: Tensor,
    levels: list[Level],
    generator: torch.Generator,
    *,
    tau: float = 1.0,
    mala: bool = False,
    frames: int = MAX_FRAMES,
) -> Trajectory:
    """Run every level in turn from x0 `[n, 2]`; MALA needs each level's `log_prob`.

    Stops at the first step that leaves a chain non-finite or beyond BLOWUP_RADIUS; the frames
    recorded up to the step before (and that last finite state) are kept.
    """
    if mala and any(level.log_prob is None for level in levels):
        raise ValueError("MALA needs log p at every level")
    total = sum(level.steps for level in levels)
    wanted = set(frame_steps(total, frames))
    x = x0.clone()
    recorded, steps, sigmas, accept = [x.clone()], [0], [levels[0].sigma if levels else 0.0], [math.nan]
    accepted_since = tried_since = accepted_all = 0
    blowup, step = "", 0
    start = time.perf_counter()
    for level in levels:
        cache = None
        for _ in range(level.steps):
            if mala:
                new, ok, cache = mala_step(x, level.score, level.log_prob, level.eps, tau, generator, cache)
                n_ok = int(ok.sum())
                accepted_since, tried_since, accepted_all = (
                    accepted_since + n_ok,
                    tried_since + ok.numel(),
                    accepted_all + n_ok,
                )
            else:
                new = ula_step(x, level.score, level.eps, tau, generator)
            if _diverged(new):
                blowup = _blowup_reason(new, step + 1, total, level)
                break
            x, step = new, step + 1
            if step in wanted:
                recorded.append(x.clone())
                steps.append(step)
                sigmas.append(level.sigma)
                accept.append(accepted_since / tried_since if tried_since else math.nan)
                accepted_since = tried_since = 0
        if blowup:
            break
    if blowup and steps[-1] != step:  # keep the last finite state as the final frame
        recorded.append(x.clone())
        steps.append(step)
        sigmas.append(sigmas[-1])
        accept.append(accepted_since / tried_since if tried_since else math.nan)
    if x.device.type == "cuda":
        torch.cuda.synchronize(x.device)
    seconds = time.perf_counter() - start
    acceptance = accepted_all / (step * x.shape[0]) if mala and step else None
    ladder = [level.sigma for level in levels]
    starts = [sum(level.steps for level in levels[:i]) for i in range(len(levels))]
    return Trajectory(
        torch.stack(recorded), steps, sigmas, accept, acceptance, blowup, step, total, seconds, ladder, starts
    )


def _blowup_reason(x: Tensor, step: int, total: int, level: Level) -> str:
    bad = ~(x.abs().amax(1) < BLOWUP_RADIUS)
    kind = "became NaN" if bool(torch.isnan(x).any()) else "ran off to infinity"
    if bool(torch.isfinite(x).all()):
        kind = f"went beyond |x| = {BLOWUP_RADIUS:g}"
    where = f" at noise level σ = {level.sigma:.3g}" if level.sigma > 0 else ""
    return (
        f"The chains blew up at step {step:,} of {total:,}{where}: {int(bad.sum()):,} of {x.shape[0]:,} chains "
        f"{kind} with step size ε = {level.eps:.3g}. The Langevin update overshoots when ε is too large for the "
        "curvature of log p; lower the step size. The frames before the blow-up are shown."
    )
