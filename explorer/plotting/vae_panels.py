"""Figures for the VAE page's tabs, from `explorer.views.vae_reparam.ReparamView` and
`explorer.views.vae_holes.HolesView` (read by attribute only, so this module imports no torch): the
reparametrisation trick for one data point, and where the prior samples that fall in latent holes decode to."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from explorer.plotting.figures import PALETTE, figure, polylines, scatter, segments
from explorer.plotting.vae import PRIOR_COLOR, as_plane

if TYPE_CHECKING:
    from explorer.views.vae_holes import HolesView
    from explorer.views.vae_reparam import ReparamView


def reparam_figures(
    view: ReparamView, data: np.ndarray | None = None, lim_z: float = 3.5, lim: float = 6.0
) -> tuple[dict, dict]:
    """(latent, data): the posterior's 1 and 2-sigma ellipses around mu, the step sigma * eps from mu to z
    for the current draw (earlier draws faint), and in data space x, m(mu) and m(z) per draw over the
    data `[n, 2]` (faint, when given)."""
    d = len(view.mu)
    theta = np.linspace(0, 2 * np.pi, 61)
    circle = np.stack([np.cos(theta), np.sin(theta)], 1)
    mu, z = as_plane(view.mu.reshape(1, d))[0], as_plane(view.z)
    sigma = np.nan_to_num(view.sigma, nan=0.0)
    latent = []
    if d == 2:
        for k in (1, 2):
            latent.append(polylines((mu + k * sigma * circle)[None], f"{k}σ of q(z|x)", "#868e96", 1.2, 0.9))
        latent.append(polylines((circle * 1.0)[None], "prior 1σ", PRIOR_COLOR, 1.0, 0.6))
        latent[-1]["line"]["dash"] = "dash"
    else:
        t = np.linspace(-lim_z, lim_z, 121)
        prior = polylines(
            np.stack([t, 2 * np.exp(-0.5 * t**2) / np.sqrt(2 * np.pi)], 1)[None],
            "prior N(0, 1) (×2)",
            PRIOR_COLOR,
            1.0,
            0.6,
        )
        prior["line"]["dash"] = "dash"
        latent.append(prior)
        latent.append(
            segments(
                np.array([[mu[0] - sigma[0], 0.0]]), np.array([[mu[0] + sigma[0], 0.0]]), "μ ± σ", "#868e96", 3, 0.9
            )
        )
    if len(z) > 1:
        latent.append(scatter(z[:-1], "earlier draws", "#adb5bd", 5, 0.6))
    latent.append(segments(mu[None], z[-1:], "σ ⊙ ε", PALETTE["learned"], 2.5, 1.0))
    latent.append(scatter(mu[None], "μ(x)", PALETTE["data"], 11, 1.0))
    latent.append(scatter(z[-1:], "z = μ + σ ⊙ ε", PALETTE["learned"], 11, 1.0))
    span = max(lim_z, float(np.abs(z).max()) * 1.2 if len(z) else 0.0, float(np.abs(mu).max() + 2.5 * sigma.max()))
    latent_fig = figure(latent, "Latent space", span, height=380, square=d == 2)
    if d == 1:
        latent_fig["layout"]["yaxis"].update(range=[-0.3, 1.0], showticklabels=False)
    traces = [] if data is None else [scatter(data, "data", PALETTE["data"], 3, 0.15)]
    if len(view.x_hat) > 1:
        traces.append(scatter(view.x_hat[:-1], "m(z), earlier draws", "#adb5bd", 5, 0.6))
    traces += [
        scatter(view.x[None], "data point x", PALETTE["data"], 12, 1.0),
        scatter(view.x_mean[None], "m(μ)", "#868e96", 9, 1.0),
        scatter(view.x_hat[-1:], "m(z), this draw", PALETTE["learned"], 11, 1.0),
    ]
    return latent_fig, figure(traces, "Data space", lim, height=380)


def _vector(values: np.ndarray) -> str:
    """A latent vector as a LaTeX column (or a number in 1D), 2 decimals."""
    entries = [f"{v:.2f}" for v in np.asarray(values, dtype=np.float64).reshape(-1)]
    return entries[0] if len(entries) == 1 else r"\begin{pmatrix}" + r" \\ ".join(entries) + r"\end{pmatrix}"


def reparam_latex(view: ReparamView) -> str:
    """z = mu + sigma (.) eps with this draw's numbers."""
    return (
        r"z = \mu(x) + \sigma(x) \odot \varepsilon = "
        f"{_vector(view.mu)} + {_vector(view.sigma)} \\odot {_vector(view.eps[-1])} = {_vector(view.z[-1])}"
    )


def holes_figures(view: HolesView, lim: float = 6.0) -> tuple[dict, dict]:
    """(latent, data): codes of the data, prior samples red where they fall in a hole (far from every
    code) and blue where they do not; the same colours for where the decoder sends them."""
    d = view.codes.shape[1]
    rng = np.random.default_rng(0)

    def pad(a: np.ndarray) -> np.ndarray:
        return as_plane(a, rng.uniform(-0.4, 0.4, len(a)))

    hole, ok = view.in_hole, ~view.in_hole
    latent = [
        scatter(pad(view.codes), "codes of the data", "#868e96", 3, 0.35),
        scatter(pad(view.prior_z)[ok], "z ~ N(0, I) near a code", PALETTE["data"], 5, 0.8),
        scatter(pad(view.prior_z)[hole], "z ~ N(0, I) in a hole", PALETTE["learned"], 5, 0.9),
    ]
    data = [
        scatter(view.data, "data", "#868e96", 3, 0.3),
        scatter(view.decoded[ok], "m(z), z near a code", PALETTE["data"], 5, 0.8),
        scatter(view.decoded[hole], "m(z), z in a hole", PALETTE["learned"], 5, 0.9),
    ]
    latent_fig = figure(latent, "Latent space: where the prior samples fall", view.lim, height=420, square=d == 2)
    if d == 1:
        latent_fig["layout"]["yaxis"].update(range=[-1, 1], showticklabels=False)
    return latent_fig, figure(data, "Data space: where the decoder sends them", lim, height=420)
