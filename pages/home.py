"""Home: what the explorer shows, the taxonomy of the lecture notes, a card with a picture per page, device status."""

from pathlib import Path

import streamlit as st

from explorer.device import available_devices, describe_device, resolve_device

st.title("Generative Models Explorer")
st.markdown(
    "Small generative models trained **live** on 2D toy densities, so that what the lecture notes can "
    "only draw moves on screen: probability paths, velocity and score fields, samplers. Wherever the "
    "exact answer has a closed form it is drawn over the learned one, so you can see that the picture is right."
)

# family, what it is, and its pages as (label, page script or None while it is still to come)
TAXONOMY = [
    ("Implicit", "A generator you can sample but not evaluate; trained adversarially.", [("GANs", "pages/gan.py")]),
    (
        "Tractable",
        "Exact log-likelihood by change of variables through invertible maps.",
        [("Normalizing flows", "pages/normalizing_flows.py")],
    ),
    (
        "Approximate",
        "A latent-variable model trained on a lower bound (ELBO) of the likelihood.",
        [("VAEs", "pages/vae.py")],
    ),
    (
        "Diffusion & flows",
        "Transport noise to data along a probability path; learn its velocity or score.",
        [("Flow matching", "pages/flow_matching.py"), ("Diffusion and score", "pages/diffusion.py")],
    ),
]
st.subheader("The map of the course")
for col, (family, what, pages) in zip(st.columns(len(TAXONOMY)), TAXONOMY, strict=True):
    with col.container(border=True):
        st.markdown(f"**{family}**")
        st.caption(what)
        for label, link in pages:
            if link:
                st.page_link(link, label=label, icon=":material/arrow_forward:")
            else:
                st.markdown(f"{label} · *coming soon*")

st.subheader("Pages")
PICTURES = Path(__file__).resolve().parents[1] / "assets" / "pages"  # made by assets/make_pictures.py
# in the lecture notes' order: (page script, title, icon, what it shows); the picture is PICTURES/<script name>.png
CARDS = [
    (
        "pages/densities.py",
        "Densities",
        ":material/scatter_plot:",
        "The toy targets: samples, exact density and score fields; upload or draw your own points.",
    ),
    (
        "pages/divergences.py",
        "Divergences",
        ":material/straighten:",
        "KL vs JS vs Wasserstein; the earth mover's plan; D* = p / (p + q); critics that estimate KL and JS live.",
    ),
    (
        "pages/gan.py",
        "GANs",
        ":material/compare_arrows:",
        "Discriminator surfaces live; generator gradient arrows; seven losses, spectral norm; mode collapse; ‖∇D‖, D*.",
    ),
    (
        "pages/vae.py",
        "VAEs",
        ":material/hub:",
        "Latent spaces live: codes and posteriors, the decoder manifold, ELBO = reconstruction − KL; β, AE, VQ-VAE.",
    ),
    (
        "pages/normalizing_flows.py",
        "Normalizing flows",
        ":material/swap_horiz:",
        "RealNVP by exact likelihood, live: a grid warped layer by layer, each layer's log|det J|, NLL vs entropy.",
    ),
    (
        "pages/flow_matching.py",
        "Flow matching",
        ":material/waves:",
        "Train a velocity field live; exact marginal field and error; integrators, OT coupling, guidance.",
    ),
    (
        "pages/diffusion.py",
        "Diffusion and score",
        ":material/blur_on:",
        "Denoising score matching live; exact score and error; forward noising; DDPM, DDIM, SDE and ODE samplers.",
    ),
    (
        "pages/langevin.py",
        "Langevin dynamics",
        ":material/grain:",
        "Chains with trails on a density, from its exact or a learned score; step size, annealing, MALA; mode hopping.",
    ),
    (
        "pages/compare.py",
        "Compare models",
        ":material/leaderboard:",
        "Every family on one density, equal time each: samples side by side, quality, sampling cost; what to use.",
    ),
    (
        "pages/retrain.py",
        "Retraining on its own samples",
        ":material/autorenew:",
        "Each generation trained on the last one's samples: modes vanish, variance shrinks; real data and "
        "accumulation stop it.",
    ),
]
for row in range(0, len(CARDS), 3):
    for col, (path, title, icon, text) in zip(st.columns(3), CARDS[row : row + 3], strict=False):
        with col.container(border=True):
            if (picture := PICTURES / f"{Path(path).stem}.png").exists():
                st.image(str(picture), width="stretch")
            st.page_link(path, label=title, icon=icon)
            st.caption(text)

st.subheader("Device")
auto = resolve_device("auto")
st.markdown(
    f"Training runs on **{describe_device(auto.device)}** by default. "
    f"Available here: {', '.join(available_devices())}. Each training page has a device selector; "
    "a GPU that is not available falls back to the CPU with a notice."
)
