"""The model families: one class per family behind one protocol (`explorer.methods.base.Method`), and the
registry that everything else asks about a family.

A family's registry entry reaches everything it contributes: its config and method classes here, its page
script, its views module (with the lecture `PRESETS`), its benchmark module (figures and the plain
PyTorch baseline) and its notebook part (`explorer.notebook`), the last three by module path so that
nothing below imports upward. The session, the Compare page, the router's navigation, the warm-up,
`python -m explorer.bench` and the notebook export all read `FAMILIES`: adding a family is its own files
and one line below.

May import: `explorer.kernels`, `explorer.maths`, `explorer.data`, `explorer.configs`, `explorer.device`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

from explorer.methods.base import Method
from explorer.methods.critic import CriticConfig, DualCritic
from explorer.methods.diffusion import Diffusion, DiffusionConfig
from explorer.methods.flow_matching import FlowMatching, FlowMatchingConfig
from explorer.methods.gan import GAN, GANConfig
from explorer.methods.realnvp import FlowConfig, NormalizingFlow
from explorer.methods.vae import VAE, VAEConfig


@dataclass(frozen=True)
class Family:
    """What one trained family contributes, found from its name."""

    name: str  # the registry key: sessions, URLs (`/compare?families=`), the bench's --family
    title: str  # for people: "Normalizing flow (RealNVP)"
    config: type  # the frozen config dataclass, defaults = the page's defaults
    method: type[Method]
    page: str  # its page script (router.py declares it)
    page_title: str  # the navigation's entry
    icon: str  # the navigation's icon
    views: str  # module with the page's views and the lecture `PRESETS`
    bench: str  # module with `figures(session, samples, args)` and `plain_steps_per_s(session, seconds)`
    bench_density: str  # the density `python -m explorer.bench` trains on by default
    course: int  # its place in the lecture notes' order (the navigation's)
    notebook: str = ""  # module writing its experiment as a notebook (explorer.notebook); default by name

    def __post_init__(self) -> None:
        if not self.notebook:
            object.__setattr__(self, "notebook", f"explorer.notebook.{self.name}")

    @property
    def views_module(self) -> ModuleType:
        return importlib.import_module(self.views)

    @property
    def bench_module(self) -> ModuleType:
        return importlib.import_module(self.bench)

    @property
    def presets(self) -> dict:
        return self.views_module.PRESETS


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("flow_matching", "Flow matching", FlowMatchingConfig, FlowMatching, "pages/flow_matching.py",
               "Flow matching", ":material/waves:", "explorer.views.flow_matching", "explorer.bench.flow_matching",
               "eight_gaussians", 4),
        Family("diffusion", "Diffusion", DiffusionConfig, Diffusion, "pages/diffusion.py",
               "Diffusion and score", ":material/blur_on:", "explorer.views.diffusion", "explorer.bench.diffusion",
               "eight_gaussians", 5),
        Family("gan", "GAN", GANConfig, GAN, "pages/gan.py", "GANs", ":material/compare_arrows:",
               "explorer.views.gan", "explorer.bench.gan", "eight_gaussians", 1),
        Family("flow", "Normalizing flow (RealNVP)", FlowConfig, NormalizingFlow, "pages/normalizing_flows.py",
               "Normalizing flows", ":material/swap_horiz:", "explorer.views.realnvp", "explorer.bench.realnvp",
               "checkerboard", 3, "explorer.notebook.realnvp"),
        Family("vae", "VAE", VAEConfig, VAE, "pages/vae.py", "VAEs", ":material/hub:",
               "explorer.views.vae", "explorer.bench.vae", "two_moons", 2),
    )
}  # fmt: skip

# Trained models that are not generative families: the session trains them like the families, but they draw no
# samples, so they are neither in the navigation's model section nor on Compare (the critic: a Divergences tab).
ESTIMATORS: dict[str, tuple[type, type[Method]]] = {"critic": (CriticConfig, DualCritic)}


def trainable(name: str) -> tuple[type, type[Method]]:
    """(config class, method class) of a family or an estimator, by its registry name."""
    if name in FAMILIES:
        return FAMILIES[name].config, FAMILIES[name].method
    return ESTIMATORS[name]


__all__ = [
    "ESTIMATORS",
    "FAMILIES",
    "trainable",
    "CriticConfig",
    "DualCritic",
    "Family",
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
