"""RealNVP: couplings invertible with exact log-dets, a normalised density, the hand-derived kernel
against autograd + torch.optim.Adam, training by maximum likelihood, the entropy floor, the views and
the benchmark's flow figures."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
import torch

from explorer.data.densities import get_density
from explorer.device import make_generator
from explorer.kernels.flat_mlp import FlatMLP
from explorer.kernels.realnvp import AffineCoupling, BoundedOutput, RealNVP
from explorer.kernels.realnvp_kernel import (
    compiled_flow_forward,
    compiled_flow_log_prob,
    compiled_realnvp_steps,
    flow_forward,
    flow_log_prob,
    nll_backward,
    realnvp_steps,
)
from explorer.maths.entropy import target_entropy
from explorer.maths.grid import make_grid
from explorer.maths.metrics import checkerboard_metrics
from explorer.methods.realnvp import DATA_BLOCK, FlowConfig, NormalizingFlow
from explorer.training.session import TrainingSession
from explorer.views import realnvp as views


def _randomised(flow: torch.nn.Module, scale: float = 0.5, seed: int = 0) -> torch.nn.Module:
    """The flow with every parameter perturbed (the zero-initialised output layers make it the identity)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in flow.parameters():
            p.add_(scale * torch.randn(p.shape, generator=generator, dtype=p.dtype))
    return flow


def _beyond_the_box(axis: np.ndarray, bound: float = 4.1) -> np.ndarray:
    """`[k, k]` bool, indexed [y, x]: the grid points outside the checkerboard flow's box (-L, L)^2, L = 1.025 * 4."""
    return (np.abs(axis)[None, :] > bound) | (np.abs(axis)[:, None] > bound)


def _session(config: FlowConfig) -> TrainingSession:
    return TrainingSession("flow", config, quality_every=10**9, quality_period_s=math.inf)


def _train(session: TrainingSession) -> None:
    session.start()
    while session.running:
        session.run(1.0)


@pytest.mark.usefixtures("float64")
@pytest.mark.parametrize("keep", [0, 1])
def test_each_coupling_is_invertible_with_the_autograd_log_det(keep: int) -> None:
    coupling = _randomised(AffineCoupling(keep, 16, 2, 1.5, "silu"), 0.7, seed=keep)
    x = 2.5 * torch.randn(200, 2, generator=torch.Generator().manual_seed(1))
    y, logdet = coupling(x)
    back, inverse_logdet = coupling.inverse(y)
    assert (back - x).abs().max() < 1e-12
    assert (coupling(coupling.inverse(x)[0])[0] - x).abs().max() < 1e-12
    torch.testing.assert_close(inverse_logdet, -logdet, rtol=1e-12, atol=1e-12)
    assert logdet.abs().max() > 0.1  # not the identity
    for point, value in zip(x[:20], logdet[:20], strict=True):
        jacobian = torch.autograd.functional.jacobian(lambda p: coupling(p[None])[0][0], point)
        assert jacobian[keep, 1 - keep] == 0  # triangular: the kept coordinate ignores the moved one
        torch.testing.assert_close(value, torch.linalg.slogdet(jacobian)[1], rtol=1e-10, atol=1e-12)


@pytest.mark.usefixtures("float64")
def test_the_whole_flow_inverts_and_its_log_det_is_the_sum_of_the_layers() -> None:
    flow = _randomised(RealNVP(5, 16, 2, 1.0), 0.4)
    z = torch.randn(100, 2, generator=torch.Generator().manual_seed(2))
    points, logdets = flow.forward_layers(z)
    assert points.shape == (6, 100, 2) and logdets.shape == (5, 100)
    x = flow(z)
    torch.testing.assert_close(points[-1], x)
    back, inverse_logdet = flow.inverse(x)
    assert (back - z).abs().max() < 1e-12
    torch.testing.assert_close(inverse_logdet, -logdets.sum(0), rtol=1e-12, atol=1e-12)
    jacobian = torch.autograd.functional.jacobian(lambda p: flow(p[None])[0], z[0])
    torch.testing.assert_close(logdets[:, 0].sum(), torch.linalg.slogdet(jacobian)[1], rtol=1e-10, atol=1e-12)


