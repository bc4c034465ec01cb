"""explorer.kernels.regression.FlatAdamRegression against autograd + torch.optim.Adam."""

from __future__ import annotations

import copy

import pytest
import torch

from explorer.device import make_generator
from explorer.kernels.nets import MLP
from explorer.kernels.regression import FlatAdamRegression


def _data(steps: int, device: torch.device, batch: int = 64):
    g = make_generator(1, device)
    z = torch.randn(steps, batch, 3, generator=g, device=device)
    y = torch.randn(steps, batch, 2, generator=g, device=device) * 2
    return z, y


@pytest.mark.usefixtures("float64")
@pytest.mark.parametrize("depth", [1, 3])
def test_matches_autograd_and_torch_adam(device, depth):
    torch.manual_seed(0)
    model = MLP(3, 2, hidden=32, depth=depth).to(device)
    reference = copy.deepcopy(model)
    fast = FlatAdamRegression(model, lr=3e-3)
    adam = torch.optim.Adam(reference.parameters(), lr=3e-3)
    z, y = _data(20, device)
    for i in range(20):
        lr = 3e-3 if i < 10 else 1e-3  # a per-step learning rate, as the schedule passes it
        for group in adam.param_groups:
            group["lr"] = lr
        adam.zero_grad()
        loss = torch.nn.functional.mse_loss(reference(z[i]), y[i])
        loss.backward()
        adam.step()
        fast_loss = fast.step(z[i], y[i], lr)
        assert fast_loss.dim() == 0
        assert fast_loss.dtype == torch.float64
        torch.testing.assert_close(fast_loss, loss.detach(), rtol=1e-12, atol=1e-12)
        # the hand-derived backward pass equals autograd's (Adam alone would hide a scaled gradient)
        grads = torch.cat([q.grad.reshape(-1) for q in reference.parameters()])
        torch.testing.assert_close(fast.grad, grads, rtol=1e-10, atol=1e-12)
    for (name, p), q in zip(model.named_parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(p.detach(), q.detach(), rtol=1e-9, atol=1e-12, msg=name)


def test_parameters_are_views_of_the_flat_buffer():
    torch.manual_seed(0)
    model = MLP(3, 2, hidden=16, depth=2)
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    fast = FlatAdamRegression(model)
    assert fast.n_params == sum(p.numel() for p in model.parameters())
    for key, value in model.state_dict().items():  # wrapping keeps the initial weights
        torch.testing.assert_close(value, before[key])
    flat_ptr = fast.flat.untyped_storage().data_ptr()
    for p in model.parameters():
        assert p.untyped_storage().data_ptr() == flat_ptr
    z, y = _data(1, torch.device("cpu"))
    out_before = model(z[0]).detach().clone()
    fast.step(z[0], y[0])
    assert not torch.allclose(model(z[0]), out_before)
    with torch.no_grad():
        fast.flat.zero_()
    assert torch.equal(model(z[0]), torch.zeros_like(out_before))


def test_state_dict_round_trip_restores_weights_and_optimizer():
    torch.manual_seed(0)
    fast = FlatAdamRegression(MLP(3, 2, hidden=16, depth=2), lr=1e-2)
    z, y = _data(6, torch.device("cpu"))
    for i in range(3):
        fast.step(z[i], y[i])
    saved = {k: v.clone() for k, v in fast.state_dict().items()}
    continued = [float(fast.step(z[i], y[i])) for i in range(3, 6)]
    after = fast.flat.clone()
    fast.load_state_dict(saved)
    torch.testing.assert_close(fast.state_dict()["flat"], saved["flat"])
    replayed = [float(fast.step(z[i], y[i])) for i in range(3, 6)]
    assert replayed == continued
    torch.testing.assert_close(fast.flat, after)


@pytest.mark.usefixtures("float64")
def test_scripted_multi_step_kernel_matches_single_steps_and_torch_adam() -> None:
    """`steps` (one TorchScript call for many steps) must equal a loop of `step` and torch.optim.Adam.

    Guards a silent failure seen while building it: TorchScript drops torch._fused_adam_ from the
    graph, so a kernel calling it trains nothing and raises nothing.
    """
    import copy

    from explorer.kernels.nets import MLP
    from explorer.kernels.regression import FlatAdamRegression, scripted_steps

    assert scripted_steps() is not None, "TorchScript is unavailable: the fast path would fall back"
    torch.manual_seed(0)
    a = MLP(3, 2, 16, 2)
    b, c = copy.deepcopy(a), copy.deepcopy(a)
    fast, single = FlatAdamRegression(a), FlatAdamRegression(b)
    reference = torch.optim.Adam(c.parameters(), lr=1e-2)
    inputs, targets = torch.randn(20, 64, 3), torch.randn(20, 64, 2)
    lrs = [1e-2] * 20
    fast_losses = torch.cat(
        [fast.steps(inputs[i : i + 5], targets[i : i + 5], lrs[i : i + 5]) for i in range(0, 20, 5)]
    )
    single_losses = torch.stack([single.step(inputs[s], targets[s], lr) for s, lr in enumerate(lrs)])
    reference_losses = []
    for s in range(20):
        loss = (c(inputs[s]) - targets[s]).pow(2).mean()
        reference.zero_grad()
        loss.backward()
        reference.step()
        reference_losses.append(loss.item())
    assert fast.flat.dtype == torch.float64
    torch.testing.assert_close(fast_losses, single_losses, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(fast_losses, torch.tensor(reference_losses), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(fast.flat, single.flat, rtol=1e-10, atol=1e-12)
    assert torch.equal(fast.step_count, single.step_count)
    for p, q in zip(a.parameters(), c.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-9, atol=1e-12)
