"""Collapsible explanations of each family's objective and sampler, in the lecture notes' notation."""

from __future__ import annotations

import math

import streamlit as st


def flow_matching() -> None:
    st.markdown(
        "**Flow matching** learns a time-dependent velocity field whose flow carries the source "
        "distribution (t = 0) onto the data (t = 1). Pick a coupling of source and data points and "
        "join each pair by a straight line:"
    )
    st.latex(r"x_t = t\,x_1 + (1-t)\,x_0,\qquad x_0 \sim p_0,\; x_1 \sim p_{\text{data}},\; t \sim U[0,1]")
    st.markdown("The velocity along such a line is x1 − x0. Regress the network on it:")
    st.latex(r"\mathcal{L}_{\text{CFM}}(\theta) = \mathbb{E}_{t,x_0,x_1}\,\big\|v_\theta(t, x_t) - (x_1 - x_0)\big\|^2")
    st.markdown(
        "Its minimiser is the **marginal** velocity, the average of the conditional ones through each "
        "point; this is the green field drawn over the learned one where it has a closed form:"
    )
    st.latex(
        r"u_t(x) = \mathbb{E}[x_1 - x_0 \mid x_t = x]"
        r" = \tfrac{1}{t}\,x + \tfrac{1-t}{t}\,\nabla\log p_t(x)\quad(x_0\sim\mathcal N(0,I))"
    )
    st.markdown("Sampling integrates the ODE from a source sample; the Euler update is")
    st.latex(r"x_{k+1} = x_k + h\,v_\theta(t_k, x_k),\qquad t_{k+1} = t_k + h,\; h = 1/N")
    st.markdown(
        "Midpoint and Heun evaluate the field twice per step and are second order: halving h divides "
        "their error by about 4 (Euler: by 2). **Minibatch OT** pairs each batch by optimal transport, so "
        "conditional paths cross less and the marginal flow is straighter. **Classifier-free guidance** "
        "trains one network with and without the label y (dropped with probability p) and samples with"
    )
    st.latex(r"\tilde v(t, x \mid y) = v_\theta(t, x) + w\,\big(v_\theta(t, x \mid y) - v_\theta(t, x)\big)")
    st.markdown(
        "**The SDE sampler** (the default). With an N(0, I) source the same network gives the score, "
        "∇log p_t(x) = −E[x₀ | x] / σ_t with E[x₀ | x] = x − t v (linear path), so Langevin noise can be added "
        "without changing any p_t: the score term pulls back what the noise spreads. With g_t² = 2εσ_t,"
    )
    st.latex(
        r"dx = \big[v_\theta(t, x) + \tfrac{g_t^2}{2}\nabla\log p_t(x)\big]dt + g_t\,dW"
        r" = \big[v_\theta(t, x) - \varepsilon\,(x - t\,v_\theta(t, x))\big]dt + \sqrt{2\varepsilon(1-t)}\,dW"
    )
    st.markdown(
        "Along the ODE an error in v_θ carries a sample to the wrong place for good; the noise and the score "
        "keep correcting it. Measured on the eight Gaussians after the default 3,000 steps: half as many "
        "samples left between the modes (0.4-0.5% against 0.8-1.0%) and mode TV 0.007-0.013 against "
        "0.022-0.033. ε = 0 is the ODE with Euler steps."
    )


