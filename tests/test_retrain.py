"""The self-consuming loop (`explorer.training.retrain`): a Gaussian refitted on its own samples loses variance
by (1 - 1/n) per generation on average and collapses, real data keeps it, EM against a closed form, and a family
retrained through the session machinery reports its scores per generation. (Accumulating against replacing is
checked with the page's demos, tests/test_page_retrain.py.)"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from explorer.bench.cli import main
from explorer.data.densities import get_density
from explorer.maths.gmm import fit_gmm
from explorer.training.retrain import RetrainConfig, SelfConsumingLoop


def _run(scored: int = 50, **settings) -> SelfConsumingLoop:
    loop = SelfConsumingLoop(RetrainConfig(**settings), scored=scored)
    while not loop.done:
        loop.step()
    return loop


def test_one_component_em_is_the_sample_mean_and_biased_covariance() -> None:
    x = torch.randn(200, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64) @ torch.tensor(
        [[1.0, 0.3], [0.0, 0.5]], dtype=torch.float64
    )
    fit = fit_gmm(x, 1, torch.Generator().manual_seed(1))
    centred = x - x.mean(0)
    torch.testing.assert_close(fit.means[0], x.mean(0))
    torch.testing.assert_close(fit.covariances[0], centred.T @ centred / 200, atol=2e-6, rtol=0)  # + JITTER
    reference = torch.distributions.MultivariateNormal(fit.means[0], fit.covariances[0]).log_prob(x)
    torch.testing.assert_close(fit.log_prob(x), reference)
    torch.testing.assert_close(fit.covariance(), fit.covariances[0])


def test_em_finds_the_eight_modes() -> None:
    density = get_density("eight_gaussians")
    generator = torch.Generator().manual_seed(3)
    fit = fit_gmm(density.sample(2000, generator), 8, generator)
    order = density.nearest_component(fit.means.float())
    assert sorted(order.tolist()) == list(range(8))  # one component per mode
    assert torch.allclose(fit.weights, torch.full((8,), 0.125, dtype=torch.float64), atol=0.03)
    stds = fit.covariances.diagonal(dim1=1, dim2=2).sqrt()
    assert torch.allclose(stds, torch.full_like(stds, 0.3), atol=0.05)


def test_a_gaussian_refitted_on_its_own_samples_collapses_and_half_real_data_keeps_it() -> None:
    collapsing = _run(density="gaussian", n=100, components=1, generations=1000)
    start = collapsing.generations[0].cov_trace
    assert collapsing.generations[-1].cov_trace < 0.5 * start
    stable = _run(density="gaussian", n=100, components=1, generations=1000, fresh=0.5)
    traces = np.array([g.cov_trace for g in stable.generations])
    assert traces[-1] > 0.6 * traces[0] and traces[-100:].mean() > 0.8 * traces[0]  # it fluctuates, it does not fall


def test_the_covariance_shrinks_by_one_minus_one_over_n_per_generation_on_average() -> None:
    """E tr S_g = (1 - 1/n)^(g + 1) tr S for the maximum-likelihood refit (generation 0 fits real data), over
    many seeded runs, within three standard errors at every generation."""
    n, generations, runs = 20, 8, 200
    traces = np.array(
        [
            [
                g.cov_trace
                for g in _run(density="gaussian", n=n, components=1, generations=generations, seed=s).generations
            ]
            for s in range(runs)
        ]
    )
    expected = 2.0 * (1 - 1 / n) ** (np.arange(generations) + 1)
    mean, error = traces.mean(0), traces.std(0) / math.sqrt(runs)
    assert np.all(np.abs(mean - expected) < 3 * error), (mean, expected, error)
    assert mean[-1] < 0.75 * 2.0  # the shrinkage is visible, not within the noise


def test_flow_matching_retrains_three_generations_and_reports_each(capsys) -> None:
    argv = ["--retrain", "flow_matching", "--density", "eight_gaussians", "--n", "1000", "--generations", "3"]
    assert main([*argv, "--fresh", "0.5", "--steps", "1500", "--seed", "0", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert [line["generation"] for line in lines] == [0, 1, 2]
    for line in lines:
        assert {"cov_trace", "seconds", "logp_gap", "mode_tv", "min_mode_mass"} <= set(line)
        assert abs(line["logp_gap"]) < 1.0 and line["mode_tv"] < 0.2 and line["seconds"] > 0


@pytest.mark.parametrize("fixed", [False, True])
def test_real_points_come_fresh_or_from_the_fixed_set(fixed: bool) -> None:
    loop = SelfConsumingLoop(RetrainConfig(n=50, generations=3, fresh=1.0, fixed_real=fixed), scored=50)
    loop.step()
    loop.step()
    real = set(map(tuple, loop.real.tolist()))
    newest = set(map(tuple, loop.batches[-1].tolist()))
    assert (newest <= real) == fixed


def test_the_notebook_writes_the_loop_and_its_em_agrees_with_the_library() -> None:
    from test_notebook import _in_process

    from explorer.notebook.retrain import notebook

    config = RetrainConfig(density="gaussian", n=20, components=1, generations=30)
    book = notebook(config, get_density("gaussian"))
    results = _in_process(book)
    traces = results["cov_trace"]
    assert len(traces) == 30 and traces[-1] < traces[0]
    namespace: dict = {}
    for cell in book.cells:  # parameters, imports, the target's sampler, EM: not the loop
        if cell.cell_type == "code" and "for generation in range" not in cell.source:
            exec(compile(cell.source, "<notebook>", "exec"), namespace)  # noqa: S102 - our own generated code
    density = get_density("eight_gaussians")
    x = density.sample(2000, torch.Generator().manual_seed(4)).double()
    one = namespace["fit_gmm"](x, 1)
    ours = fit_gmm(x, 1, torch.Generator().manual_seed(0))
    torch.testing.assert_close(one[1][0], ours.means[0])
    torch.testing.assert_close(one[2][0], ours.covariances[0])
    eight = namespace["fit_gmm"](x, 8)
    library = fit_gmm(x, 8, torch.Generator().manual_seed(0))
    assert namespace["covariance_trace"](eight) == pytest.approx(float(library.covariance().trace()), rel=0.01)
