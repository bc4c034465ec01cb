"""VAE maths against closed forms (Gaussian KL, probabilistic PCA's exact likelihood and posterior), the
reparametrisation trick, VQ assignment and the straight-through estimator, and the VAE method trained
through the session: the negative ELBO falls, a large beta collapses the posterior, degenerate settings
give a result or a message."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from vae_references import elbo_terms, linear_gaussian_posterior

from explorer.data.userdata import example_csv, parse_points_csv
from explorer.device import make_generator
from explorer.kernels.vae_likelihood import linear_gaussian_log_likelihood
from explorer.kernels.vae_math import (
    active_dimensions,
    gaussian_kl,
    gaussian_log_prob,
    gaussian_nll,
    nearest_code,
    reparametrise,
    straight_through,
    vq_losses,
)
from explorer.methods import VAE, VAEConfig
from explorer.methods.vae import DECODER_LOG_VAR_MIN
from explorer.training.session import DIVERGED, FINISHED, TrainingSession
from explorer.views.vae import elbo_view

SMALL = {"hidden": 32, "depth": 2, "batch_size": 128, "device": "cpu"}


def _session(**overrides) -> TrainingSession:
    return TrainingSession("vae", VAEConfig(**{**SMALL, **overrides}), quality_every=10**9, quality_period_s=math.inf)


def _train(session: TrainingSession, steps: int) -> TrainingSession:
    assert session.step(steps) == steps, session.message
    return session


# --- the maths --------------------------------------------------------------------------------
def test_closed_form_gaussian_kl_equals_monte_carlo() -> None:
    """KL(q || p) = E_q[log q(z) - log p(z)], estimated with 400,000 draws per posterior."""
    g = torch.Generator().manual_seed(0)
    mu = torch.tensor([[0.0, 0.0], [1.5, -0.5], [-2.0, 0.3]], dtype=torch.float64)
    log_var = torch.tensor([[0.0, 0.0], [-1.0, 0.7], [-3.0, 1.2]], dtype=torch.float64)
    closed = gaussian_kl(mu, log_var).sum(-1)
    eps = torch.randn((400_000, 3, 2), generator=g, dtype=torch.float64)
    z = reparametrise(mu, log_var, eps)
    log_q = -0.5 * (eps.pow(2) + log_var + math.log(2 * math.pi)).sum(-1)
    estimate = (log_q - gaussian_log_prob(z)).mean(0)
    np.testing.assert_allclose(closed.numpy(), estimate.numpy(), atol=0.02)
    assert float(closed[0]) == 0.0 and bool((closed[1:] > 0.5).all())  # zero exactly at the prior


def _ppca(d: int = 2):
    """A probabilistic PCA model with orthogonal columns of W (so the exact posterior is diagonal)."""
    weight = torch.tensor([[1.2, 0.0], [0.0, 0.6]], dtype=torch.float64)[:, :d]
    rotation = torch.tensor([[math.cos(0.4), -math.sin(0.4)], [math.sin(0.4), math.cos(0.4)]], dtype=torch.float64)
    return rotation @ weight, torch.tensor([0.5, -1.0], dtype=torch.float64), 0.3


@pytest.mark.parametrize("d", [1, 2])
def test_the_elbo_is_below_the_exact_ppca_likelihood_and_equal_at_the_exact_posterior(d: int) -> None:
    weight, bias, noise_var = _ppca(d)
    x = torch.tensor([[0.3, 0.2], [2.0, -1.5], [-1.0, 0.5]], dtype=torch.float64)
    exact = linear_gaussian_log_likelihood(x, weight, bias, torch.full((2,), math.log(noise_var), dtype=torch.float64))
    mean, cov = linear_gaussian_posterior(x, weight, bias, noise_var)
    assert torch.allclose(cov, torch.diag(torch.diagonal(cov)))  # orthogonal columns: a diagonal posterior
    eps = torch.randn((200_000, 1, d), generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    dec_log_var = torch.full((2,), math.log(noise_var), dtype=torch.float64)

    def elbo(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
        recon, kl = elbo_terms(x, mu, log_var, eps, lambda z: z @ weight.T + bias, dec_log_var)
        return -(recon.mean(0) + kl)

    tight = elbo(mean, torch.log(torch.diagonal(cov)).expand_as(mean))
    np.testing.assert_allclose(tight.numpy(), exact.numpy(), atol=0.01)
    loose = elbo(mean + 0.5, torch.log(torch.diagonal(cov)).expand_as(mean) + 1.0)
    gap = (exact - loose).numpy()
    assert (gap > 0.1).all(), gap  # a worse q: strictly below log p(x)


def test_maximising_the_elbo_over_q_recovers_the_exact_posterior() -> None:
    """Adam on the one-sample reparametrised ELBO (the VAE's estimator) from a bad q: the bound rises to
    log p(x) (tight at the optimum) and q becomes p(z | x)."""
    weight, bias, noise_var = _ppca(2)
    x = torch.tensor([[0.3, 0.2], [2.0, -1.5], [-1.0, 0.5]], dtype=torch.float64)
    exact = linear_gaussian_log_likelihood(x, weight, bias, torch.full((2,), math.log(noise_var), dtype=torch.float64))
    mean, cov = linear_gaussian_posterior(x, weight, bias, noise_var)
    mu = torch.zeros((3, 2), dtype=torch.float64, requires_grad=True)
    log_var = torch.full((3, 2), 1.0, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([mu, log_var], lr=0.03)
    g = torch.Generator().manual_seed(2)
    dec_log_var = torch.full((2,), math.log(noise_var), dtype=torch.float64)
    for step in range(1500):
        for group in optimizer.param_groups:
            group["lr"] = 0.03 * (1 - step / 1500)
        eps = torch.randn((64, 3, 2), generator=g, dtype=torch.float64)
        recon, kl = elbo_terms(x, mu, log_var, eps, lambda z: z @ weight.T + bias, dec_log_var)
        loss = (recon.mean(0) + kl).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    torch.testing.assert_close(mu.detach(), mean, atol=0.03, rtol=0)
    torch.testing.assert_close(log_var.detach().exp(), torch.diagonal(cov).expand(3, 2), atol=0.01, rtol=0.05)
    eps = torch.randn((100_000, 1, 2), generator=g, dtype=torch.float64)
    recon, kl = elbo_terms(x, mu.detach(), log_var.detach(), eps, lambda z: z @ weight.T + bias, dec_log_var)
    np.testing.assert_allclose((-(recon.mean(0) + kl)).numpy(), exact.numpy(), atol=0.01)


def test_gaussian_nll_matches_torch_distributions() -> None:
    g = torch.Generator().manual_seed(3)
    x, mean = torch.randn((5, 2), generator=g), torch.randn((5, 2), generator=g)
    log_var = torch.tensor([0.3, -1.2])
    expected = -torch.distributions.Normal(mean, (0.5 * log_var).exp()).log_prob(x).sum(-1)
    torch.testing.assert_close(gaussian_nll(x, mean, log_var), expected)


def test_reparametrised_samples_have_the_right_moments_and_carry_gradients() -> None:
    mu = torch.tensor([1.0, -2.0], requires_grad=True)
    log_var = torch.tensor([0.5, -1.5], requires_grad=True)
    eps = torch.randn((400_000, 2), generator=torch.Generator().manual_seed(4))
    z = reparametrise(mu, log_var, eps)
    torch.testing.assert_close(z.mean(0), mu.detach(), atol=0.01, rtol=0)
    torch.testing.assert_close(z.var(0), log_var.detach().exp(), atol=0, rtol=0.01)
    # d/dmu E[z] = 1, d/dlog_var E[z^2] = d/dlog_var (mu^2 + e^log_var) = e^log_var
    (grad_mu,) = torch.autograd.grad(z.mean(0).sum(), mu, retain_graph=True)
    torch.testing.assert_close(grad_mu, torch.ones(2))
    (grad_log_var,) = torch.autograd.grad(z.pow(2).mean(0).sum(), log_var)
    torch.testing.assert_close(grad_log_var, log_var.detach().exp(), atol=0, rtol=0.02)


def test_nearest_code_is_the_voronoi_cell() -> None:
    codebook = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 3.0]])
    z = torch.tensor([[0.9, 0.1], [1.1, 0.0], [0.2, 1.6], [5.0, 5.0], [-1.0, -1.0]])
    assert nearest_code(z, codebook).tolist() == [0, 1, 2, 2, 0]
    g = torch.Generator().manual_seed(5)
    z, codebook = torch.randn((500, 2), generator=g), torch.randn((16, 2), generator=g)
    brute = torch.stack([(z - e).norm(dim=1) for e in codebook], 1).argmin(1)
    assert torch.equal(nearest_code(z, codebook), brute)


def test_straight_through_passes_the_decoder_gradient_to_the_encoder() -> None:
    z_e = torch.tensor([[0.3, -0.2], [1.4, 0.9]], requires_grad=True)
    z_q = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    out = straight_through(z_e, z_q)
    assert torch.equal(out.detach(), z_q)  # forward: the code
    (grad,) = torch.autograd.grad((out.pow(2) * torch.tensor([1.0, 3.0])).sum(), z_e)
    torch.testing.assert_close(grad, 2 * z_q * torch.tensor([1.0, 3.0]))  # backward: the gradient at z_q, copied


def test_codebook_and_commitment_losses_move_different_things() -> None:
    z_e = torch.tensor([[1.0, 2.0]], requires_grad=True)
    e = torch.tensor([[0.0, 0.5]], requires_grad=True)
    codebook, commitment = vq_losses(z_e, e)
    assert float(codebook.detach()) == float(commitment.detach()) == pytest.approx(1.0 + 2.25)
    grad_e, grad_z = torch.autograd.grad(codebook.sum(), (e, z_e), allow_unused=True)
    assert grad_z is None and torch.equal(grad_e, 2 * (e - z_e).detach())
    grad_e, grad_z = torch.autograd.grad(commitment.sum(), (e, z_e), allow_unused=True)
    assert grad_e is None and torch.equal(grad_z, 2 * (z_e - e).detach())


def test_active_dimensions_count_the_units_that_vary_with_x() -> None:
    mu = torch.stack([torch.linspace(-2, 2, 100), torch.full((100,), 0.3) + 1e-3 * torch.randn(100)], 1)
    assert active_dimensions(mu).tolist() == [True, False]


# --- the method, trained through the session ----------------------------------------------------
def test_the_vq_vae_encoder_learns_through_the_straight_through_estimator() -> None:
    """Reconstruction alone (commitment 0, codebook loss not back-propagated to the encoder) still gives the
    encoder a gradient: the decoder's, copied from z_q onto z_e. Without the estimator it would be zero."""
    method = VAE(VAEConfig(kind="vqvae", commitment=0.0, **SMALL), _density(), torch.device("cpu"))
    x = _density().sample(256, make_generator(0))
    terms = method.loss_terms(x, torch.zeros(256, 2))
    grads = torch.autograd.grad(terms["recon"], [*method.encoder_net.parameters(), method.codebook], allow_unused=True)
    assert float(grads[0].abs().sum()) > 0  # the encoder is reached
    assert grads[-1] is None  # the codebook learns from its own term only, not from reconstruction


def _density():
    from explorer.data.densities import get_density

    return get_density("two_moons")


@pytest.mark.parametrize("kind", ["vae", "ae", "vqvae"])
def test_a_short_run_lowers_the_negative_elbo(kind: str) -> None:
    session = _session(kind=kind, steps=400)
    before = elbo_view(session.method, make_generator(9), 2000).neg_elbo
    _train(session, 400)
    after = elbo_view(session.method, make_generator(9), 2000).neg_elbo
    assert after < before - 0.5, (before, after)
    history = session.snapshot().extra_losses
    assert "recon" in history and ("kl" in history) == (kind == "vae") and ("vq" in history) == (kind == "vqvae")


def test_a_large_beta_collapses_the_posterior_and_beta_one_does_not() -> None:
    kl = {}
    for beta in (1.0, 50.0):
        session = _train(_session(beta=beta, steps=600), 600)
        view = elbo_view(session.method, make_generator(9), 2000)
        kl[beta] = (view.kl, view.n_active)
    assert kl[50.0][0] < 0.02 and kl[50.0][1] == 0, kl  # q(z|x) = p(z): nothing about x is kept
    assert kl[1.0][0] > 0.3 and kl[1.0][1] >= 1, kl


def test_beta_applies_without_a_reset() -> None:
    session = _train(_session(steps=1000), 20)
    assert session.update(VAEConfig(**{**SMALL, "steps": 1000, "beta": 4.0})) == ""
    assert session.step_count == 20 and session.method.config.beta == 4.0


@pytest.mark.parametrize(
    ("settings", "ends"),
    [
        ({"beta": 0.0}, FINISHED),
        ({"kind": "vqvae", "codebook_size": 1}, FINISHED),
        # nothing holds the encoder's outputs near the codes: they run away within a few steps
        ({"kind": "vqvae", "commitment": 0.0}, DIVERGED),
        ({"decoder_variance": "fixed", "decoder_std": 0.001}, FINISHED),
        ({"decoder_variance": "fixed", "decoder_std": 10.0}, FINISHED),
        ({"latent_dim": 1}, FINISHED),
        ({"kind": "ae", "latent_dim": 1}, FINISHED),
        ({"kind": "vqvae", "latent_dim": 1, "codebook_size": 256}, FINISHED),
    ],
)
def test_degenerate_settings_give_a_result_or_a_message(settings: dict, ends: str) -> None:
    session = _session(steps=150, **settings)
    session.start()
    while session.running:
        session.run(1.0)
    assert session.status == ends, session.message
    if ends == DIVERGED:
        assert "diverged" in session.message and session.message.endswith(session.method.divergence_hint())
    else:
        assert session.step_count == 150
    samples = session.method.sample(500, make_generator(1))
    assert samples.shape == (500, 2) and bool(torch.isfinite(samples).all())
    if settings.get("decoder_std") == 10.0:  # x = m(z) + 10 ε: the noise alone has std 10 per coordinate
        assert bool((samples.std(0) > 8).all())


def test_a_single_code_makes_every_sample_one_blob_around_the_mean() -> None:
    session = _train(_session(kind="vqvae", codebook_size=1, steps=600, lr=0.01, schedule="constant"), 600)
    method = session.method
    data = session.density.sample(4000, make_generator(2))
    reconstructions = method.decode(method.code(data))
    torch.testing.assert_close(reconstructions, reconstructions[:1].expand(4000, 2))  # one output for every x
    torch.testing.assert_close(reconstructions[0], data.mean(0), atol=0.15, rtol=0)
    torch.testing.assert_close(method.decoder_std, data.std(0), atol=0.15, rtol=0)


def test_beta_zero_shrinks_the_posterior_towards_an_autoencoder() -> None:
    session = _train(_session(beta=0.0, steps=600), 600)
    with torch.no_grad():
        _, log_var = session.method.encode(session.density.sample(1000, make_generator(3)))
    assert float((0.5 * log_var).exp().median()) < 0.1


def test_a_learned_decoder_variance_stops_at_its_floor_on_degenerate_data() -> None:
    """Points on a line: s^2 -> 0 in the flat direction would send -log p(x|z) to -inf; it stops at 1e-4."""
    from explorer.data.densities import PointCloud

    t = torch.linspace(-3, 3, 200)
    line = PointCloud(torch.stack([t, torch.zeros_like(t)], 1), name="line", title="a line")
    config = VAEConfig(**{**SMALL, "density": "line", "steps": 1500, "lr": 0.02, "schedule": "constant"})
    session = TrainingSession("vae", config, {"line": line}, quality_every=10**9, quality_period_s=math.inf)
    session.start()
    while session.running:
        session.run(1.0)
    assert session.status == "finished", session.message
    log_var = session.method.decoder_log_var.detach()
    assert float(log_var[1]) == pytest.approx(DECODER_LOG_VAR_MIN)  # it did collapse, down to the floor
    assert float(log_var[0]) > DECODER_LOG_VAR_MIN + 1


def test_a_diverging_run_pauses_with_the_last_good_weights_and_a_hint() -> None:
    session = _session(lr=10.0, decoder_variance="fixed", decoder_std=0.01, steps=2000)
    session.start()
    for _ in range(40):
        session.run(0.2)
        if not session.running:
            break
    assert session.status == "diverged" and "learning rate 10" in session.message
    assert "1/σ²" in session.message  # the family's own advice
    assert all(bool(torch.isfinite(p).all()) for p in session.method.encoder_net.parameters())


def test_training_on_an_uploaded_csv() -> None:
    points = parse_points_csv(example_csv(), "heart.csv")
    config = VAEConfig(**{**SMALL, "density": points.name, "steps": 400})
    session = TrainingSession("vae", config, {points.name: points}, quality_every=10, quality_period_s=math.inf)
    _train(session, 10)
    _train(session, 390)
    energy = session.snapshot().quality["energy"]
    assert session.density is points and energy.size == 2 and energy[1] < 0.5 * energy[0], energy


@pytest.mark.parametrize("noise", [True, False])
def test_samples_are_the_decoder_mean_plus_its_noise(noise: bool) -> None:
    method = VAE(VAEConfig(sample_noise=noise, **SMALL), _density(), torch.device("cpu"))
    with torch.no_grad():
        method.decoder_log_var.fill_(math.log(0.3**2))
    z = method.prior_sample(20_000, make_generator(4))
    x = method.generate(z, make_generator(5))
    residual = x - method.decode(z).detach()
    if noise:
        torch.testing.assert_close(residual.std(0), torch.full((2,), 0.3), atol=0.01, rtol=0)
    else:
        assert float(residual.abs().max()) == 0.0


# --- the hand-derived kernel against autograd -------------------------------------------------------
def test_the_training_kernel_is_compiled() -> None:
    """TorchScript compiles it (otherwise the Python fallback runs, with the GIL held between tensor calls)."""
    from explorer.kernels.vae_kernel import compiled_vae_steps

    assert isinstance(compiled_vae_steps(), torch.jit.ScriptFunction)


@pytest.mark.usefixtures("float64")
@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"kind": "ae"},
        {"kind": "vqvae", "codebook_size": 8},
        {"decoder_variance": "fixed", "decoder_std": 0.5},
        {"latent_dim": 1, "beta": 3.0},
        {"kind": "vqvae", "latent_dim": 1, "codebook_size": 4, "commitment": 1.5},
    ],
)
def test_the_kernel_matches_autograd_and_torch_adam(settings: dict) -> None:
    """40 steps of the hand-derived kernel against `loss_terms` + autograd + torch.optim.Adam on the same batches:
    the same terms per step and the same weights after (codebook, decoder variance and its floor included)."""
    config = VAEConfig(**{"hidden": 16, "depth": 2, "batch_size": 32, "beta": 0.7, "commitment": 0.3, **settings})
    fast, slow = (VAE(config, _density(), torch.device("cpu")) for _ in range(2))
    torch.testing.assert_close(fast.flat.flat, slow.flat.flat)
    lrs = [0.01 * (1 - i / 40) for i in range(40)]
    terms = fast.train_chunk(lrs, make_generator(0))
    slow._draw_block(make_generator(0))
    optimizer = torch.optim.Adam(slow.trainable_parameters(), lr=lrs[0])
    expected: dict[str, list[torch.Tensor]] = {}
    for i, lr in enumerate(lrs):
        for group in optimizer.param_groups:
            group["lr"] = lr
        reference = slow.loss_terms(slow._block["x"][i], slow._block["eps"][i])
        for key, value in reference.items():
            expected.setdefault(key, []).append(value.detach())
        optimizer.zero_grad()
        reference["loss"].backward()
        optimizer.step()
        with torch.no_grad():
            slow.decoder_log_var.clamp_(min=DECODER_LOG_VAR_MIN)
    assert set(terms) == set(expected)
    assert fast.flat.flat.dtype == torch.float64
    for key, values in expected.items():
        torch.testing.assert_close(terms[key], torch.stack(values), rtol=1e-9, atol=1e-12)
    moved = (fast.flat.flat - VAE(config, _density(), torch.device("cpu")).flat.flat).abs().max()
    assert float(moved) > 0.05  # the weights did move, so agreeing after 40 steps means something
    torch.testing.assert_close(fast.flat.flat, slow.flat.flat, rtol=1e-9, atol=1e-12)