def diffusion() -> None:
    st.markdown(
        "**Diffusion models** destroy data with a fixed forward process and learn to undo it. "
        "Diffusion time runs from t = 0 (data) to t = 1 (noise); the forward kernel is"
    )
    st.latex(
        r"q(x_t \mid x_0) = \mathcal N\big(\sqrt{\bar\alpha_t}\,x_0,\;(1-\bar\alpha_t)\,I\big),\qquad "
        r"x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon"
    )
    st.markdown("A network predicts the noise that was added (denoising score matching):")
    st.latex(
        r"\mathcal L(\theta) = \mathbb E_{t, x_0, \varepsilon}\,\big\|\varepsilon - \varepsilon_\theta(x_t, t)\big\|^2"
    )
    st.markdown("Predicting ε, the score or x₀ are equivalent through Tweedie's formula:")
    st.latex(
        r"\nabla\log p_t(x) = -\frac{\varepsilon_\theta(x,t)}{\sqrt{1-\bar\alpha_t}},\qquad"
        r"\mathbb E[x_0\mid x_t=x] = \frac{x - \sqrt{1-\bar\alpha_t}\,\varepsilon_\theta(x,t)}{\sqrt{\bar\alpha_t}}"
    )
    st.markdown("DDPM's reverse (ancestral) update, for a step from t to s < t with α_{t|s} = ᾱ_t / ᾱ_s:")
    st.latex(
        r"x_s = \frac{1}{\sqrt{\alpha_{t|s}}}\Big(x_t - \frac{1-\alpha_{t|s}}{\sqrt{1-\bar\alpha_t}}\,"
        r"\varepsilon_\theta(x_t,t)\Big) + \sqrt{\tilde\beta}\,z,\quad"
        r"\tilde\beta = \frac{1-\bar\alpha_s}{1-\bar\alpha_t}\,(1-\alpha_{t|s})"
    )
    st.markdown(
        "DDIM replaces the noise by a deterministic step (eta = 0); the reverse SDE and the probability-flow "
        "ODE use the score in continuous time, with β(t) = −d log ᾱ_t / dt:"
    )
    st.latex(
        r"dx = \big[-\tfrac12\beta(t)\,x - \beta(t)\,\nabla\log p_t(x)\big]dt + \sqrt{\beta(t)}\,d\bar W,"
        r"\qquad \frac{dx}{dt} = -\tfrac12\beta(t)\big[x + \nabla\log p_t(x)\big]"
    )
    st.markdown("Sampling with an exponential moving average of the weights (EMA) smooths out SGD noise.")


