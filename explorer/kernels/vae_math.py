"""The maths of variational autoencoders, as plain tensor functions (no networks, no training).

A VAE (Kingma & Welling 2014) has a prior p(z) = N(0, I), a decoder p(x | z) = N(x; m(z), diag s^2)
and an encoder q(z | x) = N(z; mu(x), diag sigma^2(x)). It maximises the evidence lower bound

    log p(x) >= ELBO(x) = E_{q(z|x)}[log p(x | z)] - KL(q(z | x) || p(z)),

with equality iff q(z | x) is the exact posterior p(z | x). beta-VAE (Higgins et al. 2017) weights
the KL term by beta. The VQ-VAE (van den Oord et al. 2017) replaces q by a deterministic nearest
codebook vector and trains through the quantiser with the straight-through estimator.

Shapes: n points, d latent dimensions, D = 2 data dimensions, K codebook vectors.
"""

from __future__ import annotations

import math

from torch import Tensor

LOG_2PI = math.log(2 * math.pi)


def gaussian_kl(mu: Tensor, log_var: Tensor) -> Tensor:
    """Closed-form KL(N(mu, diag e^log_var) || N(0, I)) per dimension, `[n, d]`:

    KL_j = 1/2 (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)   (sum over j for the full KL).
    """
    return 0.5 * (mu.pow(2) + log_var.exp() - 1.0 - log_var)


def reparametrise(mu: Tensor, log_var: Tensor, eps: Tensor) -> Tensor:
    """z = mu + sigma * eps `[n, d]` with sigma = exp(log_var / 2) and eps ~ N(0, I) `[n, d]` given:
    a sample of q(z | x) that is a differentiable function of (mu, log_var)."""
    return mu + (0.5 * log_var).exp() * eps


def gaussian_nll(x: Tensor, mean: Tensor, log_var: Tensor) -> Tensor:
    """-log N(x; mean, diag e^log_var) per point, `[n]` (log_var `[D]` or `[n, D]`):

    1/2 sum_j [ (x_j - m_j)^2 / s_j^2 + log s_j^2 + log 2 pi ].
    """
    return 0.5 * ((x - mean).pow(2) * (-log_var).exp() + log_var + LOG_2PI).sum(-1)


def gaussian_log_prob(z: Tensor) -> Tensor:
    """log N(z; 0, I) per point `[n]` for z `[n, d]`."""
    return -0.5 * (z.pow(2) + LOG_2PI).sum(-1)


def nearest_code(z_e: Tensor, codebook: Tensor) -> Tensor:
    """Index of the nearest codebook vector for each encoding, `[n]` (z_e `[n, d]`, codebook `[K, d]`):
    k(x) = argmin_k ||z_e(x) - e_k||^2, i.e. the Voronoi cell of the codebook that z_e falls in."""
    distance = (z_e.pow(2).sum(1, keepdim=True) - 2 * z_e @ codebook.T) + codebook.pow(2).sum(1)[None]
    return distance.argmin(1)


def straight_through(z_e: Tensor, z_q: Tensor) -> Tensor:
    """z_e + sg[z_q - z_e] `[n, d]`: equals z_q in the forward pass, while the backward pass copies the
    decoder's gradient at z_q onto z_e unchanged (the argmin has no gradient of its own)."""
    return z_e + (z_q - z_e).detach()


def vq_losses(z_e: Tensor, z_q: Tensor) -> tuple[Tensor, Tensor]:
    """(codebook loss ||sg[z_e] - e||^2, commitment loss ||z_e - sg[e]||^2), each `[n]`: equal values,
    different gradients. The first moves the codebook vectors towards the encodings assigned to them,
    the second (weighted by the commitment weight) keeps the encoder close to its codes."""
    codebook = (z_e.detach() - z_q).pow(2).sum(-1)
    commitment = (z_e - z_q.detach()).pow(2).sum(-1)
    return codebook, commitment


def active_dimensions(mu: Tensor, threshold: float = 0.01) -> Tensor:
    """Active latent units (Burda et al. 2016): Cov_x(E_q[z_j | x]) > threshold, as booleans `[d]`
    from posterior means mu `[n, d]` over n data points. An inactive unit ignores x (posterior collapse)."""
    return mu.var(0, unbiased=True) > threshold
