"""GAN training steps with hand-derived backward passes, compiled once with TorchScript.

Both networks are `nets.MLP`s on the flat buffers of `explorer.kernels.flat_mlp.FlatMLP`. One generator
step is n_critic discriminator updates, then one generator update (the objectives of
`explorer.kernels.gan_losses`, whose autograd versions are the tests' reference):

Discriminator update, on one batch of rows [real; fake; x_hat] (x_hat only where the gradient penalty is
evaluated at other points than real and fake ones):

    forward   a_l = h_{l-1} W_l^T + b_l,  h_l = act(a_l),  D = h_{L-1} W_L^T + b_L
    output    dL/dD = (dL_D/dr, dL_D/df, 0)  per row, from the loss (`_discriminator_output_grad`)
    backward  g_{l-1} = act'(a_{l-1}) (g_l W_l),  dW_l += g_l^T h_{l-1},  db_l += sum_rows g_l

(act = SiLU, or leaky ReLU for D where chosen; `explorer.kernels.activations`).

The gradient penalty GP = mean (||grad_x D(x_hat)|| - 1)^2 is evaluated at interpolates u x + (1 - u) G(z)
(WGAN-GP), at the real and generated rows themselves (the penalty E_{x ~ p_data + p_G}), or at reals perturbed
by Gaussian noise (DRAGAN). It needs grad_x D itself, which is a second chain on those rows, run top-down from
u_{L-1} = W_L:

    v_l = u_l * act'(a_l),   u_{l-1} = v_l W_l,   grad_x D = u_0 (its x columns)

and the penalty's gradient runs back through that chain bottom-up, with u_bar_0 =
lambda * 2 (||g|| - 1) g / (||g|| n):

    v_bar_l = u_bar_{l-1} W_l^T,   dW_l += v_l^T u_bar_{l-1},   u_bar_l = v_bar_l * act'(a_l),
    a_bar_l = v_bar_l * u_l * act''(a_l)   (added to the main backward's g_l on the x_hat rows),
    dW_L += sum_rows u_bar_{L-1},

with act'' = 0 for leaky ReLU (its penalty moves the weights only through the chain's W_l).

Generator update: x = G(z); D forward at x; the backward through D gives dL_G/dx (no D parameter
gradients), and the backward through G the generator's gradients.

With spectral normalisation every discriminator pass uses W_l / sigma_l (`explorer.kernels.spectral_norm`,
one power-iteration step per discriminator update, none for the generator's pass through D), and the
gradients with respect to W_l / sigma_l are carried back to W_l through sigma_l exactly.

Optimizers, as torch.optim's defaults: Adam (beta1, 0.999, eps 1e-8), RMSprop (alpha 0.99,
eps 1e-8), SGD (no momentum). Weight clipping (WGAN) clamps every discriminator parameter to
[-c, c] after each of its updates. The whole chunk runs in one TorchScript call, so the GIL is
released once per chunk (docs/decisions.md, "Training"); without TorchScript the same function runs
as Python.
"""

from __future__ import annotations

import torch
from torch import Tensor

from explorer.kernels.activations import activation_curvature, activation_slope
from explorer.kernels.flat_mlp import adam_update, compiled, mlp_backward, mlp_forward
from explorer.kernels.spectral_norm import normalized_weights, spectral_backward

PENALTIES = ("none", "interpolates", "real_and_generated", "perturbed_real")


def _penalty_backward(
    weights: list[Tensor], grad_weights: list[Tensor], pre: list[Tensor], gp_lambda: float, activation: str
) -> tuple[Tensor, list[Tensor]]:
    """GP = mean (||grad_x D|| - 1)^2 on rows whose pre-activations are `pre` (see module doc): adds
    lambda dGP/dW to grad_weights through the gradient chain; returns GP and the a_bar_l."""
    n_layers = len(weights)
    # top-down: u_{L-1} = W_L, v_l = u_l * act'(a_l), u_{l-1} = v_l W_l
    u = weights[n_layers - 1].expand(pre[0].shape[0], -1)
    us: list[Tensor] = []
    vs: list[Tensor] = []
    slopes: list[Tensor] = []
    for j in range(n_layers - 1):
        i = n_layers - 2 - j
        slope = activation_slope(pre[i], activation)
        v = u * slope
        us.insert(0, u)
        vs.insert(0, v)
        slopes.insert(0, slope)
        u = v.mm(weights[i][:, :2]) if i == 0 else v.mm(weights[i])
    norm = u.pow(2).sum(1, keepdim=True).add(1e-12).sqrt()
    penalty = (norm - 1.0).pow(2).mean()
    u_bar = u * (gp_lambda * 2.0 / u.shape[0]) * (norm - 1.0) / norm
    # bottom-up through the chain
    a_bars: list[Tensor] = []
    for i in range(n_layers - 1):
        weight = weights[i][:, :2] if i == 0 else weights[i]
        if i == 0:
            grad_weights[i][:, :2].addmm_(vs[i].t(), u_bar)
        else:
            grad_weights[i].addmm_(vs[i].t(), u_bar)
        v_bar = u_bar.mm(weight.t())
        a_bars.append(v_bar * us[i] * activation_curvature(pre[i], activation))
        u_bar = v_bar * slopes[i]
    grad_weights[n_layers - 1].add_(u_bar.sum(0, keepdim=True))
    return penalty, a_bars


