"""The exported notebooks against the library, on the same batch: a notebook is a second implementation of its
family in plain PyTorch (explorer/notebook), so its path and schedule coefficients and its samplers must give what
explorer.maths and the methods give, from the same weights and the same random numbers: flow matching's path
coefficients and its SDE and ODE samplers, diffusion's schedules and its four samplers with each prediction target,
the VAE's objective for each kind of model, RealNVP's exact log-density and its sampler. (The GAN's losses are written
inline in its training loop; tests/test_notebook.py trains it.)

The notebook's cells up to its training loop are run in this process; its network's weights are copied into the
family's method (the flat buffer holds the layers in the notebook's order: W₀, b₀, W₁, b₁, ...), and both samplers
start from torch's global generator seeded alike (the library's samplers draw from it when given no generator)."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from explorer.data.densities import get_density
from explorer.maths.diffusion_samplers import T_MIN
from explorer.maths.paths import PATHS
from explorer.maths.schedules import SCHEDULES
from explorer.methods import DiffusionConfig, FlowMatchingConfig
from explorer.notebook import build
from explorer.training.session import TrainingSession

N, SEED = 300, 5


def _definitions(family: str, config, likelihood: bool = False) -> dict:
    """The notebook's namespace after every cell before its training loop (SEED fixed, nothing trained); with
    `likelihood`, also the likelihood cells after the loop (run on the untrained model), not the figures."""
    notebook = build(family, config, get_density(config.density), get_density)
    namespace: dict = {}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        if "for step in range(STEPS)" in cell.source:
            if not likelihood:
                break
            continue
        if 'RESULTS["metric_after"]' in cell.source:
            break
        exec(compile(cell.source, f"<{family} notebook>", "exec"), namespace)  # noqa: S102 - the notebook's own code
    return namespace


def _method_with_the_notebooks_weights(family: str, config, net: torch.nn.Module):
    method = TrainingSession(family, config).method
    weights = torch.cat([p.detach().reshape(-1) for p in net.parameters()])
    optimizer = method.optimizer
    assert weights.shape == optimizer.flat.shape, "the notebook's network has the method's layout"
    optimizer.flat.copy_(weights)
    optimizer.ema.copy_(weights)
    return method


def _linears(module: torch.nn.Module) -> list[torch.nn.Linear]:
    return [m for m in module.modules() if isinstance(m, torch.nn.Linear)]


@torch.no_grad()
def _copy_linears(library: torch.nn.Module, notebook: torch.nn.Module) -> None:
    """The notebook's Linear layers' weights into the library's, in order (the library's are views of its flat
    buffers, so the copy reaches its kernels)."""
    pairs = list(zip(_linears(library), _linears(notebook), strict=True))
    assert pairs
    for ours, theirs in pairs:
        ours.weight.copy_(theirs.weight)
        ours.bias.copy_(theirs.bias)


def _samplers_agree(family: str, defaults, changes: dict, library) -> None:
    """The notebook's `sample_model` and `library(method, start)` from the same weights and the same random numbers
    (the start drawn first, then each step's noise, from torch's global generator seeded alike)."""
    config = dataclasses.replace(defaults, **changes)
    ns = _definitions(family, config)
    method = _method_with_the_notebooks_weights(family, config, ns["net"])
    torch.manual_seed(SEED)
    notebook = ns["sample_model"](N, ns["net"])
    torch.manual_seed(SEED)
    torch.testing.assert_close(notebook, library(method, torch.randn(N, 2)), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("path", list(PATHS))
def test_flow_matching_path_coefficients(path: str) -> None:
    ns = _definitions("flow_matching", FlowMatchingConfig(path=path, device="cpu"))
    t = torch.linspace(0.0, 1.0, 41).reshape(-1, 1)
    library = PATHS[path]()
    for name in ("alpha", "sigma", "d_alpha", "d_sigma"):
        torch.testing.assert_close(ns[name](t).float(), getattr(library, name)(t).float(), atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize(
    "changes",
    [
        {"sampler": "sde"},
        {"sampler": "sde", "path": "cosine", "noise": 0.5},
        {"sampler": "ode", "integrator": "euler"},
        {"sampler": "ode", "integrator": "midpoint", "path": "cosine"},
    ],
    ids=["sde", "sde-cosine", "ode-euler", "ode-midpoint-cosine"],
)
def test_flow_matching_sampler(changes: dict) -> None:
    def library(method, x0: torch.Tensor) -> torch.Tensor:
        return method.stochastic_trajectories(x0, None)[-1] if method.stochastic else method.trajectories(x0)[-1]

    _samplers_agree("flow_matching", FlowMatchingConfig(device="cpu", sampler_steps=20), changes, library)


@pytest.mark.parametrize("schedule", list(SCHEDULES))
def test_diffusion_schedule_coefficients(schedule: str) -> None:
    ns = _definitions("diffusion", DiffusionConfig(noise_schedule=schedule, device="cpu"))
    t = torch.linspace(T_MIN, 1.0, 41)  # where the samplers read them; at t = 0, sigma = sqrt(1 - abar) is all
    library = SCHEDULES[schedule]()  # float32 rounding (2e-4 against 0)
    for name, atol in (("abar", 1e-6), ("beta", 1e-5), ("sigma", 1e-4)):
        torch.testing.assert_close(ns[name](t).float(), getattr(library, name)(t).float(), atol=atol, rtol=1e-4)


@pytest.mark.parametrize(
    "changes",
    [
        {"sampler": "sde"},
        {"sampler": "ddpm"},
        {"sampler": "ddim"},
        {"sampler": "ode"},
        {"sampler": "sde", "noise_schedule": "linear", "target": "score"},
        {"sampler": "ddim", "target": "x0"},
    ],
    ids=["sde", "ddpm", "ddim", "ode", "sde-linear-score", "ddim-x0"],
)
def test_diffusion_sampler_and_prediction_target(changes: dict) -> None:
    def library(method, x_T: torch.Tensor) -> torch.Tensor:
        return method.trajectories(x_T, None)[-1]

    _samplers_agree("diffusion", DiffusionConfig(device="cpu", sampler_steps=20), changes, library)


@pytest.mark.parametrize(
    "changes",
    [
        {"kind": "vae"},
        {"kind": "vae", "beta": 4.0, "latent_dim": 1, "linear_decoder": True},
        {"kind": "ae"},
        {"kind": "vqvae"},
    ],
)
def test_vae_objective_on_the_same_batch(changes: dict) -> None:
    """The notebook's `objective(x)` is the method's loss_terms(x, eps)["loss"] for the same weights, x and ε."""
    from explorer.methods import VAEConfig

    config = dataclasses.replace(VAEConfig(device="cpu"), **changes)
    ns = _definitions("vae", config)
    method = TrainingSession("vae", config).method
    _copy_linears(method.encoder_net, ns["encoder"])
    _copy_linears(method.decoder_net, ns["decoder"])
    with torch.no_grad():
        method.decoder_log_var.copy_(ns["log_var"])
        method.codebook.copy_(ns["codebook"])
    x = get_density(config.density).sample(256, torch.Generator().manual_seed(1))
    torch.manual_seed(SEED)
    notebook = ns["objective"](x)
    torch.manual_seed(SEED)
    eps = torch.randn(256, config.latent_dim)
    torch.testing.assert_close(notebook, method.loss_terms(x, eps)["loss"], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("changes", [{}, {"density": "two_moons", "activation": "tanh"}], ids=["checkerboard", "moons"])
def test_realnvp_log_prob_and_sampler(changes: dict) -> None:
    """From the same random (non-identity) weights: the notebook's exact log p(x) and its samples are the method's."""
    from explorer.methods import FlowConfig

    config = dataclasses.replace(FlowConfig(device="cpu"), **changes)
    ns = _definitions("flow", config)
    with torch.no_grad():
        for p in ns["flow"].parameters():
            p.copy_(0.3 * torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())))
    method = TrainingSession("flow", config).method
    _copy_linears(method.flow, ns["flow"])
    x = 0.8 * get_density(config.density).sample(500, torch.Generator().manual_seed(2))  # inside any bound
    torch.testing.assert_close(ns["log_prob"](x).detach(), method.log_prob(x), atol=1e-4, rtol=1e-4)
    torch.manual_seed(SEED)
    notebook = ns["sample_model"](N)
    torch.manual_seed(SEED)
    torch.testing.assert_close(notebook, method.push_forward(torch.randn(N, 2)), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("family", ["flow_matching", "diffusion"])
def test_ode_likelihood(family: str) -> None:
    """The notebook's log p_θ(x) (RK4 with an autograd divergence) is the method's (forward-mode divergence)."""
    config = (FlowMatchingConfig if family == "flow_matching" else DiffusionConfig)(device="cpu")
    ns = _definitions(family, config, likelihood=True)
    method = _method_with_the_notebooks_weights(family, config, ns["net"])
    x = get_density(config.density).sample(200, torch.Generator().manual_seed(3))
    assert "nll" in ns["RESULTS"]
    torch.testing.assert_close(ns["log_prob"](x, ns["net"]), method.log_prob(x), atol=1e-4, rtol=1e-4)


def test_vae_likelihood_by_quadrature_and_importance_sampling() -> None:
    from explorer.kernels.vae_likelihood import importance_sampling, log_likelihood_quadrature
    from explorer.methods import VAEConfig

    config = VAEConfig(device="cpu")
    ns = _definitions("vae", config, likelihood=True)
    method = TrainingSession("vae", config).method
    _copy_linears(method.encoder_net, ns["encoder"])
    _copy_linears(method.decoder_net, ns["decoder"])
    with torch.no_grad():
        method.decoder_log_var.copy_(ns["log_var"])
    x = get_density(config.density).sample(100, torch.Generator().manual_seed(4))
    log_var = method.decoder_log_var.detach()
    quadrature = log_likelihood_quadrature(x, method.decode, log_var, config.latent_dim)
    torch.testing.assert_close(ns["log_prob_quadrature"](x), quadrature, atol=1e-4, rtol=1e-4)
    torch.manual_seed(SEED)
    notebook = ns["log_prob_importance"](x, 50)
    mu, log_var_q = method.encode(x)
    library = importance_sampling(x, mu, log_var_q, method.decode, log_var, 50, 1, torch.Generator().manual_seed(SEED))
    torch.testing.assert_close(notebook, library[0].detach(), atol=1e-4, rtol=1e-4)
