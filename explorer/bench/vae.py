"""The VAE family's part of `python -m explorer.bench --family vae`: the ELBO's terms of the trained model,
and the plain PyTorch loop the kernel is compared with.

`figures` reports, on 20,000 fresh data points (one reparametrised z each): the ELBO (a lower bound on
E log p(x), nats per point), the reconstruction term E_q[-log p(x | z)], the KL term, KL per latent
dimension, the active dimensions (Var_x of the posterior mean > 0.01) and the decoder's sigma; and the
energy distance of prior samples averaged over 8 draws, next to a perfect sampler's average (`_mean8`).
"""

from __future__ import annotations

import math

import torch

from explorer.bench.plain_loop import autograd_steps_per_s, plain_mlp
from explorer.device import make_generator
from explorer.maths.metrics import energy_distance
from explorer.methods.vae import VAE
from explorer.training.session import TrainingSession
from explorer.views.vae import elbo_view


def averaged_energy(method: VAE, seed: int, n: int = 4000, repeats: int = 8) -> tuple[float, float]:
    """(model, perfect sampler) energy distance to the target, each the mean over `repeats` independent draws
    of n samples. A single draw is noisy at this size: a perfect sampler of two_moons scored 0.00033 to 0.00374
    (mean 0.0014) over 20 draws of 4,000 against 4,000, so one draw cannot tell 1x from 4x the floor."""
    truth = torch.Generator().manual_seed(seed + 6)
    model = [
        energy_distance(
            method.sample(n, make_generator(seed + 100 + i, method.device)).float().cpu(), _draw(method, n, truth)
        )
        for i in range(repeats)
    ]
    perfect = [energy_distance(_draw(method, n, truth), _draw(method, n, truth)) for _ in range(repeats)]
    return sum(model) / repeats, sum(perfect) / repeats


def _draw(method: VAE, n: int, generator: torch.Generator) -> torch.Tensor:
    return method.density.sample(n, generator)


def figures(session: TrainingSession, samples: torch.Tensor, args) -> dict:
    """The bench's hook (`explorer.bench.trained`): the VAE's own figures."""
    return vae_figures(session.method, args.seed, nll_points=min(NLL_POINTS, args.nll_samples))


NLL_POINTS = 2000  # quadrature over the 201 x 201 latent grid costs ~1.2 ms a point on one core (--nll-samples caps it)


@torch.no_grad()
def likelihood(method: VAE, seed: int, n: int = NLL_POINTS) -> dict:
    """The VAE's NLL of NLL_POINTS fresh points by quadrature (`nll`, the reference) and by importance sampling with
    K = 100 (`nll_is`), the entropy and NLL - H where the target's is known (`explorer.kernels.vae_likelihood`)."""
    from explorer.kernels.vae_likelihood import importance_sampling, log_likelihood_quadrature
    from explorer.maths.entropy import target_entropy

    generator = make_generator(seed + 6, method.device)
    x = method.density.sample(n, generator)
    log_var = method.decoder_log_var.detach()
    by_quadrature = log_likelihood_quadrature(x, method.decode, log_var, method.latent_dim).double()
    mu, log_var_q = method.encode(x)
    by_importance = importance_sampling(x, mu, log_var_q, method.decode, log_var, 100, 1, generator)[0].double()
    result = {
        "nll": round(float(-by_quadrature.mean()), 4),
        "nll_stderr": round(float(by_quadrature.std() / n**0.5), 4),
        "nll_is": round(float(-by_importance.mean()), 4),
        "nll_points": n,
    }
    if (entropy := target_entropy(method.density)) is not None:
        result.update(
            {"entropy": round(entropy.value, 4), "nll_minus_entropy": round(result["nll"] - entropy.value, 4)}
        )
    return result


def vae_figures(method: VAE, seed: int, n: int = 20_000, nll_points: int = NLL_POINTS) -> dict:
    view = elbo_view(method, make_generator(seed + 5, method.device), n)
    model_energy, perfect_energy = averaged_energy(method, seed)
    return {
        **(likelihood(method, seed, nll_points) if method.kind == "vae" else {}),
        "energy_distance_mean8": round(model_energy, 5),
        "noise_floor_mean8": round(perfect_energy, 5),
        "energy_ratio_mean8": round(model_energy / perfect_energy, 2),
        "kind": method.kind,
        "latent_dim": method.latent_dim,
        "elbo": round(-view.neg_elbo, 4),
        "recon": round(view.recon, 4),
        "kl": round(view.kl, 4),
        "kl_per_dim": [round(float(v), 4) for v in view.kl_dims],
        "active_dims": view.n_active,
        "decoder_std": [round(float(s), 4) for s in method.decoder_std],
    }


def plain_steps_per_s(session: TrainingSession, seconds: float) -> float:
    """Steps/s of a textbook VAE loop: nn.Sequential encoder and decoder of the session's width and depth,
    a learned decoder log-variance, torch.optim.Adam and loss.backward(), data and noise drawn per step
    (the session's batch size, latent dimension and beta; the VAE objective whatever the model kind)."""
    cfg, device, density = session.config, session.device_choice.device, session.density
    torch.manual_seed(cfg.seed)
    d = cfg.latent_dim
    encoder, decoder = (
        plain_mlp(2, 2 * d, cfg.hidden, cfg.depth, device),
        plain_mlp(d, 2, cfg.hidden, cfg.depth, device),
    )
    log_var = torch.zeros(2, device=device, requires_grad=True)
    optimizer = torch.optim.Adam([*encoder.parameters(), *decoder.parameters(), log_var], lr=cfg.lr)
    generator, batch = make_generator(cfg.seed, device), cfg.batch_size

    def loss() -> torch.Tensor:
        x = density.sample(batch, generator)
        eps = torch.randn((batch, d), generator=generator, device=device)
        mu, v = encoder(x).chunk(2, dim=1)
        m = decoder(mu + (0.5 * v).exp() * eps)
        recon = 0.5 * ((x - m).pow(2) * (-log_var).exp() + log_var + math.log(2 * math.pi)).sum(1).mean()
        kl = 0.5 * (mu.pow(2) + v.exp() - 1 - v).sum(1).mean()
        return recon + cfg.beta * kl

    return autograd_steps_per_s(loss, optimizer, seconds, device)
