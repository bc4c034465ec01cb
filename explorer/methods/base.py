"""The protocol every family implements, so that one session trains them all."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import torch
from torch import Tensor

from explorer.configs import TrainingConfig
from explorer.data.densities import Density

_INIT_LOCK = threading.Lock()


@contextlib.contextmanager
def seeded_init(seed: int) -> Iterator[None]:
    """Within: torch's global generators seeded with `seed`, for the initial weights `nn.Linear` draws from them
    (it takes no generator); on leaving, their state is restored, so that constructing a model changes no other
    user's random numbers. One construction at a time, so that two sessions built at once cannot interleave."""
    with _INIT_LOCK, torch.random.fork_rng():
        torch.manual_seed(seed)
        yield


class Method:
    """A model family: its networks, optimizer state, one training chunk, and its sampler.

    The session owns the step counter, the learning-rate schedule, histories and fault handling;
    a method only knows how to take optimisation steps and how to draw samples.
    """

    has_log_prob = False  # whether `log_prob(x)` gives the model's log-density of new points
    quality_points = 12  # quality evaluations over a run of the configured length (plus the time-based ones)
    # whether a loss EXPLOSION_FACTOR times the untrained model's means training diverged (`TrainingSession`); a
    # model whose loss may rightly grow without limit (a divergence bound on disjoint supports) says False
    bounded_loss = True

    def __init__(self, config: TrainingConfig, density: Density, device: torch.device) -> None:
        self.config, self.density, self.device = config, density, device

    def train_chunk(self, lrs: list[float], generator: torch.Generator) -> Tensor:
        """Take len(lrs) optimisation steps (step i at lr lrs[i]); return the losses `[len(lrs)]`."""
        raise NotImplementedError

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        """n model samples `[n, 2]` with the current sampler settings."""
        raise NotImplementedError

    def quality(self, n: int, generator: torch.Generator) -> dict | None:
        """The model's own quality figures ({key: `explorer.maths.metrics.Metric`}), for a model that draws no
        samples (a critic); None (the default): the session scores `sample(n)` against the target."""
        return None

    def state_dict(self) -> dict[str, Tensor]:
        """Every tensor a restore needs (weights and optimizer state)."""
        raise NotImplementedError

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        raise NotImplementedError

    @classmethod
    def evaluations_per_sample(cls, config: TrainingConfig) -> tuple[int, str]:
        """(sequential network passes to draw one sample, how they add up) under `config`'s sampler."""
        return 1, "one pass"

    def divergence_hint(self) -> str:
        """What to change after a divergence (shown after the session's explanation)."""
        return "Lower the learning rate and press Train, or Reset."

    def apply_live(self, config: TrainingConfig) -> None:
        """Adopt a config that differs from the current one only in live fields."""
        self.config = config

    @property
    def n_params(self) -> int:
        raise NotImplementedError


class RegressionMethod(Method):
    """A family whose training is a regression of an `nets.MLP` onto targets (flow matching,
    denoising score matching): subclasses build `self.optimizer` (a FlatAdamRegression) and define
    `training_pairs`; the data stream, chunking and state handling are shared here."""

    DATA_BLOCK = 128  # batches drawn per call to the data generator

    def __init__(self, config: TrainingConfig, density: Density, device: torch.device) -> None:
        super().__init__(config, density, device)
        self._inputs, self._targets, self._cursor = torch.empty(0), torch.empty(0), 0

    def training_pairs(self, n_batches: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """Network inputs `[n_batches, B, F]` and regression targets `[n_batches, B, out]`."""
        raise NotImplementedError

    @property
    def data_block(self) -> int:
        return self.DATA_BLOCK

    @property
    def ema_decay(self) -> float:
        """Decay of the weights' moving average kept during training (0: none)."""
        return 0.0

    def train_chunk(self, lrs: list[float], generator: torch.Generator) -> Tensor:
        losses, done = [], 0
        while done < len(lrs):
            if self._cursor == len(self._inputs):
                # Fixed-size blocks: the random stream, hence the run, depends on the seed only,
                # not on how the session's time budget happens to cut the steps into chunks.
                self._inputs, self._targets = self.training_pairs(self.data_block, generator)
                self._cursor = 0
            k = min(len(lrs) - done, len(self._inputs) - self._cursor)
            span = slice(self._cursor, self._cursor + k)
            losses.append(
                self.optimizer.steps(self._inputs[span], self._targets[span], lrs[done : done + k], self.ema_decay)
            )
            self._cursor += k
            done += k
        return torch.cat(losses)

    def state_dict(self) -> dict[str, Tensor]:
        return self.optimizer.state_dict()

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        self.optimizer.load_state_dict(state)

    @property
    def n_params(self) -> int:
        return self.optimizer.n_params
