"""Normalizing flows: RealNVP (`explorer.kernels.realnvp`) trained by exact maximum likelihood.

Objective, for data x ~ p and the flow's density p_theta (change of variables, z = f^{-1}(x)):

    L(theta) = E_x[-log p_theta(x)] = E_x[ |z|^2 / 2 + log 2 pi + sum_k s_k ]  (nats)

Its infimum is the entropy H(p) of the data, and L - H(p) = KL(p || p_theta) >= 0. Sampling is one
pass x = f(z), z ~ N(0, I). For data in a known box [-b, b]^2 (`Density.box`, the checkerboard) the flow
ends, by default, with the fixed x = L tanh(y / L), L = 1.025 b (`explorer.kernels.realnvp.BoundedOutput`):
the couplings then train on y = L artanh(x / L), and the NLL adds the layer's fixed log-det. Training
runs `explorer.kernels.realnvp_kernel` (hand-derived backward, Adam) on the conditioners' flat parameter
buffer; the session family key is "flow".
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor

from explorer.configs import TrainingConfig, lr_param, param, steps_param
from explorer.data.densities import Density
from explorer.kernels.flat_mlp import FlatMLP
from explorer.kernels.realnvp import RealNVP
from explorer.kernels.realnvp_kernel import compiled_flow_forward, compiled_flow_log_prob, compiled_realnvp_steps
from explorer.methods.base import Method, seeded_init

DATA_BLOCK = 128  # batches drawn at once, so the run depends on the seed only, not on chunking
BOX_MARGIN = 1.025  # L = 1.025 b: the bounded output's edge, a little outside the data's box [-b, b]^2


@dataclasses.dataclass(frozen=True)
class FlowConfig(TrainingConfig):
    density: str = param(
        "checkerboard",
        "Target density",
        group="data",
        help="The 2D distribution to learn (or a CSV you uploaded on the Densities page).",
    )
    n_layers: int = param(
        16,
        "Coupling layers K",
        lo=1,
        hi=64,
        group="model",
        slider=True,
        help="Each coupling moves one coordinate given the other; the masks alternate.",
    )
    hidden: int = param(32, "Width", lo=4, hi=512, group="model", presets=(8, 16, 32, 64, 96, 128, 192, 256, 512))
    depth: int = param(2, "Hidden layers per coupling", lo=1, hi=8, group="model", slider=True)
    scale_bound: float = param(
        2.0,
        "Scale bound S (s = S tanh r)",
        lo=0.05,
        hi=10.0,
        group="model",
        help="One coupling stretches or squeezes by at most e^S; large S trains faster but less stably.",
    )
    activation: str = param(
        "relu",
        "Conditioner activation",
        choices=("relu", "silu", "tanh"),
        group="model",
        help="ReLU makes s and t piecewise linear: sharp edges come easily (measured on the checkerboard).",
    )
    bounded: bool = param(
        True,
        "Bounded output for data in a box",
        group="model",
        help="Data in a known box [-b, b]² (the checkerboard): a fixed last layer x = L tanh(y / L), L = 1.025 b, "
        "so no sample lands outside the box. Other densities ignore it.",
    )
    # Measured on the checkerboard (2-core AMD EPYC, seeds 0-4): 16 couplings of width 32 at 4e-3 with the bounded
    # output leave 3.8-4.8% of samples outside the cells after 3,000 steps (10-15 s), 3.3-4.6% after 4,000 (which
    # does not fit the 15-s budget on a slower CPU); without it 5.1-6.9% after 3,000. 8 of width 64 over 3,000 steps
    # left 6.8-7.6%, still 5.7% after 12,000 (depth helps the sharp edges more than width: docs/decisions.md, "Models").
    lr: float = lr_param(4e-3)
    steps: int = steps_param(3000)


class NormalizingFlow(Method):
    """A `RealNVP` whose conditioners' parameters are views of one `FlatMLP` buffer."""

    has_log_prob = True  # by the change of variables

    def __init__(self, config: FlowConfig, density: Density, device: torch.device) -> None:
        super().__init__(config, density, device)
        bound = output_bound(config, density)
        with seeded_init(config.seed):
            self.flow = RealNVP(
                config.n_layers, config.hidden, config.depth, config.scale_bound, config.activation, bound
            )
        self.flow.to(device)
        self.flow.requires_grad_(False)
        self.flat = FlatMLP(self.flow.linear_stack())
        self._data, self._log_det, self._cursor = torch.empty(0), torch.empty(0), 0

    @property
    def bound(self) -> float:
        """L of the flow's bounded output, 0 without one."""
        return self.flow.output.bound if self.flow.output is not None else 0.0

    @property
    def n_params(self) -> int:
        return self.flat.n_params

    @classmethod
    def evaluations_per_sample(cls, config: FlowConfig) -> tuple[int, str]:
        return 1, f"one pass through {config.n_layers} couplings"  # x = f(z): its K networks in turn

    def divergence_hint(self) -> str:
        return (
            f"The log-scales are bounded (|s| <= S = {self.config.scale_bound:g} per layer), so a NaN comes from "
            "too large a step: lower the learning rate and press Train, or Reset."
        )

    # --- training ------------------------------------------------------------------------
    @torch.no_grad()
    def train_chunk(self, lrs: list[float], generator: torch.Generator) -> Tensor:
        """len(lrs) Adam steps on the mean NLL; the NLL of each step's batch (before it) `[len(lrs)]`. With the
        bounded output the couplings see y = L artanh(x / L), and the NLL of x adds the batch's mean of
        -log |det dy/dx| (fixed: no gradient)."""
        losses, done, cfg = [], 0, self.config
        while done < len(lrs):
            if self._cursor == len(self._data):
                y, log_det = self._unbounded(self.density.sample(DATA_BLOCK * cfg.batch_size, generator))
                self._data, self._log_det = y.view(DATA_BLOCK, -1, 2), log_det.view(DATA_BLOCK, -1).mean(1)
                self._cursor = 0
            k = min(len(lrs) - done, len(self._data) - self._cursor)
            flat = self.flat
            losses.append(
                compiled_realnvp_steps()(
                    flat.weights,
                    flat.weights_t,
                    flat.biases,
                    flat.grad_weights,
                    flat.grad_biases,
                    flat.flat,
                    flat.grad,
                    flat.exp_avg,
                    flat.exp_avg_sq,
                    flat.step_count,
                    self._data[self._cursor : self._cursor + k],
                    [float(lr) for lr in lrs[done : done + k]],
                    cfg.n_layers,
                    float(cfg.scale_bound),
                    cfg.activation,
                    0.9,
                    0.999,
                    1e-8,
                )
            )
            losses[-1] = losses[-1] - self._log_det[self._cursor : self._cursor + k]
            self._cursor += k
            done += k
        return torch.cat(losses)

    def state_dict(self) -> dict[str, Tensor]:
        """The conditioners' weights and Adam state; with the bounded output also its L under `bounded_output`, so
        that a checkpoint of a bounded flow and a page without the layer (or the other way round) do not match."""
        state = self.flat.state_dict()
        if self.flow.output is not None:
            state["bounded_output"] = torch.tensor(self.bound, dtype=self.flat.flat.dtype)
        return state

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        self.flat.load_state_dict({k: v for k, v in state.items() if k != "bounded_output"})

    # --- the flow ---------------------------------------------------------------------------
    # `sample` and `log_prob` run the couplings in one compiled call (`explorer.kernels.realnvp_kernel`): the
    # live view evaluates both four times a second, and op by op each would wait for the GIL on a busy
    # server. They equal `self.flow(z)` and `self.flow.log_prob(x)` (tests/test_realnvp.py).
    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        """x = f(z) `[n, 2]` for z ~ N(0, I)."""
        return self.push_forward(torch.randn((n, 2), generator=generator, device=generator.device).to(self.device))

    @torch.no_grad()
    def push_forward(self, z: Tensor) -> Tensor:
        """x = f(z) `[n, 2]`: one pass through the K couplings (and the bounded output)."""
        x = compiled_flow_forward()(self.flat.weights_t, self.flat.biases, z, *self._flow_settings())
        return self.flow.output(x)[0] if self.flow.output is not None else x

    @torch.no_grad()
    def log_prob(self, x: Tensor) -> Tensor:
        """log p_theta(x) `[n]` (exact, by the change of variables; -inf on and outside a bounded output's box)."""
        x = x.to(self.device, self.flat.flat.dtype)
        y, log_det = self._unbounded(x)
        log_p = compiled_flow_log_prob()(self.flat.weights_t, self.flat.biases, y, *self._flow_settings()) + log_det
        return self.flow.zero_outside(x, log_p)

    def _unbounded(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """What the couplings see, y `[n, 2]` (x itself without a bounded output), and log |det dy/dx| `[n]`."""
        x = x.to(self.device)
        return self.flow.output.inverse(x) if self.flow.output is not None else (x, x.new_zeros(len(x)))

    def _flow_settings(self) -> tuple[int, float, str]:
        cfg = self.config
        return self.flow.n_layers, float(cfg.scale_bound), cfg.activation


def output_bound(config: FlowConfig, density: Density) -> float:
    """L of the flow's bounded output (`BoundedOutput`): BOX_MARGIN b for a density in a box [-b, b]^2 when
    `config.bounded`, else 0 (no such layer)."""
    return BOX_MARGIN * density.box if config.bounded and density.box else 0.0
