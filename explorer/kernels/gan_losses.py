"""GAN objectives on discriminator outputs (logits, or critic values for the Wasserstein losses).

With real outputs r = D(x) `[n]` and fake outputs f = D(G(z)) `[m]` (sigma the logistic function):

- minimax (saturating):  L_D = E softplus(-r) + E softplus(f)   (= -E log D(x) - E log(1 - D(G(z))))
                         L_G = -E softplus(f)                   (= E log(1 - D(G(z))), minimised)
- non-saturating:        L_D as minimax;  L_G = E softplus(-f)  (= -E log D(G(z)))
- WGAN (weight clipping) and WGAN-GP:  L_D = E f - E r  (+ lambda GP);  L_G = -E f
- LSGAN (a, b, c):       L_D = 1/2 E (r - b)^2 + 1/2 E (f - a)^2;  L_G = 1/2 E (f - c)^2
- hinge:                 L_D = E relu(1 - r) + E relu(1 + f);  L_G = -E f
- DRAGAN:                the non-saturating losses, with the gradient penalty at perturbed reals

The gradient penalty GP = E (||grad_x D(x_hat)|| - 1)^2 is evaluated at points x_hat (`penalty_points`):
random interpolates x_hat = u x + (1 - u) G(z), u ~ U[0, 1] (WGAN-GP, Gulrajani et al. 2017); the real and
generated points themselves, the expectation over p_data + p_G of the lecture notes; or reals perturbed by
Gaussian noise, x_hat = x + sigma eps (DRAGAN, Kodali et al. 2017).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.nn.functional import relu, softplus

LOSSES = ("minimax", "nonsaturating", "wgan", "wgan_gp", "lsgan", "hinge", "dragan")
LOSS_TITLES = {
    "minimax": "minimax (saturating)",
    "nonsaturating": "non-saturating",
    "wgan": "WGAN (clipping)",
    "wgan_gp": "WGAN-GP",
    "lsgan": "LSGAN",
    "hinge": "hinge",
    "dragan": "DRAGAN",
}
WASSERSTEIN = ("wgan", "wgan_gp")
CLASSIFIER = ("minimax", "nonsaturating", "dragan")  # D outputs a logit: sigmoid gives P(real)
# Where WGAN-GP evaluates its penalty: between real and generated points, or at both sets themselves.
WGAN_GP_POINTS = ("interpolates", "real_and_generated")


def penalty_where(loss: str, wgan_gp_points: str = "interpolates") -> str:
    """Where a loss evaluates its gradient penalty: "interpolates", "real_and_generated", "perturbed_real" or
    "none" (`explorer.kernels.gan_kernel.PENALTIES`)."""
    if loss == "wgan_gp":
        return wgan_gp_points
    return "perturbed_real" if loss == "dragan" else "none"


def penalty_points(
    where: str, real: Tensor, fake: Tensor, u: Tensor, noise: Tensor | None = None, noise_std: float = 0.0
) -> Tensor | None:
    """The points x_hat `[m, 2]` of the gradient penalty for real `[n, 2]` and fake `[n, 2]` samples: u real +
    (1 - u) fake (u `[n, 1]`), both sets stacked, or real + noise_std * noise (`[n, 2]`); None for "none"."""
    if where == "interpolates":
        return u * real + (1 - u) * fake
    if where == "real_and_generated":
        return torch.cat([real, fake])
    if where == "perturbed_real":
        return real + noise_std * noise
    return None


def discriminator_loss(
    kind: str, real: Tensor, fake: Tensor, lsgan_abc: tuple[float, float, float] = (0.0, 1.0, 1.0)
) -> Tensor:
    """L_D for outputs on real `[n]` and fake `[m]` samples (the discriminator minimises it)."""
    if kind in CLASSIFIER:
        return softplus(-real).mean() + softplus(fake).mean()
    if kind in WASSERSTEIN:
        return fake.mean() - real.mean()
    if kind == "lsgan":
        a, b, _ = lsgan_abc
        return 0.5 * (real - b).pow(2).mean() + 0.5 * (fake - a).pow(2).mean()
    if kind == "hinge":
        return relu(1 - real).mean() + relu(1 + fake).mean()
    raise KeyError(f"unknown GAN loss '{kind}'")


def generator_loss(kind: str, fake: Tensor, lsgan_abc: tuple[float, float, float] = (0.0, 1.0, 1.0)) -> Tensor:
    """L_G for discriminator outputs on generated samples `[m]` (the generator minimises it)."""
    if kind == "minimax":
        return -softplus(fake).mean()
    if kind in ("nonsaturating", "dragan"):
        return softplus(-fake).mean()
    if kind in (*WASSERSTEIN, "hinge"):
        return -fake.mean()
    if kind == "lsgan":
        return 0.5 * (fake - lsgan_abc[2]).pow(2).mean()
    raise KeyError(f"unknown GAN loss '{kind}'")


def gradient_penalty(critic: Callable[[Tensor], Tensor], points: Tensor) -> Tensor:
    """E (||grad D(x_hat)||_2 - 1)^2 over the points x_hat `[m, 2]` (`penalty_points`), with a graph for backward."""
    x_hat = points.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return (grad.norm(dim=1) - 1).pow(2).mean()


@torch.no_grad()
def clip_weights(module: nn.Module, c: float) -> None:
    """Clamp every parameter to [-c, c] (the original WGAN's crude Lipschitz constraint)."""
    for p in module.parameters():
        p.clamp_(-c, c)
