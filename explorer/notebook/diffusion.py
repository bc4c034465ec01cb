"""Diffusion's notebook: the VP schedule, denoising score matching, the four reverse samplers."""

from __future__ import annotations

from collections.abc import Callable

from explorer.data.densities import Density
from explorer.methods.diffusion import DiffusionConfig
from explorer.notebook.cells import EMA, MLP, code, lr_schedule, md, metric_before, ode_likelihood, training

TITLE, PAGE = "Diffusion and score", "Diffusion and score"
SUMMARY = "Data is noised by a variance-preserving SDE; a network learns to denoise it and sampling runs the reverse."
LOSS = "denoising loss"
SCHEDULES = {
    "linear": (
        "β(t) = 0.1 + 19.9 t, ᾱ(t) = exp(−(0.1 t + 9.95 t²))",
        "torch.exp(-(0.1 * t + 0.5 * (20.0 - 0.1) * t * t))",
        "0.1 + t * (20.0 - 0.1)",
    ),
    "cosine": (
        "ᾱ(t) = cos²(π/2 (t + s)/(1 + s)) / cos²(π/2 s/(1 + s)), s = 0.008 (Nichol and Dhariwal)",
        # the normaliser is the numerator at t = 0, computed alike, so that abar(0) is exactly 1 in float32 (a
        # float64 constant left 1 - abar(0) = 6e-8: noise of std 2e-4 on the last step of DDPM and DDIM)
        "(torch.cos(0.5 * math.pi * (t + 0.008) / 1.008) ** 2"
        " / torch.cos(0.5 * math.pi * (torch.zeros_like(t) + 0.008) / 1.008) ** 2).clamp(1e-4, 1.0)",
        "(math.pi / 1.008 * torch.tan((0.5 * math.pi * (t + 0.008) / 1.008).clamp(max=0.5 * math.pi * (1 - 1e-6))))"
        ".clamp(max=20.0)",
    ),
}
SAMPLERS = {
    "ddpm": """
    for t, s in zip(times[:-1], times[1:]):
        ab_t, ab_s = float(abar(t)), float(abar(s))
        a_ts = ab_t / ab_s
        mean = (x - (1 - a_ts) / math.sqrt(1 - ab_t) * eps_hat(model, x, t)) / math.sqrt(a_ts)
        var = (1 - ab_s) / (1 - ab_t) * (1 - a_ts)
        x = mean + math.sqrt(max(var, 0.0)) * torch.randn_like(x)""",
    "ddim": """
    for t, s in zip(times[:-1], times[1:]):
        ab_t, ab_s = float(abar(t)), float(abar(s))
        eps = eps_hat(model, x, t)
        x0 = (x - math.sqrt(1 - ab_t) * eps) / math.sqrt(ab_t)
        c = ETA * math.sqrt((1 - ab_s) / (1 - ab_t)) * math.sqrt(max(1 - ab_t / ab_s, 0.0))
        x = math.sqrt(ab_s) * x0 + math.sqrt(max(1 - ab_s - c * c, 0.0)) * eps + c * torch.randn_like(x)""",
    "sde": """
    h = (1 - T_MIN) / SAMPLER_STEPS
    for i in range(SAMPLER_STEPS):  # Euler-Maruyama on dx = [-β/2 x - β score] dt + √β dW̄, backwards in t
        t = 1 - i * h
        b, score = float(beta(t)), -eps_hat(model, x, t) / float(sigma(t))
        x = x + h * (0.5 * b * x + b * score) + math.sqrt(b * h) * torch.randn_like(x)""",
    "ode": """
    def drift(x, t):  # the probability-flow ODE dx/dt = -β/2 (x + score)
        return -0.5 * float(beta(t)) * (x - eps_hat(model, x, t) / float(sigma(t)))

    h = (T_MIN - 1) / SAMPLER_STEPS
    for i in range(SAMPLER_STEPS):  # Heun steps from t = 1 to T_MIN
        t = 1 + i * h
        slope = drift(x, t)
        x = x + 0.5 * h * (slope + drift(x + h * slope, t + h))""",
}


