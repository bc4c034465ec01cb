"""The GAN's notebook: generator and discriminator, the page's loss, alternating updates."""

from __future__ import annotations

from collections.abc import Callable

from explorer.data.densities import Density
from explorer.methods.gan import LEAKY_SLOPE, GANConfig
from explorer.notebook.cells import MLP, code, lr_schedule, md, metric_before

TITLE, PAGE = "Generative adversarial network", "GANs"
SUMMARY = "A generator G maps noise to samples; a discriminator D tells them from data; each trains against the other."
LOSS = "discriminator loss L_D"
D_LOSSES = {
    "minimax": "F.softplus(-real).mean() + F.softplus(fake).mean()",
    "nonsaturating": "F.softplus(-real).mean() + F.softplus(fake).mean()",
    "wgan": "fake.mean() - real.mean()",
    "wgan_gp": "fake.mean() - real.mean() + GP_LAMBDA * gradient_penalty(x, fake_x, y)",
    "lsgan": "0.5 * (real - LSGAN_B).pow(2).mean() + 0.5 * (fake - LSGAN_A).pow(2).mean()",
    "hinge": "F.relu(1 - real).mean() + F.relu(1 + fake).mean()",
    "dragan": "F.softplus(-real).mean() + F.softplus(fake).mean() + GP_LAMBDA * gradient_penalty(x, fake_x, y)",
}
G_LOSSES = {
    "minimax": "-F.softplus(fake).mean()  # = E log(1 - D(G(z))), D = sigmoid(output)",
    "nonsaturating": "F.softplus(-fake).mean()  # = -E log D(G(z))",
    "wgan": "-fake.mean()",
    "wgan_gp": "-fake.mean()",
    "lsgan": "0.5 * (fake - LSGAN_C).pow(2).mean()",
    "hinge": "-fake.mean()",
    "dragan": "F.softplus(-fake).mean()  # = -E log D(G(z))",
}
MATHS = {
    "minimax": "min_G max_D E log D(x) + E log(1 − D(G(z))), D = σ(output)",
    "nonsaturating": "D as in the minimax game; G maximises E log D(G(z)) instead (strong gradients where D ≈ 0)",
    "wgan": "the critic f ascends E f(x) − E f(G(z)) with every weight clipped to [−c, c]; G descends −E f(G(z))",
    "wgan_gp": "the critic ascends E f(x) − E f(G(z)) − λ E (‖∇f(x̂)‖ − 1)², x̂ between real and fake samples",
    "lsgan": "least squares: D regresses real onto b and fake onto a; G pushes D(G(z)) towards c",
    "hinge": "D minimises E max(0, 1 − D(x)) + E max(0, 1 + D(G(z))); G minimises −E D(G(z))",
    "dragan": "the non-saturating game, with D's penalty λ E (‖∇D(x + σε)‖ − 1)² around the data, ε ~ N(0, I)",
}
PENALTY_POINTS = {
    "interpolates": "u * real + (1 - u) * fake  # between real and generated points (WGAN-GP)",
    "real_and_generated": "torch.cat([real, fake])  # the expectation over p_data + p_G",
    "perturbed_real": "real + DRAGAN_NOISE * torch.randn_like(real)  # around the data (DRAGAN)",
}
OPTIMIZERS = {
    "adam": "torch.optim.Adam({params}, lr={lr}, betas=(BETA1, 0.999))",
    "rmsprop": "torch.optim.RMSprop({params}, lr={lr}, alpha=0.99, eps=1e-8)",
    "sgd": "torch.optim.SGD({params}, lr={lr})",
}


def constants(c: GANConfig, density: Density) -> str:
    classes = density.n_classes if c.conditional and density.n_classes > 1 else 0
    return (
        f"BATCH, LR_G, LR_D, BETA1, N_CRITIC = {c.batch_size}, {c.lr!r}, {c.lr_d!r}, {c.beta1!r}, {c.n_critic}\n"
        f"LATENT, G_HIDDEN, G_DEPTH, D_HIDDEN, D_DEPTH = {c.latent_dim}, {c.g_hidden}, {c.g_depth}, "
        f"{c.d_hidden}, {c.d_depth}\n"
        f"GP_LAMBDA, CLIP, DRAGAN_NOISE = {c.gp_lambda!r}, {c.clip!r}, {c.dragan_noise!r}\n"
        f"SPECTRAL_NORM = {c.spectral_norm}  # every layer of D divided by its largest singular value\n"
        f"D_ACTIVATION, LEAKY_SLOPE = {c.d_activation!r}, {LEAKY_SLOPE}  # D's hidden layers (G uses SiLU)\n"
        f"LSGAN_A, LSGAN_B, LSGAN_C = {c.lsgan_a!r}, {c.lsgan_b!r}, {c.lsgan_c!r}\n"
        f"N_CLASSES = {classes}  # a conditional GAN when > 0: G and D both receive the class y"
    )


