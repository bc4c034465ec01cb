"""Neural networks (nn.Modules only)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from explorer.kernels.activations import activate


class MLP(nn.Module):
    """Linear -> act -> ... -> Linear: `depth` hidden layers of width `hidden`, act SiLU unless named
    (`explorer.kernels.activations`).

    `forward(z: [n, in_dim]) -> [n, out_dim]`. Kept as a plain stack of nn.Linear so that
    `explorer.kernels.regression` can train it with a hand-derived backward pass.
    """

    def __init__(self, in_dim: int, out_dim: int, hidden: int = 64, depth: int = 3, activation: str = "silu") -> None:
        super().__init__()
        self.activation = activation
        widths = [in_dim] + [hidden] * depth + [out_dim]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True))

    def forward(self, z: Tensor) -> Tensor:
        for layer in self.layers[:-1]:
            z = activate(layer(z), self.activation)
        return self.layers[-1](z)


class TimeMLP(nn.Module):
    """A time- (and optionally class-) conditioned field: f(x, t, y) -> [n, 2].

    Input features: x `[n, 2]`, t `[n, 1]` fed raw, and when `n_classes > 0` a one-hot of the
    class label with one extra "no class" slot (label = n_classes) for classifier-free guidance.
    """

    def __init__(self, hidden: int = 64, depth: int = 3, n_classes: int = 0, dim: int = 2) -> None:
        super().__init__()
        self.n_classes, self.dim = n_classes, dim
        extra = n_classes + 1 if n_classes > 0 else 0
        self.mlp = MLP(dim + 1 + extra, dim, hidden, depth)

    def features(self, x: Tensor, t: Tensor | float, y: Tensor | None = None) -> Tensor:
        """Network input `[n, dim + 1 (+ n_classes + 1)]` from x `[n, dim]`, t and labels `[n]`."""
        t = torch.as_tensor(t, dtype=x.dtype, device=x.device)
        t = t.expand(x.shape[0], 1) if t.dim() == 0 else t.reshape(-1, 1)
        parts = [x, t]
        if self.n_classes > 0:
            if y is None:
                y = torch.full((x.shape[0],), self.n_classes, device=x.device)
            parts.append(torch.nn.functional.one_hot(y.long(), self.n_classes + 1).to(x.dtype))
        return torch.cat(parts, dim=1)

    def forward(self, x: Tensor, t: Tensor | float, y: Tensor | None = None) -> Tensor:
        return self.mlp(self.features(x, t, y))
