"""An `nets.MLP` whose parameters live in one flat buffer, for training without autograd.

Every weight and bias of the MLP becomes a view into `flat` (the module's nn.Parameters *are*
those views, so the module is always up to date), and its gradient a view into `grad` at the same
offset. An optimizer is then a handful of whole-buffer kernels over `flat`, `grad` and the moment
buffers `exp_avg`, `exp_avg_sq`, instead of a loop over parameters. The forward pass is

    a_l = h_{l-1} W_l^T + b_l,  h_l = act(a_l)  (l < L),   f = h_{L-1} W_L^T + b_L

(act = SiLU unless the MLP names another, `explorer.kernels.activations`), and the kernels
(`explorer.kernels.regression` for flow matching and diffusion, `explorer.kernels.gan_kernel`, ...) write their
backward passes by hand on these views, from the shared blocks `mlp_forward` and
`mlp_backward` at the end of this module. `script` compiles such kernels with TorchScript, which
releases the GIL once per kernel call instead of at each of its tensor calls (docs/decisions.md,
training).
"""

from __future__ import annotations

import functools
import warnings

import torch
from torch import Tensor, nn

from explorer.kernels.activations import activate, activation_backward, activation_slope
from explorer.kernels.nets import MLP


def script(fn):
    """TorchScript-compile `fn`, or None where scripting is unavailable (callers then run `fn` itself).

    `torch.jit.script` is deprecated in favour of torch.compile, which needs a C++ toolchain and
    tens of seconds of compilation at start-up."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return torch.jit.script(fn)
    except Exception:  # noqa: BLE001 - any failure means: use the Python function
        return None


def compiled(fn):
    """A function returning `fn` compiled with TorchScript, on its first call (then cached), or None
    where scripting fails."""
    return functools.cache(lambda: script(fn))


class FlatMLP:
    """Flat parameter, gradient and moment buffers of one `MLP`, with per-layer views."""

    def __init__(self, mlp: MLP) -> None:
        self.mlp = mlp
        self.activation = getattr(mlp, "activation", "silu")  # its predict() uses it
        params = list(mlp.parameters())
        device, dtype = params[0].device, params[0].dtype
        total = sum(p.numel() for p in params)
        self.flat = torch.empty(total, device=device, dtype=dtype)
        self.grad = torch.zeros_like(self.flat)
        self.exp_avg = torch.zeros_like(self.flat)
        self.exp_avg_sq = torch.zeros_like(self.flat)
        self.step_count = torch.zeros((), device=device, dtype=torch.float32)
        offset = 0
        self._grads: list[tuple[Tensor, Tensor]] = []
        self._weights: list[tuple[Tensor, Tensor, Tensor]] = []  # (W, W^T, b) views, cached
        for layer in mlp.layers:
            views = []
            for name in ("weight", "bias"):
                p = getattr(layer, name)
                n = p.numel()
                self.flat[offset : offset + n].copy_(p.detach().reshape(-1))
                view = self.flat[offset : offset + n].view_as(p)
                setattr(layer, name, nn.Parameter(view, requires_grad=p.requires_grad))
                views.append(self.grad[offset : offset + n].view_as(p))
                offset += n
            self._grads.append((views[0], views[1]))
            weight, bias = layer.weight.detach(), layer.bias.detach()
            self._weights.append((weight, weight.t(), bias))

    def view(self, buffer: Tensor, like: Tensor) -> Tensor:
        """The view of `buffer` (shaped like `flat`) at the same offset and shape as `like` (a view of flat)."""
        start = like.storage_offset() - self.flat.storage_offset()
        return buffer[start : start + like.numel()].view_as(like)

    @property
    def n_params(self) -> int:
        return self.flat.numel()

    @property
    def weights(self) -> list[Tensor]:
        """W_l `[out, in]` views of `flat`, input layer first."""
        return [w for w, _, _ in self._weights]

    @property
    def weights_t(self) -> list[Tensor]:
        """W_l^T `[in, out]` views (cached: no transpose per call)."""
        return [wt for _, wt, _ in self._weights]

    @property
    def biases(self) -> list[Tensor]:
        return [b for _, _, b in self._weights]

    @property
    def grad_weights(self) -> list[Tensor]:
        """dL/dW_l views of `grad`, written by the hand-derived backward passes."""
        return [g for g, _ in self._grads]

    @property
    def grad_biases(self) -> list[Tensor]:
        return [g for _, g in self._grads]

    @torch.no_grad()
    def predict(self, z: Tensor) -> Tensor:
        """f(z) `[n, out]` from the cached weight views (the module's forward without its overhead)."""
        return forward(self._weights, z, self.activation)

    def state_dict(self) -> dict[str, Tensor]:
        """Weights and optimizer state, as tensors (clone them to keep a copy)."""
        return {
            "flat": self.flat,
            "exp_avg": self.exp_avg,
            "exp_avg_sq": self.exp_avg_sq,
            "step_count": self.step_count,
        }

    @torch.no_grad()
    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        for key, value in state.items():
            getattr(self, key).copy_(value)


def forward(weights: list[tuple[Tensor, Tensor, Tensor]], z: Tensor, activation: str = "silu") -> Tensor:
    """f(z) `[n, out]` for cached (W, W^T, b) layer views (`mlp_forward`'s output)."""
    return mlp_forward([weight_t for _, weight_t, _ in weights], [bias for _, _, bias in weights], z, activation)[2]


def forward_with_divergence(
    weights: list[tuple[Tensor, Tensor, Tensor]], z: Tensor, k: int = 2
) -> tuple[Tensor, Tensor]:
    """f(z) `[n, out]` and the trace of its Jacobian over the first k inputs, sum_{j<k} df_j/dz_j `[n]` (out >= k),
    by forward-mode tangents, one per input j and kept as `[k, n, width]` (one matmul per layer for all k):
    da_0/dz_j = W_0[:, j], dh_l = silu'(a_l) da_l, da_{l+1} = dh_l W_{l+1}^T."""
    h, tangent, n = z, z.new_zeros(0), z.shape[0]
    n_layers = len(weights)
    for i, (_, weight_t, bias) in enumerate(weights):
        a = torch.addmm(bias, h, weight_t)
        if i == 0:
            da = weight_t[:k, None, :].expand(k, n, weight_t.shape[1])
        else:
            da = (tangent.reshape(k * n, -1) @ weight_t).reshape(k, n, -1)
        if i == n_layers - 1:
            return a, sum(da[j, :, j] for j in range(k))
        h = torch.nn.functional.silu(a)
        tangent = da * activation_slope(a, "silu")
    raise ValueError("an MLP has at least one layer")


# --- TorchScript-compatible building blocks of the hand-derived kernels ---------------------------
def mlp_forward(
    weights_t: list[Tensor], biases: list[Tensor], x: Tensor, activation: str = "silu"
) -> tuple[list[Tensor], list[Tensor], Tensor]:
    """Pre-activations a_l, layer inputs h_{l-1} (x first) and the output, for rows x `[n, in]`:
    a_l = h_{l-1} W_l^T + b_l, h_l = act(a_l), the last layer linear."""
    pre: list[Tensor] = []
    acts: list[Tensor] = [x]
    h = x
    n_layers = len(weights_t)
    for i in range(n_layers - 1):
        a = torch.addmm(biases[i], h, weights_t[i])
        h = activate(a, activation)
        pre.append(a)
        acts.append(h)
    return pre, acts, torch.addmm(biases[n_layers - 1], h, weights_t[n_layers - 1])


def mlp_backward(
    weights: list[Tensor],
    grad_weights: list[Tensor],
    grad_biases: list[Tensor],
    pre: list[Tensor],
    acts: list[Tensor],
    g: Tensor,
    extra: list[Tensor],
    extra_from: int,
    param_grads: bool,
    input_grad: bool,
    activation: str = "silu",
    accumulate: bool = True,
) -> Tensor:
    """Backward from dL/doutput g `[n, out]`: dW_l = g_l^T h_{l-1}, db_l = sum_i g_l, g_{l-1} = act'(a_{l-1}) (g_l W_l).
    Writes the parameter gradients (if `param_grads`), added to the buffers (`accumulate`) or over them; where
    `extra` is given, adds extra[l] to dL/da_l on rows extra_from:. Returns dL/dinput `[n, in]` if `input_grad`
    (else dL/da_1)."""
    n_layers = len(weights)
    for j in range(n_layers):
        i = n_layers - 1 - j
        if param_grads:
            if accumulate:
                grad_weights[i].addmm_(g.t(), acts[i])
                grad_biases[i].add_(g.sum(0))
            else:
                torch.mm(g.t(), acts[i], out=grad_weights[i])
                torch.sum(g, dim=[0], out=grad_biases[i])
        if i > 0:
            g = activation_backward(g.mm(weights[i]), pre[i - 1], acts[i], activation)
            if len(extra) > 0:
                g[extra_from:].add_(extra[i - 1])
        elif input_grad:
            g = g.mm(weights[0])
    return g


def adam_update(
    flat: Tensor,
    grad: Tensor,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    step: float,
    lr: float,
    beta1: float,
    beta2: float = 0.999,
    eps: float = 1e-8,
) -> None:
    """One Adam step on flat buffers, `step` counting from 1 (as torch.optim.Adam, no weight decay).

    Written out because TorchScript silently drops torch._fused_adam_ from the graph."""
    exp_avg.lerp_(grad, 1.0 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
    denom = (exp_avg_sq.sqrt() / (1.0 - beta2**step) ** 0.5).add_(eps)
    flat.addcdiv_(exp_avg, denom, value=-lr / (1.0 - beta1**step))
