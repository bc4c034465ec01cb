"""One class per model family behind one protocol (`explorer.methods.base.Method`)."""

from explorer.methods.base import Method
from explorer.methods.diffusion import Diffusion, DiffusionConfig
from explorer.methods.flow_matching import FlowMatching, FlowMatchingConfig
from explorer.methods.gan import GAN, GANConfig
from explorer.methods.realnvp import FlowConfig, NormalizingFlow
from explorer.methods.vae import VAE, VAEConfig

# family name -> (config class, method class); the session and the pages look families up here.
METHODS: dict[str, tuple[type, type[Method]]] = {
    "flow_matching": (FlowMatchingConfig, FlowMatching),
    "diffusion": (DiffusionConfig, Diffusion),
    "gan": (GANConfig, GAN),
    "flow": (FlowConfig, NormalizingFlow),
    "vae": (VAEConfig, VAE),
}

__all__ = [
    "METHODS",
    "Method",
    "Diffusion",
    "DiffusionConfig",
    "FlowMatching",
    "FlowMatchingConfig",
    "GAN",
    "GANConfig",
    "FlowConfig",
    "NormalizingFlow",
    "VAE",
    "VAEConfig",
]