def _discriminator_output_grad(loss: str, out: Tensor, n: int, lsgan_a: float, lsgan_b: float) -> tuple[Tensor, Tensor]:
    """L_D and dL_D/dD `[2n, 1]` for outputs `[2n, 1]` on [real; fake] (`gan_losses.discriminator_loss`)."""
    r, f = out[:n], out[n:]
    if loss == "minimax" or loss == "nonsaturating" or loss == "dragan":
        value = torch.nn.functional.softplus(-r).mean() + torch.nn.functional.softplus(f).mean()
        return value, torch.cat([-torch.sigmoid(-r), torch.sigmoid(f)]) / n
    if loss == "lsgan":
        value = 0.5 * (r - lsgan_b).pow(2).mean() + 0.5 * (f - lsgan_a).pow(2).mean()
        return value, torch.cat([r - lsgan_b, f - lsgan_a]) / n
    if loss == "hinge":
        value = torch.relu(1.0 - r).mean() + torch.relu(1.0 + f).mean()
        return value, torch.cat([-(r < 1.0).to(r.dtype), (f > -1.0).to(f.dtype)]) / n
    # wgan, wgan_gp
    return f.mean() - r.mean(), torch.cat([-torch.ones_like(r), torch.ones_like(f)]) / n


def _generator_output_grad(loss: str, f: Tensor, lsgan_c: float) -> tuple[Tensor, Tensor]:
    """L_G and dL_G/dD `[m, 1]` for outputs on fakes `[m, 1]` (`gan_losses.generator_loss`)."""
    m = f.shape[0]
    if loss == "minimax":
        return -torch.nn.functional.softplus(f).mean(), -torch.sigmoid(f) / m
    if loss == "nonsaturating" or loss == "dragan":
        return torch.nn.functional.softplus(-f).mean(), -torch.sigmoid(-f) / m
    if loss == "lsgan":
        return 0.5 * (f - lsgan_c).pow(2).mean(), (f - lsgan_c) / m
    return -f.mean(), -torch.ones_like(f) / m


def _update(kind: str, state: list[Tensor], step: float, lr: float, beta1: float) -> None:
    """One optimizer update of state = [flat, grad, exp_avg, exp_avg_sq] (`step` counts from 1)."""
    flat, grad, exp_avg, exp_avg_sq = state[0], state[1], state[2], state[3]
    if kind == "adam":
        adam_update(flat, grad, exp_avg, exp_avg_sq, step, lr, beta1)
    elif kind == "rmsprop":
        exp_avg_sq.mul_(0.99).addcmul_(grad, grad, value=0.01)
        flat.addcdiv_(grad, exp_avg_sq.sqrt().add_(1e-8), value=-lr)
    else:
        flat.add_(grad, alpha=-lr)


