"""Holes in a latent space: prior samples z ~ N(0, I) that fall where no data point is encoded, so that the
decoder never had to reconstruct anything there (the autoencoder's problem, which the VAE's KL term fixes).

A prior sample is in a hole when it is farther than HOLE_STDS posterior standard deviations from the mean
of every q(z | x_i), or, for codes without a spread (AE), farther than HOLE_RADIUS from every code. The
fraction is measured on one fixed set of prior samples (`hole_probe`), so every view of a model agrees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from explorer.methods.vae import VAE

HOLE_STDS = 3.0  # a prior sample farther than 3 posterior std from the mean of every q(z|x) lies in a hole
HOLE_RADIUS = 0.5  # the same for codes without a spread (AE): farther than this from every code
HOLE_PROBES, HOLE_SEED = 1000, 1234  # prior samples the hole fraction is measured on


def _np(x: torch.Tensor) -> np.ndarray:
    return x.detach().float().cpu().numpy()


def latent_extent(codes: np.ndarray, minimum: float = 3.5, maximum: float = 60.0) -> float:
    """Half-width of a latent plot that shows the prior (|z| <= 3.5) and 99% of the codes `[n, d]`."""
    finite = np.abs(codes[np.isfinite(codes)])
    top = float(np.percentile(finite, 99)) * 1.15 if finite.size else 0.0
    return float(min(maximum, max(minimum, top)))


def hole_fraction(
    prior_z: torch.Tensor, codes: torch.Tensor, sigma: torch.Tensor | None = None
) -> tuple[float, torch.Tensor]:
    """(fraction, mask `[m]`) of prior samples `[m, d]` in a hole: farther than HOLE_STDS posterior standard
    deviations from the mean of every q(z | x_i) (codes = means `[n, d]`, sigma `[n, d]`), or, for codes
    without a spread (AE), farther than HOLE_RADIUS from every code. There the decoder never had to
    reconstruct anything."""
    if sigma is None:
        far = torch.cdist(prior_z, codes).min(1).values > HOLE_RADIUS
    else:
        scaled = (prior_z[:, None, :] - codes[None]) / sigma[None].clamp_min(1e-6)
        far = scaled.pow(2).sum(-1).min(1).values > HOLE_STDS**2
    return float(far.float().mean()), far


def hole_probe(latent_dim: int, device: torch.device, n: int = HOLE_PROBES) -> torch.Tensor:
    """The prior samples z ~ N(0, I) `[n, d]` the hole fraction is measured on: fixed, so that every view of
    the same model reports the same number."""
    return torch.randn((n, latent_dim), generator=torch.Generator().manual_seed(HOLE_SEED)).to(device)


@dataclass(frozen=True)
class HolesView:
    """Prior samples in latent space, flagged where no data point is encoded nearby, and where they decode."""

    codes: np.ndarray  # [n, d] codes of data points
    prior_z: np.ndarray  # [m, d]
    decoded: np.ndarray  # [m, 2] m(z) of the prior samples
    in_hole: np.ndarray  # [m] bool
    data: np.ndarray  # [n, 2]
    fraction: float
    lim: float


@torch.no_grad()
def holes_view(method: VAE, generator: torch.Generator, n: int = 300, m: int = 400) -> HolesView:
    """The codes of n data points (the same points as `spaces_view` draws first from the same generator) and
    the hole probe, m of its samples shown; the fraction is over the whole probe."""
    dev = method.device
    x = method.density.sample(n, generator).to(dev)
    codes, log_var = method.encode(x)
    sigma = None if log_var is None else (0.5 * log_var).exp()
    probe = hole_probe(method.latent_dim, dev)
    fraction, far = hole_fraction(probe, codes, sigma)
    prior_z = probe[:m]
    return HolesView(
        codes=_np(codes),
        prior_z=_np(prior_z),
        decoded=_np(method.decode(prior_z)),
        in_hole=_np(far[:m]).astype(bool),
        data=_np(x),
        fraction=fraction,
        lim=latent_extent(_np(codes)),
    )
