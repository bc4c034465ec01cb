"""What the GAN page shows, computed from a `GAN` method as numpy arrays.

- `surface_view`: the discriminator surface D(x) (the probability sigmoid(logit) for the minimax and
  non-saturating losses, the raw output otherwise: the critic f(x) of the WGANs, LSGAN's regression
  output, the hinge score) on a grid, with real and generated samples and, at every generated
  sample, the generator's gradient arrow -grad_x l_G(D(x)): the direction its loss pushes that sample.
- `mapping_view`: the generator as a map: a grid of lines in noise space (latent 2), or the segment
  z in [-3, 3] (latent 1), and its image under G.
- `mode_mass_view`: per-mode mass of model samples against the target weights (mode collapse).
- `class_view`: a conditional GAN's samples per class.
- `lipschitz_view`: ||grad_x D|| over the plane, with the points where the loss evaluates its gradient
  penalty (interpolates, real and generated points, perturbed reals; none without a penalty).
- `setting_notes`: what extreme settings do, in words; `PRESETS`: the lecture's demonstrations.
- `hidden_params`: the sidebar fields that do not apply to a configuration; `surface_caption`: D's means.

The live view reads the networks while a worker thread trains them. The optimizer updates the
weights in place, which would invalidate an autograd graph built through them between forward and
backward, so every view evaluates a `frozen` copy of the two networks.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch

from explorer.data.densities import Checkerboard, Density, GaussianMixture
from explorer.kernels.gan_losses import CLASSIFIER, WASSERSTEIN, generator_loss, penalty_points
from explorer.maths.grid import make_grid
from explorer.maths.metrics import cell_masses
from explorer.methods.gan import GAN, GANConfig
from explorer.training.presets import Preset
from explorer.training.presets import apply_preset as apply_over_defaults

PROBABILITY_LOSSES = CLASSIFIER  # D outputs a logit: sigmoid gives P(real)
LATENT_LIM = 3.0  # the noise-space grid covers [-3, 3]^latent_dim (99.7% of N(0, 1) per axis)
OFF_MODE_STDS = 3.0  # a sample farther than 3 std from every mean lies "between modes"


def _np(x: torch.Tensor) -> np.ndarray:
    return x.detach().float().cpu().numpy()


def frozen(method: GAN) -> GAN:
    """A shallow copy of `method` whose two networks are private deep copies without parameter
    gradients: safe to differentiate through while the original trains in another thread."""
    twin = copy.copy(method)
    twin.generator_net = copy.deepcopy(method.generator_net).requires_grad_(False)
    twin.discriminator_net = copy.deepcopy(method.discriminator_net).requires_grad_(False)
    twin.sn_u, twin.sn_v = [u.clone() for u in method.sn_u], [v.clone() for v in method.sn_v]
    return twin


def _class(method: GAN, label: int | None) -> int | None:
    """The class `label` clamped into a conditional GAN's classes (none given: 0); None for an unconditional one."""
    return min(max(int(label or 0), 0), method.n_classes - 1) if method.n_classes else None


def _labels(method: GAN, label: int | None, n: int, device: torch.device) -> torch.Tensor | None:
    """Class labels `[n]` for a conditional GAN (class `label`, clamped into range), else None."""
    if not method.n_classes:
        return None
    return torch.full((n,), _class(method, label), dtype=torch.long, device=device)


def _real(density: Density, n: int, generator: torch.Generator, label: int | None) -> torch.Tensor:
    """n data samples `[n, 2]`, or up to n of class `label` (None: all classes)."""
    if label is None:
        return density.sample(n, generator)
    x, y = density.sample_labelled(4 * n * max(1, density.n_classes), generator)
    return x[y == label][:n]


def output_values(loss: str, raw: torch.Tensor) -> torch.Tensor:
    """What the surface shows for raw discriminator outputs `[n]`: sigmoid(logit) = P(real) for the
    classifier losses, the raw value (critic, LSGAN output, hinge score) otherwise."""
    return torch.sigmoid(raw) if loss in PROBABILITY_LOSSES else raw