def constants(c: DiffusionConfig, density: Density) -> str:
    return (
        f"BATCH, LR, HIDDEN, DEPTH = {c.batch_size}, {c.lr!r}, {c.hidden}, {c.depth}\n"
        f"EMA_DECAY = {c.ema_decay if c.ema else 0.0!r}  # 0: no moving average of the weights\n"
        f"SAMPLER_STEPS, ETA = {c.sampler_steps}, {c.eta!r}\n"
        "T_MIN = 1e-3  # training and sampling stop short of t = 0, where the score blows up"
    )


def cells(c: DiffusionConfig, density: Density, lookup: Callable[[str], Density]) -> list:
    text, abar, beta = SCHEDULES[c.noise_schedule]
    target = {"eps": "eps", "score": "-eps / sigma(t)", "x0": "x0"}[c.target]
    convert = {
        "eps": "out",
        "score": "-float(sigma(t)) * out",
        "x0": "(x - math.sqrt(float(abar(t))) * out) / float(sigma(t))",
    }[c.target]
    return [
        md(
            f"""
## The model and its objective

Diffusion time t = 0 is data, t = 1 noise: x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε with ε ~ N(0, I), under the
{c.noise_schedule} schedule, {text}. A network predicts **{c.target}** from (x_t, t); the loss is

$$\\mathcal L(\\theta) = \\mathbb E_{{t, x_0, \\varepsilon}} \\big\\| f_\\theta(x_t, t) - \\text{{target}} \\big\\|^2,$$

and every form converts to the noise estimate ε̂ and the score ∇ log p_t(x) = −ε̂ / σ_t. Sampling runs
the reverse process from N(0, I) at t = 1 with the **{c.sampler}** sampler in {c.sampler_steps} steps.
"""
        ),
        code(
            MLP
            + f'''


def abar(t):
    t = torch.as_tensor(t, dtype=torch.float32)
    return {abar}


def beta(t):
    t = torch.as_tensor(t, dtype=torch.float32)
    return {beta}


def sigma(t):
    return (1 - abar(t)).clamp_min(0).sqrt()


net = mlp(3, 2, HIDDEN, DEPTH)
average = copy.deepcopy(net)


def eps_hat(model, x, t):
    """The noise estimate at x [n, 2], diffusion time t (a float), from what the network predicts."""
    out = model(torch.cat([x, torch.full((len(x), 1), float(t))], 1))
    return {convert}'''
            + lr_schedule(c.schedule)
            + "\n\n"
            + EMA
        ),
        md("## Sampling: the reverse process"),
        code(
            f'''
@torch.no_grad()
def sample_model(n, model=None):
    """{c.sampler} from x_1 ~ N(0, I)."""
    model = model or (average if EMA_DECAY else net)
    x = torch.randn(n, 2)
    times = torch.linspace(1.0, 0.0, SAMPLER_STEPS + 1).tolist()
    times[-1] = 0.0{SAMPLERS[c.sampler]}
    return x


'''
            + metric_before("sample_model(2000, net)")
        ),
        *training(
            "net.parameters()",
            f"""
x0, _ = sample_data(BATCH)
eps = torch.randn(BATCH, 2)
t = T_MIN + (1 - T_MIN) * torch.rand(BATCH, 1)
xt = abar(t).sqrt() * x0 + sigma(t) * eps
prediction = net(torch.cat([xt, t], 1))
loss = (prediction - {target}).pow(2).mean()""",
            "if EMA_DECAY:\n    ema_update(average, net, step)",
        ),
        *ode_likelihood(
            "-0.5 * float(beta(t)) * (x - eps_hat(model, x, t) / float(sigma(t)))",
            "T_MIN",
            "1.0",
            "## The model's density\n\nThe probability-flow ODE dx/dt = −β_t/2 (x + ∇log p_t(x)) has the noising "
            "process's marginals; run from N(0, I) at t = 1 it is the ODE sampler, and by the continuity equation "
            "(d/dt log p_t(x_t) = −∇·v) log p_θ(x) = log N(x₁; 0, I) + ∫ ∇·v dt from x at T_MIN to t = 1.",
        ),
    ]
