"""The parts every notebook shares: markdown and code cells, the density's sampler written out, the MLP,
the learning-rate schedule, the quality metric and the closing figure.

Each function returns notebook cells (nbformat v4 nodes) or the source of one. The code written here runs
with torch, numpy and matplotlib only: nothing of the explorer is imported by a notebook.
"""

from __future__ import annotations

import nbformat.v4 as nbf
import numpy as np

from explorer.data.densities import Checkerboard, Density, GaussianMixture, PointCloud, Rings, Spirals, TwoMoons

MAX_EMBEDDED = 5000  # a user's points are written into the notebook; past this, a random subset of them


def md(text: str):
    return nbf.new_markdown_cell(text.strip())


def code(text: str, *tags: str):
    cell = nbf.new_code_cell(text.strip())
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def _float(value: float, digits: int = 4) -> str:
    """A float literal (`1.0`, not `1`: a list of whole numbers would make an integer tensor)."""
    text = f"{round(float(value), digits) + 0.0:g}"
    return text if any(c in text for c in ".ein") else text + ".0"


def _floats(values, digits: int = 4) -> str:
    return "[" + ", ".join(_float(v, digits) for v in values) + "]"


def density_source(density: Density, fn: str = "sample_data") -> tuple[str, str]:
    """(markdown, code) defining `fn(n) -> (x [n, 2], labels [n])` for `density`, written out."""
    title = density.title
    if isinstance(density, GaussianMixture):
        means = "[" + ", ".join(_floats(m) for m in density.means.tolist()) + "]"
        return (
            f"**{title}**: a mixture of Gaussians, p(x) = Σ_k w_k N(x; m_k, s_k² I).",
            f"""
{fn.upper()}_MEANS = torch.tensor({means})
{fn.upper()}_STDS = torch.tensor({_floats(density.stds.tolist())})
{fn.upper()}_WEIGHTS = torch.tensor({_floats(density.weights.tolist())})


def {fn}(n):
    \"\"\"n points [n, 2] and the index of the component each came from [n].\"\"\"
    k = torch.multinomial({fn.upper()}_WEIGHTS, n, replacement=True)
    return {fn.upper()}_MEANS[k] + {fn.upper()}_STDS[k, None] * torch.randn(n, 2), k""",
        )
    if isinstance(density, Checkerboard):
        return (
            f"**{title}**: uniform on the 8 black cells of a 4 × 4 board of 2 × 2 squares over [-4, 4]².",
            f"""
CELLS = 2.0 * torch.tensor([(i, j) for j in range(-2, 2) for i in range(-2, 2) if (i + j) % 2 == 0], dtype=torch.float32)


def {fn}(n):
    \"\"\"n points [n, 2], uniform on the black cells, and the cell of each [n].\"\"\"
    k = torch.randint(0, 8, (n,))
    return CELLS[k] + 2.0 * torch.rand(n, 2), k""",
        )
    if isinstance(density, TwoMoons):
        return (
            f"**{title}**: two interleaved half circles with Gaussian noise (std 0.1), scaled by 2.",
            f"""
def {fn}(n):
    \"\"\"n points [n, 2] and their moon (0 upper, 1 lower) [n].\"\"\"
    theta, k = math.pi * torch.rand(n), (torch.rand(n) < 0.5).long()
    upper = torch.stack([theta.cos(), theta.sin()], 1)
    lower = torch.stack([1 - theta.cos(), 0.5 - theta.sin()], 1)
    x = torch.where(k[:, None] == 0, upper, lower) + 0.1 * torch.randn(n, 2)
    return 2.0 * (x + torch.tensor([-0.5, -0.25])), k""",
        )
    if isinstance(density, Rings):
        inner, outer = density.RADII
        return (
            f"**{title}**: circles of radius {inner:g} and {outer:g}, mass proportional to the circumference, "
            "radial noise std 0.15.",
            f"""
def {fn}(n):
    \"\"\"n points [n, 2] and their ring (0 inner, 1 outer) [n].\"\"\"
    k = (torch.rand(n) < {outer / (inner + outer):g}).long()
    radius = torch.where(k == 1, {outer:g}, {inner:g}) + 0.15 * torch.randn(n)
    angle = 2 * math.pi * torch.rand(n)
    return torch.stack([radius * angle.cos(), radius * angle.sin()], 1), k""",
        )
    if isinstance(density, Spirals):
        return (
            f"**{title}**: two interleaved Archimedean spirals r = 0.5 + 4 φ / (3π), φ ∈ [0, 3π], noise std 0.15.",
            f"""
def {fn}(n):
    \"\"\"n points [n, 2] and their arm [n].\"\"\"
    phi, k = 3 * math.pi * torch.rand(n), (torch.rand(n) < 0.5).long()
    radius, angle = 0.5 + 4.0 * phi / (3 * math.pi), phi + math.pi * k
    x = torch.stack([radius * angle.cos(), radius * angle.sin()], 1)
    return x + 0.15 * torch.randn(n, 2), k""",
        )
    if isinstance(density, PointCloud):
        points, labels = density.points.numpy(), density.labels.numpy()
        note = f"{len(points):,} points"
        if len(points) > MAX_EMBEDDED:
            keep = np.random.default_rng(0).choice(len(points), MAX_EMBEDDED, replace=False)
            points, labels = points[keep], labels[keep]
            note += f", of which a random {MAX_EMBEDDED:,} are written here"
        rows = ",\n    ".join(f"[{x:.3f}, {y:.3f}]" for x, y in points.tolist())
        return (
            f"**{title}**: your own points ({note}), sampled by drawing rows with replacement.",
            f"""
{fn.upper()}_POINTS = torch.tensor([
    {rows},
])
{fn.upper()}_LABELS = torch.tensor({labels.astype(int).tolist()})


def {fn}(n):
    \"\"\"n rows [n, 2] drawn with replacement, and their labels [n].\"\"\"
    rows = torch.randint(0, len({fn.upper()}_POINTS), (n,))
    return {fn.upper()}_POINTS[rows], {fn.upper()}_LABELS[rows]""",
        )
    raise ValueError(f"no notebook sampler for the density {density.name!r}")