def gan_steps(
    g_net: list[list[Tensor]],
    g_state: list[Tensor],
    d_net: list[list[Tensor]],
    d_state: list[Tensor],
    real: Tensor,
    real_onehot: Tensor,
    z_d: Tensor,
    u: Tensor,
    z_g: Tensor,
    g_onehot: Tensor,
    lrs_g: list[float],
    lrs_d: list[float],
    n_critic: int,
    train_g: bool,
    loss: str,
    gp_lambda: float,
    clip: float,
    lsgan: list[float],
    optimizers: list[str],
    beta1: float,
    penalty: str,
    noise: Tensor,
    noise_std: float,
    spectral: bool,
    sn_u: list[Tensor],
    sn_v: list[Tensor],
    sn_grads: list[Tensor],
    d_activation: str,
) -> tuple[Tensor, Tensor]:
    """len(lrs_g) generator steps, each after n_critic discriminator steps (see module doc).

    net = [weights, weights_t, biases, grad_weights, grad_biases] (FlatMLP views), state = [flat,
    grad, exp_avg, exp_avg_sq, step_count]; real `[S, k, B, 2]`, real_onehot `[S, k, B, C]` (C = 0
    unconditional), z_d `[S, k, B, latent]`, u `[S, k, B, 1]`, z_g `[S, B, latent]`, g_onehot
    `[S, B, C]`, with k >= n_critic; optimizers = [G's, D's] names. `penalty` (one of PENALTIES) places the
    gradient penalty (weight gp_lambda); perturbed reals are real + noise_std * noise, noise `[S, k, B, 2]`.
    With `spectral`, sn_u / sn_v are the layers' power-iteration vectors (updated in place) and sn_grads
    scratch buffers shaped like the weights. D's hidden layers use `d_activation` (silu or leaky_relu), G's silu.
    Returns the generator's and the
    discriminator's (mean over its n_critic updates) losses, each `[S]` (NaN where not trained).
    """
    g_weights, g_weights_t, g_biases, g_grad_weights, g_grad_biases = g_net[0], g_net[1], g_net[2], g_net[3], g_net[4]
    d_weights, d_weights_t, d_biases, d_grad_weights, d_grad_biases = d_net[0], d_net[1], d_net[2], d_net[3], d_net[4]
    n_steps = len(lrs_g)
    g_losses = torch.full((n_steps,), float("nan"), dtype=real.dtype, device=real.device)
    d_losses = torch.full((n_steps,), float("nan"), dtype=real.dtype, device=real.device)
    conditional = real_onehot.shape[-1] > 0
    g_step = float(g_state[4].item())
    d_step = float(d_state[4].item())
    no_extra: list[Tensor] = []
    for s in range(n_steps):
        d_total = torch.zeros((), dtype=real.dtype, device=real.device)
        for k in range(n_critic):
            x_real = real[s, k]
            n = x_real.shape[0]
            z = torch.cat([z_d[s, k], real_onehot[s, k]], 1) if conditional else z_d[s, k]
            fake = mlp_forward(g_weights_t, g_biases, z)[2]
            rows = [x_real, fake]
            if penalty == "interpolates":
                rows.append(u[s, k] * x_real + (1.0 - u[s, k]) * fake)
            elif penalty == "perturbed_real":
                rows.append(x_real + noise_std * noise[s, k])
            x = torch.cat(rows)
            if conditional:
                x = torch.cat([x, real_onehot[s, k].repeat(len(rows), 1)], 1)
            weights, weights_t, grad_weights = d_weights, d_weights_t, d_grad_weights
            sigmas: list[Tensor] = []
            if spectral:
                weights, weights_t, sigmas = normalized_weights(d_weights, sn_u, sn_v, True)
                grad_weights = sn_grads
                for buffer in sn_grads:
                    buffer.zero_()
            pre, acts, out = mlp_forward(weights_t, d_biases, x, d_activation)
            value, g_out = _discriminator_output_grad(loss, out[: 2 * n], n, lsgan[0], lsgan[1])
            d_state[1].zero_()
            extra = no_extra
            extra_from = 2 * n
            if penalty != "none":
                extra_from = 0 if penalty == "real_and_generated" else 2 * n
                pen, extra = _penalty_backward(
                    weights, grad_weights, [a[extra_from:] for a in pre], gp_lambda, d_activation
                )
                value = value + gp_lambda * pen
                if extra_from > 0:
                    g_out = torch.cat([g_out, torch.zeros_like(g_out[:n])])
            mlp_backward(
                weights, grad_weights, d_grad_biases, pre, acts, g_out, extra, extra_from, True, False, d_activation
            )
            if spectral:
                spectral_backward(sn_grads, weights, sigmas, sn_u, sn_v, d_grad_weights)
            d_step += 1.0
            _update(optimizers[1], d_state, d_step, lrs_d[s], beta1)
            if loss == "wgan":
                d_state[0].clamp_(-clip, clip)
            d_total += value
        if n_critic > 0:
            d_losses[s] = d_total / n_critic
        if train_g:
            z = torch.cat([z_g[s], g_onehot[s]], 1) if conditional else z_g[s]
            g_pre, g_acts, fake = mlp_forward(g_weights_t, g_biases, z)
            x = torch.cat([fake, g_onehot[s]], 1) if conditional else fake
            weights, weights_t = d_weights, d_weights_t
            if spectral:
                weights, weights_t, _ = normalized_weights(d_weights, sn_u, sn_v, False)
            pre, acts, out = mlp_forward(weights_t, d_biases, x, d_activation)
            value, g_out = _generator_output_grad(loss, out, lsgan[2])
            grad_x = mlp_backward(
                weights, d_grad_weights, d_grad_biases, pre, acts, g_out, no_extra, 0, False, True, d_activation
            )
            g_state[1].zero_()
            grad_fake = grad_x[:, :2]
            mlp_backward(g_weights, g_grad_weights, g_grad_biases, g_pre, g_acts, grad_fake, no_extra, 0, True, False)
            g_step += 1.0
            _update(optimizers[0], g_state, g_step, lrs_g[s], beta1)
            g_losses[s] = value
    g_state[4].fill_(g_step)
    d_state[4].fill_(d_step)
    return g_losses, d_losses


_compiled = compiled(gan_steps)


def compiled_gan_steps():
    """`gan_steps` compiled with TorchScript on first use, or the Python function where that fails."""
    return _compiled() or gan_steps
