"""GAN objectives against hand-computed values, the gradient penalty, clipping, and a short run."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from explorer.device import make_generator
from explorer.kernels.gan_losses import (
    LOSSES,
    clip_weights,
    discriminator_loss,
    generator_loss,
    gradient_penalty,
    penalty_points,
    penalty_where,
)
from explorer.methods import GANConfig
from explorer.training.session import TrainingSession

REAL = torch.tensor([2.0, -1.0])
FAKE = torch.tensor([0.5, -3.0, 1.0])


def _softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


# hand-computed L_D on REAL = (2, -1), FAKE = (0.5, -3, 1), and L_G on FAKE
EXPECTED_D = {
    "minimax": (_softplus(-2) + _softplus(1)) / 2 + (_softplus(0.5) + _softplus(-3) + _softplus(1)) / 3,
    "wgan": (0.5 - 3 + 1) / 3 - (2 - 1) / 2,
    "lsgan": 0.5 * ((2 - 1) ** 2 + (-1 - 1) ** 2) / 2 + 0.5 * (0.5**2 + 9 + 1) / 3,
    "hinge": (0 + 2) / 2 + (1.5 + 0 + 2) / 3,
}
EXPECTED_D["nonsaturating"] = EXPECTED_D["minimax"]
EXPECTED_D["wgan_gp"] = EXPECTED_D["wgan"]
EXPECTED_D["dragan"] = EXPECTED_D["minimax"]
EXPECTED_G = {
    "minimax": -(_softplus(0.5) + _softplus(-3) + _softplus(1)) / 3,
    "nonsaturating": (_softplus(-0.5) + _softplus(3) + _softplus(-1)) / 3,
    "wgan": -(0.5 - 3 + 1) / 3,
    "lsgan": 0.5 * ((0.5 - 1) ** 2 + 16 + 0) / 3,
    "hinge": -(0.5 - 3 + 1) / 3,
}
EXPECTED_G["wgan_gp"] = EXPECTED_G["wgan"]
EXPECTED_G["dragan"] = EXPECTED_G["nonsaturating"]


@pytest.mark.parametrize("kind", LOSSES)
def test_loss_values_match_hand_computation(kind: str) -> None:
    assert float(discriminator_loss(kind, REAL, FAKE)) == pytest.approx(EXPECTED_D[kind], rel=1e-6)
    assert float(generator_loss(kind, FAKE)) == pytest.approx(EXPECTED_G[kind], rel=1e-6)


def test_generator_gradients_saturate_only_for_the_minimax_loss() -> None:
    """d L_G / d f for a confidently rejected fake (f = -6): minimax ~ -sigma(f), tiny; non-saturating
    -(1 - sigma(f)), ~ -1; WGAN -1 (the lecture's vanishing-gradient argument), per sample / m."""
    fake = torch.tensor([-6.0], requires_grad=True)
    grads = {}
    for kind in ("minimax", "nonsaturating", "wgan"):
        (grads[kind],) = torch.autograd.grad(generator_loss(kind, fake), fake)
    assert float(grads["minimax"]) == pytest.approx(-_sigmoid(-6.0), rel=1e-5)
    assert float(grads["nonsaturating"]) == pytest.approx(-(1 - _sigmoid(-6.0)), rel=1e-5)
    assert float(grads["wgan"]) == pytest.approx(-1.0)
    assert abs(float(grads["minimax"])) < 0.01 < abs(float(grads["nonsaturating"]))


def test_discriminator_gradients_match_hand_computation() -> None:
    real, fake = REAL.clone().requires_grad_(True), FAKE.clone().requires_grad_(True)
    real_grad, fake_grad = torch.autograd.grad(discriminator_loss("minimax", real, fake), (real, fake))
    torch.testing.assert_close(real_grad, -(1 - torch.sigmoid(REAL)) / 2)
    torch.testing.assert_close(fake_grad, torch.sigmoid(FAKE) / 3)


@pytest.mark.parametrize("where", ["interpolates", "real_and_generated", "perturbed_real"])
@pytest.mark.parametrize(("slope", "expected"), [(1.0, 0.0), (2.0, 1.0), (0.5, 0.25)])
def test_gradient_penalty_of_a_linear_critic(where: str, slope: float, expected: float) -> None:
    """f(x) = w . x has |grad f| = |w| everywhere: GP = (|w| - 1)^2 wherever it is evaluated."""
    w = slope * torch.tensor([0.6, 0.8])
    g = make_generator(0)
    real, fake = torch.randn(64, 2, generator=g), torch.randn(64, 2, generator=g)
    u, noise = torch.rand(64, 1, generator=g), torch.randn(64, 2, generator=g)
    points = penalty_points(where, real, fake, u, noise, 0.5)
    assert float(gradient_penalty(lambda x: x @ w, points)) == pytest.approx(expected, abs=1e-6)


def test_penalty_points_are_the_named_sets() -> None:
    real, fake = torch.zeros(3, 2), torch.ones(3, 2)
    u, noise = torch.full((3, 1), 0.25), torch.full((3, 2), 2.0)
    assert torch.equal(penalty_points("interpolates", real, fake, u), torch.full((3, 2), 0.75))
    assert torch.equal(penalty_points("real_and_generated", real, fake, u), torch.cat([real, fake]))
    assert torch.equal(penalty_points("perturbed_real", real, fake, u, noise, 0.5), torch.ones(3, 2))
    assert penalty_points("none", real, fake, u) is None
    assert [penalty_where(k) for k in ("wgan_gp", "dragan", "nonsaturating")] == [
        "interpolates",
        "perturbed_real",
        "none",
    ]
    assert penalty_where("wgan_gp", "real_and_generated") == "real_and_generated"


def test_weight_clipping_keeps_every_parameter_in_range() -> None:
    net = nn.Sequential(nn.Linear(2, 16), nn.SiLU(), nn.Linear(16, 1))
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(10)
    clip_weights(net, 0.05)
    values = torch.cat([p.reshape(-1) for p in net.parameters()])
    assert values.abs().max() <= 0.05 + 1e-7
    assert (values.abs() == 0.05).any()  # it clipped, not rescaled


def test_a_short_wgan_gp_run_puts_mass_on_both_modes() -> None:
    config = GANConfig(density="two_gaussians", steps=600, g_hidden=32, d_hidden=32, batch_size=128, seed=0)
    session = TrainingSession("gan", config, quality_every=10**9, quality_period_s=math.inf)
    session.start()
    while session.running:
        session.run(1.0)
    assert session.status == "finished" and session.step_count == 600
    samples = session.method.sample(2000, make_generator(1))
    mass = torch.bincount(session.density.nearest_component(samples), minlength=2).float() / 2000
    assert mass.min() > 0.25, mass
    assert set(session.snapshot().extra_losses) == {"d_loss", "sigma_1", "sigma_2", "sigma_3", "sigma_4"}


@pytest.mark.parametrize("loss", ["nonsaturating", "wgan_gp"])
def test_a_diverging_gan_pauses_with_the_last_good_weights(loss: str) -> None:
    config = GANConfig(loss=loss, lr=10.0, lr_d=10.0, n_critic=1, seed=0, steps=2000)
    session = TrainingSession("gan", config, quality_every=10**9, quality_period_s=math.inf)
    initial = [p.detach().clone() for p in session.method.generator_net.parameters()]
    session.start()
    for _ in range(50):
        session.run(0.2)
        if not session.running:
            break
    assert session.status == "diverged" and "learning rate 10" in session.message
    # the first chunk exploded, so the last good weights are the initial ones
    for p, q in zip(session.method.generator_net.parameters(), initial, strict=True):
        torch.testing.assert_close(p.detach(), q)


def test_single_discriminator_and_generator_steps() -> None:
    session = TrainingSession("gan", GANConfig(seed=0), quality_every=10**9, quality_period_s=math.inf)
    d_before = [p.detach().clone() for p in session.method.discriminator_net.parameters()]
    g_before = [p.detach().clone() for p in session.method.generator_net.parameters()]
    assert session.step_part("d") and session.step_count == 0  # a D update is not a (generator) step
    assert any(
        not torch.equal(p, q) for p, q in zip(session.method.discriminator_net.parameters(), d_before, strict=True)
    )
    assert all(torch.equal(p, q) for p, q in zip(session.method.generator_net.parameters(), g_before, strict=True))
    assert session.step_part("g") and session.step_count == 1 and session.status == "paused"
    assert any(not torch.equal(p, q) for p, q in zip(session.method.generator_net.parameters(), g_before, strict=True))
    snap = session.snapshot()
    assert len(snap.loss_steps) == len(snap.loss) == len(snap.extra_losses["d_loss"]) == 2


def test_a_part_step_that_explodes_stops_as_train_would() -> None:
    """Step D / Step G go through Train's divergence test: a finite loss 10^4 times the untrained model's pauses the
    session as diverged, with the last good weights kept, as a chunk of Train would."""
    session = TrainingSession("gan", GANConfig(seed=0), quality_every=10**9, quality_period_s=math.inf)
    assert session.step_part("g")  # the untrained model's loss is the reference
    good = [p.detach().clone() for p in session.method.generator_net.parameters()]
    train_part = session.method.train_part

    def exploding(part, lr, generator):
        result = train_part(part, lr, generator)
        return {key: value * 1e9 for key, value in result.items()}

    session.method.train_part = exploding
    assert session.step_part("g")
    assert session.status == "diverged" and "diverged" in session.message and session.step_count == 1
    for p, q in zip(session.method.generator_net.parameters(), good, strict=True):
        torch.testing.assert_close(p.detach(), q)
