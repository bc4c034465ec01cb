"""The VAE's notebook: encoder and decoder, the ELBO (or the AE's and VQ-VAE's objectives), prior samples."""

from __future__ import annotations

from collections.abc import Callable

from explorer.data.densities import Density
from explorer.methods.vae import VAEConfig
from explorer.notebook.cells import MLP, code, lr_schedule, md, metric_before, training

TITLE, PAGE = "Variational autoencoder", "VAEs"
SUMMARY = "An encoder maps data to a distribution over a latent z, a decoder maps z back; samples decode the prior."
LOSS = "training loss (−ELBO for the VAE)"
MATHS = {
    "vae": """
$$-\\text{ELBO}(x) = \\mathbb E_{q(z|x)}\\big[-\\log p(x | z)\\big] + \\beta\\, \\mathrm{KL}\\big(q(z | x) \\,\\|\\, \\mathcal N(0, I)\\big)$$

with q(z | x) = N(μ(x), diag σ²(x)), the KL in closed form, ½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²), and z = μ + σ ε
(the reparametrisation trick) so that the gradient flows through the sample.""",
    "ae": "\n\nThe plain autoencoder: z = e(x), no noise and no KL; the loss is the reconstruction term −log p(x | z).",
    "vqvae": """
The VQ-VAE snaps each encoding z_e(x) to its nearest codebook vector e_k and decodes that; the loss is
the reconstruction, plus ‖sg[z_e] − e_k‖² (moves the codes) and β_c ‖z_e − sg[e_k]‖² (the commitment), with
the straight-through estimator z = z_e + sg[e_k − z_e]. Samples decode codes drawn with their usage.""",
}


def constants(c: VAEConfig, density: Density) -> str:
    learned = c.decoder_variance == "learned"
    return (
        f'KIND = "{c.kind}"  # vae, ae or vqvae\n'
        f"BATCH, LR, HIDDEN, DEPTH, LATENT = {c.batch_size}, {c.lr!r}, {c.hidden}, {c.depth}, {c.latent_dim}\n"
        f"BETA, CODEBOOK, COMMITMENT = {c.beta!r}, {c.codebook_size}, {c.commitment!r}\n"
        f"LEARNED_VARIANCE, DECODER_STD = {learned}, {c.decoder_std!r}  # the decoder's σ: learned, or fixed\n"
        f"SAMPLE_NOISE = {c.sample_noise}  # samples are m(z) + σ ε (True) or the decoder mean m(z)\n"
        f"LINEAR_DECODER = {c.linear_decoder}  # m(z) = W z + b: probabilistic PCA"
    )


def cells(c: VAEConfig, density: Density, lookup: Callable[[str], Density]) -> list:
    return [
        md("## The model and its objective\n\nThe decoder is p(x | z) = N(m(z), diag s²)." + MATHS[c.kind]),
        code(
            MLP
            + '''


encoder = mlp(2, 2 * LATENT if KIND == "vae" else LATENT, HIDDEN, DEPTH)
decoder = mlp(LATENT, 2, HIDDEN, 0 if LINEAR_DECODER else DEPTH)  # linear: probabilistic PCA
log_var = nn.Parameter(torch.full((2,), 0.0 if LEARNED_VARIANCE else 2 * math.log(DECODER_STD)), requires_grad=LEARNED_VARIANCE)
with torch.no_grad():  # VQ-VAE: the codebook starts as the encodings of CODEBOOK data points
    codebook = nn.Parameter(encoder(sample_data(CODEBOOK)[0]) if KIND == "vqvae" else torch.zeros(0, LATENT))
parameters = [*encoder.parameters(), *decoder.parameters()] + [log_var] * LEARNED_VARIANCE + [codebook] * (KIND == "vqvae")


def gaussian_nll(x, mean):
    """-log N(x; mean, diag exp(log_var)) [n]."""
    return 0.5 * ((x - mean).pow(2) * (-log_var).exp() + log_var + math.log(2 * math.pi)).sum(1)


def objective(x):
    """The batch's loss (a scalar)."""
    h = encoder(x)
    if KIND == "vae":
        mu, lv = h[:, :LATENT], h[:, LATENT:]
        kl = 0.5 * (mu.pow(2) + lv.exp() - 1 - lv).sum(1)
        z = mu + (0.5 * lv).exp() * torch.randn_like(mu)
        return (gaussian_nll(x, decoder(z)) + BETA * kl).mean()
    if KIND == "vqvae":
        z_q = codebook[torch.cdist(h, codebook).argmin(1)]
        vq = (h.detach() - z_q).pow(2).sum(1) + COMMITMENT * (h - z_q.detach()).pow(2).sum(1)
        z = h + (z_q - h).detach()  # straight through
        return (gaussian_nll(x, decoder(z)) + vq).mean()
    return gaussian_nll(x, decoder(h)).mean()'''
            + lr_schedule(c.schedule)
        ),
        md("## Sampling: decode the prior"),
        code(
            """
@torch.no_grad()
def sample_model(n):
    if KIND == "vqvae":  # codes drawn with the frequency the encoder uses them
        used = torch.cdist(encoder(sample_data(4000)[0]), codebook).argmin(1)
        z = codebook[torch.multinomial(torch.bincount(used, minlength=CODEBOOK).float(), n, replacement=True)]
    else:
        z = torch.randn(n, LATENT)
    x = decoder(z)
    return x + (0.5 * log_var).exp() * torch.randn_like(x) if SAMPLE_NOISE else x


"""
            + metric_before()
        ),
        *training("parameters", "loss = objective(sample_data(BATCH)[0])"),
        *(LIKELIHOOD if c.kind == "vae" else []),
    ]