@pytest.mark.usefixtures("float64")
def test_the_bounded_output_inverts_with_the_autograd_log_det() -> None:
    layer = BoundedOutput(4.1)
    y = 3.0 * torch.randn(200, 2, generator=torch.Generator().manual_seed(4))
    x, logdet = layer(y)
    assert x.abs().max() < 4.1 and y.abs().max() > 6.0
    back, inverse_logdet = layer.inverse(x)
    torch.testing.assert_close(back, y, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(inverse_logdet, -logdet, rtol=1e-12, atol=1e-12)
    for point, value in zip(y[:20], logdet[:20], strict=True):
        jacobian = torch.autograd.functional.jacobian(lambda p: layer(p[None])[0][0], point)
        torch.testing.assert_close(value, torch.linalg.slogdet(jacobian)[1], rtol=1e-10, atol=1e-12)
    _, edge = layer.inverse(torch.tensor([[4.1, 0.0], [9.0, -9.0]]))  # on and past the edge: finite, not NaN
    assert torch.isfinite(edge).all()


@pytest.mark.usefixtures("float64")
def test_a_bounded_flow_is_a_normalised_density_on_its_box_and_samples_inside_it() -> None:
    torch.manual_seed(0)  # nn.Linear's own initialisation
    flow = _randomised(RealNVP(6, 16, 2, 1.0, bound=4.1), 0.2, seed=3)  # at 0.3 much mass sits on the edges
    points, logdets = flow.forward_layers(3.0 * torch.randn(500, 2, generator=torch.Generator().manual_seed(5)))
    assert points.shape == (8, 500, 2) and logdets.shape == (7, 500)  # 6 couplings, then the bounded output
    assert points[-1].abs().max() < 4.1 and points[-2].abs().max() > 4.1
    torch.testing.assert_close(flow.inverse(points[-1])[1], -logdets.sum(0), rtol=1e-9, atol=1e-9)
    grid = make_grid(4.1, 801)
    with torch.no_grad():
        mass = torch.exp(flow.log_prob(grid.points)).sum() * grid.spacing**2
        outside = flow.log_prob(torch.tensor([[4.2, 0.0], [0.0, -5.0]]))
    assert float(mass) == pytest.approx(1.0, abs=5e-3)
    assert (outside == -math.inf).all()  # no mass beyond the box


def test_an_early_bounded_flow_puts_no_density_outside_its_box() -> None:
    """After 50 steps (seed 1) the couplings send base mass far out; the inverse clamped at the box's edge once
    turned it into a band around the box, thousands of times brighter than the density inside. p = 0 there."""
    session = _session(FlowConfig(seed=1))
    assert session.step(50) == 50
    axis, image = views.learned_image(session.method)
    beyond = _beyond_the_box(axis)
    assert (image[beyond] == 0).all() and image[~beyond].max() > 0
    assert image.sum() * (axis[1] - axis[0]) ** 2 == pytest.approx(1.0, abs=0.03)
    strip = views.logdet_view(session.method)
    beyond = _beyond_the_box(strip.axis)
    assert np.isnan(strip.terms[:, beyond]).all() and np.isnan(strip.base[beyond]).all()
    assert (strip.log_prob[beyond] == -math.inf).all() and np.isfinite(strip.log_prob[~beyond]).all()


def test_the_bounded_output_is_for_data_in_a_box_only() -> None:
    board, cpu = get_density("checkerboard"), torch.device("cpu")
    assert board.box == 4.0 and NormalizingFlow(FlowConfig(), board, cpu).bound == pytest.approx(4.1)
    assert NormalizingFlow(FlowConfig(bounded=False), board, cpu).flow.output is None
    eight = get_density("eight_gaussians")
    assert eight.box is None and NormalizingFlow(FlowConfig(density="eight_gaussians"), eight, cpu).flow.output is None


def test_the_reported_loss_is_the_nll_of_the_data_through_the_bounded_output() -> None:
    """The kernel sees y = L artanh(x / L); the loss the page plots adds the layer's log-det: -log p(x)."""
    board = get_density("checkerboard")
    method = NormalizingFlow(FlowConfig(n_layers=4, hidden=16, batch_size=64), board, torch.device("cpu"))
    _randomised(method.flow, 0.1)
    loss = method.train_chunk([0.0], make_generator(5))
    x = board.sample(DATA_BLOCK * 64, make_generator(5))[:64]
    assert float(loss[0]) == pytest.approx(float(-method.log_prob(x).mean()), rel=1e-5)
    assert float(loss[0]) < float(-method.flow.log_prob(method.flow.output.inverse(x)[0]).mean()) - 0.5


def test_the_bounded_output_leaves_fewer_samples_outside_the_cells() -> None:
    """The page's flow on the checkerboard, 1,200 steps, with and without the bounded output."""
    outside = {}
    for bounded in (True, False):
        session = _session(FlowConfig(steps=1200, bounded=bounded, seed=0))
        _train(session)
        samples = session.method.sample(20_000, make_generator(1))
        outside[bounded] = checkerboard_metrics(samples, session.density)[0]
    assert outside[True] < 0.08 and outside[True] < outside[False] - 0.01, outside


def test_the_log_density_integrates_to_one() -> None:
    torch.manual_seed(0)
    flow = _randomised(RealNVP(6, 16, 2, 1.0), 0.3, seed=3).double()
    grid = make_grid(12.0, 601)
    with torch.no_grad():
        mass = torch.exp(flow.log_prob(grid.points.double())).sum() * grid.spacing**2
    assert float(mass) == pytest.approx(1.0, abs=2e-3)


@pytest.mark.parametrize(
    ("n_couplings", "depth", "bound", "activation"),
    [(1, 1, 2.0, "relu"), (4, 2, 1.5, "relu"), (5, 3, 0.7, "relu"), (3, 2, 2.0, "silu"), (4, 3, 1.0, "tanh")],
)
def test_kernel_gradients_match_autograd(n_couplings: int, depth: int, bound: float, activation: str) -> None:
    flow = _randomised(RealNVP(n_couplings, 12, depth, bound, activation), 0.5, seed=n_couplings).double()
    x = 2 * torch.randn(64, 2, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    loss = -flow.log_prob(x).mean()
    expected = torch.autograd.grad(loss, list(flow.parameters()))
    flat = FlatMLP(flow.linear_stack())
    ours = nll_backward(
        flat.weights,
        flat.weights_t,
        flat.biases,
        flat.grad_weights,
        flat.grad_biases,
        x,
        n_couplings,
        bound,
        activation,
    )
    assert float(ours) == pytest.approx(float(loss.detach()), rel=1e-12)
    torch.testing.assert_close(flat.grad, torch.cat([g.reshape(-1) for g in expected]), rtol=1e-9, atol=1e-12)


@pytest.mark.usefixtures("float64")
def test_kernel_steps_match_autograd_and_torch_optim_adam() -> None:
    config = FlowConfig(density="eight_gaussians", n_layers=3, hidden=16, depth=2, batch_size=64, lr=1e-2)
    method = NormalizingFlow(config, get_density(config.density), torch.device("cpu"))
    _randomised(method.flow, 0.3)
    reference = copy.deepcopy(method.flow).requires_grad_(True)
    optimizer = torch.optim.Adam(reference.parameters(), lr=config.lr)
    generator = make_generator(0)
    losses = method.train_chunk([config.lr] * 6, generator)
    expected = []
    for batch in method._data[:6]:
        loss = -reference.log_prob(batch).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        expected.append(float(loss.detach()))
    assert method.flat.flat.dtype == losses.dtype == torch.float64
    torch.testing.assert_close(losses, torch.tensor(expected), rtol=1e-10, atol=1e-12)
    for ours, theirs in zip(method.flow.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(ours, theirs.detach(), rtol=1e-9, atol=1e-12)


@pytest.mark.usefixtures("float64")
def test_the_compiled_kernel_is_scripted_and_agrees_with_python() -> None:
    compiled = compiled_realnvp_steps()
    assert compiled is not realnvp_steps, "TorchScript failed: training runs as slow Python"
    results = []
    for kernel in (compiled, realnvp_steps):
        method = NormalizingFlow(FlowConfig(n_layers=3, hidden=8, batch_size=32), get_density("checkerboard"), "cpu")
        data = get_density("checkerboard").sample(4 * 32, make_generator(0)).view(4, 32, 2)
        f = method.flat
        losses = kernel(
            f.weights, f.weights_t, f.biases, f.grad_weights, f.grad_biases, f.flat, f.grad, f.exp_avg,
            f.exp_avg_sq, f.step_count, data, [1e-2] * 4, 3, 2.0, "relu", 0.9, 0.999, 1e-8,
        )  # fmt: skip
        results.append((losses, f.flat.clone(), float(f.step_count)))
    torch.testing.assert_close(results[0][0], results[1][0], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(results[0][1], results[1][1], rtol=1e-12, atol=1e-12)
    assert results[0][2] == results[1][2] == 4.0


@pytest.mark.usefixtures("float64")
@pytest.mark.parametrize("activation", ["relu", "silu", "tanh"])
@pytest.mark.parametrize("n_layers", [1, 4])
def test_the_compiled_density_and_sampler_equal_the_modules(n_layers: int, activation: str) -> None:
    """The method's log_prob and sample (one compiled call each) against the couplings one by one."""
    assert compiled_flow_log_prob() is not flow_log_prob and compiled_flow_forward() is not flow_forward
    config = FlowConfig(n_layers=n_layers, hidden=16, depth=2, scale_bound=1.5, activation=activation)
    method = NormalizingFlow(config, get_density("checkerboard"), "cpu")
    _randomised(method.flow, seed=n_layers)  # in place: the flat buffer holds the module's parameters
    x = get_density("checkerboard").sample(500, make_generator(1))
    assert method.log_prob(x).dtype == torch.float64
    torch.testing.assert_close(method.log_prob(x), method.flow.log_prob(x), rtol=1e-12, atol=1e-12)
    z = torch.randn((500, 2), generator=make_generator(2))
    samples = method.sample(500, make_generator(2))
    torch.testing.assert_close(samples, method.flow(z), rtol=1e-12, atol=1e-12)
    assert not torch.allclose(samples, z, atol=1e-2)  # the randomised flow moves its input


def test_a_short_run_lowers_the_nll_and_the_density_stays_normalised() -> None:
    session = _session(FlowConfig(density="checkerboard", n_layers=6, hidden=32, steps=400, seed=1))
    x = session.density.sample(4000, make_generator(7))
    before = float(-session.method.log_prob(x).mean())
    _train(session)
    after = float(-session.method.log_prob(x).mean())
    assert session.status == "finished" and after < before - 1.5, (before, after)
    mass = views.density_view(session.method, make_generator(3), lim=6.0, fine=241).integral
    assert mass == pytest.approx(1.0, abs=0.03)


def test_two_gaussians_come_within_0_2_nats_of_the_entropy() -> None:
    config = FlowConfig(density="two_gaussians", n_layers=6, hidden=32, steps=2500, lr=3e-3, seed=0)
    session = _session(config)
    _train(session)
    entropy = target_entropy(session.density)
    assert entropy is not None and entropy.how == "Monte Carlo"
    x = session.density.sample(20000, make_generator(11))
    nll = float(-session.method.log_prob(x).mean())
    assert entropy.value - 0.02 < nll < entropy.value + 0.2, (nll, entropy.value)


def test_entropy_floors() -> None:
    assert target_entropy(get_density("checkerboard")).value == pytest.approx(math.log(32))
    assert target_entropy(get_density("gaussian")).value == pytest.approx(math.log(2 * math.pi * math.e))
    two = target_entropy(get_density("two_gaussians"))  # well-separated modes: log 2 + H(N(0, 0.25 I))
    assert two.value == pytest.approx(math.log(2) + math.log(2 * math.pi * math.e * 0.25), abs=4 * two.stderr + 1e-3)
    assert target_entropy(get_density("two_moons")) is None


def test_a_diverging_run_pauses_with_the_last_good_weights() -> None:
    session = _session(FlowConfig(lr=10.0, n_layers=4, hidden=16, steps=3000))
    before_chunks, train_chunk = [], session.method.train_chunk

    def recorded(lrs, generator):  # the weights each chunk started from: the last one is the last good state
        before_chunks.append(session.method.flat.flat.clone())
        return train_chunk(lrs, generator)

    session.method.train_chunk = recorded
    session.start()
    for _ in range(100):
        session.run(0.1)
        if not session.running:
            break
    assert session.status == "diverged", session.status
    assert "learning rate 10" in session.message and "lower the learning rate" in session.message
    torch.testing.assert_close(session.method.flat.flat, before_chunks[-1])
    assert torch.isfinite(session.method.log_prob(torch.zeros(4, 2))).all()


@pytest.mark.usefixtures("float64")
@pytest.mark.parametrize("bounded", [False, True])
def test_views_decompose_log_p_into_layers(bounded: bool) -> None:
    config = FlowConfig(n_layers=5, hidden=16, bounded=bounded)
    method = NormalizingFlow(config, get_density("checkerboard"), torch.device("cpu"))
    _randomised(method.flow, 0.3)
    stages = 5 + bounded  # the bounded output is a last, fixed layer
    layers = views.layers_view(method, make_generator(0), n=50, lines=5)
    assert layers.n_layers == stages and layers.forward_lines.shape == (stages + 1, 10, 31, 2)
    assert layers.inverse_points.shape == (stages + 1, 50, 2)
    np.testing.assert_allclose(layers.forward_lines[0, 0, :, 1], -3.0)  # a horizontal line of the noise grid
    terms = views.logdet_view(method, fine=21)
    grid = make_grid(6.0, 21)
    direct = grid.as_image(method.log_prob(grid.points))  # log p at [-6, 6]^2's corners is about -55
    np.testing.assert_allclose(terms.log_prob, direct, rtol=1e-12, atol=1e-12)
    assert terms.terms.shape == (stages, 21, 21) and terms.names[-1] == ("bounded" if bounded else "layer 5")
    assert views.shown_layers(64) == sorted(set(views.shown_layers(64))) and len(views.shown_layers(64)) <= 12


def test_out_of_range_settings_are_clamped() -> None:
    config = _session(FlowConfig(n_layers=10_000, hidden=0, depth=-3, scale_bound=1e9, steps=1)).config
    assert (config.n_layers, config.hidden, config.depth, config.scale_bound) == (64, 4, 1, 10.0)


@pytest.mark.parametrize(
    "changes",
    [
        {"n_layers": 1},
        {"n_layers": 64, "hidden": 8, "depth": 1},
        {"hidden": 4, "depth": 8},
        {"scale_bound": 0.05},
        {"batch_size": 8},
    ],
)
def test_extreme_settings_train_and_render(changes: dict) -> None:
    session = _session(FlowConfig(**changes))
    assert session.step(2) == 2 and np.isfinite(session.snapshot().loss).all()
    method = session.method
    assert np.isfinite(views.layers_view(method, make_generator(0), n=20).forward_points).all()
    strip = views.logdet_view(method, fine=11)
    inside = ~_beyond_the_box(strip.axis)  # p = 0 outside the box (no grid point lies on its edge)
    assert np.isfinite(strip.log_prob[inside]).all() and (strip.log_prob[~inside] == -math.inf).all()


def test_bench_reports_the_flow_figures(tmp_path, capsys) -> None:
    from explorer import bench

    field = tmp_path / "F.npz"
    argv = ["--family", "flow", "--density", "checkerboard", "--seconds", "60", "--set", "steps=300"]  # steps end it
    argv += ["--baseline-seconds", "0.5"]
    argv += ["--field-out", str(field), "--samples-out", str(tmp_path / "S.npy"), "--n-samples", "500", "--json"]
    assert bench.main(argv) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["layers"] == FlowConfig().n_layers and result["entropy"] == pytest.approx(math.log(32), abs=1e-4)
    assert result["nll"] > result["entropy"] - 0.05 and result["plain_pytorch_steps_per_s"] > 0
    assert {"outside", "cell_tv", "steps_per_s", "speedup_vs_plain", "nll_minus_entropy"} <= set(result)
    arrays = np.load(field)
    assert arrays["points"].shape[0] >= 101 * 101 and arrays["log_prob"].shape == (arrays["points"].shape[0],)
    assert np.abs(arrays["points"]).max() == pytest.approx(5.0)
    assert result["steps"] == 300
    assert 0.97 < result["grid_mass"] < 1.03  # the bounded output keeps all the mass inside the box, in the grid
