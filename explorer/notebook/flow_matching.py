"""Flow matching's notebook: the path, the regression onto the conditional velocity, the SDE or ODE sampler."""

from __future__ import annotations

from collections.abc import Callable

from explorer.data.densities import Density
from explorer.methods.flow_matching import FlowMatching, FlowMatchingConfig
from explorer.notebook.cells import EMA, MLP, code, data, lr_schedule, md, metric_before, ode_likelihood, training

TITLE, PAGE = "Flow matching", "Flow matching"
SUMMARY = "A network v(x, t) learns to move noise (t = 0) onto data (t = 1); samples follow its ODE."
LOSS = "flow-matching loss"
PATHS = {
    "linear": ("t", "1 - t", "torch.ones_like(t)", "-torch.ones_like(t)"),
    "cosine": (
        "torch.sin(0.5 * math.pi * t)",
        "torch.cos(0.5 * math.pi * t)",
        "0.5 * math.pi * torch.cos(0.5 * math.pi * t)",
        "-0.5 * math.pi * torch.sin(0.5 * math.pi * t)",
    ),
}
STEPS = {
    "euler": "x + h * field(x, t)",
    "midpoint": "x + h * field(x + 0.5 * h * field(x, t), t + 0.5 * h)",
    "heun": "x + 0.5 * h * (field(x, t) + field(x + h * field(x, t), t + h))",
}

SDE_STEP = """\
        v, tt = field(x, t), torch.tensor(t)
        x0_mean = (alpha(tt) * v - d_alpha(tt) * x) / (alpha(tt) * d_sigma(tt) - d_alpha(tt) * sigma(tt))
        x = x + h * (v - NOISE * x0_mean)  # v + (g^2 / 2) score, with score = -E[x0 | x] / sigma_t
        if i < SAMPLER_STEPS - 1:
            x = x + (2 * NOISE * float(sigma(tt)) * h) ** 0.5 * torch.randn_like(x)"""


def _sampler(sde: bool) -> list:
    if not sde:
        return [md("## Sampling: integrate the ODE from t = 0 to t = 1")]
    return [
        md(
            """
## Sampling: the SDE with the ODE's marginals, from t = 0 to t = 1

On a Gaussian path with an N(0, I) source the velocity gives the score: from v = E[α′ₜx₁ + σ′ₜx₀ | x] and
x = αₜE[x₁ | x] + σₜE[x₀ | x], E[x₀ | x] = (αₜv − α′ₜx) / (αₜσ′ₜ − α′ₜσₜ), and ∇log pₜ(x) = −E[x₀ | x] / σₜ.
Adding Langevin noise that the score term cancels keeps every pₜ:

$$dx = \\big[v(x, t) + \\tfrac{g_t^2}{2} \\nabla \\log p_t(x)\\big] dt + g_t\\, dW, \\qquad g_t^2 = 2 \\varepsilon \\sigma_t,$$

so the drift is v − ε E[x₀ | x], and the noise pulls samples the learned field left between modes back onto
them. NOISE = 0 gives the ODE (Euler steps).
"""
        )
    ]


def constants(c: FlowMatchingConfig, density: Density) -> str:
    classes = density.n_classes if c.guidance and density.n_classes > 1 else 0
    return (
        f"BATCH, LR, HIDDEN, DEPTH = {c.batch_size}, {c.lr!r}, {c.hidden}, {c.depth}\n"
        f"EMA_DECAY = {c.ema_decay if c.ema else 0.0!r}  # 0: no moving average of the weights\n"
        f"SAMPLER_STEPS = {c.sampler_steps}\n"
        + (
            f"NOISE = {c.noise!r}  # the SDE's epsilon: g_t^2 = 2 NOISE sigma_t\n"
            if FlowMatching.samples_by_sde(c)
            else ""
        )
        + f"N_CLASSES, LABEL_DROPOUT = {classes}, {c.label_dropout!r}  # classifier-free guidance when N_CLASSES > 0\n"
        f"GUIDANCE_CLASS, GUIDANCE_SCALE = {min(c.guidance_class, max(classes - 1, 0))}, {c.guidance_scale!r}"
    )


