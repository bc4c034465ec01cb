"""RealNVP maximum-likelihood steps with a hand-derived backward pass, compiled once with TorchScript.

The conditioners of `explorer.kernels.realnvp.RealNVP` live in one flat buffer (`explorer.kernels.flat_mlp.FlatMLP`
over `linear_stack()`: m = depth + 1 linear layers per coupling, coupling 0 first). One step
minimises the mean negative log-likelihood of a batch x `[B, 2]`:

    L = (1/B) sum_i [ |z_i|^2 / 2 + log 2 pi + sum_k s_k(i) ],   z = f^{-1}(x)

Forward (data to noise, couplings K-1 .. 0), with u the layer's input and v its output:

    (r, t) = MLP_k(u_c),  s = S tanh(r),  v_c = u_c,  v_d = (u_d - t) e^{-s}

Backward (couplings 0 .. K-1), from g = dL/dz = z / B, for g = dL/dv:

    dL/dt = -g_d e^{-s},   dL/ds = 1/B - g_d v_d,   dL/dr = dL/ds S (1 - tanh^2 r)
    dL/du_d = g_d e^{-s},  dL/du_c = g_c + (dL/d(r, t)) backpropagated through MLP_k to its input

and the MLP forward and backward are the shared ones (`explorer.kernels.flat_mlp.mlp_forward`, `mlp_backward`):
dW_l = g_l^T h_{l-1}, db_l = sum_i g_l, g_{l-1} = act'(a_{l-1}) (g_l W_l), for act = relu, silu or tanh. Adam is
written out (TorchScript silently drops torch._fused_adam_). The whole chunk runs in one
TorchScript call, so the GIL is released once per chunk (docs/decisions.md, "Training"); without
TorchScript the same function runs as Python.
"""

from __future__ import annotations

import torch
from torch import Tensor

from explorer.kernels.flat_mlp import adam_update, compiled, mlp_backward, mlp_forward


def nll_backward(
    weights: list[Tensor],
    weights_t: list[Tensor],
    biases: list[Tensor],
    grad_weights: list[Tensor],
    grad_biases: list[Tensor],
    x: Tensor,
    n_couplings: int,
    scale_bound: float,
    activation: str,
) -> Tensor:
    """Mean NLL of x `[B, 2]` (0-dim); writes dL/dW_l, dL/db_l into the gradient views (see module doc)."""
    m = len(weights) // n_couplings
    batch = x.shape[0]
    cols = [x[:, 0:1], x[:, 1:2]]
    all_pre: list[list[Tensor]] = []
    all_acts: list[list[Tensor]] = []
    scales: list[Tensor] = []  # e^{-s}
    outputs: list[Tensor] = []  # v_d
    tanhs: list[Tensor] = []
    logdet = torch.zeros_like(cols[0])
    no_extra: list[Tensor] = []
    for j in range(n_couplings):
        k = n_couplings - 1 - j
        c = k % 2
        d = 1 - c
        pre, acts, out = mlp_forward(weights_t[k * m : (k + 1) * m], biases[k * m : (k + 1) * m], cols[c], activation)
        tr = torch.tanh(out[:, 0:1])
        s = tr * scale_bound
        e = torch.exp(-s)
        v = (cols[d] - out[:, 1:2]) * e
        cols[d] = v
        logdet = logdet + s
        all_pre.append(pre)
        all_acts.append(acts)
        scales.append(e)
        outputs.append(v)
        tanhs.append(tr)
    z0, z1 = cols[0], cols[1]
    loss = (0.5 * (z0 * z0 + z1 * z1) + logdet).mean() + 1.8378770664093453  # + log 2 pi
    g = [z0 / batch, z1 / batch]
    for k in range(n_couplings):
        j = n_couplings - 1 - k
        c = k % 2
        d = 1 - c
        gd = g[d]
        e = scales[j]
        tr = tanhs[j]
        pre = all_pre[j]
        acts = all_acts[j]
        d_t = -gd * e
        d_s = (1.0 / batch) - gd * outputs[j]
        d_r = d_s * (scale_bound * (1.0 - tr * tr))
        layers = slice(k * m, (k + 1) * m)
        grad = mlp_backward(
            weights[layers],
            grad_weights[layers],
            grad_biases[layers],
            pre,
            acts,
            torch.cat([d_r, d_t], 1),
            no_extra,
            0,
            True,
            True,
            activation,
            False,
        )
        g[c] = g[c] + grad
        g[d] = gd * e
    return loss


