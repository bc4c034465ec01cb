"""VAE / AE / VQ-VAE training steps with a hand-derived backward pass, compiled once with TorchScript.

The encoder and decoder are `nets.MLP`s whose parameters, with the VQ-VAE's codebook e `[K, d]` and
the decoder's log-variance l `[2]`, are views of ONE flat buffer (`explorer.kernels.flat_mlp.FlatMLP`), so
Adam is a few whole-buffer operations. Per step, on a batch x `[B, 2]` with noise eps `[B, d]`
(the objectives of `explorer.methods.vae`, whose autograd version is the tests' reference):

    encoder   h = E(x);  VAE: mu, v = h[:, :d], h[:, d:] (v = log sigma^2), z = mu + e^{v/2} eps
              AE: z = h;  VQ: z_e = h, k = argmin_j ||z_e - e_j||^2, z = e_k
    decoder   m = D(z);  r = m - x
    loss      R = 1/B sum_i 1/2 sum_c (r_ic^2 e^{-l_c} + l_c + log 2 pi)
              VAE + beta/B sum_ij 1/2 (mu^2 + e^v - 1 - v);  VQ + (1 + beta_c)/B sum_i ||z_e - e_k||^2

    backward  dR/dm = r e^{-l} / B,  dR/dl_c = 1/2 (1 - 1/B sum_i r_ic^2 e^{-l_c})  (learned variance only)
              dz = the decoder's backward down to its input
              VAE: dmu = dz + beta mu / B,  dv = dz eps e^{v/2} / 2 + beta (e^v - 1) / (2 B)
              AE:  dh = dz
              VQ:  dz_e = dz (straight-through) + beta_c 2 (z_e - e_k) / B,
                   de_j = sum_{i: k_i = j} 2 (e_j - z_e,i) / B   (the codebook term only)

and the MLP backward g_{l-1} = silu'(a_{l-1}) (g_l W_l), dW_l = g_l^T h_{l-1}, db_l = sum_i g_l.
Adam is written out (TorchScript silently drops torch._fused_adam_); the learned log-variance is
then clamped to its floor. A whole chunk runs in one call, so the GIL is released once per chunk
(docs/decisions.md, "Training"); without TorchScript the same function runs as Python.
"""

from __future__ import annotations

import torch
from torch import Tensor

from explorer.kernels.flat_mlp import adam_update, compiled, mlp_backward, mlp_forward

VAE_KIND, AE_KIND, VQ_KIND = 0, 1, 2
KIND_CODES = {"vae": VAE_KIND, "ae": AE_KIND, "vqvae": VQ_KIND}
# columns of the returned terms `[S, 3 + d]`: loss, recon, kl (VAE) or vq (VQ-VAE), then KL per latent dimension


def vae_steps(
    enc_weights: list[Tensor],
    enc_weights_t: list[Tensor],
    enc_biases: list[Tensor],
    enc_grad_weights: list[Tensor],
    enc_grad_biases: list[Tensor],
    dec_weights: list[Tensor],
    dec_weights_t: list[Tensor],
    dec_biases: list[Tensor],
    dec_grad_weights: list[Tensor],
    dec_grad_biases: list[Tensor],
    codebook: Tensor,
    codebook_grad: Tensor,
    log_var: Tensor,
    log_var_grad: Tensor,
    flat: Tensor,
    grad: Tensor,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    step_count: Tensor,
    xs: Tensor,
    epss: Tensor,
    lrs: list[float],
    kind: int,
    beta: float,
    commitment: float,
    learn_var: bool,
    log_var_min: float,
    beta1: float,
    beta2: float,
    adam_eps: float,
) -> Tensor:
    """len(lrs) Adam steps on batches xs `[S, B, 2]` with noise epss `[S, B, d]`; the terms `[S, 3 + d]`
    (loss, reconstruction, KL or ||z_e - e_k||^2, KL per dimension), each before its step."""
    d = epss.shape[2]
    losses: list[Tensor] = []
    recons: list[Tensor] = []
    thirds: list[Tensor] = []  # kl (VAE), vq (VQ-VAE), 0 (AE)
    dims: list[Tensor] = []  # kl per latent dimension (VAE), zeros otherwise
    zero, zeros = torch.zeros((), dtype=xs.dtype, device=xs.device), torch.zeros(d, dtype=xs.dtype, device=xs.device)
    step = float(step_count.item())
    no_extra: list[Tensor] = []
    for s in range(len(lrs)):
        grad.zero_()  # the backward passes accumulate
        x, eps = xs[s], epss[s]
        batch = float(x.shape[0])
        enc_pre, enc_acts, h = mlp_forward(enc_weights_t, enc_biases, x)
        mu, v, std, z_e, diff, index = h, h, h, h, h, torch.zeros(0, dtype=torch.long, device=x.device)
        if kind == 0:
            mu, v = h[:, :d], h[:, d:]
            std = torch.exp(0.5 * v)
            z = mu + std * eps
        elif kind == 1:
            z = h
        else:
            z_e = h
            distance = torch.addmm((codebook * codebook).sum(1)[None], z_e, codebook.t(), alpha=-2.0)
            index = distance.argmin(1)
            z = codebook.index_select(0, index)
            diff = z_e - z
        dec_pre, dec_acts, m = mlp_forward(dec_weights_t, dec_biases, z)
        inv_var = torch.exp(-log_var)
        r = m - x
        weighted = r * r * inv_var
        recon = 0.5 * (weighted.sum(1).mean() + log_var.sum() + 2.0 * 1.8378770664093453)  # log 2 pi
        if learn_var:
            log_var_grad.copy_(0.5 * (1.0 - weighted.mean(0)))
        dec_grads = (dec_grad_weights, dec_grad_biases)
        gz = mlp_backward(dec_weights, *dec_grads, dec_pre, dec_acts, r * inv_var / batch, no_extra, 0, True, True)
        if kind == 0:
            e_v = torch.exp(v)
            kl_dims = 0.5 * (mu * mu + e_v - 1.0 - v).mean(0)
            kl = kl_dims.sum()
            g_mu = gz + (beta / batch) * mu
            g_v = gz * eps * (0.5 * std) + (0.5 * beta / batch) * (e_v - 1.0)
            g_h = torch.cat([g_mu, g_v], 1)
            losses.append(recon + beta * kl)
            thirds.append(kl)
            dims.append(kl_dims)
        elif kind == 1:
            g_h = gz
            losses.append(recon)
            thirds.append(zero)
            dims.append(zeros)
        else:
            vq = (diff * diff).sum(1).mean()
            g_h = gz + (2.0 * commitment / batch) * diff
            codebook_grad.zero_().index_add_(0, index, diff, alpha=-2.0 / batch)
            losses.append(recon + (1.0 + commitment) * vq)
            thirds.append(vq)
            dims.append(zeros)
        mlp_backward(enc_weights, enc_grad_weights, enc_grad_biases, enc_pre, enc_acts, g_h, no_extra, 0, True, False)
        recons.append(recon)
        step += 1.0
        adam_update(flat, grad, exp_avg, exp_avg_sq, step, lrs[s], beta1, beta2, adam_eps)
        if learn_var:
            log_var.clamp_(min=log_var_min)
    step_count.fill_(step)
    columns = [torch.stack(losses)[:, None], torch.stack(recons)[:, None], torch.stack(thirds)[:, None]]
    return torch.cat(columns + [torch.stack(dims)], 1)


_compiled = compiled(vae_steps)


def compiled_vae_steps():
    """`vae_steps` compiled with TorchScript on first use, or the Python function where that fails."""
    return _compiled() or vae_steps
