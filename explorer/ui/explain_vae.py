"""The VAE page's explanations, in the lecture notes' notation: the ELBO, the closed-form Gaussian KL,
the reparametrisation trick, beta-VAE and posterior collapse, the autoencoder, and the VQ-VAE."""

from __future__ import annotations

import streamlit as st

from explorer.views.vae_holes import HOLE_PROBES, HOLE_RADIUS, HOLE_STDS


def vae() -> None:
    st.markdown(
        "**Variational autoencoders** are latent-variable models: draw z from a prior p(z) = N(0, I), then x from "
        "the decoder p_θ(x | z) = N(x; m_θ(z), σ²I). The likelihood p_θ(x) = ∫ p_θ(x | z) p(z) dz is intractable, "
        "so an encoder q_φ(z | x) = N(z; μ_φ(x), diag σ_φ²(x)) approximates the posterior, and both are trained "
        "on the **evidence lower bound**:"
    )
    st.latex(
        r"\log p_\theta(x) \;\ge\; \mathrm{ELBO}(x) = \mathbb{E}_{q_\phi(z\mid x)}\big[\log p_\theta(x\mid z)\big]"
        r" - \mathrm{KL}\big(q_\phi(z\mid x)\,\|\,p(z)\big)"
    )
    st.markdown(
        "The gap is KL(q_φ(z | x) ‖ p_θ(z | x)) ≥ 0: the bound is tight exactly when the encoder matches the true "
        "posterior. The first term rewards reconstruction; with a Gaussian decoder it is a scaled squared error:"
    )
    st.latex(r"-\log p_\theta(x\mid z) = \frac{\|x - m_\theta(z)\|^2}{2\sigma^2} + \frac{D}{2}\log(2\pi\sigma^2)")
    st.markdown("The KL between two Gaussians has a closed form, summed over the latent dimensions j:")
    st.latex(
        r"\mathrm{KL}\big(\mathcal N(\mu, \mathrm{diag}\,\sigma^2)\,\|\,\mathcal N(0, I)\big)"
        r" = \tfrac12 \sum_j \big(\mu_j^2 + \sigma_j^2 - 1 - \log \sigma_j^2\big)"
    )
    st.markdown(
        "**The reparametrisation trick.** To differentiate the expectation through the sampling of z, write the "
        "sample as a deterministic function of (μ, σ) and noise that does not depend on φ:"
    )
    st.latex(
        r"z = \mu_\phi(x) + \sigma_\phi(x) \odot \varepsilon,\quad \varepsilon \sim \mathcal N(0, I)"
        r"\quad\Rightarrow\quad \nabla_\phi\, \mathbb{E}_{q_\phi}\big[f(z)\big]"
        r" = \mathbb{E}_{\varepsilon}\big[\nabla_\phi f(\mu_\phi(x) + \sigma_\phi(x) \odot \varepsilon)\big]"
    )
    st.markdown(
        "**β-VAE** weights the KL term by β. Large β pulls every q(z | x) onto the prior: the latent then carries "
        "no information about x (**posterior collapse**, KL ≈ 0 per dimension) and the decoder outputs the data "
        "mean. β = 0 removes the pull altogether: the **autoencoder** limit, whose codes need not cover the prior, "
        "so z ~ p(z) lands in holes the decoder has never seen."
    )
    st.latex(r"\mathcal L_\beta(x) = \mathbb{E}_{q_\phi}\big[-\log p_\theta(x\mid z)\big] + \beta\,\mathrm{KL}")
    st.markdown(
        "**Learned decoder variance.** With σ² learned, its optimum is the mean squared reconstruction error per "
        "coordinate, and samples x = m_θ(z) + σ ε include the noise the decoder could not explain."
    )
    vq_vae()


def vq_vae() -> None:
    st.markdown(
        "**VQ-VAE** (van den Oord et al.) replaces the Gaussian posterior by a codebook {e_1, …, e_K}: the encoder "
        "output z_e(x) is snapped to its nearest code, so q(z | x) puts all its mass on one e_k, and the latent "
        "plane is cut into the codebook's Voronoi cells:"
    )
    st.latex(r"z_q(x) = e_k,\qquad k = \arg\min_j \|z_e(x) - e_j\|^2")
    st.markdown(
        "The argmin has no gradient. The **straight-through estimator** copies the decoder's gradient at z_q onto "
        "z_e, written with the stop-gradient sg[·] as z_e + sg[z_q − z_e]. The codebook is moved towards the "
        "encodings it receives by its own term, and the **commitment** term (weight β_c) keeps the encoder from "
        "drifting away from its codes:"
    )
    st.latex(
        r"\mathcal L = -\log p_\theta\big(x \mid z_q(x)\big) + \big\|\mathrm{sg}[z_e(x)] - e_k\big\|^2"
        r" + \beta_c\,\big\|z_e(x) - \mathrm{sg}[e_k]\big\|^2"
    )
    st.markdown(
        "With a uniform prior over the K codes, KL(q ‖ p) = log K is a constant, so the ELBO is the reconstruction "
        "term minus log K. Samples draw a code (here with the frequency it is used on the data, the 2D analogue of "
        "the paper's learned prior) and decode it. A code no encoding is nearest to gets no gradient: a **dead code**."
    )


def reparametrisation_note() -> None:
    st.caption(
        "ε ~ N(0, I) is drawn independently of x and of the weights, so z is a differentiable function of μ(x) and "
        "σ(x): gradients of the reconstruction flow through z back into the encoder. Earlier draws are grey."
    )


def holes(fraction: float, kind: str, n_codes: int, shown: int) -> None:
    """The hole fraction in words, and why an autoencoder has holes and a VAE does not."""
    rule = (
        f"farther than {HOLE_STDS:g} σ from the mean of q(z|x)"
        if kind == "vae"
        else f"farther than {HOLE_RADIUS:g} from the code"
    )
    st.markdown(
        f"**{100 * fraction:.0f}%** of prior samples z ~ N(0, I) (red) fall in holes: {rule} of every one of "
        f"{n_codes:,} data points (measured on {HOLE_PROBES:,} prior samples, {shown} drawn). The decoder was never "
        "trained there, so what it makes of them is arbitrary."
    )
    st.markdown(
        "An **autoencoder** (Model: Autoencoder) only has to reconstruct: nothing asks its codes to fill N(0, I), so "
        "they form islands and curves at whatever scale the encoder likes, and sampling z from the prior lands in "
        "the gaps. The **VAE**'s KL term pulls every q(z|x) towards N(0, I) and its noise makes each code a blob, "
        "so the codes cover the prior and the decoder learns the whole disc."
    )