def realnvp_steps(
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
    data: Tensor,
    lrs: list[float],
    n_couplings: int,
    scale_bound: float,
    activation: str,
    beta1: float,
    beta2: float,
    eps: float,
) -> Tensor:
    """len(lrs) Adam steps on the mean NLL of batches data `[S, B, 2]`; losses before each step `[S]`."""
    losses = torch.empty(len(lrs), dtype=data.dtype, device=data.device)
    step = float(step_count.item())
    for s in range(len(lrs)):
        losses[s] = nll_backward(
            weights, weights_t, biases, grad_weights, grad_biases, data[s], n_couplings, scale_bound, activation
        )
        step += 1.0
        adam_update(flat, grad, exp_avg, exp_avg_sq, step, lrs[s], beta1, beta2, eps)
    step_count.fill_(step)
    return losses


def flow_log_prob(
    weights_t: list[Tensor], biases: list[Tensor], x: Tensor, n_couplings: int, scale_bound: float, activation: str
) -> Tensor:
    """log p_theta(x) `[n]` of x `[n, 2]`: z = f^{-1}(x) through couplings K-1 .. 0, each adding -s,

    log p_theta(x) = log N(z; 0, I) + sum_k -s_k(x),  v_d = (u_d - t) e^{-s},  s = S tanh r."""
    m = len(weights_t) // n_couplings
    cols = [x[:, 0:1], x[:, 1:2]]
    logdet = torch.zeros_like(cols[0])
    for j in range(n_couplings):
        k = n_couplings - 1 - j
        c = k % 2
        out = mlp_forward(weights_t[k * m : (k + 1) * m], biases[k * m : (k + 1) * m], cols[c], activation)[2]
        s = torch.tanh(out[:, 0:1]) * scale_bound
        cols[1 - c] = (cols[1 - c] - out[:, 1:2]) * torch.exp(-s)
        logdet = logdet - s
    z0, z1 = cols[0], cols[1]
    return (logdet - 0.5 * (z0 * z0 + z1 * z1) - 1.8378770664093453)[:, 0]  # - log 2 pi


def flow_forward(
    weights_t: list[Tensor], biases: list[Tensor], z: Tensor, n_couplings: int, scale_bound: float, activation: str
) -> Tensor:
    """x = f(z) `[n, 2]` of z `[n, 2]`: couplings 0 .. K-1, each v_d = u_d e^{s} + t."""
    m = len(weights_t) // n_couplings
    cols = [z[:, 0:1], z[:, 1:2]]
    for k in range(n_couplings):
        c = k % 2
        out = mlp_forward(weights_t[k * m : (k + 1) * m], biases[k * m : (k + 1) * m], cols[c], activation)[2]
        cols[1 - c] = cols[1 - c] * torch.exp(torch.tanh(out[:, 0:1]) * scale_bound) + out[:, 1:2]
    return torch.cat(cols, 1)


_compiled = compiled(realnvp_steps)
_compiled_log_prob = compiled(flow_log_prob)
_compiled_forward = compiled(flow_forward)


def compiled_realnvp_steps():
    """`realnvp_steps` compiled with TorchScript on first use, or the Python function where that fails."""
    return _compiled() or realnvp_steps


def compiled_flow_log_prob():
    """`flow_log_prob` compiled (one GIL release per call, for the live density view), or the Python function."""
    return _compiled_log_prob() or flow_log_prob


def compiled_flow_forward():
    """`flow_forward` compiled (one GIL release per call, for live samples), or the Python function."""
    return _compiled_forward() or flow_forward
