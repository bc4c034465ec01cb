"""The GAN's benchmark hooks: its plain alternating loop, and the mass per mode of its samples."""

from __future__ import annotations

import torch

from explorer.bench.plain_loop import plain_mlp, steps_per_s
from explorer.device import make_generator
from explorer.kernels.gan_losses import (
    clip_weights,
    discriminator_loss,
    generator_loss,
    gradient_penalty,
    penalty_points,
)


def plain_steps_per_s(session, seconds: float) -> float:
    """Generator steps/s of a textbook alternating GAN loop (nn.Sequential, torch.optim.Adam, the
    same loss, n_critic, gradient penalty or clipping, spectral normalisation by torch's
    parametrization, batch, widths, depths and D's activation)."""
    cfg, device = session.config, session.device_choice.device
    g = plain_mlp(cfg.latent_dim, 2, cfg.g_hidden, cfg.g_depth, device)
    d = plain_mlp(2, 1, cfg.d_hidden, cfg.d_depth, device, cfg.d_activation)
    if cfg.spectral_norm:
        for layer in d:
            if isinstance(layer, torch.nn.Linear):
                torch.nn.utils.parametrizations.spectral_norm(layer)
    where = cfg.penalty
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, 0.999))
    generator, batch = make_generator(cfg.seed, device), cfg.batch_size

    def step() -> None:
        for _ in range(cfg.n_critic):
            real = session.density.sample(batch, generator)
            fake = g(torch.randn((batch, cfg.latent_dim), generator=generator, device=device)).detach()
            loss = discriminator_loss(cfg.loss, d(real).squeeze(-1), d(fake).squeeze(-1))
            if where != "none":
                u = torch.rand((batch, 1), generator=generator, device=device)
                noise = torch.randn((batch, 2), generator=generator, device=device)
                points = penalty_points(where, real, fake, u, noise, cfg.dragan_noise)
                loss = loss + cfg.gp_lambda * gradient_penalty(lambda x: d(x).squeeze(-1), points)
            opt_d.zero_grad()
            loss.backward()
            opt_d.step()
            if cfg.loss == "wgan":
                clip_weights(d, cfg.clip)
        fake = g(torch.randn((batch, cfg.latent_dim), generator=generator, device=device))
        loss = generator_loss(cfg.loss, d(fake).squeeze(-1))
        opt_g.zero_grad()
        loss.backward()
        opt_g.step()

    return steps_per_s(step, seconds, device)


def figures(session, samples: torch.Tensor, args) -> dict:
    """The loss and n_critic, and each mode's share of the samples (mixture targets)."""
    result = {"loss": session.config.loss, "n_critic": session.config.n_critic}
    if hasattr(session.density, "nearest_component"):
        counts = torch.bincount(session.density.nearest_component(samples), minlength=session.density.n_classes)
        result["mode_mass"] = [round(float(c) / len(samples), 4) for c in counts]
    return result
