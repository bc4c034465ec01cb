"""explorer.maths.coupling: minibatch OT pairing."""

from __future__ import annotations

import itertools

import pytest
import torch

from explorer.data.densities import get_density
from explorer.device import make_generator
from explorer.maths.coupling import mean_pairing_cost, ot_permutation, pair


def _batch(n: int = 64, seed: int = 0):
    g = make_generator(seed)
    return torch.randn(n, 2, generator=g), get_density("eight_gaussians").sample(n, g)


def test_ot_permutation_is_a_permutation():
    x0, x1 = _batch()
    index = ot_permutation(x0, x1)
    assert index.shape == (64,)
    assert index.dtype == torch.int64
    assert torch.equal(index.sort().values, torch.arange(64))


def test_ot_lowers_the_mean_pairing_cost():
    x0, x1 = _batch()
    independent = mean_pairing_cost(x0, x1)
    optimal = mean_pairing_cost(x0, x1[ot_permutation(x0, x1)])
    assert optimal < 0.8 * independent


def test_ot_recovers_a_shuffle_with_zero_cost():
    x0, _ = _batch()
    shuffle = torch.randperm(64, generator=make_generator(3))
    x1 = x0[shuffle]
    index = ot_permutation(x0, x1)
    assert mean_pairing_cost(x0, x1[index]) == 0.0
    torch.testing.assert_close(x1[index], x0)


def test_ot_matches_brute_force_on_a_small_batch():
    x0, x1 = _batch(6, seed=7)
    best = min(mean_pairing_cost(x0, x1[list(p)]) for p in itertools.permutations(range(6)))
    assert abs(mean_pairing_cost(x0, x1[ot_permutation(x0, x1)]) - best) < 1e-5


def test_pair_keeps_independent_pairs_and_finds_the_optimal_ones():
    """Independent: the batch's own order. OT: a permutation as cheap as the best of all 6! pairings."""
    x0, x1 = _batch(6, seed=8)
    assert torch.equal(pair(x0, x1, "independent"), torch.arange(6))
    index = pair(x0, x1, "ot")
    assert torch.equal(index.sort().values, torch.arange(6))
    best = min(mean_pairing_cost(x0, x1[list(p)]) for p in itertools.permutations(range(6)))
    assert mean_pairing_cost(x0, x1[index]) == pytest.approx(best, abs=1e-5)
    assert best < mean_pairing_cost(x0, x1)  # this batch's own order is not optimal: the test can tell them apart


def test_mean_pairing_cost_formula():
    x0 = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    x1 = torch.tensor([[3.0, 4.0], [1.0, 1.0]])
    assert mean_pairing_cost(x0, x1) == 12.5
