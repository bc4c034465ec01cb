"""Couplings of source and target minibatches: independent, or minibatch optimal transport.

Minibatch OT (Tong et al., Pooladian et al.) re-pairs a batch x0 `[B, d]` with x1 `[B, d]` by the
permutation minimising sum_i ||x0_i - x1_sigma(i)||^2, solved exactly with POT's network simplex.
"""

from __future__ import annotations

import numpy as np
import ot
import torch
from torch import Tensor

COUPLINGS = ("independent", "ot")


def ot_permutation(x0: Tensor, x1: Tensor) -> Tensor:
    """Index `[B]` such that (x0[i], x1[index[i]]) is the optimal pairing for squared distance."""
    a = x0.detach().double().cpu().numpy()
    b = x1.detach().double().cpu().numpy()
    cost = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    n = len(a)
    plan = ot.emd(np.full(n, 1.0 / n), np.full(len(b), 1.0 / len(b)), cost)
    return torch.as_tensor(plan.argmax(axis=1), device=x1.device)


def pair(x0: Tensor, x1: Tensor, kind: str) -> Tensor:
    """Index into x1 that pairs it with x0 under the coupling `kind` (identity if independent)."""
    if kind == "ot":
        return ot_permutation(x0, x1)
    return torch.arange(x1.shape[0], device=x1.device)


def mean_pairing_cost(x0: Tensor, x1: Tensor) -> float:
    """E ||x1 - x0||^2 over the given pairs."""
    return float((x1 - x0).pow(2).sum(-1).mean())
