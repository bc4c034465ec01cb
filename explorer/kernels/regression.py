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
If scripting is unavailable, `steps` falls back to a Python loop over `step`, with the same
results.

An exponential moving average of the weights, ema <- d * ema + (1 - d) * theta with the usual
warm-up d = min(decay, (1 + n) / (10 + n)) after n steps (so the random initial weights are soon
forgotten), is kept in its own flat buffer when `ema_decay > 0` is passed; `predict(z, ema=True)`
evaluates it.
"""

from __future__ import annotations

import torch
from torch import Tensor

from explorer.kernels.flat_mlp import FlatMLP, adam_update, compiled, forward
from explorer.kernels.nets import MLP

_silu_backward = torch.ops.aten.silu_backward


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
    n_layers = len(weights)
    losses = torch.empty(len(lrs), dtype=inputs.dtype, device=inputs.device)
    step = float(step_count.item())
    for s in range(len(lrs)):
        h = inputs[s]
        acts: list[Tensor] = [h]
        pre: list[Tensor] = []
        for i in range(n_layers - 1):
            a = torch.addmm(biases[i], h, weights_t[i])
            h = torch.nn.functional.silu(a)
            pre.append(a)
            acts.append(h)
        resid = torch.addmm(biases[n_layers - 1], h, weights_t[n_layers - 1]) - targets[s]
        losses[s] = resid.pow(2).mean()
        g = resid * (2.0 / resid.numel())
        for j in range(n_layers):
            i = n_layers - 1 - j
            torch.mm(g.t(), acts[i], out=grad_weights[i])
            torch.sum(g, dim=[0], out=grad_biases[i])
            if i > 0:
                g = torch.ops.aten.silu_backward(g.mm(weights[i]), pre[i - 1])
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
        """One Adam step on L = mean ||f(z) - y||^2; returns the loss before the step (0-dim)."""
        weights, silu = self._weights, torch.nn.functional.silu
        inputs, pre = [z], []
        h = z
        for _, weight_t, bias in weights[:-1]:
            a = torch.addmm(bias, h, weight_t)
            h = silu(a)
            pre.append(a)
            inputs.append(h)
        _, weight_t, bias = weights[-1]
        resid = torch.addmm(bias, h, weight_t).sub_(y)
        loss = resid.pow(2).mean()
        g = resid.mul_(2.0 / resid.numel())
        for i in range(len(weights) - 1, -1, -1):
            d_weight, d_bias = self._grads[i]
            torch.mm(g.t(), inputs[i], out=d_weight)
            torch.sum(g, dim=0, out=d_bias)
            if i > 0:
                g = _silu_backward(g.mm(weights[i][0]), pre[i - 1])
        self.step_count += 1
        torch._fused_adam_(
            [self.flat],
            [self.grad],
            [self.exp_avg],
            [self.exp_avg_sq],
            [],
            [self.step_count],
            lr=self.lr if lr is None else float(lr),
            beta1=self.betas[0],
            beta2=self.betas[1],
            weight_decay=0.0,
            eps=self.eps,
            amsgrad=False,
            maximize=False,
        )
        if ema_decay > 0.0:
            step = float(self.step_count)
            self.ema.lerp_(self.flat, 1.0 - min(ema_decay, (1.0 + step) / (10.0 + step)))
        return loss

    @torch.no_grad()
    def steps(self, inputs: Tensor, targets: Tensor, lrs: list[float], ema_decay: float = 0.0) -> Tensor:
        """len(lrs) steps on batches inputs `[S, B, in]`, targets `[S, B, out]`; losses `[S]`."""
        kernel = scripted_steps()
        if kernel is None:
            return torch.stack([self.step(inputs[s], targets[s], lr, ema_decay) for s, lr in enumerate(lrs)])
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

    def state_dict(self) -> dict[str, Tensor]:
        """Weights, optimizer state and the EMA, as tensors (clone them to keep a copy)."""
        return {**super().state_dict(), "ema": self.ema}
