"""Divergences estimated by a critic from samples alone: their variational (dual) forms.

Donsker-Varadhan, for any function f (a "critic"):

    KL(q || p) = sup_f  E_q[f] - log E_p[e^f],   attained at f = log(q / p) + c (any constant c).

The GAN discriminator's objective, for D = sigmoid(l) (l the network's logit):

    E_q[log D] + E_p[log(1 - D)]  <=  2 JS(q || p) - log 4,   attained at D* = q / (q + p),

so a trained discriminator estimates JS = (objective + log 4) / 2 without evaluating either density.
Both are lower bounds: a critic that has not found the optimum (too small, not trained enough) reads low.
On samples the expectations are means; log E_p[e^f] is a log-mean-exp.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.nn.functional import softplus

LOG4 = math.log(4.0)


def _mean(values: Tensor, weights: Tensor | None) -> Tensor:
    return values.mean() if weights is None else (weights * values).sum()


def donsker_varadhan(f_q: Tensor, f_p: Tensor, w_q: Tensor | None = None, w_p: Tensor | None = None) -> Tensor:
    """E_q f - log E_p e^f from critic values at points of q `[n]` and of p `[m]` (a lower bound on KL(q || p)).

    The expectations are means over samples, or sums with weights w_q `[n]`, w_p `[m]` (each summing to 1:
    quadrature)."""
    log_mean_exp = (
        torch.logsumexp(f_p, dim=0) - math.log(f_p.shape[0]) if w_p is None else torch.logsumexp(f_p + w_p.log(), 0)
    )
    return _mean(f_q, w_q) - log_mean_exp


def js_objective(logit_q: Tensor, logit_p: Tensor, w_q: Tensor | None = None, w_p: Tensor | None = None) -> Tensor:
    """E_q log D + E_p log(1 - D), D = sigmoid(logit), from logits at points of q `[n]` and of p `[m]`
    (= -softplus(-l) and -softplus(l)); at most 2 JS(q || p) - log 4. Means, or weighted sums as above."""
    return -_mean(softplus(-logit_q), w_q) - _mean(softplus(logit_p), w_p)


def js_from_objective(value: float) -> float:
    """The JS estimate (nats) of a discriminator objective value: (value + log 4) / 2."""
    return 0.5 * (value + LOG4)
