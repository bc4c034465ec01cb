"""The protocol every family implements, so that one session trains them all."""

from __future__ import annotations

import torch
from torch import Tensor

from explorer.configs import TrainingConfig
from explorer.densities import Density


class Method:
    """A model family: its networks, optimizer state, one training chunk, and its sampler.

    The session owns the step counter, the learning-rate schedule, histories and fault handling;
    a method only knows how to take optimisation steps and how to draw samples.
    """

    def __init__(self, config: TrainingConfig, density: Density, device: torch.device) -> None:
        self.config, self.density, self.device = config, density, device

    def train_chunk(self, lrs: list[float], generator: torch.Generator) -> Tensor:
        """Take len(lrs) optimisation steps (step i at lr lrs[i]); return the losses `[len(lrs)]`."""
        raise NotImplementedError

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        """n model samples `[n, 2]` with the current sampler settings."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Tensor]:
        """Every tensor a restore needs (weights and optimizer state)."""
        raise NotImplementedError

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        raise NotImplementedError

    def apply_live(self, config: TrainingConfig) -> None:
        """Adopt a config that differs from the current one only in live fields."""
        self.config = config

    @property
    def n_params(self) -> int:
        raise NotImplementedError