def cells(c: GANConfig, density: Density, lookup: Callable[[str], Density]) -> list:
    points = PENALTY_POINTS.get(c.penalty, PENALTY_POINTS["interpolates"])
    spectral = (
        "\nSpectral normalisation: each layer of D uses W / σ(W), σ estimated by power iteration (torch's "
        "parametrization, one step per forward pass in training mode)."
        if c.spectral_norm
        else ""
    )
    clip = (
        "\n        with torch.no_grad():\n            for p in D.parameters():\n                p.clamp_(-CLIP, CLIP)"
    )
    return [
        md(
            f"""
## The model and its objective

**{c.loss}**: {MATHS[c.loss]}. D takes {c.n_critic} step(s) per G step; G's noise is z ~ N(0, I) in
{c.latent_dim}D. A conditional GAN feeds a one-hot class y to both networks.{spectral}
"""
        ),
        code(
            MLP
            + '''


F = nn.functional
G = mlp(LATENT + N_CLASSES, 2, G_HIDDEN, G_DEPTH)
D_ACTIVATIONS = {"silu": nn.SiLU, "leaky_relu": lambda: nn.LeakyReLU(LEAKY_SLOPE)}
D = mlp(2 + N_CLASSES, 1, D_HIDDEN, D_DEPTH, D_ACTIVATIONS[D_ACTIVATION])
if SPECTRAL_NORM:
    for layer in D:
        if isinstance(layer, nn.Linear):
            nn.utils.parametrizations.spectral_norm(layer)


def with_class(x, y):
    return torch.cat([x, F.one_hot(y, N_CLASSES).float()], 1) if N_CLASSES else x


def generate(n, y=None):
    """G(z, y) [n, 2]; random classes when y is None."""
    y = torch.randint(0, max(N_CLASSES, 1), (n,)) if y is None else y
    return G(with_class(torch.randn(n, LATENT), y)), y


def gradient_penalty(real, fake, y):
    """E (||grad_x D(x_hat)|| - 1)^2 at the penalty's points x_hat."""
    u = torch.rand(len(real), 1)
    x_hat = ('''
            + points
            + """\n    ).requires_grad_(True)
    y = y.repeat(len(x_hat) // len(y))
    out = D(with_class(x_hat, y)).squeeze(1)
    (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    return (grad.norm(dim=1) - 1).pow(2).mean()"""
            + lr_schedule(c.schedule, "LR_G")
        ),
        md("## Sampling: one pass through G"),
        code(
            """
@torch.no_grad()
def sample_model(n):
    return generate(n)[0]


"""
            + metric_before()
        ),
        md("## Training: alternate D and G updates"),
        code(
            f"""
opt_g = {OPTIMIZERS[c.optimizer_g].format(params="G.parameters()", lr="LR_G")}
opt_d = {OPTIMIZERS[c.optimizer_d].format(params="D.parameters()", lr="LR_D")}
losses = []
for step in range(STEPS):
    lr_g = lr_at(step)
    for group in opt_g.param_groups:
        group["lr"] = lr_g
    for group in opt_d.param_groups:
        group["lr"] = LR_D * lr_g / LR_G if LR_G else LR_D
    for _ in range(N_CRITIC):
        x, y = sample_data(BATCH)
        fake_x = generate(BATCH, y if N_CLASSES else None)[0].detach()
        real, fake = D(with_class(x, y)).squeeze(1), D(with_class(fake_x, y)).squeeze(1)
        loss_d = {D_LOSSES[c.loss]}
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step(){clip if c.loss == "wgan" else ""}
    fake_x, y = generate(BATCH)
    fake = D(with_class(fake_x, y)).squeeze(1)
    loss_g = {G_LOSSES[c.loss]}
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    losses.append(loss_d.item())

samples = sample_model(2000)"""
        ),
    ]
