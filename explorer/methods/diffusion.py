"""Denoising score matching for a variance-preserving diffusion (Ho et al. 2020; Song et al. 2021).

Diffusion time t = 0 is data, t = 1 noise. For x_0 ~ data, eps ~ N(0, I), t ~ U[T_MIN, 1] and
x_t = alpha_t x_0 + sigma_t eps (q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I)), the network
f_theta(x_t, t) regresses one of three equivalent targets:

    eps:    L = E || f - eps ||^2                 (then eps_hat = f)
    score:  L = E || f - (-eps / sigma_t) ||^2    (then eps_hat = -sigma_t f)
    x0:     L = E || f - x_0 ||^2                 (then eps_hat = (x_t - alpha_t f) / sigma_t)

They convert into each other by Tweedie's formula, E[x_0 | x_t] = (x_t + sigma_t^2 grad log p_t)
/ alpha_t; the samplers use eps_hat. Unweighted, the score target is dominated by small sigma_t
(its targets grow like 1 / sigma_t): that is why the eps form is the default.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor

from explorer.configs import TrainingConfig, batch_size_param, lr_param, param, steps_param
from explorer.data.densities import Density, GaussianMixture
from explorer.kernels.nets import TimeMLP
from explorer.kernels.regression import FlatAdamRegression
from explorer.maths.cnf import CNF_STEPS, log_prob_along_flow, standard_normal_log_prob
from explorer.maths.diffusion_samplers import EVALS_PER_STEP as DIFFUSION_EVALS
from explorer.maths.diffusion_samplers import SAMPLERS, T_MIN, run_sampler
from explorer.maths.exact import MixturePath
from explorer.maths.schedules import SCHEDULES, eps_to_score, eps_to_x0, score_to_eps, x0_to_eps
from explorer.methods.base import RegressionMethod, seeded_init

TARGETS = ("eps", "score", "x0")
TARGET_TITLES = {"eps": "noise ε", "score": "score ∇log p_t", "x0": "denoised x₀"}


@dataclasses.dataclass(frozen=True)
class DiffusionConfig(TrainingConfig):
    # Defaults measured on eight_gaussians, seeds 0-5 (2-core AMD EPYC): the cosine schedule, batch 256 at 1e-2
    # over 3,000 steps with an EMA of 0.99 reaches |gap| 0.02-0.08, TV <= 0.032 in 1.0-1.2 s. Batch 512 over
    # 2,000 steps did better still (|gap| <= 0.036) but was under 2x the plain loop's speed. The linear schedule
    # spends most of a uniform t on near-pure noise: batch 128 / 6e-3 / 8,000 steps gave |gap| 0.04-0.10 in
    # 2.0-2.2 s, and 0.20-0.57 when cut at 3,000 (docs/performance.md).
    # Sampler: the reverse SDE with 200 steps (2-core AMD EPYC family 25, seeds 0-2, 40,000 samples): gap
    # 0.031 / 0.020 / 0.001, mode TV 0.011 / 0.010 / 0.013, 0.7-0.8% of samples stranded between modes, where the
    # probability-flow ODE (50 Heun steps) of the same models gave 0.041 / 0.051 / 0.073, 0.020 / 0.022 / 0.016
    # and 1.5%: the injected noise pushes samples off the unstable ridges between modes that a slightly smooth
    # learned score leaves. With the exact score the SDE at 200 steps is near-unbiased (gap 0.012, TV 0.006);
    # DDPM ancestral is not at this step count (-0.049 at 200, -0.092 at 100: over-concentrated).
    batch_size: int = batch_size_param(256)
    lr: float = lr_param(1e-2)
    steps: int = steps_param(3000)
    noise_schedule: str = param(
        "cosine",
        "Noise schedule",
        choices=tuple(SCHEDULES),
        group="data",
        help="Variance preserving: abar(t) from 1 (data) to ~0 (noise).",
    )
    target: str = param(
        "eps",
        "Network predicts",
        choices=TARGETS,
        group="model",
        help="ε, the score, or the denoised x₀: equivalent by Tweedie, trained differently.",
    )
    hidden: int = param(64, "Width", lo=8, hi=512, group="model", presets=(16, 32, 64, 96, 128, 192, 256, 512))
    depth: int = param(3, "Hidden layers", lo=1, hi=8, group="model", slider=True)
    ema: bool = param(True, "Sample with the EMA of the weights", live=True, group="training")
    ema_decay: float = param(0.99, "EMA decay", live=True, lo=0.9, hi=0.99999, group="training")
    sampler: str = param("sde", "Sampler", live=True, choices=SAMPLERS, group="sampler")
    sampler_steps: int = param(
        200,
        "Sampler steps",
        live=True,
        lo=1,
        hi=1000,
        group="sampler",
        presets=(2, 4, 8, 16, 25, 32, 50, 64, 100, 200, 500, 1000),
    )
    eta: float = param(
        0.0,
        "DDIM eta",
        live=True,
        lo=0.0,
        hi=1.0,
        group="sampler",
        slider=True,
        help="0: deterministic DDIM; 1: DDPM-like noise.",
    )


class Diffusion(RegressionMethod):
    """A TimeMLP denoiser trained by denoising score matching, with four samplers."""

    has_log_prob = True  # of its probability-flow ODE, from N(0, I)

    def __init__(self, config: DiffusionConfig, density: Density, device: torch.device) -> None:
        super().__init__(config, density, device)
        self.schedule = SCHEDULES[config.noise_schedule]()
        with seeded_init(config.seed):
            self.net = TimeMLP(config.hidden, config.depth).to(device)
        self.optimizer = FlatAdamRegression(self.net.mlp, lr=config.lr)

    @property
    def ema_decay(self) -> float:
        return float(self.config.ema_decay)

    # --- training ------------------------------------------------------------------------
    def training_pairs(self, n_batches: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        batch = self.config.batch_size
        n = n_batches * batch
        x0 = self.density.sample(n, generator)
        eps = torch.randn(x0.shape, generator=generator, device=x0.device)
        t = T_MIN + (1.0 - T_MIN) * torch.rand((n, 1), generator=generator, device=x0.device)
        alpha, sigma = self.schedule.alpha(t), self.schedule.sigma(t)
        xt = alpha * x0 + sigma * eps
        target = {"eps": eps, "score": -eps / sigma, "x0": x0}[self.config.target]
        features = self.net.features(xt, t)
        return features.view(n_batches, batch, -1), target.view(n_batches, batch, 2)

    # --- the learned denoiser, in its three forms -------------------------------------------
    @torch.no_grad()
    def eps(self, x: Tensor, t: float) -> Tensor:
        """eps_hat(x, t) `[n, 2]`, converted from whatever the network predicts."""
        out = self.optimizer.predict(self.net.features(x, t), ema=self.config.ema)
        if self.config.target == "eps":  # the default: no schedule lookup in the samplers' inner loop
            return out
        sigma = float(self.schedule.sigma(t))
        if self.config.target == "score":
            return score_to_eps(out, sigma)
        return x0_to_eps(x, out, float(self.schedule.alpha(t)), sigma)

    def eps_with_divergence(self, x: Tensor, t: float) -> tuple[Tensor, Tensor]:
        """(eps_hat(x, t) `[n, 2]`, div_x eps_hat `[n]`), the divergence exact (forward-mode through the network,
        then the target's conversion: eps = -sigma out for a score, (x - alpha out) / sigma for x0)."""
        out, div = self.optimizer.predict_with_divergence(self.net.features(x, t), 2, ema=self.config.ema)
        if self.config.target == "eps":
            return out, div
        sigma = float(self.schedule.sigma(t))
        if self.config.target == "score":
            return score_to_eps(out, sigma), -sigma * div
        alpha = float(self.schedule.alpha(t))
        return x0_to_eps(x, out, alpha, sigma), (x.shape[1] - alpha * div) / sigma

    def flow_with_divergence(self, x: Tensor, t: float) -> tuple[Tensor, Tensor]:
        """The probability-flow ODE's drift f = -beta/2 (x - eps_hat / sigma) `[n, 2]` and its divergence
        -beta/2 (2 - div eps_hat / sigma) `[n]`."""
        eps, div = self.eps_with_divergence(x, t)
        beta, sigma = float(self.schedule.beta(t)), float(self.schedule.sigma(t))
        return -0.5 * beta * (x - eps / sigma), -0.5 * beta * (x.shape[1] - div / sigma)

    @torch.no_grad()
    def log_prob(self, x: Tensor, t: float = T_MIN, steps: int = CNF_STEPS) -> Tensor:
        """log p_t(x) `[n]` of the probability-flow ODE started from N(0, I) at t = 1 (at T_MIN, where the ODE
        sampler stops: the density of its samples), by `maths.cnf.log_prob_along_flow` from t forward to t = 1."""
        x = x.to(self.device, self.optimizer.flat.dtype)
        return log_prob_along_flow(
            self.flow_with_divergence, x, max(float(t), T_MIN), 1.0, standard_normal_log_prob, steps
        )

    def score(self, x: Tensor, t: float) -> Tensor:
        """Learned grad log p_t(x) = -eps_hat / sigma_t, `[n, 2]`."""
        return eps_to_score(self.eps(x, t), float(self.schedule.sigma(t)))

    def denoise(self, x: Tensor, t: float) -> Tensor:
        """Learned E[x_0 | x_t = x] (Tweedie), `[n, 2]`."""
        return eps_to_x0(x, self.eps(x, t), float(self.schedule.alpha(t)), float(self.schedule.sigma(t)))

    # --- sampling ----------------------------------------------------------------------------
    def trajectories(
        self, x_T: Tensor, generator: torch.Generator | None, sampler: str | None = None, steps: int | None = None
    ) -> Tensor:
        """Reverse trajectories `[steps + 1, n, 2]` from x_T `[n, 2]` at t = 1."""
        cfg = self.config
        return run_sampler(
            sampler or cfg.sampler,
            self.eps,
            self.schedule,
            x_T.to(self.device),
            steps or cfg.sampler_steps,
            generator,
            cfg.eta,
        )

    @classmethod
    def evaluations_per_sample(cls, config: DiffusionConfig) -> tuple[int, str]:
        per = DIFFUSION_EVALS[config.sampler]
        return config.sampler_steps * per, f"{config.sampler_steps} {config.sampler} steps × {per}"

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        x_T = torch.randn((n, 2), generator=generator, device=generator.device)
        return self.trajectories(x_T, generator)[-1]

    # --- ground truth ----------------------------------------------------------------------
    def exact(self) -> MixturePath | None:
        """The exact p_t under the schedule (t read as diffusion time), for Gaussian-mixture data."""
        return MixturePath(self.density, self.schedule) if isinstance(self.density, GaussianMixture) else None

    def exact_eps(self, x: Tensor, t: float) -> Tensor:
        """eps of the exact score: -sigma_t grad log p_t(x) (Gaussian-mixture data only)."""
        return -float(self.schedule.sigma(t)) * self.exact().score(x, t)
