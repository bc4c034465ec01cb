"""The critics' notebook: f climbs the Donsker-Varadhan bound on KL(q || p) and D the GAN discriminator's
objective, from samples of q and of p alone; the estimates against the exact values the app computed."""

from __future__ import annotations

from collections.abc import Callable

from explorer.data.densities import Density
from explorer.methods.critic import CriticConfig, exact_divergences
from explorer.notebook.cells import MLP, code, density_source, lr_schedule, md

TITLE, PAGE = "Divergences estimated by a critic", "Divergences"
SUMMARY = "Two networks estimate KL(q ‖ p) and JS(q ‖ p) from samples alone, by their dual (variational) forms."
LOSS = "−(Donsker–Varadhan objective)"
EVALUATION = 32768  # fresh samples of each density for the final estimates (as the app's points)

METRIC = [
    md(
        """
## How good is an estimate?

Its distance to the exact value, which the app computed from the two densities by quadrature (`EXACT_KL`,
`EXACT_JS` in the parameter cell; the critics never see the densities).
"""
    ),
]


def constants(c: CriticConfig, density: Density) -> str:
    kl, js = exact_divergences(c.density, c.reference, (c.shift_x, c.shift_y), c.scale)
    kl_text = repr(kl) if kl != float("inf") else 'float("inf")'
    return (
        f"BATCH, LR, HIDDEN, DEPTH = {c.batch_size}, {c.lr!r}, {c.hidden}, {c.depth}\n"
        f"SHIFT, SCALE = ({c.shift_x!r}, {c.shift_y!r}), {c.scale!r}  # p is its base density moved and scaled\n"
        f"EXACT_KL, EXACT_JS = {kl_text}, {js!r}  # by quadrature in the app (inf: q has mass where p has none)"
    )


def cells(c: CriticConfig, density: Density, lookup: Callable[[str], Density]) -> list:
    reference_md, reference_code = density_source(lookup(c.reference), "sample_reference")
    return [
        md(
            f"""
## The reference p

{reference_md} Moved by {c.shift_x:g}, {c.shift_y:g} and scaled by {c.scale:g}: p is the law of SCALE · X + SHIFT.
"""
        ),
        code(
            reference_code
            + '''


def sample_p(n):
    """n points of p [n, 2]."""
    return SCALE * sample_reference(n)[0] + torch.tensor(SHIFT)'''
        ),
        md(
            """
## The two critics and their objectives

Donsker–Varadhan: KL(q ‖ p) = sup_f E_q f − log E_p e^f, reached at f = log(q / p) + c. The GAN
discriminator D = σ(l): E_q log D + E_p log(1 − D) ≤ 2 JS(q ‖ p) − log 4, reached at D* = q / (q + p).
On samples the expectations are means, and log E_p e^f a log-mean-exp.
"""
        ),
        code(
            MLP
            + '''


F = nn.functional
f = mlp(2, 1, HIDDEN, DEPTH)  # the Donsker-Varadhan critic
D = mlp(2, 1, HIDDEN, DEPTH)  # the discriminator's logit l, D = sigmoid(l)


def dv_objective(xq, xp):
    fq, fp = f(xq).squeeze(1), f(xp).squeeze(1)
    return fq.mean() - (torch.logsumexp(fp, 0) - math.log(len(fp)))


def gan_objective(xq, xp):
    return -F.softplus(-D(xq).squeeze(1)).mean() - F.softplus(D(xp).squeeze(1)).mean()


@torch.no_grad()
def estimates(n):
    """(DV bound on KL, JS estimate) on n fresh samples of each density."""
    xq, xp = sample_data(n)[0], sample_p(n)
    return float(dv_objective(xq, xp)), 0.5 * (float(gan_objective(xq, xp)) + math.log(4))'''
            + lr_schedule(c.schedule)
            + f"""


dv_before, js_before = estimates({EVALUATION})"""
        ),
        md("## Training: both critics on the same batches"),
        code(
            """
opt_f, opt_d = torch.optim.Adam(f.parameters(), lr=LR), torch.optim.Adam(D.parameters(), lr=LR)
losses = []
for step in range(STEPS):
    for optimizer in (opt_f, opt_d):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step)
    xq, xp = sample_data(BATCH)[0], sample_p(BATCH)
    loss_f, loss_d = -dv_objective(xq, xp), -gan_objective(xq, xp)
    for optimizer, loss in ((opt_f, loss_f), (opt_d, loss_d)):
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    losses.append(loss_f.item())"""
        ),
    ]


def closing(c: CriticConfig) -> list:
    return [
        md("## The estimates against the exact values, and the critics on the plane"),
        code(
            f"""
dv, js = estimates({EVALUATION})
finite = math.isfinite(EXACT_KL)
RESULTS.update(dv=dv, js=js, exact_kl=EXACT_KL if finite else None, exact_js=EXACT_JS)
RESULTS["metric_before"] = abs(dv_before - EXACT_KL) if finite else -dv_before
RESULTS["metric_after"] = abs(dv - EXACT_KL) if finite else -dv  # without a finite KL: the bound climbs
RESULTS["loss_first"] = float(np.mean(losses[: max(1, len(losses) // 10)]))
RESULTS["loss_last"] = float(np.mean(losses[-max(1, len(losses) // 10) :]))
axis = torch.linspace(-6, 6, 121)
grid = torch.stack(torch.meshgrid(axis, axis, indexing="xy"), -1).reshape(-1, 2)
with torch.no_grad():
    f_map = f(grid).squeeze(1) - (torch.logsumexp(f(sample_p(8192)).squeeze(1), 0) - math.log(8192))
    d_map = torch.sigmoid(D(grid).squeeze(1))
fig, (left, middle, right) = plt.subplots(1, 3, figsize=(15, 4.6))
image = left.imshow(f_map.reshape(121, 121).numpy(), origin="lower", extent=(-6, 6, -6, 6), cmap="RdBu")
fig.colorbar(image, ax=left)
left.set(title="f − log E_p e^f (at the optimum: log q/p)")
image = middle.imshow(d_map.reshape(121, 121).numpy(), origin="lower", extent=(-6, 6, -6, 6), cmap="RdBu", vmin=0, vmax=1)
fig.colorbar(image, ax=middle)
middle.set(title="D (at the optimum: q / (q + p))")
right.plot(losses)
right.set(xlabel="step", ylabel="{LOSS}", title="Training")
plt.show()
print(f"KL(q || p): DV bound {{dv:.4f}} (exact {{EXACT_KL:.4f}});  JS: {{js:.4f}} (exact {{EXACT_JS:.4f}})")"""
        ),
        code("print(json.dumps(RESULTS))"),
    ]
