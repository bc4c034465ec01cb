"""Variational autoencoders (Kingma & Welling 2014), beta-VAE (Higgins et al. 2017), the deterministic
autoencoder they grew from, and the VQ-VAE (van den Oord et al. 2017), on 2D data.

An encoder MLP maps x `[n, 2]` to q(z | x) = N(mu(x), diag sigma^2(x)) (VAE), to a point z(x) (AE) or
to z_e(x) snapped to its nearest codebook vector e_k (VQ-VAE); a decoder MLP maps z `[n, d]` to the
mean m(z) of p(x | z) = N(m(z), diag s^2), with s^2 fixed or learned (one value per coordinate). Per
point, with one reparametrised z per step (the maths is in `explorer.kernels.vae_math`):

    VAE     loss = -log p(x | z) + beta KL(q(z | x) || N(0, I))       (= -ELBO at beta = 1)
    AE      loss = -log p(x | z(x))
    VQ-VAE  loss = -log p(x | e_k) + ||sg[z_e] - e_k||^2 + beta_c ||z_e - sg[e_k]||^2

Samples come from the prior: z ~ N(0, I) for the VAE and the AE (which was never trained for it), a
code drawn with the frequency it is used on the data for the VQ-VAE; then x = m(z) + s * noise.
"""

from __future__ import annotations

import dataclasses
import math

import torch
from torch import Tensor, nn

from explorer.configs import TrainingConfig, batch_size_param, lr_param, param, steps_param
from explorer.data.densities import Density
from explorer.device import make_generator
from explorer.kernels.flat_mlp import FlatMLP
from explorer.kernels.nets import MLP
from explorer.kernels.vae_kernel import KIND_CODES, compiled_vae_steps
from explorer.kernels.vae_math import (
    gaussian_kl,
    gaussian_nll,
    nearest_code,
    reparametrise,
    straight_through,
    vq_losses,
)
from explorer.methods.base import Method, seeded_init

KINDS = ("vae", "ae", "vqvae")
KIND_TITLES = {"vae": "VAE", "ae": "Autoencoder (no noise, no KL)", "vqvae": "VQ-VAE (codebook)"}
VARIANCES = ("learned", "fixed")
VARIANCE_TITLES = {"learned": "learned (one σ² per coordinate)", "fixed": "fixed σ²"}
VAE_BLOCK = 64  # steps whose data and noise are drawn at once (seed-only randomness)
# The learned decoder variance is kept >= 1e-4 (s >= 0.01): on data with no spread in some direction
# (a line, a few repeated points) -log p(x | z) would otherwise fall without bound as s^2 -> 0.
DECODER_LOG_VAR_MIN = math.log(1e-4)
USAGE_POINTS = 4096  # data points encoded to estimate the VQ-VAE's code frequencies (its prior)


@dataclasses.dataclass(frozen=True)
class VAEConfig(TrainingConfig):
    # Defaults measured on two_moons (2 cores): a learned decoder variance reaches the energy-distance
    # noise floor where a fixed s = 0.1 stays at ~7x it (docs/decisions.md, "Models").
    density: str = param(
        "two_moons",
        "Target density",
        group="data",
        help="The 2D distribution to learn (or a CSV you uploaded on the Densities page).",
    )
    # Measured on two_moons (2-core AMD EPYC, seeds 0-2): batch 128 at 1e-2 over 4,000 steps reaches
    # 2.1-2.9x the energy floor in 2.2 s; 3,000 steps reached 3.4-5.3x; batch 256 over 3,000 steps 1.8-2.2x but
    # under 2x the plain loop's speed; the earlier 256 / 3e-3 / 10,000 steps were at 3.5-6.0x after 5 s.
    batch_size: int = batch_size_param(128)
    lr: float = lr_param(1e-2)
    steps: int = steps_param(4000)
    kind: str = param("vae", "Model", choices=KINDS, group="objective")
    beta: float = param(
        1.0,
        "β (weight of the KL term)",
        live=True,
        lo=0.0,
        hi=1000.0,
        group="objective",
        help="1: the ELBO. Larger pulls every q(z|x) onto the prior (posterior collapse); 0: no KL at all.",
    )
    decoder_variance: str = param("learned", "Decoder variance σ²", choices=VARIANCES, group="objective")
    decoder_std: float = param(
        0.2, "Fixed decoder σ", live=True, lo=1e-3, hi=10.0, log=True, group="objective", help="p(x|z) = N(m(z), σ²I)."
    )
    codebook_size: int = param(
        16, "Codebook size K", lo=1, hi=256, group="objective", presets=(1, 2, 4, 8, 16, 32, 64, 128, 256)
    )
    commitment: float = param(
        0.25,
        "Commitment weight β_c",
        live=True,
        lo=0.0,
        hi=10.0,
        group="objective",
        help="Weight of ||z_e − sg[e]||²: keeps the encoder near its codes.",
    )
    latent_dim: int = param(2, "Latent dimension", choices=(1, 2), group="model")
    hidden: int = param(64, "Width (encoder and decoder)", lo=8, hi=512, group="model", presets=(16, 32, 64, 128, 256))
    depth: int = param(3, "Hidden layers (each network)", lo=1, hi=6, group="model", slider=True)
    linear_decoder: bool = param(
        False,
        "Linear decoder m(z) = W z + b",
        group="model",
        help="No hidden layers in the decoder: the model is probabilistic PCA, whose log p(x) has a closed form.",
    )
    sample_noise: bool = param(
        True,
        "Samples include the decoder noise",
        live=True,
        group="model",
        help="x = m(z) + σ·ε, a sample of the model p(x). Off: the decoder mean m(z) only.",
    )