def header(title: str, page: str, summary: str, settings: dict) -> list:
    rows = "\n".join(f"| `{k}` | `{v}` |" for k, v in settings.items())
    return [
        md(
            f"""
# {title}

{summary}

Generated by the Generative Models Explorer from the *{page}* page, with the page's configuration at the
time. Plain PyTorch, NumPy and matplotlib: run it anywhere (`pip install torch numpy matplotlib`). Change
`STEPS` in the next cell for a longer or shorter run.

| setting | value |
| --- | --- |
{rows}
"""
        )
    ]


def parameters(steps: int, seed: int, extra: str = "") -> list:
    return [
        code(
            f"""
STEPS = {steps}  # training steps (the page's setting)
SEED = {seed}
{extra}""",
            "parameters",
        ),
        code(
            """
import copy
import json
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

torch.manual_seed(SEED)
RESULTS = {}  # what this run measured (the last cell prints it)"""
        ),
    ]


def data(density: Density, fn: str = "sample_data", heading: str = "## The data") -> list:
    text, source = density_source(density, fn)
    return [md(f"{heading}\n\n{text}"), code(source)]


MLP = '''
def mlp(n_in, n_out, hidden, depth, activation=nn.SiLU):
    """Linear -> activation -> ... -> Linear, with `depth` hidden layers of `hidden` units."""
    dims, layers = [n_in] + [hidden] * depth, []
    for a, b in zip(dims[:-1], dims[1:]):
        layers += [nn.Linear(a, b), activation()]
    return nn.Sequential(*layers, nn.Linear(dims[-1], n_out))'''


def lr_schedule(schedule: str, lr_name: str = "LR") -> str:
    """Source of `lr_at(step)`: constant, or cosine from the rate to 0 over STEPS (the page's schedules)."""
    if schedule == "cosine":
        return f'''
def lr_at(step, lr={lr_name}):
    """Cosine schedule: lr_t = lr (1 + cos(pi t / T)) / 2, from lr at t = 0 to 0 at t = STEPS."""
    return lr * 0.5 * (1 + math.cos(math.pi * min(step, STEPS) / STEPS))'''
    return f'''
def lr_at(step, lr={lr_name}):
    """Constant learning rate."""
    return lr'''


EMA = '''
def ema_update(average, model, step, decay=EMA_DECAY):
    """Exponential moving average of the weights, with warm-up: d = min(decay, (1 + n) / (10 + n))."""
    d = min(decay, (1 + step) / (10 + step))
    with torch.no_grad():
        for a, p in zip(average.parameters(), model.parameters()):
            a.lerp_(p, 1 - d)'''


METRIC = [
    md(
        """
## How good are the samples?

The energy distance between model samples X and data Y,
E‖X − Y‖ − ½ E‖X − X′‖ − ½ E‖Y − Y′‖: zero exactly when the two distributions agree.
"""
    ),
    code(
        '''
def energy_distance(x, y):
    """Energy distance between samples x [n, 2] and y [m, 2] (V-statistics)."""
    return float(2 * torch.cdist(x, y).mean() - torch.cdist(x, x).mean() - torch.cdist(y, y).mean())'''
    ),
]