def cells(c: FlowMatchingConfig, density: Density, lookup: Callable[[str], Density]) -> list:
    alpha, sigma, d_alpha, d_sigma = PATHS[c.path]
    sde = FlowMatching.samples_by_sde(c)  # else the ODE with the chosen integrator
    late = c.time_sampling == "late"
    out = []
    if c.source != "gaussian":
        source = lookup(c.source)
        out += data(source, "sample_source", "## The source at t = 0")
    else:
        out += [
            code('def sample_source(n):\n    """The source at t = 0: N(0, I)."""\n    return torch.randn(n, 2), None')
        ]
    coupling_note = (
        "\n\nThe page pairs each minibatch by optimal transport (minibatch OT); that needs an assignment solver, "
        "so this notebook pairs independently: same fixed point, more curved paths."
        if c.coupling == "ot"
        else ""
    )
    out += [
        md(
            f"""
## The model and its objective

A probability path from the source x₀ (t = 0) to the data x₁ (t = 1): x_t = α_t x₁ + σ_t x₀ with
α_t = `{alpha}`, σ_t = `{sigma}`. Its conditional velocity is u_t(x | x₀, x₁) = α′_t x₁ + σ′_t x₀, and a
network v_θ(x, t) regresses onto it (conditional flow matching):

$$\\mathcal L(\\theta) = \\mathbb E_{{t, x_0, x_1}} \\big\\| v_\\theta(x_t, t) - (\\alpha'_t x_1 + \\sigma'_t x_0) \\big\\|^2$$

Its minimiser is the marginal velocity field, whose ODE dx/dt = v(x, t) carries the source onto the data.
Training times are {"t = √u, u ~ U[0, 1] (more of them near the data, where the field is hardest)" if late else "t ~ U[0, 1]"}.
With classifier-free guidance the network also sees the class y (dropped to "no class" with probability
LABEL_DROPOUT), and sampling follows ṽ = v(x, t) + w (v(x, t | y) − v(x, t)).{coupling_note}
"""
        ),
        code(
            MLP
            + f'''


def alpha(t):
    return {alpha}


def sigma(t):
    return {sigma}


def d_alpha(t):
    return {d_alpha}


def d_sigma(t):
    return {d_sigma}


net = mlp(3 + (N_CLASSES + 1 if N_CLASSES else 0), 2, HIDDEN, DEPTH)
average = copy.deepcopy(net)  # the moving average of the weights, used for sampling when EMA_DECAY > 0


def velocity(model, x, t, y=None):
    """v(x, t | y) [n, 2]; y = N_CLASSES (or None) is "no class"."""
    t = torch.full((len(x), 1), float(t)) if not torch.is_tensor(t) else t
    inputs = [x, t]
    if N_CLASSES:
        y = torch.full((len(x),), N_CLASSES) if y is None else y
        inputs.append(nn.functional.one_hot(y, N_CLASSES + 1).float())
    return model(torch.cat(inputs, 1))'''
            + lr_schedule(c.schedule)
            + "\n\n"
            + EMA
        ),
        *_sampler(sde),
        code(
            f'''
@torch.no_grad()
def sample_model(n, model=None, label=None, scale=0.0):
    """{"The SDE" if sde else f"The ODE with {c.integrator} steps"} from the source in SAMPLER_STEPS \
steps; guided towards `label` with scale w = `scale` when given."""
    model = model or (average if EMA_DECAY else net)

    def field(x, t):
        v = velocity(model, x, t)
        if label is not None:
            v = v + scale * (velocity(model, x, t, torch.full((len(x),), label)) - v)
        return v

    x, h = sample_source(n)[0], 1.0 / SAMPLER_STEPS
    for i in range(SAMPLER_STEPS):
        t = i * h
{SDE_STEP if sde else "        x = " + STEPS[c.integrator]}
    return x


'''
            + metric_before("sample_model(2000, net)")
        ),
        *training(
            "net.parameters()",
            f"""
x1, y = sample_data(BATCH)
x0 = sample_source(BATCH)[0]
t = torch.rand(BATCH, 1){".sqrt()" if late else ""}
xt = alpha(t) * x1 + sigma(t) * x0
target = d_alpha(t) * x1 + d_sigma(t) * x0
if N_CLASSES:
    y = torch.where(torch.rand(BATCH) < LABEL_DROPOUT, N_CLASSES, y)
loss = (velocity(net, xt, t, y if N_CLASSES else None) - target).pow(2).mean()""",
            "if EMA_DECAY:\n    ema_update(average, net, step)",
            """samples = sample_model(2000)
if N_CLASSES:
    guided = sample_model(2000, label=GUIDANCE_CLASS, scale=GUIDANCE_SCALE)
    print(f"guided towards class {GUIDANCE_CLASS} with w = {GUIDANCE_SCALE}: see `guided`")""",
        ),
    ]
    if c.source == "gaussian":  # the ODE carries N(0, I)'s density to the data
        out += ode_likelihood(
            "velocity(model, x, t)",
            "1.0",
            "0.0",
            "## The model's density\n\nA velocity field defines a density: along a trajectory "
            "d/dt log p_t(x_t) = −∇·v(x_t, t) (the continuity equation). Following x back to t = 0 gives "
            "log p_θ(x) = log N(x₀; 0, I) − ∫₀¹ ∇·v dt.",
        )
    return out