def generator_arrows(method: GAN, fake: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """-grad_x l_G(D(x)) `[m, 2]` at generated points `fake` `[m, 2]`: per-sample steepest descent of
    the generator loss (L_G = mean_i l_G(D(x_i)), so m times the gradient of L_G w.r.t. x_i). By the
    chain rule through x = G(z) this is the push each sample passes back to the generator's weights."""
    cfg = method.config
    x = fake.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        per_sample_sum = generator_loss(
            cfg.loss, method.discriminate(x, labels), (cfg.lsgan_a, cfg.lsgan_b, cfg.lsgan_c)
        )
        (grad,) = torch.autograd.grad(per_sample_sum * x.shape[0], x)
    return -grad


@dataclass(frozen=True)
class SurfaceView:
    """The discriminator surface on a grid with real and generated samples and the G arrows."""

    loss: str
    kind: str  # "probability" (D(x) = P(real)), "critic" (WGAN f(x)) or "output" (LSGAN, hinge)
    axis: np.ndarray  # [k] grid coordinates, the same on both axes
    values: np.ndarray  # [k, k] indexed [y, x]
    reference: tuple[float, float] | None  # output aimed at for (fake, real): (0, 1), (a, b), (-1, 1); None for critics
    real: np.ndarray  # [n, 2] data samples
    fake: np.ndarray  # [m, 2] generated samples G(z), the same z every frame
    arrows: np.ndarray  # [m, 2] -grad_x l_G(D(x)) at each generated sample
    real_mean: float  # mean surface value on the real samples
    fake_mean: float  # mean surface value on the generated samples
    grad_median: float  # median |arrow|
    label: int | None  # the class shown (conditional GAN), else None


@torch.no_grad()
def surface_view(
    method: GAN, generator: torch.Generator, n: int = 200, lim: float = 6.0, fine: int = 40, label: int | None = None
) -> SurfaceView:
    """Evaluate D on a `fine` x `fine` grid over [-lim, lim]^2 and the arrows at n generated samples.

    For a conditional GAN the surface is D(x | y = label) and both sample sets are of that class."""
    gan, cfg, dev = frozen(method), method.config, method.device
    label = _class(method, label)
    z = torch.randn((n, cfg.latent_dim), generator=generator, device=generator.device).to(dev)
    fake = gan.generate(z, _labels(gan, label, n, dev))
    real = _real(method.density, n, generator, label).to(dev)
    grid = make_grid(lim, fine, dev)
    values = output_values(cfg.loss, gan.discriminate(grid.points, _labels(gan, label, grid.points.shape[0], dev)))
    arrows = generator_arrows(gan, fake, _labels(gan, label, n, dev))
    kind = "probability" if cfg.loss in PROBABILITY_LOSSES else "critic" if cfg.loss in WASSERSTEIN else "output"
    reference = {"probability": (0.0, 1.0), "critic": None}.get(kind)
    if cfg.loss == "lsgan":
        reference = (cfg.lsgan_a, cfg.lsgan_b)
    elif cfg.loss == "hinge":
        reference = (-1.0, 1.0)
    real_values = output_values(cfg.loss, gan.discriminate(real, _labels(gan, label, real.shape[0], dev)))
    fake_values = output_values(cfg.loss, gan.discriminate(fake, _labels(gan, label, n, dev)))
    return SurfaceView(
        loss=cfg.loss,
        kind=kind,
        axis=grid.axis,
        values=grid.as_image(values),
        reference=reference,
        real=_np(real),
        fake=_np(fake),
        arrows=_np(arrows),
        real_mean=float(real_values.mean()) if real.shape[0] else float("nan"),
        fake_mean=float(fake_values.mean()),
        grad_median=float(arrows.norm(dim=1).median()),
        label=label,
    )


@dataclass(frozen=True)
class MappingView:
    """The generator as a map from noise space to data space.

    Latent 2: `noise_lines` are the lines z1 = c and z2 = c of a grid over [-3, 3]^2 (`family` 0 for
    lines of constant z2, 1 for constant z1). Latent 1: one "line", the segment z in [-3, 3] drawn at
    (z, 0). `data_lines` is G applied to every vertex."""

    latent_dim: int
    noise_lines: np.ndarray  # [L, k, 2]
    data_lines: np.ndarray  # [L, k, 2]
    family: np.ndarray  # [L] 0 or 1
    line_z: np.ndarray  # [k] the parameter along every line, in [-3, 3]
    z: np.ndarray  # [n, latent_dim] noise samples
    fake: np.ndarray  # [n, 2] G(z)
    label: int | None


def noise_grid(latent_dim: int, lines: int = 11, vertices: int = 41, lim: float = LATENT_LIM) -> torch.Tensor:
    """Grid lines in noise space, `[L, k, latent_dim]`: for latent 2, `lines` lines of constant z2
    then `lines` of constant z1 (L = 2 lines); for latent 1 the segment [-lim, lim] (L = 1)."""
    t = torch.linspace(-lim, lim, vertices)
    if latent_dim == 1:
        return t[None, :, None]
    c = torch.linspace(-lim, lim, lines)
    const_z2 = torch.stack([t[None].expand(lines, -1), c[:, None].expand(-1, vertices)], dim=-1)
    return torch.cat([const_z2, const_z2.flip(-1)], dim=0)


@torch.no_grad()
def mapping_view(
    method: GAN, generator: torch.Generator, n: int = 150, lines: int = 11, vertices: int = 41, label: int | None = None
) -> MappingView:
    """The noise grid and its image under G (of class `label` for a conditional GAN)."""
    gan, d, dev = frozen(method), method.config.latent_dim, method.device
    label = _class(method, label)
    grid = noise_grid(d, lines, vertices).to(dev)
    flat = grid.reshape(-1, d)
    data = gan.generate(flat, _labels(gan, label, flat.shape[0], dev)).reshape(grid.shape[0], grid.shape[1], 2)
    noise = grid if d == 2 else torch.cat([grid, torch.zeros_like(grid)], dim=-1)
    family = np.repeat([0, 1], lines) if d == 2 else np.zeros(1, dtype=int)
    z = torch.randn((n, d), generator=generator, device=generator.device).to(dev)
    fake = gan.generate(z, _labels(gan, label, n, dev))
    return MappingView(
        d, _np(noise), _np(data), family, np.linspace(-LATENT_LIM, LATENT_LIM, vertices), _np(z), _np(fake), label
    )


@dataclass(frozen=True)
class ModeMassView:
    """Model mass per mode (mixture component, or checkerboard cell) against the target's."""

    names: tuple[str, ...]
    mass: np.ndarray  # [K] fraction of samples counted toward each mode
    target: np.ndarray  # [K] the target's mass per mode
    off: float  # fraction between the modes (> 3 std from every mean) or outside every cell
    off_label: str
    covered: int  # modes holding at least half of their target mass


def mode_mass_view(samples: np.ndarray, density: Density) -> ModeMassView | None:
    """Per-mode mass of model samples `[n, 2]`: nearest mean for Gaussian mixtures (the metric's
    rule), cell for the checkerboard; None for densities without modes or without samples."""
    x = torch.as_tensor(np.asarray(samples, dtype=np.float32)).reshape(-1, 2)
    x = x[torch.isfinite(x).all(1)]
    if x.shape[0] == 0:
        return None
    if isinstance(density, GaussianMixture) and density.n_classes > 1:
        nearest = density.nearest_component(x)
        mass = torch.bincount(nearest, minlength=density.n_classes).double() / x.shape[0]
        distance = (x - density.means[nearest]).norm(dim=1) / density.stds[nearest]
        off, off_label, target = float((distance > OFF_MODE_STDS).double().mean()), "between the modes", density.weights
        names = density.class_names
    elif isinstance(density, Checkerboard):
        mass, off = cell_masses(x, density)
        off_label, target = "outside the cells", torch.full((8,), 1 / 8)
        names = density.class_names
    else:
        return None
    mass_np, target_np = mass.numpy(), target.double().numpy()
    covered = int((mass_np >= 0.5 * target_np).sum())
    return ModeMassView(tuple(names), mass_np, target_np, off, off_label, covered)


@dataclass(frozen=True)
class ClassView:
    """A conditional GAN's samples per class, next to the data of that class."""

    names: tuple[str, ...]
    real: list[np.ndarray]  # per class [n_k, 2]
    fake: np.ndarray  # [K, n, 2]: G(z, y = k) for the same z in every class
    fidelity: np.ndarray | None  # [K] fraction of class-k samples nearest component k (mixtures only)


@torch.no_grad()
def class_view(method: GAN, generator: torch.Generator, n: int = 150) -> ClassView | None:
    """G(z, y) for every class y from one set of n noise vectors; None for an unconditional GAN."""
    if not method.n_classes:
        return None
    gan, k, dev, density = frozen(method), method.n_classes, method.device, method.density
    z = torch.randn((n, method.config.latent_dim), generator=generator, device=generator.device).to(dev)
    fake = torch.stack([gan.generate(z, _labels(gan, y, n, dev)) for y in range(k)])
    x, y = density.sample_labelled(n * k, generator)
    real = [_np(x[y == c]) for c in range(k)]
    fidelity = None
    if isinstance(density, GaussianMixture):
        hits = density.nearest_component(fake.reshape(-1, 2).cpu()).reshape(k, n) == torch.arange(k)[:, None]
        fidelity = hits.double().mean(1).numpy()
    return ClassView(tuple(density.class_names[:k]), real, _np(fake), fidelity)


PENALTY_TITLES = {
    "interpolates": "interpolates x̂ = u x + (1 − u) G(z)",
    "real_and_generated": "real and generated points",
    "perturbed_real": "perturbed reals x + σε",
    "none": "",
}


@dataclass(frozen=True)
class LipschitzView:
    """||grad_x D(x)|| on a grid (of the logit or critic value D trains), and where the penalty is evaluated."""

    axis: np.ndarray  # [k] grid coordinates, the same on both axes
    grad_norm: np.ndarray  # [k, k] indexed [y, x]
    penalty: str  # "interpolates", "real_and_generated", "perturbed_real" or "none"
    points: np.ndarray  # [m, 2] where the penalty is evaluated ([0, 2] without one)
    points_grad_norm: float  # mean ||grad D|| at those points (nan without them)
    spectral: bool
    max_grad_norm: float  # over the grid


@torch.no_grad()
def lipschitz_view(
    method: GAN, generator: torch.Generator, n: int = 200, lim: float = 6.0, fine: int = 48, label: int | None = None
) -> LipschitzView:
    """||grad_x D|| on a `fine` x `fine` grid over [-lim, lim]^2, and the penalty points of one batch of n real and
    n generated samples (drawn as the training step draws them)."""
    gan, cfg, dev = frozen(method), method.config, method.device
    label = _class(method, label)
    real = _real(method.density, n, generator, label).to(dev)
    z = torch.randn((real.shape[0], cfg.latent_dim), generator=generator, device=generator.device).to(dev)
    fake = gan.generate(z, _labels(gan, label, real.shape[0], dev))
    u = torch.rand((real.shape[0], 1), generator=generator, device=generator.device).to(dev)
    noise = torch.randn(real.shape, generator=generator, device=generator.device).to(dev)
    points = penalty_points(method.penalty, real, fake, u, noise, cfg.dragan_noise)
    grid = make_grid(lim, fine, dev)

    def norms(x: torch.Tensor) -> torch.Tensor:
        x = x.detach().requires_grad_(True)
        with torch.enable_grad():
            (grad,) = torch.autograd.grad(gan.discriminate(x, _labels(gan, label, x.shape[0], dev)).sum(), x)
        return grad.norm(dim=1)

    grid_norms = norms(grid.points)
    return LipschitzView(
        axis=grid.axis,
        grad_norm=grid.as_image(grid_norms),
        penalty=method.penalty,
        points=_np(points) if points is not None else np.zeros((0, 2)),
        points_grad_norm=float(norms(points).mean()) if points is not None and points.shape[0] else float("nan"),
        spectral=bool(cfg.spectral_norm),
        max_grad_norm=float(grid_norms.max()),
    )


LOSS_PARAMS = {
    "wgan": {"clip"},
    "wgan_gp": {"gp_lambda", "penalty_at"},
    "lsgan": {"lsgan_a", "lsgan_b", "lsgan_c"},
    "dragan": {"gp_lambda", "dragan_noise"},
}
ALL_LOSS_PARAMS = set().union(*LOSS_PARAMS.values())


def hidden_params(config: GANConfig) -> set[str]:
    """The other losses' parameters, and Adam's β1 when neither network uses Adam (hidden in the sidebar)."""
    adam = "adam" in (config.optimizer_g, config.optimizer_d)
    return (ALL_LOSS_PARAMS - LOSS_PARAMS.get(config.loss, set())) | (set() if adam else {"beta1"})


def lipschitz_caption(view: LipschitzView) -> str:
    """What the Lipschitz tab shows, in numbers."""
    text = f"Steepest slope of D on the plane: ‖∇ₓD‖ = {view.max_grad_norm:.3g}."
    if view.penalty != "none":
        text += (
            f" At the penalty's points ({PENALTY_TITLES[view.penalty]}) its mean is {view.points_grad_norm:.3g}: "
            "the penalty pulls it to 1 there and nowhere else."
        )
    if view.spectral:
        text += (
            " Spectral normalisation divides every layer by its largest singular value σ(W), so the product of the "
            "layers' norms (1, times the activation's steepest slope per layer: 1.1 for SiLU, 1 for leaky ReLU) "
            "bounds the slope everywhere; the chart shows the raw σ(W) that training moves."
        )
    elif view.penalty == "none":
        text += " Nothing constrains the slope of this loss's D: the chart shows how the layers' σ(W) grow."
    return text


def surface_caption(surface: SurfaceView) -> str:
    """D's mean output on data and on G(z), with the equilibrium value where D is a probability."""
    if surface.kind == "probability":
        return f"Mean D on data {surface.real_mean:.2f}, on G(z) {surface.fake_mean:.2f} (½ at equilibrium)."
    return f"Mean D on data {surface.real_mean:.3g}, on G(z) {surface.fake_mean:.3g}."


def setting_notes(config: GANConfig) -> list[str]:
    """Plain-language warnings for settings at or near their extremes (empty when none applies)."""
    notes = []
    if config.lr == 0:
        notes.append(
            "The G learning rate is 0, so nothing moves: the schedule scales D's rate by G's "
            "(lr_D · lr_t / lr_G), so D is frozen too. Raise 'G learning rate'."
        )
    elif config.lr_d == 0:
        notes.append(
            "The D learning rate is 0: D stays at its random initialisation and there is no game. G just "
            "climbs that fixed surface and its samples pile up where the random D is largest."
        )
    if max(config.lr, config.lr_d) >= 0.05:
        notes.append(
            "A learning rate this large usually diverges within a few steps; training then pauses and keeps the "
            "last good weights."
        )
    if config.loss == "wgan" and config.clip <= 1e-3:
        notes.append(
            f"Clipping every weight to ±{config.clip:g} shrinks the critic to almost a constant: f(x) varies by a "
            "tiny amount over the plane, its gradient (the generator's only signal) all but vanishes, and the "
            "arrows shrink to dots. Learning crawls."
        )
    elif config.loss == "wgan" and config.clip >= 0.5:
        notes.append(
            f"Clipping at ±{config.clip:g} hardly constrains a network of this size: the critic is not "
            "1-Lipschitz, so E f(real) − E f(fake) is not a Wasserstein estimate and can grow without bound."
        )
    if config.loss == "wgan_gp" and config.gp_lambda == 0:
        notes.append("λ = 0 removes the gradient penalty: the critic is unconstrained and its values can run away.")
    if config.spectral_norm and config.penalty != "none":
        notes.append(
            "Spectral normalisation with a gradient penalty: the penalty asks for a slope of 1 where spectral "
            "normalisation leaves D far flatter (0.1-0.3 here), so the two fight; measured on eight_gaussians the "
            "samples drift off the modes or crowd onto a few of them. Spectral normalisation is usually paired "
            "with the non-saturating or hinge loss."
        )
    if config.loss == "lsgan" and config.lsgan_a == config.lsgan_b:
        notes.append(
            "LSGAN with a = b asks D for the same output on real and fake samples: D learns nothing useful, "
            "and G gets no signal about where the data is."
        )
    if config.n_critic == 1 and config.loss == "wgan":
        notes.append(
            "One critic step per G step with weight clipping: the critic is far from its optimum, so −L_D "
            "underestimates the Wasserstein distance and G follows a rough gradient (the WGAN paper uses 5). "
            "With the gradient penalty one step is enough here (the page's default, measured)."
        )
    if config.n_critic >= 10:
        notes.append(
            f"{config.n_critic} D steps per G step: each G step costs {config.n_critic + 1} network updates, so "
            "steps/s drops. With the saturating minimax loss a D this strong starves G of gradient."
        )
    return notes


# Measured with the seed these presets set (0); tests/test_lecture_demos.py and tests/test_views_gan.py train
# each one and check what its sentence says.
PRESETS: dict[str, Preset] = {
    "collapse": Preset(
        "Mode collapse",
        {"density": "eight_gaussians", "loss": "nonsaturating", "n_critic": 1},
        "Watch the mass-per-mode bars: within about 1,000 steps they go uneven, two modes holding about twice "
        "their share while two or three sink to a few percent (mode TV about 0.3; WGAN-GP stays under 0.05).",
    ),
    "wgan_gp": Preset(
        "WGAN-GP: all modes",
        {"density": "eight_gaussians", "loss": "wgan_gp", "n_critic": 2, "gp_lambda": 1.0},
        "Same data as the collapse demo, but all eight mass-per-mode bars stay near their target from the "
        "first few hundred steps on.",
    ),
    "vanishing": Preset(
        "Vanishing gradients",
        # batch and G rate as measured for this demo (the defaults' batch 64 at 2e-3 lets G escape)
        {"density": "eight_gaussians", "loss": "minimax", "n_critic": 10, "lr_d": 0.01, "batch_size": 256, "lr": 1e-3},
        "D rejects every generated sample at once (D ≈ 0), where log(1 − D) is flat, so the arrows are about "
        "10⁻⁷ long and the samples sit still for hundreds of steps (the non-saturating loss moves them at "
        "once).",
    ),
    "clip_tight": Preset(
        "Clipping too tight",
        {"density": "eight_gaussians", "loss": "wgan", "n_critic": 5, "clip": 0.001},
        "With every weight in ±0.001 the critic is almost constant, so its gradient at the samples is about "
        "10⁻¹⁰ and they stay a dot near the origin.",
    ),
    "clip_loose": Preset(
        "Clipping too loose",
        {"density": "eight_gaussians", "loss": "wgan", "n_critic": 5, "clip": 1.0},
        "With weights up to ±1 nothing keeps the critic Lipschitz: its values run into the thousands within "
        "50 steps, the arrows fling the samples off the plot and training soon stops as diverged.",
    ),
    "dragan": Preset(
        "DRAGAN",
        {"density": "eight_gaussians", "loss": "dragan", "gp_lambda": 1.0, "dragan_noise": 0.5, "steps": 8000},
        "Open the Lipschitz tab: the penalty's points (dark) are the data shaken by noise, and only there is D's "
        "slope held near 1 (white); elsewhere it is free. All eight modes fill, each with about 10% of the samples "
        "by the end.",
    ),
    "spectral": Preset(
        "Spectral normalisation",
        {
            "density": "eight_gaussians",
            "loss": "nonsaturating",
            "spectral_norm": True,
            "d_activation": "leaky_relu",
            "steps": 12000,
            "schedule": "cosine",
        },
        "Every layer of D is divided by its largest singular value, so D's slope can never pass 1 (the Lipschitz "
        "tab's steepest stays 0.2-0.3, no red anywhere) while the raw σ(W) grow. With leaky ReLU in D that is "
        "steep enough: every mode fills, sharp (log-density gap under 1 nat). Set D's activation to SiLU and "
        "press Reset, Train: D stays flatter still (SiLU's slope is 0.5 at 0, and the layers multiply it), and "
        "the modes come out blurred (gap about 4 nats).",
    ),
    "penalty_both": Preset(
        "Penalty on real and generated points",
        {"density": "eight_gaussians", "loss": "wgan_gp", "penalty_at": "real_and_generated"},
        "The slides' penalty E over p_data + p_G instead of interpolates: the Lipschitz tab marks the data and G's "
        "samples themselves, where D's slope is held near 1 (white); between the modes it may be steeper (red). "
        "All eight modes keep their share, as with interpolates.",
    ),
}


def apply_preset(config: GANConfig, name: str) -> GANConfig:
    """The defaults with preset `name`'s settings; the device choice of `config` is kept."""
    return apply_over_defaults(config, PRESETS[name])
