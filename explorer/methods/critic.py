"""Critics that estimate a divergence between two exact 2D densities from their samples alone.

Two networks train side by side on the same batches of q (the session's density) and of p (another density,
moved and scaled): f ascends the Donsker-Varadhan bound E_q f - log E_p e^f on KL(q || p), and a
discriminator D = sigmoid(l) ascends the GAN objective E_q log D + E_p log(1 - D) = 2 JS - log 4 at its
optimum (`explorer.maths.dual_divergences`). Both are plain `nets.MLP`s trained by autograd and Adam; the
session's quality points score both bounds on fresh samples against the exact values, computed once from the
two densities by quadrature (`explorer.maths.divergences`).
"""

from __future__ import annotations

import dataclasses
import functools

import torch
from torch import Tensor

from explorer.configs import TrainingConfig, batch_size_param, lr_param, param, steps_param
from explorer.data.densities import DENSITIES, Density, get_density
from explorer.kernels.nets import MLP
from explorer.maths.divergences import integration_square, kl_grid
from explorer.maths.dual_divergences import donsker_varadhan, js_from_objective, js_objective
from explorer.maths.measures import Moved
from explorer.maths.metrics import Metric
from explorer.maths.optimal_discriminator import js_divergence_grid
from explorer.methods.base import Method, seeded_init

EXACT = tuple(name for name, factory in DENSITIES.items() if factory().has_log_prob)
SCALES = (0.5, 0.75, 1.0, 1.5, 2.0)
# Fresh samples of each density per scored point: the log-mean-exp of e^f under p is heavy-tailed (its relative
# variance is about e^(2 KL) for two Gaussians), so at 8,192 the DV estimate of a trained default critic scattered
# by 0.065 nats (1.02-1.23 for a KL of 1.125); at 32,768 by about 0.03, for ~30 ms a point.
EVALUATION_POINTS = 32768


@dataclasses.dataclass(frozen=True)
class CriticConfig(TrainingConfig):
    # Measured on two unit Gaussians 1.5 apart (KL = 1.125; 2-core AMD EPYC, seeds 0-2): 2 x 64 SiLU critics at
    # batch 256, Adam 3e-3 with a cosine decay read the DV bound at 1.117-1.122 and JS within 0.2% (scored on
    # 50,000 points) after 1,000 steps (2 s).
    density: str = param("gaussian", "q (the samples' law)", choices=EXACT, group="data")
    reference: str = param("gaussian", "p (the reference)", choices=EXACT, group="data")
    shift_x: float = param(1.5, "move p: x", lo=-6.0, hi=6.0, group="data")
    shift_y: float = param(0.0, "move p: y", lo=-6.0, hi=6.0, group="data")
    scale: float = param(1.0, "scale p", choices=SCALES, group="data")
    hidden: int = param(64, "Critic width", lo=1, hi=512, group="model", presets=(2, 4, 8, 16, 32, 64, 128, 256))
    depth: int = param(2, "Critic hidden layers", lo=1, hi=6, group="model", slider=True)
    batch_size: int = batch_size_param(256)
    lr: float = lr_param(3e-3)
    steps: int = steps_param(1000)


@functools.lru_cache(maxsize=64)
def exact_divergences(q_name: str, p_name: str, shift: tuple[float, float], scale: float) -> tuple[float, float]:
    """(KL(q || p), JS(q || p)) in nats by quadrature on a grid that holds and resolves both (inf where q has
    mass that p does not)."""
    q, p = get_density(q_name), Moved(get_density(p_name), shift, scale)
    lim, n = integration_square(q, p)
    return kl_grid(q.log_prob, p.log_prob, lim, n), js_divergence_grid(q.log_prob, p.log_prob, lim, n)


class DualCritic(Method):
    """f (Donsker-Varadhan) and D (the GAN discriminator) between q = `density` and p = the config's reference."""

    quality_points = 20  # a point costs ~30 ms: the estimates' curves get 20 of them (one per 50 steps by default)
    bounded_loss = False  # on disjoint supports the DV bound rightly climbs without limit

    def __init__(self, config: CriticConfig, density: Density, device: torch.device) -> None:
        super().__init__(config, density, device)
        self.reference = Moved(get_density(config.reference), (config.shift_x, config.shift_y), config.scale)
        with seeded_init(config.seed):
            self.f_net = MLP(2, 1, config.hidden, config.depth).to(device)
            self.d_net = MLP(2, 1, config.hidden, config.depth).to(device)
        self.optimizers = [torch.optim.Adam(net.parameters(), lr=config.lr) for net in (self.f_net, self.d_net)]

    @property
    def exact(self) -> tuple[float, float]:
        """(KL(q || p), JS(q || p)) of the two densities (nats)."""
        cfg = self.config
        return exact_divergences(cfg.density, cfg.reference, (cfg.shift_x, cfg.shift_y), cfg.scale)

    def critic(self, x: Tensor) -> Tensor:
        """f(x) `[n]`."""
        return self.f_net(x).squeeze(-1)

    def logit(self, x: Tensor) -> Tensor:
        """l(x) `[n]`, D = sigmoid(l)."""
        return self.d_net(x).squeeze(-1)

    def _draw(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        return self.density.sample(n, generator).to(self.device), self.reference.sample(n, generator).to(self.device)

    def train_chunk(self, lrs: list[float], generator: torch.Generator) -> dict[str, Tensor]:
        """len(lrs) steps of both critics on shared batches; per step -DV ("loss") and -(GAN objective)."""
        dv_losses, d_losses = [], []
        for lr in lrs:
            xq, xp = self._draw(self.config.batch_size, generator)
            losses = (
                -donsker_varadhan(self.critic(xq), self.critic(xp)),
                -js_objective(self.logit(xq), self.logit(xp)),
            )
            for optimizer, loss in zip(self.optimizers, losses, strict=True):
                for group in optimizer.param_groups:
                    group["lr"] = lr
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            dv_losses.append(losses[0].detach())
            d_losses.append(losses[1].detach())
        return {"loss": torch.stack(dv_losses), "d_loss": torch.stack(d_losses)}

    @torch.no_grad()
    def estimates(self, generator: torch.Generator, n: int = EVALUATION_POINTS) -> tuple[float, float]:
        """(DV bound, JS estimate) on n fresh samples of each density."""
        xq, xp = self._draw(n, generator)
        dv = float(donsker_varadhan(self.critic(xq), self.critic(xp)))
        return dv, js_from_objective(float(js_objective(self.logit(xq), self.logit(xp))))

    def quality(self, n: int, generator: torch.Generator) -> dict[str, Metric]:
        """The two estimates, each with the exact value as the line it should reach."""
        dv, js = self.estimates(generator)
        kl_exact, js_exact = self.exact
        return {
            "kl_dv": Metric("KL(q ‖ p): Donsker–Varadhan bound", dv, kl_exact),
            "js": Metric("JS(q ‖ p) from D", js, js_exact),
        }

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        raise NotImplementedError("a critic draws no samples")

    def state_dict(self) -> dict:
        return {
            "f": self.f_net.state_dict(),
            "d": self.d_net.state_dict(),
            "opt": [optimizer.state_dict() for optimizer in self.optimizers],
        }

    def load_state_dict(self, state: dict) -> None:
        self.f_net.load_state_dict(state["f"])
        self.d_net.load_state_dict(state["d"])
        for optimizer, saved in zip(self.optimizers, state["opt"], strict=True):
            optimizer.load_state_dict(saved)

    @property
    def n_params(self) -> int:
        return sum(p.numel() for net in (self.f_net, self.d_net) for p in net.parameters())
