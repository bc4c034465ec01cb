"""The hidden layers' activations, with the derivatives the hand-derived kernels need (TorchScript-compatible).

    silu(a) = a s(a), s = sigmoid              silu'(a) = s (1 + a (1 - s)),  silu''(a) = s (1 - s) (2 + a (1 - 2 s))
    relu(a) = max(a, 0)                        relu'(a) = [a > 0]
    leaky_relu(a) = max(a, LEAKY_SLOPE a)      leaky_relu'(a) = 1 or LEAKY_SLOPE,  second derivative 0
    tanh(a)                                    tanh'(a) = 1 - tanh(a)^2

SiLU is the default everywhere; RealNVP's conditioners offer ReLU and tanh; the GAN's discriminator offers leaky
ReLU, whose slope 1 on half of the plane lets a spectrally normalised D be steep (docs/decisions.md).
"""

from __future__ import annotations

import torch
from torch import Tensor

LEAKY_SLOPE = 0.2  # the slope of leaky ReLU for a < 0 (DCGAN's and SNGAN's discriminators use 0.1-0.2)


# TorchScript cannot read a module-level float, so the functions take the slope as a default argument.
def activate(a: Tensor, activation: str, leaky_slope: float = LEAKY_SLOPE) -> Tensor:
    """act(a) `[n, width]` for act = "silu", "relu", "leaky_relu" or "tanh"."""
    if activation == "relu":
        return torch.relu(a)
    if activation == "leaky_relu":
        return torch.nn.functional.leaky_relu(a, leaky_slope)
    if activation == "tanh":
        return torch.tanh(a)
    return torch.nn.functional.silu(a)


def activation_backward(g: Tensor, a: Tensor, h: Tensor, activation: str, leaky_slope: float = LEAKY_SLOPE) -> Tensor:
    """dL/da = act'(a) * dL/dh for h = act(a), all `[n, width]` (relu and tanh read h, the others a)."""
    if activation == "relu":
        return torch.ops.aten.threshold_backward(g, h, 0.0)
    if activation == "leaky_relu":
        return torch.ops.aten.leaky_relu_backward(g, a, leaky_slope, False)
    if activation == "tanh":
        return torch.ops.aten.tanh_backward(g, h)
    return torch.ops.aten.silu_backward(g, a)


def activation_slope(a: Tensor, activation: str, leaky_slope: float = LEAKY_SLOPE) -> Tensor:
    """act'(a) `[n, width]` for silu, leaky_relu or relu (not tanh, whose derivative reads h): the divergence's
    tangents and the gradient-penalty chain."""
    return activation_backward(torch.ones_like(a), a, a, activation, leaky_slope)


def activation_curvature(a: Tensor, activation: str) -> Tensor:
    """act''(a) `[n, width]` (silu or leaky_relu, whose second derivative is 0 wherever it exists)."""
    if activation == "leaky_relu":
        return torch.zeros_like(a)
    s = torch.sigmoid(a)
    return s * (1.0 - s) * (2.0 + a * (1.0 - 2.0 * s))
