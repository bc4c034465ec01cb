"""explorer.kernels.gan_kernel's hand-derived GAN steps against autograd + torch.optim on the same batches."""

from __future__ import annotations

import copy

import pytest
import torch

from explorer.data.densities import get_density
from explorer.kernels.gan_losses import LOSSES, clip_weights, discriminator_loss, generator_loss, gradient_penalty
from explorer.methods.gan import GAN, GANConfig


def _reference_optimizer(kind: str, params, lr: float, beta1: float) -> torch.optim.Optimizer:
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr)
    return torch.optim.Adam(params, lr=lr, betas=(beta1, 0.999))


def _reference_steps(method: GAN, n_steps: int) -> tuple[torch.nn.Module, torch.nn.Module, list[float], list[float]]:
    """The textbook alternating loop (autograd, torch.optim) on copies of the method's networks and
    its current data block; returns the trained copies and the per-step G and D losses."""
    cfg, block = method.config, method._block
    g, d = copy.deepcopy(method.generator_net), copy.deepcopy(method.discriminator_net)
    opt_g = _reference_optimizer(cfg.optimizer_g, g.parameters(), cfg.lr, cfg.beta1)
    opt_d = _reference_optimizer(cfg.optimizer_d, d.parameters(), cfg.lr_d, cfg.beta1)
    abc = (cfg.lsgan_a, cfg.lsgan_b, cfg.lsgan_c)
    g_losses, d_losses = [], []
    for s in range(n_steps):
        total = 0.0
        for k in range(cfg.n_critic):
            real, onehot = block["real"][s, k], block["real_onehot"][s, k]
            fake = g(torch.cat([block["z_d"][s, k], onehot], 1)).detach()

            def critic(x, onehot=onehot):
                return d(torch.cat([x, onehot], 1)).squeeze(-1)

            loss = discriminator_loss(cfg.loss, critic(real), critic(fake), abc)
            if cfg.loss == "wgan_gp":
                loss = loss + cfg.gp_lambda * gradient_penalty(critic, real, fake, block["u"][s, k])
            opt_d.zero_grad()
            loss.backward()
            opt_d.step()
            if cfg.loss == "wgan":
                clip_weights(d, cfg.clip)
            total += float(loss.detach())
        d_losses.append(total / cfg.n_critic)
        onehot = block["g_onehot"][s]
        fake = g(torch.cat([block["z_g"][s], onehot], 1))
        loss = generator_loss(cfg.loss, d(torch.cat([fake, onehot], 1)).squeeze(-1), abc)
        opt_g.zero_grad()
        loss.backward()
        opt_g.step()
        g_losses.append(float(loss.detach()))
    return g, d, g_losses, d_losses


CASES = [(loss, False, "adam") for loss in LOSSES] + [
    ("wgan_gp", True, "adam"),
    ("nonsaturating", True, "rmsprop"),
    ("wgan_gp", False, "rmsprop"),
    ("hinge", False, "sgd"),
    ("wgan", False, "sgd"),
]


# In float64 the two agree to ~1e-15 except through the kernel's guard ||grad D|| = sqrt(|g|^2 + 1e-12)
# (WGAN-GP), which moves a weight by up to ~5e-8 of the largest after Adam's normalisation: 1e-6 covers it.
RTOL, ATOL = 1e-6, 1e-9


@pytest.mark.usefixtures("float64")
@pytest.mark.parametrize(("loss", "conditional", "optimizer"), CASES)
def test_kernel_matches_autograd_and_torch_optim(loss: str, conditional: bool, optimizer: str) -> None:
    torch.manual_seed(0)
    cfg = GANConfig(
        density="eight_gaussians" if not conditional else "two_gaussians",
        loss=loss,
        conditional=conditional,
        optimizer_g=optimizer,
        optimizer_d=optimizer,
        n_critic=2,
        batch_size=32,
        g_hidden=16,
        d_hidden=12,
        g_depth=2,
        d_depth=3,
        clip=0.3,
        gp_lambda=2.0,
        lsgan_a=-0.5,
        lsgan_b=1.5,
        lsgan_c=0.7,
        lr=3e-2,
        lr_d=2e-2,
    )
    method = GAN(cfg, get_density(cfg.density), torch.device("cpu"))
    assert bool(method.n_classes) == conditional
    generator = torch.Generator().manual_seed(1)
    method._draw_block(generator)
    g, d, g_ref, d_ref = _reference_steps(method, 4)
    losses = method.train_chunk([cfg.lr] * 4, generator)
    assert method.flat_g.flat.dtype == method.flat_d.flat.dtype == losses["loss"].dtype == torch.float64
    torch.testing.assert_close(losses["loss"], torch.tensor(g_ref), rtol=RTOL, atol=ATOL)
    torch.testing.assert_close(losses["d_loss"], torch.tensor(d_ref), rtol=RTOL, atol=ATOL)
    for ours, theirs in ((method.generator_net, g), (method.discriminator_net, d)):
        for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
            torch.testing.assert_close(p, q, rtol=RTOL, atol=ATOL)
    if loss == "wgan":
        assert all(p.abs().max() <= cfg.clip + 1e-7 for p in method.discriminator_net.parameters())


def test_step_parts_update_one_network_each() -> None:
    """Step D changes only the discriminator, Step G only the generator."""
    method = GAN(GANConfig(batch_size=16), get_density("eight_gaussians"), torch.device("cpu"))
    generator = torch.Generator().manual_seed(0)
    g0, d0 = method.flat_g.flat.clone(), method.flat_d.flat.clone()
    out = method.train_part("d", 1e-3, generator)
    assert set(out) == {"d_loss"} and torch.isfinite(out["d_loss"]).all()
    assert torch.equal(method.flat_g.flat, g0) and not torch.equal(method.flat_d.flat, d0)
    d1 = method.flat_d.flat.clone()
    out = method.train_part("g", 1e-3, generator)
    assert set(out) == {"loss"} and torch.isfinite(out["loss"]).all()
    assert torch.equal(method.flat_d.flat, d1) and not torch.equal(method.flat_g.flat, g0)
