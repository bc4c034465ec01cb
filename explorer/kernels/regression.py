"""Fast Adam training of an `nets.MLP` on a mean-squared-error regression, without autograd.

Flow matching and denoising score matching are both regressions: minimise
L = mean_i ||f(z_i) - y_i||^2 over input rows z `[B, in]` and targets y `[B, out]`. For such a
small network the autograd engine and a per-parameter optimizer loop cost more than the
arithmetic, so this module derives the backward pass by hand:

    forward   a_l = h_{l-1} W_l^T + b_l,  h_l = silu(a_l)
    backward  g_L = 2 (f - y) / (B * out),  dW_l = g_l^T h_{l-1},  db_l = sum_i g_l,
              g_{l-1} = silu'(a_{l-1}) * (g_l W_l)

on the flat parameter views of `explorer.kernels.flat_mlp.FlatMLP`, so that Adam is a single fused
kernel over all parameters.

`steps` runs a whole sequence of such steps inside one TorchScript function. That releases the
GIL once for the sequence instead of at each of the ~45 tensor calls per step, which is what
keeps a training thread fast while the page's thread renders (docs/decisions.md, "Training").
If scripting is unavailable, the same function runs as Python, with the same results.

An exponential moving average of the weights, ema <- d * ema + (1 - d) * theta with the usual
warm-up d = min(decay, (1 + n) / (10 + n)) after n steps (so the random initial weights are soon
forgotten), is kept in its own flat buffer when `ema_decay > 0` is passed; `predict(z, ema=True)`
evaluates it.
"""

from __future__ import annotations

import torch
from torch import Tensor

from explorer.kernels.flat_mlp import (
    FlatMLP,
    adam_update,
    compiled,
    forward,
    forward_with_divergence,
    mlp_backward,
    mlp_forward,
)
from explorer.kernels.nets import MLP


def _adam_regression_steps(
    weights: list[Tensor],
    weights_t: list[Tensor],
    biases: list[Tensor],
    grad_weights: list[Tensor],
    grad_biases: list[Tensor],
    flat: Tensor,
    grad: Tensor,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    step_count: Tensor,
    inputs: Tensor,
    targets: Tensor,
    lrs: list[float],
    beta1: float,
    beta2: float,
    eps: float,
    ema: Tensor,
    ema_decay: float,
) -> Tensor:
    """len(lrs) Adam steps on mean ||f(inputs[s]) - targets[s]||^2; losses `[len(lrs)]` (see module doc)."""
    losses = torch.empty(len(lrs), dtype=inputs.dtype, device=inputs.device)
    step = float(step_count.item())
    no_extra: list[Tensor] = []
    for s in range(len(lrs)):
        pre, acts, out = mlp_forward(weights_t, biases, inputs[s])
        resid = out - targets[s]
        losses[s] = resid.pow(2).mean()
        g = resid * (2.0 / resid.numel())
        mlp_backward(weights, grad_weights, grad_biases, pre, acts, g, no_extra, 0, True, False, "silu", False)
        step += 1.0
        adam_update(flat, grad, exp_avg, exp_avg_sq, step, lrs[s], beta1, beta2, eps)
        if ema_decay > 0.0:
            ema.lerp_(flat, 1.0 - min(ema_decay, (1.0 + step) / (10.0 + step)))
    step_count.fill_(step)
    return losses


# The compiled multi-step kernel (compiled on first use), or None.
scripted_steps = compiled(_adam_regression_steps)


class FlatAdamRegression(FlatMLP):
    """A `FlatMLP` trained by Adam on a mean-squared-error regression, with an optional EMA of its weights."""

    def __init__(
        self, mlp: MLP, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8
    ) -> None:
        super().__init__(mlp)
        self.lr, self.betas, self.eps = lr, betas, eps
        self.ema = self.flat.clone()
        self._ema_weights = [
            (self.view(self.ema, w), self.view(self.ema, w).t(), self.view(self.ema, b)) for w, _, b in self._weights
        ]

    @torch.no_grad()
    def step(self, z: Tensor, y: Tensor, lr: float | None = None, ema_decay: float = 0.0) -> Tensor:
        """One Adam step on L = mean ||f(z) - y||^2 for z `[B, in]`, y `[B, out]`; the loss before the step (0-dim)."""
        return self.steps(z[None], y[None], [self.lr if lr is None else float(lr)], ema_decay)[0]

    @torch.no_grad()
    def steps(self, inputs: Tensor, targets: Tensor, lrs: list[float], ema_decay: float = 0.0) -> Tensor:
        """len(lrs) steps on batches inputs `[S, B, in]`, targets `[S, B, out]`; losses `[S]`."""
        kernel = scripted_steps() or _adam_regression_steps
        beta1, beta2 = self.betas
        return kernel(
            self.weights,
            self.weights_t,
            self.biases,
            self.grad_weights,
            self.grad_biases,
            self.flat,
            self.grad,
            self.exp_avg,
            self.exp_avg_sq,
            self.step_count,
            inputs,
            targets,
            [float(x) for x in lrs],
            float(beta1),
            float(beta2),
            float(self.eps),
            self.ema,
            float(ema_decay),
        )

    @torch.no_grad()
    def predict(self, z: Tensor, ema: bool = False) -> Tensor:
        """f(z) `[n, out]` from the cached weight views (the module's forward without its overhead);
        with `ema`, from the moving average of the weights."""
        return forward(self._ema_weights if ema else self._weights, z)

    @torch.no_grad()
    def predict_with_divergence(self, z: Tensor, k: int = 2, ema: bool = False) -> tuple[Tensor, Tensor]:
        """(f(z) `[n, out]`, sum_{j<k} df_j/dz_j `[n]`): the output and the Jacobian's trace over the first k
        inputs (`flat_mlp.forward_with_divergence`)."""
        return forward_with_divergence(self._ema_weights if ema else self._weights, z, k)

    def state_dict(self) -> dict[str, Tensor]:
        """Weights, optimizer state and the EMA, as tensors (clone them to keep a copy)."""
        return {**super().state_dict(), "ema": self.ema}
