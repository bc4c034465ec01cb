"""Generative adversarial networks: a generator G(z) and a discriminator (or critic) D(x) trained in
turn, n_critic discriminator steps per generator step (Goodfellow et al. 2014; Arjovsky et al.
2017; Gulrajani et al. 2017; Mao et al. 2017; Kodali et al. 2017). The objectives are in
`explorer.kernels.gan_losses`. With `spectral_norm` every layer of D uses W / sigma(W) (Miyato et al.
2018; `explorer.kernels.spectral_norm`), with any loss.

One session step = one generator update (after n_critic discriminator updates), so "steps" count
generator updates everywhere. With `conditional`, G and D both receive the class label one-hot.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor, nn

from explorer.configs import TrainingConfig, batch_size_param, param
from explorer.data.densities import Density
from explorer.kernels.activations import LEAKY_SLOPE, activate
from explorer.kernels.flat_mlp import FlatMLP
from explorer.kernels.gan_kernel import compiled_gan_steps
from explorer.kernels.gan_losses import LOSSES, WGAN_GP_POINTS, penalty_where
from explorer.kernels.nets import MLP
from explorer.kernels.spectral_norm import init_vectors, normalized_weights
from explorer.methods.base import Method, seeded_init

OPTIMIZERS = ("adam", "rmsprop", "sgd")
D_ACTIVATIONS = ("silu", "leaky_relu")
GAN_BLOCK = 32  # generator steps whose noise and data are drawn at once (seed-only randomness)


@dataclasses.dataclass(frozen=True)
class GANConfig(TrainingConfig):
    # Defaults measured on eight_gaussians (2-core AMD EPYC, 10 s): WGAN-GP, n_critic 1, batch 64, both rates
    # 2e-3 covers every mode (11-12% each) at a gap of 0.12-0.37 nats in 3,600 steps; the earlier n_critic 2,
    # batch 256, 1e-3 left 3.4-4.0 nats in those 10 s. n_critic 5 with lambda 0.1 was worse still.
    batch_size: int = batch_size_param(64)
    lr: float = param(2e-3, "G learning rate", live=True, lo=0.0, hi=10.0, log=True, group="training")
    steps: int = param(4000, "Training steps (G updates)", live=True, lo=1, hi=1_000_000, group="training")
    schedule: str = param("constant", "LR schedule", live=True, choices=("cosine", "constant"), group="training")
    loss: str = param("wgan_gp", "Loss", choices=LOSSES, group="objective")
    n_critic: int = param(1, "D steps per G step (n_critic)", lo=1, hi=20, group="objective", slider=True)
    gp_lambda: float = param(1.0, "Gradient penalty λ", lo=0.0, hi=100.0, group="objective")
    penalty_at: str = param(
        "interpolates",
        "Penalty evaluated at",
        choices=WGAN_GP_POINTS,
        group="objective",
        help="interpolates: x̂ = u x + (1 − u) G(z) (WGAN-GP). real_and_generated: the data and G's samples "
        "themselves, the expectation over p_data + p_G.",
    )
    dragan_noise: float = param(
        0.5,
        "DRAGAN noise std",
        lo=0.0,
        hi=10.0,
        group="objective",
        help="The penalty is evaluated at x + σ ε, ε ~ N(0, I): how far around the data D is kept 1-Lipschitz.",
    )
    spectral_norm: bool = param(
        False,
        "Spectral normalisation of D",
        group="objective",
        help="Each layer of D uses W / σ(W), σ the largest singular value (one power-iteration step per D "
        "update): D is 1-Lipschitz per layer, with any loss.",
    )
    clip: float = param(0.05, "Weight clipping c", lo=1e-4, hi=10.0, group="objective")
    lsgan_a: float = param(0.0, "LSGAN a (fake target)", group="objective")
    lsgan_b: float = param(1.0, "LSGAN b (real target)", group="objective")
    lsgan_c: float = param(1.0, "LSGAN c (generator target)", group="objective")
    latent_dim: int = param(2, "Latent dimension", choices=(1, 2), group="model")
    conditional: bool = param(False, "Conditional GAN (class input to G and D)", group="model")
    g_hidden: int = param(64, "G width", lo=8, hi=512, group="model", presets=(16, 32, 64, 128, 256))
    g_depth: int = param(3, "G hidden layers", lo=1, hi=8, group="model", slider=True)
    d_hidden: int = param(64, "D width", lo=8, hi=512, group="model", presets=(16, 32, 64, 128, 256))
    d_depth: int = param(3, "D hidden layers", lo=1, hi=8, group="model", slider=True)
    d_activation: str = param(
        "silu",
        "D activation",
        choices=D_ACTIVATIONS,
        group="model",
        help=f"SiLU, or leaky ReLU (slope {LEAKY_SLOPE} below 0): with spectral normalisation, leaky ReLU lets D "
        "be steep enough to sharpen the modes (SiLU's slope is 0.5 at 0, and the layers multiply it).",
    )
    optimizer_g: str = param("adam", "G optimizer", choices=OPTIMIZERS, group="training")
    optimizer_d: str = param("adam", "D optimizer", choices=OPTIMIZERS, group="training")
    lr_d: float = param(2e-3, "D learning rate", live=True, lo=0.0, hi=10.0, log=True, group="training")
    beta1: float = param(0.5, "Adam β1", lo=0.0, hi=0.999, group="training")

    @property
    def penalty(self) -> str:
        """Where the loss evaluates its gradient penalty (`explorer.kernels.gan_losses.penalty_where`)."""
        return penalty_where(self.loss, self.penalty_at)


class GAN(Method):
    """Generator MLP z -> x and discriminator MLP x -> logit (or critic value)."""

    def __init__(self, config: GANConfig, density: Density, device: torch.device) -> None:
        super().__init__(config, density, device)
        self.n_classes = density.n_classes if config.conditional and density.n_classes > 1 else 0
        with seeded_init(config.seed):
            self.generator_net = MLP(config.latent_dim + self.n_classes, 2, config.g_hidden, config.g_depth).to(device)
            self.discriminator_net = MLP(
                2 + self.n_classes, 1, config.d_hidden, config.d_depth, config.d_activation
            ).to(device)
        self.flat_g, self.flat_d = FlatMLP(self.generator_net), FlatMLP(self.discriminator_net)
        # spectral normalisation's power-iteration vectors, one pair per layer of D (empty without it)
        self.sn_u: list[Tensor] = []
        self.sn_v: list[Tensor] = []
        if config.spectral_norm:
            init = torch.Generator(device=device).manual_seed(config.seed)
            vectors = [init_vectors(w, init) for w in self.flat_d.weights]
            self.sn_u, self.sn_v = [u for u, _ in vectors], [v for _, v in vectors]
        self._sn_grads = [torch.zeros_like(w) for w in self.flat_d.weights] if config.spectral_norm else []
        self.penalty = config.penalty
        self._block: dict[str, Tensor] = {}
        self._cursor = GAN_BLOCK

    @classmethod
    def evaluations_per_sample(cls, config: GANConfig) -> tuple[int, str]:
        return 1, "generator, once"

    def divergence_hint(self) -> str:
        if self.config.loss == "wgan":
            return (
                f"Weight clipping at c = {self.config.clip:g} is too loose to keep the critic Lipschitz: lower c, "
                "or use WGAN-GP; then press Reset."
            )
        return "Lower the learning rates (G and D) and press Train, or Reset."

    @property
    def n_params(self) -> int:
        return self.flat_g.n_params + self.flat_d.n_params

    # --- the two networks -----------------------------------------------------------------
    def _with_labels(self, x: Tensor, labels: Tensor | None) -> Tensor:
        if not self.n_classes:
            return x
        return torch.cat([x, nn.functional.one_hot(labels, self.n_classes).to(x.dtype)], dim=1)

    def generate(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """G(z) `[n, 2]` from latents z `[n, latent_dim]`."""
        return self.generator_net(self._with_labels(z, labels))

    def discriminate(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        """D(x) `[n]`: a logit (sigmoid gives the probability 'real'), or a critic value."""
        x = self._with_labels(x, labels)
        if not self.config.spectral_norm:
            return self.discriminator_net(x).squeeze(-1)
        layers = self.discriminator_net.layers
        normed = normalized_weights([layer.weight for layer in layers], self.sn_u, self.sn_v, False)[0]
        for i, (weight, layer) in enumerate(zip(normed, layers, strict=True)):
            x = nn.functional.linear(x, weight, layer.bias)
            x = activate(x, self.config.d_activation) if i < len(layers) - 1 else x
        return x.squeeze(-1)

    def layer_norms(self) -> Tensor:
        """The largest singular value of each layer's weight `[L]` (exact, by SVD), input layer first: their
        product bounds D's Lipschitz constant (SiLU's slope is at most 1.1, leaky ReLU's 1)."""
        return torch.stack([torch.linalg.matrix_norm(w.detach(), ord=2) for w in self.flat_d.weights])

    # --- training ------------------------------------------------------------------------
    def _draw_block(self, generator: torch.Generator) -> None:
        cfg, batch, dev = self.config, self.config.batch_size, generator.device
        n_real = GAN_BLOCK * cfg.n_critic * batch
        real, real_labels = self.density.sample_labelled(n_real, generator)
        g_labels = torch.randint(0, max(1, self.density.n_classes), (GAN_BLOCK, batch), generator=generator, device=dev)
        self._block = {
            "real": real.view(GAN_BLOCK, cfg.n_critic, batch, 2),
            "real_onehot": self._onehot(real_labels.view(GAN_BLOCK, cfg.n_critic, batch)),
            "z_d": torch.randn((GAN_BLOCK, cfg.n_critic, batch, cfg.latent_dim), generator=generator, device=dev),
            "u": torch.rand((GAN_BLOCK, cfg.n_critic, batch, 1), generator=generator, device=dev),
            "z_g": torch.randn((GAN_BLOCK, batch, cfg.latent_dim), generator=generator, device=dev),
            "g_onehot": self._onehot(g_labels),
        }
        perturbed = self.penalty == "perturbed_real"  # drawn last, and only then: the other losses' draws stay
        shape = (GAN_BLOCK, cfg.n_critic, batch if perturbed else 0, 2)
        self._block["noise"] = (
            torch.randn(shape, generator=generator, device=dev) if perturbed else torch.empty(shape, device=dev)
        )
        self._cursor = 0

    def _onehot(self, labels: Tensor) -> Tensor:
        """One-hot labels `[..., n_classes]` (`[..., 0]` for an unconditional GAN)."""
        if not self.n_classes:
            return torch.empty((*labels.shape, 0), device=labels.device)
        return nn.functional.one_hot(labels, self.n_classes).to(torch.get_default_dtype())

    def _run_kernel(self, lrs: list[float], n_critic: int, train_g: bool) -> tuple[Tensor, Tensor]:
        """len(lrs) <= GAN_BLOCK - cursor steps of `explorer.kernels.gan_kernel.gan_steps` on the current block."""
        cfg, b, k = self.config, self._block, self._cursor
        factor = [lr / cfg.lr if cfg.lr > 0 else 1.0 for lr in lrs]  # the schedule scales both rates
        steps = slice(k, k + len(lrs))

        def net(flat: FlatMLP) -> list[list[Tensor]]:
            return [flat.weights, flat.weights_t, flat.biases, flat.grad_weights, flat.grad_biases]

        def state(flat: FlatMLP) -> list[Tensor]:
            return [flat.flat, flat.grad, flat.exp_avg, flat.exp_avg_sq, flat.step_count]

        return compiled_gan_steps()(
            net(self.flat_g),
            state(self.flat_g),
            net(self.flat_d),
            state(self.flat_d),
            b["real"][steps],
            b["real_onehot"][steps],
            b["z_d"][steps],
            b["u"][steps],
            b["z_g"][steps],
            b["g_onehot"][steps],
            [float(lr) for lr in lrs],
            [float(cfg.lr_d * f) for f in factor],
            n_critic,
            train_g,
            cfg.loss,
            float(cfg.gp_lambda),
            float(cfg.clip),
            [float(cfg.lsgan_a), float(cfg.lsgan_b), float(cfg.lsgan_c)],
            [cfg.optimizer_g, cfg.optimizer_d],
            float(cfg.beta1),
            self.penalty,
            b["noise"][steps],
            float(cfg.dragan_noise),
            bool(cfg.spectral_norm),
            self.sn_u,
            self.sn_v,
            self._sn_grads,
            cfg.d_activation,
        )

    @torch.no_grad()
    def train_chunk(self, lrs: list[float], generator: torch.Generator) -> dict[str, Tensor]:
        """len(lrs) generator steps, each after n_critic discriminator steps; losses per G step."""
        g_losses, d_losses, done = [], [], 0
        while done < len(lrs):
            if self._cursor == GAN_BLOCK:
                self._draw_block(generator)
            part = lrs[done : done + GAN_BLOCK - self._cursor]
            g_loss, d_loss = self._run_kernel(part, self.config.n_critic, True)
            g_losses.append(g_loss)
            d_losses.append(d_loss)
            self._cursor += len(part)
            done += len(part)
        sigmas = {f"sigma_{i + 1}": sigma.reshape(1) for i, sigma in enumerate(self.layer_norms())}
        return {"loss": torch.cat(g_losses), "d_loss": torch.cat(d_losses), **sigmas}

    @torch.no_grad()
    def train_part(self, part: str, lr: float, generator: torch.Generator) -> dict[str, Tensor]:
        """One discriminator update (part "d") or one generator update ("g"), for step-by-step teaching."""
        if self._cursor == GAN_BLOCK:
            self._draw_block(generator)
        if part == "d":
            return {"d_loss": self._run_kernel([lr], 1, False)[1]}
        g_loss = self._run_kernel([lr], 0, True)[0]
        self._cursor += 1
        return {"loss": g_loss}

    # --- state and sampling ------------------------------------------------------------------
    def state_dict(self) -> dict:
        state = {"g": self.flat_g.state_dict(), "d": self.flat_d.state_dict()}
        return state | ({"sn_u": self.sn_u, "sn_v": self.sn_v} if self.config.spectral_norm else {})

    @torch.no_grad()
    def load_state_dict(self, state: dict) -> None:
        self.flat_g.load_state_dict(state["g"])
        self.flat_d.load_state_dict(state["d"])
        for mine, theirs in zip(
            [*self.sn_u, *self.sn_v], [*state.get("sn_u", []), *state.get("sn_v", [])], strict=False
        ):
            mine.copy_(theirs)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, labels: Tensor | None = None) -> Tensor:
        z = torch.randn((n, self.config.latent_dim), generator=generator, device=generator.device)
        if self.n_classes and labels is None:
            labels = torch.randint(0, self.n_classes, (n,), generator=generator, device=generator.device)
        return self.generate(z, labels)
