"""One class per model family behind one protocol (`explorer.methods.base.Method`)."""

from explorer.methods.base import Method
from explorer.methods.diffusion import Diffusion, DiffusionConfig
from explorer.methods.flow_matching import FlowMatching, FlowMatchingConfig

# family name -> (config class, method class); the session and the pages look families up here.
METHODS: dict[str, tuple[type, type[Method]]] = {
    "flow_matching": (FlowMatchingConfig, FlowMatching),
    "diffusion": (DiffusionConfig, Diffusion),
}

__all__ = ["METHODS", "Method", "Diffusion", "DiffusionConfig", "FlowMatching", "FlowMatchingConfig"]