class _Extras(nn.Module):
    """The parameters that are not MLP layers, as one pseudo-layer (weight = the codebook `[K, d]`, bias = the
    decoder's log-variance `[2]`), so that `FlatMLP` keeps them in the same flat buffer as the two networks."""

    def __init__(self, codebook: Tensor, log_var: Tensor, learned: bool) -> None:
        super().__init__()
        self.weight = nn.Parameter(codebook)
        self.bias = nn.Parameter(log_var, requires_grad=learned)


class _Layers(nn.Module):
    """What `FlatMLP` flattens: the encoder's layers, the decoder's, then the extras."""

    def __init__(self, *layers: nn.Module) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)


class VAE(Method):
    """Encoder and decoder MLPs, the decoder's log-variance `[2]` and the VQ-VAE's codebook `[K, d]`, all views
    of one flat buffer trained by `explorer.kernels.vae_kernel` (Adam, hand-derived backward pass)."""

    def __init__(self, config: VAEConfig, density: Density, device: torch.device) -> None:
        super().__init__(config, density, device)
        d, kind = config.latent_dim, config.kind
        with seeded_init(config.seed):
            self.encoder_net = MLP(2, 2 * d if kind == "vae" else d, config.hidden, config.depth).to(device)
            self.decoder_net = MLP(d, 2, config.hidden, 0 if config.linear_decoder else config.depth).to(device)
        learned = config.decoder_variance == "learned"
        log_var = torch.full((2,), 0.0 if learned else 2 * math.log(config.decoder_std), device=device)
        codebook = torch.zeros((config.codebook_size if kind == "vqvae" else 0, d), device=device)
        if kind == "vqvae":  # data-dependent initialisation: K encodings of data points (no dead codes at start)
            with torch.no_grad():
                x = density.sample(config.codebook_size, make_generator(config.seed, device))
                codebook = self.encoder_net(x.to(device))
        self._extras = _Extras(codebook, log_var, learned)
        self._n_enc = len(self.encoder_net.layers)
        self.flat = FlatMLP(_Layers(*self.encoder_net.layers, *self.decoder_net.layers, self._extras))
        self._kernel = compiled_vae_steps()
        self._block: dict[str, Tensor] = {}
        self._cursor = VAE_BLOCK

    # --- the model ------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return self.config.kind

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def n_params(self) -> int:
        return self.flat.n_params

    @property
    def codebook(self) -> Tensor:
        """The VQ-VAE's codebook `[K, d]` (K = 0 for the other kinds), a view of the flat buffer."""
        return self._extras.weight

    @property
    def decoder_log_var(self) -> Tensor:
        """log s^2 `[2]`, the decoder's log-variance per coordinate, a view of the flat buffer."""
        return self._extras.bias

    def trainable_parameters(self) -> list[Tensor]:
        """The parameters training updates (the autograd reference of the tests optimises exactly these)."""
        params = [*self.encoder_net.parameters(), *self.decoder_net.parameters()]
        params += [self.decoder_log_var] if self.config.decoder_variance == "learned" else []
        return params + ([self.codebook] if self.kind == "vqvae" else [])

    @classmethod
    def evaluations_per_sample(cls, config: VAEConfig) -> tuple[int, str]:
        return 1, "decoder, once"

    def apply_live(self, config: VAEConfig) -> None:
        super().apply_live(config)
        if config.decoder_variance == "fixed":
            with torch.no_grad():
                self.decoder_log_var.fill_(2 * math.log(config.decoder_std))

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor | None]:
        """(mu `[n, d]`, log sigma^2 `[n, d]`) of q(z | x) for the VAE; (z(x) or z_e(x), None) otherwise."""
        h = self.encoder_net(x)
        if self.kind != "vae":
            return h, None
        d = self.latent_dim
        return h[:, :d], h[:, d:]

    def quantise(self, z_e: Tensor) -> tuple[Tensor, Tensor]:
        """(code index `[n]`, nearest codebook vector e_k `[n, d]`) for encodings z_e `[n, d]` (VQ-VAE)."""
        k = nearest_code(z_e, self.codebook)
        return k, self.codebook[k]

    def decode(self, z: Tensor) -> Tensor:
        """Decoder mean m(z) `[n, 2]` for latents z `[n, d]`."""
        return self.decoder_net(z)

    def code(self, x: Tensor) -> Tensor:
        """The latent the decoder reconstructs x from, `[n, d]`: mu(x) (VAE), z(x) (AE), e_k(x) (VQ-VAE)."""
        z, _ = self.encode(x)
        return self.quantise(z)[1] if self.kind == "vqvae" else z

    @property
    def decoder_std(self) -> Tensor:
        """s `[2]`, the decoder's standard deviation per coordinate."""
        return (0.5 * self.decoder_log_var.detach()).exp()

    def loss_terms(self, x: Tensor, eps: Tensor) -> dict[str, Tensor]:
        """The training objective on a batch x `[B, 2]` with reparametrisation noise eps `[B, d]` (used by
        the VAE only), by autograd: {"loss", "recon", and "kl" with "kl_1".. per dimension (VAE), or
        "vq" = mean ||z_e - e_k||^2 (VQ-VAE)}, each a scalar mean over the batch."""
        cfg = self.config
        z, log_var = self.encode(x)
        out: dict[str, Tensor] = {}
        if self.kind == "vae":
            kl = gaussian_kl(z, log_var).mean(0)
            z = reparametrise(z, log_var, eps)
            out.update({"kl": kl.sum(), **{f"kl_{j + 1}": kl[j] for j in range(self.latent_dim)}})
        elif self.kind == "vqvae":
            _, z_q = self.quantise(z)
            codebook_loss, commitment_loss = vq_losses(z, z_q)
            out["vq"] = codebook_loss.mean()
            extra = codebook_loss.mean() + cfg.commitment * commitment_loss.mean()
            z = straight_through(z, z_q)
        out["recon"] = gaussian_nll(x, self.decode(z), self.decoder_log_var).mean()
        if self.kind == "vae":
            out["loss"] = out["recon"] + cfg.beta * out["kl"]
        elif self.kind == "vqvae":
            out["loss"] = out["recon"] + extra
        else:
            out["loss"] = out["recon"]
        return out

    # --- training ------------------------------------------------------------------------
    def _draw_block(self, generator: torch.Generator) -> None:
        batch, dev = self.config.batch_size, generator.device
        self._block = {
            "x": self.density.sample(VAE_BLOCK * batch, generator).view(VAE_BLOCK, batch, 2),
            "eps": torch.randn((VAE_BLOCK, batch, self.latent_dim), generator=generator, device=dev),
        }
        self._cursor = 0

    def _run_kernel(self, lrs: list[float]) -> Tensor:
        """len(lrs) <= VAE_BLOCK - cursor steps of `explorer.kernels.vae_kernel.vae_steps` on the current block."""
        cfg, flat, n = self.config, self.flat, self._n_enc
        span = slice(self._cursor, self._cursor + len(lrs))
        enc, dec = slice(0, n), slice(n, -1)
        return self._kernel(
            flat.weights[enc],
            flat.weights_t[enc],
            flat.biases[enc],
            flat.grad_weights[enc],
            flat.grad_biases[enc],
            flat.weights[dec],
            flat.weights_t[dec],
            flat.biases[dec],
            flat.grad_weights[dec],
            flat.grad_biases[dec],
            flat.weights[-1],
            flat.grad_weights[-1],
            flat.biases[-1],
            flat.grad_biases[-1],
            flat.flat,
            flat.grad,
            flat.exp_avg,
            flat.exp_avg_sq,
            flat.step_count,
            self._block["x"][span],
            self._block["eps"][span],
            [float(lr) for lr in lrs],
            KIND_CODES[cfg.kind],
            float(cfg.beta),
            float(cfg.commitment),
            cfg.decoder_variance == "learned",
            DECODER_LOG_VAR_MIN,
            0.9,
            0.999,
            1e-8,
        )

    @torch.no_grad()
    def train_chunk(self, lrs: list[float], generator: torch.Generator) -> dict[str, Tensor]:
        """len(lrs) Adam steps; per step the loss and its terms (the keys of `loss_terms`)."""
        parts, done = [], 0
        while done < len(lrs):
            if self._cursor == VAE_BLOCK:
                self._draw_block(generator)
            k = min(len(lrs) - done, VAE_BLOCK - self._cursor)
            parts.append(self._run_kernel(lrs[done : done + k]))
            self._cursor += k
            done += k
        terms = torch.cat(parts)
        out = {"loss": terms[:, 0], "recon": terms[:, 1]}
        if self.kind == "vae":
            out["kl"] = terms[:, 2]
            out.update({f"kl_{j + 1}": terms[:, 3 + j] for j in range(self.latent_dim)})
        elif self.kind == "vqvae":
            out["vq"] = terms[:, 2]
        return out

    def divergence_hint(self) -> str:
        cfg = self.config
        if cfg.decoder_variance == "fixed" and cfg.decoder_std < 0.05:
            return (
                f"With a fixed decoder σ = {cfg.decoder_std:g} the reconstruction term is scaled by 1/σ² = "
                f"{cfg.decoder_std**-2:.3g}: raise σ or lower the learning rate, then press Reset."
            )
        return "Lower the learning rate and press Train, or Reset."

    # --- state and sampling ------------------------------------------------------------------
    def state_dict(self) -> dict[str, Tensor]:
        return self.flat.state_dict()

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        self.flat.load_state_dict(state)

    @torch.no_grad()
    def code_frequencies(self, generator: torch.Generator | None = None) -> Tensor:
        """How often each codebook vector is used on USAGE_POINTS data points, `[K]` summing to 1 (VQ-VAE)."""
        generator = generator or make_generator(self.config.seed + 3, self.device)
        z_e, _ = self.encode(self.density.sample(USAGE_POINTS, generator).to(self.device))
        counts = torch.bincount(nearest_code(z_e, self.codebook), minlength=self.codebook.shape[0])
        return counts.float() / counts.sum()

    @torch.no_grad()
    def prior_sample(self, n: int, generator: torch.Generator) -> Tensor:
        """Latents `[n, d]` from the prior: N(0, I), or codes drawn with their usage frequency (VQ-VAE)."""
        dev = generator.device
        if self.kind == "vqvae":
            probs = self.code_frequencies().to(dev)
            return self.codebook.to(dev)[torch.multinomial(probs, n, replacement=True, generator=generator)]
        return torch.randn((n, self.latent_dim), generator=generator, device=dev)

    @torch.no_grad()
    def generate(self, z: Tensor, generator: torch.Generator) -> Tensor:
        """x ~ p(x | z) `[n, 2]` for latents z `[n, d]`: m(z) + s * noise, or m(z) alone without `sample_noise`."""
        x = self.decode(z.to(self.device))
        if self.config.sample_noise:
            noise = torch.randn((z.shape[0], 2), generator=generator, device=generator.device).to(self.device)
            x = x + self.decoder_std * noise
        return x

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        """Prior samples decoded, `[n, 2]` (see `prior_sample` and `generate`)."""
        return self.generate(self.prior_sample(n, generator), generator)
