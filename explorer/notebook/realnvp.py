"""RealNVP's notebook: affine couplings with bounded log-scales, exact maximum likelihood."""

from __future__ import annotations

from collections.abc import Callable

from explorer.data.densities import Density
from explorer.methods.realnvp import FlowConfig, output_bound
from explorer.notebook.cells import code, lr_schedule, md, metric_before, training

TITLE, PAGE = "Normalizing flow (RealNVP)", "Normalizing flows"
SUMMARY = "An invertible map from N(0, I) to the data, trained by exact maximum likelihood (change of variables)."
LOSS = "negative log-likelihood (nats)"
ACTIVATIONS = {"relu": "nn.ReLU", "silu": "nn.SiLU", "tanh": "nn.Tanh"}


def constants(c: FlowConfig, density: Density) -> str:
    return (
        f"BATCH, LR = {c.batch_size}, {c.lr!r}\n"
        f"N_LAYERS, HIDDEN, DEPTH, SCALE_BOUND = {c.n_layers}, {c.hidden}, {c.depth}, {c.scale_bound!r}\n"
        f"BOUND = {output_bound(c, density)!r}  # L of the last layer x = L tanh(y / L) for data in a box; 0: none"
    )


def cells(c: FlowConfig, density: Density, lookup: Callable[[str], Density]) -> list:
    return [
        md(
            """
## The model and its objective

x = f_K ∘ … ∘ f_1(z), z ~ N(0, I). Coupling k keeps coordinate k mod 2 and moves the other:
x_move = z_move · exp(s) + t with (s, t) from a small network of z_keep and s = S tanh(r) bounded, so
log |det ∂f_k/∂z| = s. By the change of variables the exact log-likelihood is

$$\\log p(x) = \\log \\mathcal N(f^{-1}(x); 0, I) + \\sum_k \\log \\left|\\det \\frac{\\partial f_k^{-1}}{\\partial x}\\right|,$$

and training minimises its negative on data batches. When the data lie in a known box [-b, b]² (BOUND = L > 0,
L = 1.025 b), the flow ends with the fixed layer x = L tanh(y / L): no sample can land outside the box, and
log p(x) adds its log-determinant -Σᵢ log(1 - (xᵢ / L)²).
"""
        ),
        code(
            f'''
class Coupling(nn.Module):
    """One affine coupling keeping coordinate `keep`; starts as the identity (last layer zero)."""

    def __init__(self, keep):
        super().__init__()
        self.keep, self.move = keep, 1 - keep
        layers, width = [], 1
        for _ in range(DEPTH):
            layers += [nn.Linear(width, HIDDEN), {ACTIVATIONS[c.activation]}()]
            width = HIDDEN
        self.net = nn.Sequential(*layers, nn.Linear(width, 2))
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def shift_scale(self, kept):
        out = self.net(kept[:, None])
        return SCALE_BOUND * torch.tanh(out[:, 0]), out[:, 1]

    def forward(self, z):
        """x = f(z) [n, 2] and log|det df/dz| = s [n]."""
        s, t = self.shift_scale(z[:, self.keep])
        x = z.clone()
        x[:, self.move] = z[:, self.move] * torch.exp(s) + t
        return x, s

    def inverse(self, x):
        """z = f^-1(x) [n, 2] and log|det df^-1/dx| = -s [n]."""
        s, t = self.shift_scale(x[:, self.keep])
        z = x.clone()
        z[:, self.move] = (x[:, self.move] - t) * torch.exp(-s)
        return z, -s


flow = nn.ModuleList(Coupling(k % 2) for k in range(N_LAYERS))


def log_prob(x):
    """Exact log p(x) [n]: undo the bounded output, then the couplings from the last, adding log-determinants."""
    log_det, outside = torch.zeros(len(x)), torch.zeros(len(x), dtype=torch.bool)
    if BOUND > 0:  # p = 0 on and outside the box (-inf); the clamp only keeps atanh finite there
        outside = (x.abs() >= BOUND * (1 - 1e-6)).any(1)
        u = (x / BOUND).clamp(-1 + 1e-6, 1 - 1e-6)
        x, log_det = BOUND * torch.atanh(u), -torch.log1p(-u * u).sum(1)
    for coupling in reversed(flow):
        x, ld = coupling.inverse(x)
        log_det = log_det + ld
    return (-0.5 * (x * x).sum(1) - math.log(2 * math.pi) + log_det).masked_fill(outside, -math.inf)'''
            + lr_schedule(c.schedule)
        ),
        md("## Sampling: push noise through the couplings"),
        code(
            """
@torch.no_grad()
def sample_model(n):
    x = torch.randn(n, 2)
    for coupling in flow:
        x, _ = coupling(x)
    return BOUND * torch.tanh(x / BOUND) if BOUND > 0 else x


"""
            + metric_before()
        ),
        *training("flow.parameters()", "x, _ = sample_data(BATCH)\nloss = -log_prob(x).mean()"),
    ]