def figure(model_name: str = "model samples", loss_name: str = "loss") -> list:
    return [
        md("## Samples against the data"),
        code(
            f"""
data_x, _ = sample_data(2000)
RESULTS["metric_after"] = energy_distance(samples, data_x)
RESULTS["loss_first"] = float(np.mean(losses[: max(1, len(losses) // 10)]))
RESULTS["loss_last"] = float(np.mean(losses[-max(1, len(losses) // 10) :]))
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.8))
left.scatter(*data_x.T, s=3, alpha=0.4, label="data")
left.scatter(*samples.T, s=3, alpha=0.4, label="{model_name}")
left.set(xlim=(-6, 6), ylim=(-6, 6), aspect="equal", title="Samples")
left.legend(loc="upper right")
right.plot(losses)
right.set(xlabel="step", ylabel="{loss_name}", title="Training")
plt.show()
print(f"energy distance: {{RESULTS['metric_before']:.4f}} untrained -> {{RESULTS['metric_after']:.4f}} trained")"""
        ),
        code("print(json.dumps(RESULTS))"),
    ]


def metric_before(call: str = "sample_model(2000)") -> str:
    """The line recording the untrained model's energy distance to the data."""
    return f'RESULTS["metric_before"] = energy_distance({call}, sample_data(2000)[0])'


def training(parameters: str, loss: str, after_step: str = "", then: str = "samples = sample_model(2000)") -> list:
    """The textbook loop: Adam on `parameters`, the schedule's rate set each step, `loss` (lines computing
    `loss` from fresh batches), backward, step, `after_step` (e.g. the moving average), the loss recorded."""

    def indent(lines: str) -> str:
        return "\n".join("    " + line if line else line for line in lines.strip("\n").splitlines())

    after = f"\n{indent(after_step)}" if after_step else ""
    return [
        md("## Training"),
        code(
            f"""
optimizer = torch.optim.Adam({parameters}, lr=LR)
losses = []
for step in range(STEPS):
    for group in optimizer.param_groups:
        group["lr"] = lr_at(step)
{indent(loss)}
    optimizer.zero_grad()
    loss.backward()
    optimizer.step(){after}
    losses.append(loss.item())

{then}"""
        ),
    ]


def ode_likelihood(field: str, t_from: str, t_to: str, intro: str) -> list:
    """Cells computing the density an ODE model defines (`explorer.maths.cnf`): `field` is an expression of the
    model, x and t giving the ODE's drift [n, 2]; integrated from t_from (the data) to t_to (N(0, I)) by RK4 with
    d/dt log p_t(x_t) = -div v beside it, the divergence by autograd; the NLL of fresh data into RESULTS."""
    return [
        md(intro),
        code(
            f'''
def drift_and_divergence(model, x, t):
    """The ODE's drift [n, 2] at x, and its divergence d v_1/d x_1 + d v_2/d x_2 [n] by autograd."""
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        v = {field}
        div = sum(torch.autograd.grad(v[:, i].sum(), x, retain_graph=i == 0)[0][:, i] for i in range(2))
    return v.detach(), div.detach()


def log_prob(x, model=None, steps=24):
    """log p_θ(x) [n]: x's trajectory to the noise end with log p's change beside it (RK4), plus log N(0, I) there."""
    model = model or (average if EMA_DECAY else net)
    t0, t1 = {t_from}, {t_to}
    h, y, integral = (t1 - t0) / steps, x, torch.zeros(len(x))
    for i in range(steps):
        t = t0 + i * h
        v1, d1 = drift_and_divergence(model, y, t)
        v2, d2 = drift_and_divergence(model, y + 0.5 * h * v1, t + 0.5 * h)
        v3, d3 = drift_and_divergence(model, y + 0.5 * h * v2, t + 0.5 * h)
        v4, d4 = drift_and_divergence(model, y + h * v3, t + h)
        y = y + h / 6 * (v1 + 2 * v2 + 2 * v3 + v4)
        integral = integral + h / 6 * (d1 + 2 * d2 + 2 * d3 + d4)
    return -0.5 * (y * y).sum(1) - math.log(2 * math.pi) + integral


RESULTS["nll"] = float(-log_prob(sample_data(2000)[0]).mean())
print(f"NLL of 2,000 fresh data points: {{RESULTS['nll']:.3f}} nats")'''
        ),
    ]
