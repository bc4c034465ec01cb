"""explorer.kernels.gan_kernel's hand-derived GAN steps against autograd + torch.optim on the same batches."""

from __future__ import annotations

import copy

import pytest
import torch

from explorer.data.densities import get_density
from explorer.kernels.gan_losses import (
    LOSSES,
    clip_weights,
    discriminator_loss,
    generator_loss,
    gradient_penalty,
    penalty_points,
)
from explorer.kernels.spectral_norm import normalized_weights, power_iteration
from explorer.methods.gan import GAN, GANConfig


def _reference_optimizer(kind: str, params, lr: float, beta1: float) -> torch.optim.Optimizer:
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr)
    return torch.optim.Adam(params, lr=lr, betas=(beta1, 0.999))


def _spectral_twin(method: GAN) -> torch.nn.Module:
    """A copy of D with torch's spectral-norm parametrization on every layer, starting from the method's u, v."""
    d = copy.deepcopy(method.discriminator_net)
    for layer, u, v in zip(d.layers, method.sn_u, method.sn_v, strict=True):
        torch.nn.utils.parametrizations.spectral_norm(layer)
        layer.parametrizations.weight[0]._u.copy_(u)
        layer.parametrizations.weight[0]._v.copy_(v)
    return d


def _raw_parameters(module: torch.nn.Module) -> list[torch.Tensor]:
    """Every layer's weight (the parametrization's original where there is one) and bias."""
    return [
        p
        for layer in module.layers
        for p in (
            layer.parametrizations.weight.original if hasattr(layer, "parametrizations") else layer.weight,
            layer.bias,
        )
    ]


def _reference_steps(method: GAN, n_steps: int) -> tuple[torch.nn.Module, torch.nn.Module, list[float], list[float]]:
    """The textbook alternating loop (autograd, torch.optim, torch's spectral_norm) on copies of the method's
    networks and its current data block; returns the trained copies and the per-step G and D losses.

    With spectral normalisation D does one power-iteration step per D update: its forward on [real; fake]
    runs in training mode, the penalty's and the generator's in eval mode (no iteration)."""
    cfg, block = method.config, method._block
    g = copy.deepcopy(method.generator_net)
    d = _spectral_twin(method) if cfg.spectral_norm else copy.deepcopy(method.discriminator_net)
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
                return d(torch.cat([x, onehot.repeat(len(x) // len(onehot), 1)], 1)).squeeze(-1)

            d.train()
            out = critic(torch.cat([real, fake]))
            d.eval()
            loss = discriminator_loss(cfg.loss, out[: len(real)], out[len(real) :], abc)
            noise = block["noise"][s, k] if block["noise"].shape[2] else None
            points = penalty_points(method.penalty, real, fake, block["u"][s, k], noise, cfg.dragan_noise)
            if points is not None:
                loss = loss + cfg.gp_lambda * gradient_penalty(critic, points)
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


CASES = [(loss, False, "adam", {}) for loss in LOSSES] + [
    ("wgan_gp", True, "adam", {}),
    ("nonsaturating", True, "rmsprop", {}),
    ("wgan_gp", False, "rmsprop", {}),
    ("hinge", False, "sgd", {}),
    ("wgan", False, "sgd", {}),
    ("wgan_gp", False, "adam", {"penalty_at": "real_and_generated"}),
    ("dragan", True, "adam", {}),
    ("nonsaturating", False, "adam", {"spectral_norm": True}),
    ("hinge", True, "adam", {"spectral_norm": True}),
    ("wgan_gp", False, "adam", {"spectral_norm": True}),
    ("dragan", False, "adam", {"spectral_norm": True}),
    ("wgan_gp", True, "adam", {"spectral_norm": True, "penalty_at": "real_and_generated"}),
    ("nonsaturating", False, "adam", {"spectral_norm": True, "d_activation": "leaky_relu"}),
    ("wgan_gp", True, "adam", {"d_activation": "leaky_relu"}),
    ("wgan_gp", False, "rmsprop", {"d_activation": "leaky_relu", "penalty_at": "real_and_generated"}),
    ("dragan", False, "adam", {"spectral_norm": True, "d_activation": "leaky_relu"}),
    ("hinge", True, "sgd", {"d_activation": "leaky_relu"}),
]


# In float64 the two agree to ~1e-15 except through the kernel's guard ||grad D|| = sqrt(|g|^2 + 1e-12)
# (WGAN-GP), which moves a weight by up to ~5e-8 of the largest after Adam's normalisation: 1e-6 covers it.
RTOL, ATOL = 1e-6, 1e-9


@pytest.mark.usefixtures("float64")
@pytest.mark.parametrize(("loss", "conditional", "optimizer", "options"), CASES)
def test_kernel_matches_autograd_and_torch_optim(loss: str, conditional: bool, optimizer: str, options: dict) -> None:
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
        **options,
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
        for p, q in zip(_raw_parameters(ours), _raw_parameters(theirs), strict=True):
            torch.testing.assert_close(p, q, rtol=RTOL, atol=ATOL)
    if cfg.spectral_norm:  # the power-iteration vectors moved as torch's did
        for layer, u, v in zip(d.layers, method.sn_u, method.sn_v, strict=True):
            torch.testing.assert_close(u, layer.parametrizations.weight[0]._u, rtol=RTOL, atol=ATOL)
            torch.testing.assert_close(v, layer.parametrizations.weight[0]._v, rtol=RTOL, atol=ATOL)
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


@pytest.mark.usefixtures("float64")
def test_spectral_normalisation_makes_every_layer_1_lipschitz_and_d_matches_torch() -> None:
    """After training, with the power iteration converged, each layer's W / sigma has spectral norm 1, and D
    equals torch's parametrized network on the same u, v."""
    method = GAN(
        GANConfig(spectral_norm=True, loss="nonsaturating"), get_density("eight_gaussians"), torch.device("cpu")
    )
    method.train_chunk([2e-3] * 200, torch.Generator().manual_seed(0))
    raw = method.flat_d.weights
    for _ in range(100):
        for w, u, v in zip(raw, method.sn_u, method.sn_v, strict=True):
            power_iteration(w, u, v)
    normed = normalized_weights(raw, method.sn_u, method.sn_v, False)[0]
    assert max(abs(float(torch.linalg.matrix_norm(w, ord=2)) - 1) for w in raw) > 0.2  # the raw ones are not
    for w_sn in normed:
        assert float(torch.linalg.matrix_norm(w_sn, ord=2)) == pytest.approx(1.0, abs=1e-3)
    x = torch.randn(50, 2, generator=torch.Generator().manual_seed(1))
    twin = _spectral_twin(method).eval()
    torch.testing.assert_close(method.discriminate(x), twin(x).squeeze(-1), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(method.layer_norms(), torch.stack([torch.linalg.matrix_norm(w, ord=2) for w in raw]))


def test_the_training_kernel_is_compiled() -> None:
    """TorchScript compiles it, spectral normalisation and the penalties included (otherwise the Python fallback
    runs, about a quarter slower, with the GIL held between tensor calls)."""
    from explorer.kernels.gan_kernel import compiled_gan_steps

    assert isinstance(compiled_gan_steps(), torch.jit.ScriptFunction)