def gan() -> None:
    st.markdown(
        "**Generative adversarial networks** pit a generator G, which maps noise z ~ p_z to samples "
        "G(z), against a discriminator D, which tells data from generated samples. The original game "
        "(Goodfellow et al.) is a minimax problem over the value"
    )
    st.latex(
        r"\min_G \max_D\; V(D, G) = \mathbb{E}_{x \sim p_{\text{data}}}\big[\log D(x)\big]"
        r" + \mathbb{E}_{z \sim p_z}\big[\log\big(1 - D(G(z))\big)\big]"
    )
    st.markdown(
        "For a fixed G with sample density q, the best discriminator and the value at it are (the heatmap "
        "above is the learned D, which chases D*)"
    )
    st.latex(
        r"D^*(x) = \frac{p_{\text{data}}(x)}{p_{\text{data}}(x) + q(x)},\qquad "
        r"V(D^*, G) = -\log 4 + 2\,\mathrm{JS}(p_{\text{data}} \,\|\, q)"
    )
    st.markdown(
        "**The non-saturating trick.** Where D confidently rejects a sample, log(1 − D(G(z))) is flat, so "
        "the minimax generator gets almost no gradient early in training (the arrows vanish). The "
        "generator maximises log D(G(z)) instead: same fixed point, strong gradients where D ≈ 0:"
    )
    st.latex(
        r"\nabla_x \log\big(1 - D(x)\big) = -D(x)\,\nabla_x \ell(x),\qquad"
        r"\nabla_x \log D(x) = \big(1 - D(x)\big)\,\nabla_x \ell(x),\qquad D = \sigma(\ell)"
    )
    st.markdown(
        "**Wasserstein GAN.** Replace the JS divergence by the Wasserstein-1 distance, in its "
        "Kantorovich–Rubinstein dual form over 1-Lipschitz critics f (no sigmoid: f is a real-valued score):"
    )
    st.latex(
        r"W_1(p_{\text{data}}, q) = \sup_{\|f\|_L \le 1}\;"
        r"\mathbb{E}_{x \sim p_{\text{data}}}\big[f(x)\big] - \mathbb{E}_{z \sim p_z}\big[f(G(z))\big]"
    )
    st.markdown(
        "The critic ascends this objective for n_critic steps, then G descends −E f(G(z)). The original "
        "WGAN enforces the Lipschitz constraint crudely by clipping every weight to [−c, c]: too small a c "
        "leaves a nearly constant critic with vanishing gradients, too large a c no constraint at all. "
        "**WGAN-GP** (Gulrajani et al.) instead penalises the critic's gradient norm at random "
        "interpolates between real and generated samples:"
    )
    st.latex(
        r"L_D = \mathbb{E}\big[f(G(z))\big] - \mathbb{E}\big[f(x)\big]"
        r" + \lambda\,\mathbb{E}_{\hat x}\big[(\|\nabla_{\hat x} f(\hat x)\|_2 - 1)^2\big],"
        r"\qquad \hat x = u\,x + (1 - u)\,G(z),\; u \sim U[0, 1]"
    )
    st.markdown(
        "**Enforcing the Lipschitz constraint** (the Lipschitz tab maps ‖∇ₓD‖ and marks where each penalty acts):\n\n"
        "| method | constraint | where |\n|---|---|---|\n"
        "| WGAN | clip every weight to [−c, c] | everywhere, crudely |\n"
        "| WGAN-GP | λ E(‖∇D(x̂)‖ − 1)², x̂ = u x + (1 − u) G(z) | between real and generated points |\n"
        "| the slides' variant | λ E over x ~ p_data + p_G of (‖∇D(x)‖ − 1)² | at real and generated points |\n"
        "| DRAGAN | λ E(‖∇D(x + σε)‖ − 1)², non-saturating loss | around the data |\n"
        "| SNGAN | each layer W / σ(W), σ by power iteration | everywhere: ‖∇D‖ ≤ ∏ σ(W/σ(W)) = 1 (·1.1 per SiLU) |"
    )
    st.latex(
        r"\sigma(W) = \max_{\|v\| = 1} \|W v\|,\qquad u \leftarrow \frac{W v}{\|W v\|},\; "
        r"v \leftarrow \frac{W^\top u}{\|W^\top u\|},\; \sigma \approx u^\top W v"
    )
    st.markdown("**LSGAN** (least squares, targets a for fake, b for real, c for the generator) and **hinge**:")
    st.latex(
        r"L_D = \tfrac12\mathbb{E}\big[(D(x) - b)^2\big] + \tfrac12\mathbb{E}\big[(D(G(z)) - a)^2\big],\quad "
        r"L_G = \tfrac12\mathbb{E}\big[(D(G(z)) - c)^2\big]"
    )
    st.latex(
        r"L_D = \mathbb{E}\big[\max(0, 1 - D(x))\big] + \mathbb{E}\big[\max(0, 1 + D(G(z)))\big],\quad "
        r"L_G = -\mathbb{E}\big[D(G(z))\big]"
    )
    st.markdown(
        "The arrows on the generated samples are −∇ₓ l_G(D(x)): the direction in which each sample's "
        "generator loss falls fastest. Backpropagated through x = G(z), they are the generator's update."
    )


def optimal_discriminator(js: float, bandwidth: float) -> None:
    """The estimated JS divergence and the GAN value at D*, under the D* figure."""
    st.markdown(
        f"JS(p_data ‖ p_g) ≈ **{js:.3f}** nats (log 2 = 0.693 when the supports are disjoint); "
        f"the GAN value at D* is −log 4 + 2 JS = {-math.log(4) + 2 * js:.3f}."
    )
    st.caption(
        "An estimate: p_g is a kernel density estimate of 2,000 generated samples (bandwidth "
        f"{bandwidth:.2f}, chosen by leave-one-out likelihood). D* = p / (p + p_g) is faded where "
        "both densities are negligible, since nothing is known there."
    )


def guidance_intro(class_name: str) -> None:
    st.markdown(
        f"Guiding towards **{class_name}**: the same noise sampled with "
        "ṽ = v + w (v(· | y) − v) for several w (set w and the class in the sidebar)."
    )


def guidance_caption(label_dropout: float) -> None:
    st.caption(
        "w = 0 samples the whole distribution; w = 1 the class; w > 1 pushes further into it, "
        "trading diversity for fidelity. The live samples and quality curves above follow the "
        f"unconditional model, which only learns from the {label_dropout:.0%} of examples "
        "whose label was dropped: it lags behind a model trained without labels."
    )
