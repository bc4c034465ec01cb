"""What the VAE page shows, computed from a `VAE` method as numpy arrays (no plotting here).

- `spaces_view`: the two linked views. Data space: data points, their reconstructions, decoded prior
  samples. Latent space: each data point's code (posterior mean mu(x), the AE's z(x) or the VQ-VAE's
  z_e(x)), 1-sigma posterior ellipses, the aggregate posterior q(z) = 1/N sum_i q(z | x_i) on a grid,
  the VQ-VAE's codebook with its Voronoi cells and usage, and prior samples.
- `manifold_view`: a regular grid of latent lines and its image under the decoder mean (the manifold).
- `elbo_view`: the ELBO's two terms on fresh data, KL per latent dimension and the active dimensions.
- `elbo_readouts`: those terms as the page's big numbers.
- `setting_notes`, `PRESETS`: extreme settings explained, and the lecture's demonstrations;
  `hidden_params`: the sidebar fields that do not apply to a configuration.

The tabs' views are in `explorer.views.vae_reparam` (the reparametrisation trick) and
`explorer.views.vae_holes` (latent holes).

Views read the networks while a worker thread trains them (in place, under no_grad): at worst a frame
mixes the weights of two consecutive steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from explorer.kernels.vae_math import active_dimensions, gaussian_kl, gaussian_nll, nearest_code, reparametrise
from explorer.methods.vae import VAE, VAEConfig
from explorer.training.presets import Preset
from explorer.training.presets import apply_preset as apply_over_defaults
from explorer.views.vae_holes import hole_fraction, hole_probe, latent_extent

PRIOR_LIM = 3.0  # the decoder manifold covers [-3, 3]^d: 99.7% of N(0, 1) per axis
ACTIVE_THRESHOLD = 0.01  # Burda et al. 2016: Cov_x(E_q[z_j]) above this counts as active


def _np(x: torch.Tensor) -> np.ndarray:
    return x.detach().float().cpu().numpy()


@dataclass(frozen=True)
class SpacesView:
    """Data space and latent space of one model, row i of every per-point array the same data point."""

    kind: str
    latent_dim: int
    data: np.ndarray  # [n, 2] data points
    recon: np.ndarray  # [n, 2] their reconstructions m(z)
    mean: np.ndarray  # [n, d] their codes: mu(x), z(x) or z_e(x)
    sigma: np.ndarray | None  # [n, d] posterior standard deviations (VAE)
    code_index: np.ndarray | None  # [n] nearest codebook vector (VQ-VAE)
    samples: np.ndarray  # [m, 2] decoded prior samples
    prior_z: np.ndarray  # [m, d] their latents
    lim: float  # latent plot half-width
    axis: np.ndarray  # [g] latent grid coordinates (both axes in 2D)
    aggregate: np.ndarray | None  # q(z) on the grid: [g, g] (2D, indexed [z2, z1]) or [g] (1D); VAE only
    prior_density: np.ndarray  # N(z; 0, I) on the grid, same shape as a 2D/1D aggregate
    codebook: np.ndarray | None  # [K, d]
    usage: np.ndarray | None  # [K] fraction of the data using each code
    cells: np.ndarray | None  # nearest code on the grid: [g, g] or [g] (VQ-VAE)
    decoder_std: np.ndarray  # [2]
    holes: float | None  # fraction of prior samples in holes (VAE, AE)


def _grid(lim: float, fine: int, dim: int, device: torch.device) -> tuple[np.ndarray, torch.Tensor]:
    """(axis `[g]`, points `[g^dim, dim]`) over [-lim, lim]^dim, row-major with z1 fastest."""
    axis = np.linspace(-lim, lim, fine)
    a = torch.tensor(axis, dtype=torch.get_default_dtype(), device=device)
    if dim == 1:
        return axis, a[:, None]
    zz2, zz1 = torch.meshgrid(a, a, indexing="ij")
    return axis, torch.stack([zz1.reshape(-1), zz2.reshape(-1)], dim=1)


def aggregate_posterior(points: torch.Tensor, mu: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """q(z) = 1/N sum_i N(z; mu_i, diag sigma_i^2) at points `[G, d]` from N posteriors (mu, sigma `[N, d]`), `[G]`.

    log N(z; mu_i, diag sigma_i^2) = sum_j [-z_j^2 / 2 sigma_ij^2 + z_j mu_ij / sigma_ij^2] + c_i is linear in
    the features (z^2, z), so all G x N terms are one matrix product."""
    precision = sigma.pow(-2)
    features = torch.cat([points.pow(2), points], dim=1)  # [G, 2d]
    weights = torch.cat([-0.5 * precision, mu * precision], dim=1)  # [N, 2d]
    const = -0.5 * (mu.pow(2) * precision).sum(1) - sigma.log().sum(1) - 0.5 * mu.shape[1] * math.log(2 * math.pi)
    log_terms = torch.addmm(const[None], features, weights.T)  # [G, N]
    return torch.logsumexp(log_terms, dim=1).sub(math.log(mu.shape[0])).exp()


def prior_density(points: torch.Tensor) -> torch.Tensor:
    """N(z; 0, I) at points `[G, d]`, `[G]`."""
    return torch.exp(-0.5 * points.pow(2).sum(-1)) / (2 * math.pi) ** (points.shape[1] / 2)


@torch.no_grad()
def spaces_view(
    method: VAE, generator: torch.Generator, n: int = 300, m: int = 300, from_sample: bool = False, fine: int = 32
) -> SpacesView:
    """Encode n data points, decode their codes (the posterior mean, or with `from_sample` one draw of
    q(z | x)) and m prior samples; the aggregate posterior / Voronoi cells on a `fine` grid."""
    dev, d, kind = method.device, method.latent_dim, method.kind
    x = method.density.sample(n, generator).to(dev)
    mean, log_var = method.encode(x)
    sigma = None if log_var is None else (0.5 * log_var).exp()
    z, code_index, codebook, usage = mean, None, None, None
    if kind == "vae" and from_sample:
        z = reparametrise(mean, log_var, torch.randn(mean.shape, generator=generator, device=generator.device).to(dev))
    elif kind == "vqvae":
        code_index, z = method.quantise(mean)
        codebook, usage = method.codebook.detach(), method.code_frequencies()
    recon = method.decode(z)
    prior_z = method.prior_sample(m, generator)
    samples = method.generate(prior_z, generator)
    lim = latent_extent(_np(mean) if codebook is None else np.concatenate([_np(mean), _np(codebook)]))
    axis, points = _grid(lim, fine if d == 2 else 4 * fine, d, dev)
    shape = (len(axis), len(axis)) if d == 2 else (len(axis),)
    aggregate = None if sigma is None else _np(aggregate_posterior(points, mean, sigma.clamp_min(1e-6))).reshape(shape)
    cells = None if codebook is None else _np(nearest_code(points, codebook)).reshape(shape)
    holes = None if kind == "vqvae" else hole_fraction(hole_probe(d, dev), mean, sigma)[0]
    return SpacesView(
        kind=kind,
        latent_dim=d,
        data=_np(x),
        recon=_np(recon),
        mean=_np(mean),
        sigma=None if sigma is None else _np(sigma),
        code_index=None if code_index is None else _np(code_index),
        samples=_np(samples),
        prior_z=_np(prior_z),
        lim=lim,
        axis=axis,
        aggregate=aggregate,
        prior_density=_np(prior_density(points)).reshape(shape),
        codebook=None if codebook is None else _np(codebook),
        usage=None if usage is None else _np(usage),
        cells=cells,
        decoder_std=_np(method.decoder_std),
        holes=holes,
    )


@dataclass(frozen=True)
class ManifoldView:
    """The decoder as a map: latent lines `[L, k, d]` and their images m(z) `[L, k, 2]`."""

    latent_dim: int
    lim: float
    latent_lines: np.ndarray  # [L, k, d]
    data_lines: np.ndarray  # [L, k, 2]
    family: np.ndarray  # [L] 0: z2 constant (z1 varies), 1: z1 constant; all 0 in 1D
    line_z: np.ndarray  # [k] the parameter along each line


def spaces_caption(spaces: SpacesView) -> str:
    """The live view's caption: the decoder's σ, and the share of prior samples falling into holes."""
    std = ", ".join(f"{s:.3g}" for s in spaces.decoder_std)
    notes = [f"Decoder σ = ({std})."]
    if spaces.holes is not None:
        notes.append(f"{100 * spaces.holes:.0f}% of z ~ N(0, I) fall in holes (see the tab 'AE vs VAE: holes').")
    return " ".join(notes)


def latent_lines(latent_dim: int, lim: float = PRIOR_LIM, lines: int = 11, vertices: int = 41) -> torch.Tensor:
    """Lines of a regular latent grid: `[2 * lines, vertices, 2]` (z2 constant, then z1 constant) over
    [-lim, lim]^2, or the segment `[1, vertices, 1]` in 1D."""
    t = torch.linspace(-lim, lim, vertices)
    if latent_dim == 1:
        return t[None, :, None]
    levels = torch.linspace(-lim, lim, lines)
    along = t[None, :].expand(lines, vertices)
    level = levels[:, None].expand(lines, vertices)
    return torch.cat([torch.stack([along, level], -1), torch.stack([level, along], -1)])


@torch.no_grad()
def manifold_view(method: VAE, lim: float = PRIOR_LIM, lines: int = 11, vertices: int = 41) -> ManifoldView:
    """Decode a grid of latent lines over [-lim, lim]^d (the prior's bulk by default)."""
    grid = latent_lines(method.latent_dim, lim, lines, vertices)
    decoded = method.decode(grid.reshape(-1, method.latent_dim).to(method.device)).reshape(grid.shape[0], vertices, 2)
    family = np.repeat([0, 1], lines) if method.latent_dim == 2 else np.zeros(1, dtype=int)
    return ManifoldView(method.latent_dim, lim, _np(grid), _np(decoded), family, np.linspace(-lim, lim, vertices))


@dataclass(frozen=True)
class ElboView:
    """The objective's terms on fresh data, per point averaged (nats)."""

    kind: str
    recon: float  # E_q[-log p(x | z)]
    kl_dims: np.ndarray  # [d] KL(q(z_j | x) || N(0, 1)) averaged over x (VAE; zeros otherwise)
    kl: float  # their sum (VAE), log K (VQ-VAE: a uniform prior over K codes), 0 (AE)
    mean_variance: np.ndarray  # [d] Cov_x(E_q[z_j | x]), the activity of each latent unit
    active: np.ndarray  # [d] bool

    @property
    def neg_elbo(self) -> float:
        """-ELBO = reconstruction + KL (an upper bound on -log p(x) for the VAE)."""
        return self.recon + self.kl

    @property
    def n_active(self) -> int:
        return int(self.active.sum())


@torch.no_grad()
def elbo_view(method: VAE, generator: torch.Generator, n: int = 2000) -> ElboView:
    dev = method.device
    x = method.density.sample(n, generator).to(dev)
    mean, log_var = method.encode(x)
    d = method.latent_dim
    if method.kind == "vae":
        eps = torch.randn((n, d), generator=generator, device=generator.device).to(dev)
        z, kl_dims = reparametrise(mean, log_var, eps), gaussian_kl(mean, log_var).mean(0)
        kl = float(kl_dims.sum())
    else:
        z = method.quantise(mean)[1] if method.kind == "vqvae" else mean
        kl_dims = torch.zeros(d)
        kl = math.log(method.codebook.shape[0]) if method.kind == "vqvae" else 0.0
    recon = float(gaussian_nll(x, method.decode(z), method.decoder_log_var.detach()).mean())
    variance = mean.var(0) if n > 1 else torch.zeros(d)
    return ElboView(
        kind=method.kind,
        recon=recon,
        kl_dims=_np(kl_dims),
        kl=kl,
        mean_variance=_np(variance),
        active=_np(active_dimensions(mean, ACTIVE_THRESHOLD)).astype(bool),
    )


def elbo_readouts(elbo: ElboView) -> dict[str, str]:
    """The objective's terms as readout tiles: the AE has only a reconstruction; the VQ-VAE's KL is log K
    (its prior is uniform over the K codes); the VAE also counts its active latent dimensions."""
    if elbo.kind == "ae":
        return {"reconstruction": f"{elbo.recon:.3g}"}
    tiles = {"−ELBO": f"{elbo.neg_elbo:.3g}", "KL" if elbo.kind == "vae" else "KL = log K": f"{elbo.kl:.3g}"}
    if elbo.kind == "vae":
        tiles["active dims"] = f"{elbo.n_active} / {len(elbo.active)}"
    return tiles


KIND_PARAMS = {"vae": {"beta"}, "ae": set(), "vqvae": {"codebook_size", "commitment"}}


def hidden_params(config: VAEConfig) -> set[str]:
    """The other model kinds' parameters, and the fixed σ when the variance is learned (hidden in the sidebar)."""
    other = set().union(*KIND_PARAMS.values()) - KIND_PARAMS[config.kind]
    return other | ({"decoder_std"} if config.decoder_variance == "learned" else set())


def setting_notes(config: VAEConfig) -> list[str]:
    """What extreme settings do, in words (shown above the live view)."""
    notes = []
    if config.kind == "vae" and config.beta == 0:
        notes.append(
            "β = 0 drops the KL term: nothing pulls q(z|x) towards the prior, so the encoder's σ shrinks towards 0 "
            "and the VAE becomes a noisy autoencoder. Reconstructions get sharp, but the codes need not cover "
            "N(0, I): prior samples fall into holes."
        )
    elif config.kind == "vae" and config.beta >= 10:
        notes.append(
            f"β = {config.beta:g} makes the KL term dominate: the cheapest solution is q(z|x) = p(z) for every x "
            "(posterior collapse). The decoder then ignores z, every reconstruction is the data mean, and the "
            "samples are one Gaussian blob."
        )
    if config.kind == "vqvae" and config.codebook_size == 1:
        notes.append(
            "K = 1: a single codebook vector, so every point is encoded to the same code and the decoder can only "
            "output one point (the data mean); the samples are one Gaussian blob around it."
        )
    if config.kind == "vqvae" and config.commitment == 0:
        notes.append(
            "β_c = 0: nothing keeps the encoder near its codes, so z_e can drift away from the codebook faster "
            "than the codes follow."
        )
    if config.decoder_variance == "fixed" and config.decoder_std <= 0.02:
        notes.append(
            f"A fixed decoder σ = {config.decoder_std:g} weights the reconstruction error by 1/σ² = "
            f"{config.decoder_std**-2:,.0f}: the KL term hardly matters and a large learning rate diverges."
        )
    elif config.decoder_variance == "fixed" and config.decoder_std >= 2:
        notes.append(
            f"A fixed decoder σ = {config.decoder_std:g} is wider than the data's structure: the decoder may explain "
            "everything as noise around the mean, and z carries little information."
        )
    if config.lr >= 0.05:
        notes.append(
            "A learning rate this large usually diverges within a few steps; training then pauses and keeps the "
            "last good weights."
        )
    return notes


# Measured on the 2-core machine with the seed these presets set (0); see tests/test_views_vae.py.
PRESETS: dict[str, Preset] = {
    "fitted": Preset(
        "Well-fitted VAE on two moons",
        {"density": "two_moons", "kind": "vae", "beta": 1.0, "decoder_variance": "learned", "latent_dim": 2},
        "The posteriors (grey ellipses) together cover the prior's disc, so no prior sample falls in a hole; the "
        "decoded grid folds onto the moons, and the black prior samples approach the energy-distance noise floor.",
    ),
    "collapse": Preset(
        "Posterior collapse (β = 20)",
        {"density": "two_moons", "kind": "vae", "beta": 20.0, "decoder_variance": "learned", "latent_dim": 2},
        "Every q(z|x) sits on the prior (KL per dimension near 0, no active dimension), all reconstructions "
        "land on the data mean, and the decoder's σ grows to cover the data as one blob.",
    ),
    "holes": Preset(
        "Autoencoder: latent holes",
        {"density": "eight_gaussians", "kind": "ae", "decoder_variance": "learned", "latent_dim": 2},
        "The AE encodes the eight modes as separate islands with empty space between them; z ~ N(0, I) "
        "lands in the gaps, where the decoder was never trained, so many samples fall between the modes.",
    ),
    "vq": Preset(
        "VQ-VAE with 16 codes",
        {"density": "two_moons", "kind": "vqvae", "codebook_size": 16, "decoder_variance": "learned", "latent_dim": 2},
        "Each code owns a Voronoi cell of the latent plane; the decoder maps the 16 codes to 16 points along the "
        "moons, so the samples are 16 Gaussian blobs.",
    ),
}


def apply_preset(config: VAEConfig, name: str) -> VAEConfig:
    """The defaults with preset `name`'s settings; the device choice of `config` is kept."""
    return apply_over_defaults(config, PRESETS[name])
