"""Conditional flow matching (Lipman et al.; Liu et al.; Tong et al.), with optional minibatch-OT
coupling and classifier-free guidance.

Objective, for x0 ~ source, x1 ~ target, t ~ p(t) and x_t = alpha_t x1 + sigma_t x0:

    L_CFM(theta) = E || v_theta(x_t, t) - (alpha'_t x1 + sigma'_t x0) ||^2

with p(t) uniform, or (`time_sampling="late"`, the default) p(t) = 2t: a positive reweighting of the times,
so the minimiser is still the marginal velocity at every t > 0, learned sooner where it is sharpest.

(linear path: target x1 - x0). Its minimiser is the marginal velocity u_t(x), and integrating
dx/dt = v_theta(x, t) from t = 0 to 1 carries source samples to the target. With guidance, the
label is replaced by "no class" with probability p, and sampling uses
v_w = v(x, t) + w (v(x, t | y) - v(x, t)).
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor

from explorer.configs import TrainingConfig, batch_size_param, lr_param, param, steps_param
from explorer.data.densities import Density, GaussianMixture, get_density
from explorer.kernels.nets import TimeMLP
from explorer.kernels.regression import FlatAdamRegression
from explorer.maths.cnf import CNF_STEPS, log_prob_along_flow
from explorer.maths.coupling import COUPLINGS, pair
from explorer.maths.exact import MixturePath
from explorer.maths.paths import PATHS
from explorer.maths.samplers import EVALS_PER_STEP as ODE_EVALS
from explorer.maths.samplers import INTEGRATORS, integrate, integrate_sde
from explorer.methods.base import RegressionMethod, seeded_init

OT_DATA_BLOCK = 8  # batches per data block with minibatch OT
TIME_SAMPLING = ("late", "uniform")
SAMPLERS = ("sde", "ode")


@dataclasses.dataclass(frozen=True)
class FlowMatchingConfig(TrainingConfig):
    # Defaults measured on eight_gaussians (2-core AMD EPYC, seeds 0-5): batch 128 at 6e-3 with late times and an
    # EMA of 0.995 reaches |gap| <= 0.06 and mode TV <= 0.039 in 3,000 steps (0.7-0.9 s; EMA 0.999: gap up to
    # 0.062); 8,000 steps (1.9-2.1 s) also bring the ODE's likelihood to NLL - H = 0.051-0.088 and the W1 of log p
    # to 0.049-0.062, seeds 0-2 (6,000: 0.067-0.111 and 0.065-0.071; 3,000: 0.105-0.145 and 0.075-0.087); uniform
    # times reach NLL - H 0.08-0.10 at 3,000 but W1 0.12. The earlier 256 / 2e-3 / 12,000 steps / uniform t took
    # 14 s for 0.02-0.1 (docs/decisions.md).
    batch_size: int = batch_size_param(128)
    lr: float = lr_param(6e-3)
    steps: int = steps_param(8000)
    source: str = param(
        "gaussian", "Source at t = 0", group="data", help="N(0, I), or any toy density for data-to-data transport."
    )
    path: str = param("linear", "Path", choices=tuple(PATHS), group="data")
    coupling: str = param(
        "independent",
        "Coupling",
        choices=COUPLINGS,
        group="data",
        help="Minibatch OT pairs each batch by exact optimal transport (POT): straighter paths, slower steps.",
    )
    guidance: bool = param(
        False,
        "Train for classifier-free guidance",
        group="guidance",
        help="Condition on the class label, dropped to 'no class' with probability p.",
    )
    label_dropout: float = param(0.2, "Label dropout p", lo=0.0, hi=1.0, group="guidance", slider=True)
    time_sampling: str = param(
        "late",
        "Training times t",
        choices=TIME_SAMPLING,
        group="training",
        help="uniform: t ~ U[0, 1]. late: t = √u (density 2t), more of the batch near the data, where the "
        "field is sharpest: the same quality in about half the steps on the mixtures (measured).",
    )
    hidden: int = param(64, "Width", lo=8, hi=512, group="model", presets=(16, 32, 64, 96, 128, 192, 256, 512))
    depth: int = param(3, "Hidden layers", lo=1, hi=8, group="model", slider=True)
    ema: bool = param(True, "Sample with the EMA of the weights", live=True, group="training")
    ema_decay: float = param(0.995, "EMA decay", live=True, lo=0.9, hi=0.99999, group="training")
    sampler: str = param(
        "sde",
        "Sampler",
        live=True,
        choices=SAMPLERS,
        group="sampler",
        help="sde: the flow plus Langevin noise, dx = [v - ε E[x₀|x]] dt + √(2εσ_t) dW, with the same p_t "
        "(needs the N(0, I) source and independent coupling; else the ODE). ode: dx/dt = v with the integrator.",
    )
    noise: float = param(
        1.0,
        "SDE noise ε",
        live=True,
        lo=0.0,
        hi=5.0,
        group="sampler",
        slider=True,
        help="g_t² = 2εσ_t: 0 is the probability-flow ODE (Euler); more noise corrects more of the learned "
        "field's error, but multiplies it by more too.",
    )
    integrator: str = param("midpoint", "Integrator (ODE)", live=True, choices=tuple(INTEGRATORS), group="sampler")
    sampler_steps: int = param(
        100,
        "Sampler steps",
        live=True,
        lo=1,
        hi=1000,
        group="sampler",
        presets=(1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 50, 64, 100, 200, 500),
    )
    guidance_class: int = param(0, "Guide towards class", live=True, lo=0, hi=63, group="guidance")
    guidance_scale: float = param(1.0, "Guidance scale w", live=True, lo=0.0, hi=10.0, group="guidance", slider=True)


def guidance_mix(free: Tensor, conditional: Tensor, scale: float) -> Tensor:
    """Classifier-free guidance v + w (v(. | y) - v) from the free and conditional fields `[n, 2]` (w = 1: v(. | y))."""
    return free + scale * (conditional - free)


class FlowMatching(RegressionMethod):
    """Trains a TimeMLP velocity field by regression onto the conditional target velocity."""

    def __init__(
        self, config: FlowMatchingConfig, density: Density, device: torch.device, source: Density | None = None
    ) -> None:
        super().__init__(config, density, device)
        self.source = source if source is not None else get_density(config.source)
        self.path = PATHS[config.path]()
        n_classes = density.n_classes if config.guidance and density.n_classes > 1 else 0
        with seeded_init(config.seed):
            self.net = TimeMLP(config.hidden, config.depth, n_classes).to(device)
        self.optimizer = FlatAdamRegression(self.net.mlp, lr=config.lr)

    @property
    def conditional(self) -> bool:
        return self.net.n_classes > 0

    # --- training ------------------------------------------------------------------------
    def training_pairs(self, n_batches: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """Network inputs `[n_batches, B, F]` and target velocities `[n_batches, B, 2]`."""
        cfg, batch = self.config, self.config.batch_size
        n = n_batches * batch
        x1, labels = self.density.sample_labelled(n, generator)
        x0 = self.source.sample(n, generator)
        if cfg.coupling != "independent":
            order = torch.cat(
                [
                    pair(a, b, cfg.coupling) + i * batch
                    for i, (a, b) in enumerate(zip(x0.split(batch), x1.split(batch), strict=True))
                ]
            )
            x1, labels = x1[order], labels[order]
        t = torch.rand((n, 1), generator=generator, device=generator.device)
        if cfg.time_sampling == "late":  # t = sqrt(u): density 2t on [0, 1]
            t = t.sqrt()
        xt, target = self.path.interpolate(x0, x1, t), self.path.target_velocity(x0, x1, t)
        y = None
        if self.conditional:
            drop = torch.rand(n, generator=generator, device=generator.device) < cfg.label_dropout
            y = torch.where(drop, torch.full_like(labels, self.net.n_classes), labels)
        features = self.net.features(xt, t, y)
        return features.view(n_batches, batch, -1), target.view(n_batches, batch, 2)

    @property
    def ema_decay(self) -> float:
        return float(self.config.ema_decay)

    @property
    def data_block(self) -> int:
        # minibatch OT costs ~5 ms of POT per batch of 256: small blocks keep the UI responsive
        return self.DATA_BLOCK if self.config.coupling == "independent" else OT_DATA_BLOCK

    # --- the learned field and its sampler ------------------------------------------------
    @torch.no_grad()
    def velocity(self, x: Tensor, t: float, label: int | None = None, scale: float = 1.0) -> Tensor:
        """v_theta(x, t) `[n, 2]`; with a label, the guided v + w (v(. | y) - v)."""
        ema, features = self.config.ema, self.net.features
        free = self.optimizer.predict(features(x, t), ema=ema)
        if label is None or not self.conditional:
            return free
        y = torch.full((x.shape[0],), int(label), device=x.device)
        return guidance_mix(free, self.optimizer.predict(features(x, t, y), ema=ema), scale)

    @property
    def guided_class(self) -> int:
        """The class guidance steers towards: the configured one, within the model's classes."""
        return min(self.config.guidance_class, self.net.n_classes - 1)

    def sampling_field(self, guided: bool = False):
        """The field the sampler integrates: the unconditional v_theta (label dropped), or with
        `guided` (on a conditional model) the guided field for the configured class and scale."""
        cfg = self.config
        if guided and self.conditional:
            label = self.guided_class
            return lambda x, t: self.velocity(x, t, label, cfg.guidance_scale)
        return self.velocity

    @torch.no_grad()
    def trajectories(
        self, x0: Tensor, steps: int | None = None, method: str | None = None, guided: bool = False
    ) -> Tensor:
        """ODE trajectories `[steps + 1, n, 2]` from source points x0 `[n, 2]` at t = 0."""
        cfg = self.config
        field = self.sampling_field(guided)
        return integrate(field, x0.to(self.device), steps or cfg.sampler_steps, method or cfg.integrator)

    @staticmethod
    def samples_by_sde(config: FlowMatchingConfig) -> bool:
        """Whether `config` samples with the SDE: chosen, and its score exists. The score -E[x0 | x] / sigma_t
        is Tweedie's formula, so it needs x0 ~ N(0, I) independent of x1 (no other source, no OT pairs)."""
        return config.sampler == "sde" and config.source == "gaussian" and config.coupling == "independent"

    @property
    def stochastic(self) -> bool:
        """Whether `sample` runs the SDE (`samples_by_sde` of this method's config)."""
        return self.samples_by_sde(self.config)

    @torch.no_grad()
    def stochastic_trajectories(
        self, x0: Tensor, generator: torch.Generator | None, steps: int | None = None, guided: bool = False
    ) -> Tensor:
        """SDE trajectories `[steps + 1, n, 2]` with the ODE's marginals p_t (Ma et al. 2024, SiT):

            dx = [v(x, t) + (g_t^2 / 2) grad log p_t(x)] dt + g_t dW,  g_t^2 = 2 eps sigma_t,

        with the score from the velocity, grad log p_t = -E[x0 | x] / sigma_t (`GaussianPath.source_mean`),
        so the drift is v - eps E[x0 | x]: finite at t = 1, where sigma_t = 0 and the noise stops.
        """
        field, path, eps = self.sampling_field(guided), self.path, float(self.config.noise)

        def drift(x: Tensor, t: float) -> Tensor:
            v = field(x, t)
            return v - eps * path.source_mean(x, v, t)

        def noise(t: float) -> float:
            return (2 * eps * max(float(path.sigma(t)), 0.0)) ** 0.5

        return integrate_sde(drift, noise, x0.to(self.device), steps or self.config.sampler_steps, generator)

    @classmethod
    def evaluations_per_sample(cls, config: FlowMatchingConfig) -> tuple[int, str]:
        if cls.samples_by_sde(config):
            return config.sampler_steps, f"{config.sampler_steps} SDE steps (ε = {config.noise:g}) × 1"
        per = ODE_EVALS[config.integrator]
        return config.sampler_steps * per, f"{config.sampler_steps} {config.integrator} steps × {per}"

    def sample(self, n: int, generator: torch.Generator, guided: bool = False) -> Tensor:
        """n samples `[n, 2]`: of the whole model, or (`guided`) of the guided class; by the SDE or the ODE."""
        x0 = self.source.sample(n, generator)
        if self.stochastic:
            return self.stochastic_trajectories(x0, generator, guided=guided)[-1]
        return self.trajectories(x0, guided=guided)[-1]

    # --- the density the ODE defines (a continuous normalizing flow) -------------------------
    @property
    def has_log_prob(self) -> bool:
        """Whether log p_theta(x) exists: the source has a closed-form density (the ODE carries it to t = 1)."""
        return self.source.has_log_prob

    def velocity_with_divergence(self, x: Tensor, t: float) -> tuple[Tensor, Tensor]:
        """(v_theta(x, t) `[n, 2]`, div_x v_theta `[n]`) of the unguided field, the divergence exact (forward-mode)."""
        return self.optimizer.predict_with_divergence(self.net.features(x, t), 2, ema=self.config.ema)

    @torch.no_grad()
    def log_prob(self, x: Tensor, t: float = 1.0, steps: int = CNF_STEPS) -> Tensor:
        """log p_t(x) `[n]` of the model's ODE (at t = 1: the model's density), by `maths.cnf.log_prob_along_flow`
        from t back to the source at t = 0. Only where `has_log_prob`."""
        x = x.to(self.device, self.optimizer.flat.dtype)
        return log_prob_along_flow(self.velocity_with_divergence, x, float(t), 0.0, self.source.log_prob, steps)

    # --- ground truth ----------------------------------------------------------------------
    def exact(self) -> MixturePath | None:
        """The exact marginal path, when both ends are Gaussian mixtures and coupling is independent."""
        if (
            self.config.coupling != "independent"
            or not isinstance(self.density, GaussianMixture)
            or not isinstance(self.source, GaussianMixture)
        ):
            return None
        return MixturePath(self.density, self.path, self.source)

    def exact_sampling_field(self, guided: bool = False):
        """The exact counterpart of `sampling_field(guided)`, or None."""
        truth = self.exact()
        if truth is None:
            return None
        if not (guided and self.conditional):
            return truth.velocity
        cond, scale = truth.conditioned_on(self.guided_class), self.config.guidance_scale

        def field(x: Tensor, t: float) -> Tensor:
            free = truth.velocity(x, t)
            return guidance_mix(free, cond.velocity(x, t), scale)

        return field