LIKELIHOOD = [
    md(
        """## The log-likelihood

log p(x) = log ∫ p(x | z) p(z) dz has no closed form (except for a linear decoder: N(b, W Wᵀ + diag s²)). In one
or two latent dimensions a fine grid over z computes it (the reference); importance sampling with the encoder's
q(z | x) as the proposal estimates it from K draws, and the mean of those estimates is the IWAE bound, which rises
from the ELBO (K = 1) towards log p(x)."""
    ),
    code(
        '''
def log_p_given_z(x, z):
    """log N(x; m(z), diag exp(log_var)), broadcasting x [..., 2] against z [..., LATENT]."""
    return -0.5 * ((x - decoder(z)) ** 2 * (-log_var).exp() + log_var + math.log(2 * math.pi)).sum(-1)


@torch.no_grad()
def log_prob_quadrature(x, lim=6.0):
    """log p(x) [n] by the rectangle rule over a latent grid (201 x 201 points for LATENT = 2, 4001 for 1)."""
    axis = torch.linspace(-lim, lim, 201 if LATENT == 2 else 4001)
    z = axis[:, None] if LATENT == 1 else torch.cartesian_prod(axis, axis)
    log_prior = -0.5 * (z**2 + math.log(2 * math.pi)).sum(1)
    log_cell = LATENT * math.log(float(axis[1] - axis[0]))
    blocks = [torch.logsumexp(log_p_given_z(b[:, None, :], z[None]) + log_prior, 1) + log_cell for b in x.split(64)]
    return torch.cat(blocks)


@torch.no_grad()
def log_prob_importance(x, k=100):
    """log (1/K) sum_k p(x | z_k) p(z_k) / q(z_k | x), z_k ~ q(z | x): one estimate per point [n]."""
    h = encoder(x)
    mu, lv = h[:, :LATENT], h[:, LATENT:]
    eps = torch.randn(k, len(x), LATENT)
    z = mu + (0.5 * lv).exp() * eps
    log_prior = -0.5 * (z**2 + math.log(2 * math.pi)).sum(-1)
    log_q = -0.5 * (eps**2 + lv + math.log(2 * math.pi)).sum(-1)
    return torch.logsumexp(log_p_given_z(x, z) + log_prior - log_q, 0) - math.log(k)


fresh = sample_data(2000)[0]
RESULTS["nll"], RESULTS["nll_is"] = float(-log_prob_quadrature(fresh).mean()), float(-log_prob_importance(fresh).mean())
print(f"NLL of 2,000 fresh points: {RESULTS['nll']:.3f} (quadrature), {RESULTS['nll_is']:.3f} (importance, K = 100)")'''
    ),
]
