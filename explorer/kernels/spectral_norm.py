"""Spectral normalisation (Miyato et al. 2018) on weight matrices, with its exact backward pass.

Each layer's weight W `[out, in]` is used as W_sn = W / sigma(W), sigma estimated by power iteration on
persistent unit vectors u `[out]` and v `[in]`, one step per discriminator update, in the order of
`torch.nn.utils.parametrizations.spectral_norm`:

    u <- W v / ||W v||,   v <- W^T u / ||W^T u||,   sigma = u^T W v.

u and v are constants for the gradient (as in torch), so with G = dL/dW_sn and dsigma/dW = u v^T:

    dL/dW = (G - <G, W_sn> u v^T) / sigma.

Written for TorchScript (`explorer.kernels.gan_kernel` calls it inside its compiled steps).
"""

from __future__ import annotations

import torch
from torch import Tensor

INIT_ITERATIONS = 15  # power-iteration steps when the vectors are made (torch does the same)


def _unit(x: Tensor) -> Tensor:
    """x / max(||x||, 1e-12) (torch's spectral_norm eps; a literal, as TorchScript compiles no global floats)."""
    return x / x.norm().clamp_min(1e-12)


def power_iteration(weight: Tensor, u: Tensor, v: Tensor) -> None:
    """One power-iteration step on u `[out]`, v `[in]` for weight `[out, in]`, in place."""
    u.copy_(_unit(torch.mv(weight, v)))
    v.copy_(_unit(torch.mv(weight.t(), u)))


def init_vectors(weight: Tensor, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Random unit u `[out]`, v `[in]` refined by INIT_ITERATIONS steps."""
    u = _unit(torch.randn(weight.shape[0], generator=generator, dtype=weight.dtype, device=weight.device))
    v = _unit(torch.randn(weight.shape[1], generator=generator, dtype=weight.dtype, device=weight.device))
    with torch.no_grad():
        for _ in range(INIT_ITERATIONS):
            power_iteration(weight, u, v)
    return u, v


def normalized_weights(
    weights: list[Tensor], us: list[Tensor], vs: list[Tensor], iterate: bool
) -> tuple[list[Tensor], list[Tensor], list[Tensor]]:
    """W_l / sigma_l `[out, in]`, their transposes, and sigma_l `[]` per layer (after one power-iteration step on
    each layer's u, v if `iterate`)."""
    normed: list[Tensor] = []
    normed_t: list[Tensor] = []
    sigmas: list[Tensor] = []
    for i in range(len(weights)):
        if iterate:
            power_iteration(weights[i], us[i], vs[i])
        sigma = torch.dot(us[i], torch.mv(weights[i], vs[i]))
        w = weights[i] / sigma
        normed.append(w)
        normed_t.append(w.t())
        sigmas.append(sigma)
    return normed, normed_t, sigmas


def spectral_backward(
    grads_normed: list[Tensor],
    normed: list[Tensor],
    sigmas: list[Tensor],
    us: list[Tensor],
    vs: list[Tensor],
    grad_weights: list[Tensor],
) -> None:
    """dL/dW_l = (G_l - <G_l, W_sn,l> u_l v_l^T) / sigma_l from G_l = dL/dW_sn,l, written over grad_weights."""
    for i in range(len(normed)):
        inner = (grads_normed[i] * normed[i]).sum()
        grad = (grads_normed[i] - inner * torch.outer(us[i], vs[i])) / sigmas[i]
        grad_weights[i].copy_(grad)
