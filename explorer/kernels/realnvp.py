"""RealNVP in 2D (Dinh et al. 2017): K affine coupling layers with alternating masks (nn.Modules).

The generative direction f = f_{K-1} o ... o f_0 carries z ~ N(0, I) to x. Coupling k keeps the
coordinate c = k mod 2 and moves the other one, d = 1 - c:

    f_k:       x_c = z_c,   x_d = z_d exp(s(z_c)) + t(z_c)
    f_k^{-1}:  z_c = x_c,   z_d = (x_d - t(x_c)) exp(-s(x_c))

with (r, t) = MLP_k(x_c) (ReLU by default: s and t piecewise linear in x_c, which on the
checkerboard gave 3-5% of samples outside the cells where SiLU left 10-15%, same budget) and the
bounded log-scale s = S tanh(r), so one layer stretches by at most e^S. The Jacobian is
triangular (x_c does not depend on z_d), hence log |det df_k/dz| = s, and the change of
variables gives the exact log-likelihood

    log p_x(x) = log p_z(f^{-1}(x)) + log |det df^{-1}/dx| = log N(z; 0, I) - sum_k s_k(.)

Data known to lie in a box [-b, b]^2 (the checkerboard) can get a fixed last layer, `BoundedOutput`:
x = L tanh(y / L) per coordinate with L a little above b, so that the couplings model the unbounded
y = L artanh(x / L) and no sample lands outside the box (RealNVP's logit of pixel values, for a box).

`explorer.kernels.realnvp_kernel` trains the same parameters with a hand-derived backward pass; these
modules are the autograd reference and evaluate the flow for the views.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from explorer.kernels.activations import activate

LOG_2PI = math.log(2 * math.pi)


def standard_normal_log_prob(z: Tensor) -> Tensor:
    """log N(z; 0, I) `[n]` for z `[n, 2]`: -|z|^2 / 2 - log 2 pi."""
    return -0.5 * z.pow(2).sum(1) - LOG_2PI


class Conditioner(nn.Module):
    """Linear -> act -> ... -> Linear, x_c `[n, 1]` -> (r, t) `[n, 2]`; `depth` hidden layers of width `hidden`."""

    def __init__(self, hidden: int, depth: int, activation: str = "relu") -> None:
        super().__init__()
        widths = [1] + [hidden] * depth + [2]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True))
        self.activation = activation

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers[:-1]:
            x = activate(layer(x), self.activation)
        return self.layers[-1](x)


class AffineCoupling(nn.Module):
    """One coupling layer keeping coordinate `keep`; its conditioner MLP maps x_keep `[n, 1]` to (r, t)."""

    def __init__(self, keep: int, hidden: int, depth: int, scale_bound: float, activation: str = "relu") -> None:
        super().__init__()
        self.keep, self.move, self.scale_bound = keep, 1 - keep, float(scale_bound)
        self.net = Conditioner(hidden, depth, activation)
        with torch.no_grad():  # start as the identity: s = t = 0
            self.net.layers[-1].weight.zero_()
            self.net.layers[-1].bias.zero_()

    def shift_scale(self, kept: Tensor) -> tuple[Tensor, Tensor]:
        """(s, t), each `[n]`, from the kept coordinate `[n]`: s = S tanh(r)."""
        out = self.net(kept[:, None])
        return self.scale_bound * torch.tanh(out[:, 0]), out[:, 1]

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """x = f_k(z) `[n, 2]` and log |det df_k/dz| = s `[n]`."""
        s, t = self.shift_scale(z[:, self.keep])
        moved = z[:, self.move] * torch.exp(s) + t
        return self._assemble(z[:, self.keep], moved), s

    def inverse(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """z = f_k^{-1}(x) `[n, 2]` and log |det df_k^{-1}/dx| = -s `[n]`."""
        s, t = self.shift_scale(x[:, self.keep])
        moved = (x[:, self.move] - t) * torch.exp(-s)
        return self._assemble(x[:, self.keep], moved), -s

    def _assemble(self, kept: Tensor, moved: Tensor) -> Tensor:
        columns = (kept, moved) if self.keep == 0 else (moved, kept)
        return torch.stack(columns, dim=1)


class BoundedOutput(nn.Module):
    """The fixed layer x = L tanh(y / L) per coordinate, R^2 -> (-L, L)^2, with

        log |det dx/dy| = sum_i log(1 - (x_i / L)^2),   y = L artanh(x / L).

    p_x is 0 on and outside the box. `inverse` clamps |x_i / L| to 1 - 1e-6 there (|y_i| = 7.25 L, a finite
    log-det, no NaN), which is not a density: a log p masks such points with `outside` (-inf). Unmasked, the
    clamped edge term (+13 nats per coordinate) multiplied whatever base mass an early flow puts far out
    into a bright band around the box, hundreds of times the density inside."""

    EDGE = 1.0 - 1e-6

    def __init__(self, bound: float) -> None:
        super().__init__()
        self.bound = float(bound)

    def forward(self, y: Tensor) -> tuple[Tensor, Tensor]:
        """x `[n, 2]` and log |det dx/dy| `[n]`."""
        u = torch.tanh(y / self.bound)
        return self.bound * u, torch.log1p(-u * u).sum(1)

    def inverse(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """y `[n, 2]` and log |det dy/dx| = -sum_i log(1 - (x_i / L)^2) `[n]`."""
        u = (x / self.bound).clamp(-self.EDGE, self.EDGE)
        return self.bound * torch.atanh(u), -torch.log1p(-u * u).sum(1)

    def outside(self, x: Tensor) -> Tensor:
        """`[n]` bool: x `[n, 2]` on or outside the box (|x_i| >= (1 - 1e-6) L for some i), where p_x = 0."""
        return (x.abs() >= self.EDGE * self.bound).any(1)


class RealNVP(nn.Module):
    """K couplings; coupling k keeps coordinate k mod 2 (the masks alternate); with `bound` L > 0, then
    `BoundedOutput(L)` as a last, fixed stage."""

    def __init__(
        self,
        n_layers: int = 8,
        hidden: int = 64,
        depth: int = 2,
        scale_bound: float = 2.0,
        activation: str = "relu",
        bound: float = 0.0,
    ) -> None:
        super().__init__()
        self.couplings = nn.ModuleList(
            AffineCoupling(k % 2, hidden, depth, scale_bound, activation) for k in range(n_layers)
        )
        self.output = BoundedOutput(bound) if bound > 0 else None

    @property
    def n_layers(self) -> int:
        """K, the coupling layers."""
        return len(self.couplings)

    @property
    def stages(self) -> list[nn.Module]:
        """The invertible maps of f in order: the couplings, then the bounded output if any."""
        return [*self.couplings, *([self.output] if self.output is not None else [])]

    def linear_stack(self) -> nn.Module:
        """A module whose `layers` are every nn.Linear of the conditioners, coupling 0 first: the
        layout `explorer.kernels.flat_mlp.FlatMLP` flattens (the layers are shared, not copied)."""
        stack = nn.Module()
        stack.layers = nn.ModuleList(layer for c in self.couplings for layer in c.net.layers)
        return stack

    def forward(self, z: Tensor) -> Tensor:
        """x = f(z) `[n, 2]`."""
        for stage in self.stages:
            z = stage(z)[0]
        return z

    def inverse(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """z = f^{-1}(x) `[n, 2]` and log |det df^{-1}/dx| `[n]`."""
        logdet = torch.zeros_like(x[:, 0])
        for stage in reversed(self.stages):
            x, ld = stage.inverse(x)
            logdet = logdet + ld
        return x, logdet

    def log_prob(self, x: Tensor) -> Tensor:
        """log p_x(x) = log N(f^{-1}(x); 0, I) + log |det df^{-1}/dx|, `[n]` (-inf outside a bounded output's box)."""
        z, logdet = self.inverse(x)
        return self.zero_outside(x, standard_normal_log_prob(z) + logdet)

    def zero_outside(self, x: Tensor, log_p: Tensor) -> Tensor:
        """log_p `[n]` with -inf where x `[n, 2]` lies on or outside a bounded output's box (p_x = 0 there);
        unchanged without a bounded output."""
        return log_p if self.output is None else log_p.masked_fill(self.output.outside(x), -math.inf)

    def forward_layers(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """Points after each stage `[S + 1, n, 2]` (index 0: z, index S: x) and log |det df_k/dz| `[S, n]`;
        S = len(stages), K or K + 1."""
        points, logdets = [z], []
        for stage in self.stages:
            z, ld = stage(z)
            points.append(z)
            logdets.append(ld)
        return torch.stack(points), torch.stack(logdets) if logdets else z.new_zeros((0, z.shape[0]))

    def inverse_layers(self, x: Tensor) -> Tensor:
        """Points from data to noise `[S + 1, n, 2]`: index 0 is x, index j is after undoing stage S - j."""
        points = [x]
        for stage in reversed(self.stages):
            x = stage.inverse(x)[0]
            points.append(x)
        return torch.stack(points)
