"""explorer.kernels.vae_likelihood: a VAE's log p(x) four ways, against the closed form of a linear decoder
(probabilistic PCA) in float64, and the bounds' order ELBO = IWAE_1 <= IWAE_K <= log p(x)."""

from __future__ import annotations

import math

import pytest
import torch

from explorer.kernels.vae_likelihood import (
    importance_sampling,
    linear_gaussian_log_likelihood,
    log_likelihood_quadrature,
    naive_monte_carlo,
)

X = torch.tensor([[0.3, 0.2], [2.0, -1.5], [-1.0, 0.5], [4.0, 3.0]], dtype=torch.float64)


def _linear(d: int):
    """m(z) = W z + b with W `[2, d]`, and a diagonal decoder variance."""
    weight = torch.tensor([[1.2, 0.3], [-0.4, 0.6]], dtype=torch.float64)[:, :d]
    bias, log_var = torch.tensor([0.5, -1.0], dtype=torch.float64), torch.log(torch.tensor([0.3, 0.1]).double())
    return weight, bias, log_var, (lambda z: z @ weight.T + bias)


@pytest.mark.parametrize("d", [1, 2])
def test_quadrature_of_a_linear_decoder_is_the_ppca_closed_form(d: int) -> None:
    weight, bias, log_var, decode = _linear(d)
    # not X[3]: with d = 2 its posterior lies beyond the grid's |z| <= 6, where the prior has e^-18 of its density
    exact = linear_gaussian_log_likelihood(X[:3], weight, bias, log_var)
    torch.testing.assert_close(log_likelihood_quadrature(X[:3], decode, log_var, d), exact, atol=1e-4, rtol=0)


def _posterior(d: int):
    """The exact posterior of the linear model (mean `[n, d]`, log-variances `[n, d]` of its diagonal), and a
    deliberately worse q (shifted, wider)."""
    weight, bias, log_var, _ = _linear(d)
    precision = weight.T @ torch.diag((-log_var).exp()) @ weight + torch.eye(d, dtype=torch.float64)
    cov = torch.linalg.inv(precision)
    mean = (X - bias) @ torch.diag((-log_var).exp()) @ weight @ cov
    return mean, torch.log(torch.diagonal(cov)).expand_as(mean)


def test_iwae_rises_with_k_towards_log_p_and_the_elbo_is_its_first_term() -> None:
    """With a q that is not the exact posterior (the linear model's posterior is correlated; q is its diagonal,
    shifted by 0.3): IWAE_1 (the ELBO) < IWAE_10 < IWAE_100 < log p(x), each the mean of 2,000 repeats."""
    weight, bias, log_var, decode = _linear(2)
    exact = linear_gaussian_log_likelihood(X, weight, bias, log_var)
    mean, log_var_q = _posterior(2)
    g = torch.Generator().manual_seed(0)
    bounds = [importance_sampling(X, mean + 0.3, log_var_q, decode, log_var, k, 2000, g).mean(0) for k in (1, 10, 100)]
    for lower, higher in zip(bounds, [*bounds[1:], exact], strict=True):
        assert bool((lower < higher).all()), (lower, higher)
    assert float((exact - bounds[-1]).max()) < 0.03  # IWAE_100 within 0.03 nats (measured 0.015)


def test_every_estimators_mean_approaches_the_reference() -> None:
    """Naive Monte Carlo over the prior and importance sampling are unbiased for p(x): the mean of exp(estimate)
    over repeats is p(x); importance sampling with the exact posterior's marginals is also nearly exact per draw."""
    weight, bias, log_var, decode = _linear(2)
    exact = linear_gaussian_log_likelihood(X[:3], weight, bias, log_var)
    g = torch.Generator().manual_seed(1)
    naive = naive_monte_carlo(X[:3], decode, log_var, 2, 1000, 200, g)
    assert float((naive.exp().mean(0).log() - exact).abs().max()) < 0.05
    mean, log_var_q = _posterior(2)
    draws = importance_sampling(X[:3], mean[:3], log_var_q[:3], decode, log_var, 100, 200, g)
    assert float((draws.mean(0) - exact).abs().max()) < 0.01
    assert float(draws.std(0).max()) < float(naive.std(0).max())  # the proposal's point: less variance


def test_naive_monte_carlo_misses_a_far_point() -> None:
    """x = (4, 3) lies where few prior draws reach: with K = 10 the naive estimate is far below log p(x) most of the
    time (the log of a mean of tiny values), while importance sampling is not."""
    weight, bias, log_var, decode = _linear(2)
    exact = float(linear_gaussian_log_likelihood(X[3:], weight, bias, log_var))
    g = torch.Generator().manual_seed(2)
    naive = naive_monte_carlo(X[3:], decode, log_var, 2, 10, 500, g)[:, 0]
    assert float(naive.median()) < exact - 1.0
    mean, log_var_q = _posterior(2)
    proposal = (mean[3:], log_var_q[3:])
    assert abs(float(importance_sampling(X[3:], *proposal, decode, log_var, 10, 500, g).median()) - exact) < 0.1
    assert math.isfinite(exact)
