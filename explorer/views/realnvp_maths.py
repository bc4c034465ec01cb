"""The Normalizing flows page's explanation, in the lecture notes' notation, as (kind, text) blocks:
"md" for Markdown, "latex" for a displayed equation (rendered by the page, so no streamlit here)."""

from __future__ import annotations

MATHS: list[tuple[str, str]] = [
    (
        "md",
        "A **normalizing flow** is an invertible map f from a simple base distribution p_z = N(0, I) onto the "
        "data. Because f is a bijection, the density of x = f(z) follows from the **change of variables**:",
    ),
    (
        "latex",
        r"p_x(x) = p_z\big(f^{-1}(x)\big)\,\left|\det \frac{\partial f^{-1}}{\partial x}\right|,\qquad"
        r"\log p_x(x) = \log p_z\big(f^{-1}(x)\big) + \sum_{k} \log\left|\det \frac{\partial f_k^{-1}}"
        r"{\partial y_k}\right|",
    ),
    (
        "md",
        "for f = f_K ∘ … ∘ f_1, with y_k the point that x reaches on its way back. RealNVP makes each f_k an "
        "**affine coupling**: it keeps one coordinate and moves the other by a scale and a shift computed "
        "from the kept one (the masks alternate, so every coordinate moves):",
    ),
    (
        "latex",
        r"f_k:\; x_c = z_c,\quad x_d = z_d\, e^{s(z_c)} + t(z_c),\qquad "
        r"f_k^{-1}:\; z_c = x_c,\quad z_d = \big(x_d - t(x_c)\big)\, e^{-s(x_c)}",
    ),
    (
        "md",
        "with (r, t) a small MLP of x_c and the bounded log-scale s = S tanh(r). The inverse costs as much "
        "as the forward pass and never inverts the MLP. The Jacobian is **triangular**, since x_c does not "
        "depend on z_d, so its determinant is the product of the diagonal:",
    ),
    (
        "latex",
        r"\frac{\partial f_k}{\partial z} = \begin{pmatrix} 1 & 0 \\ \partial x_d / \partial z_c & e^{s(z_c)}"
        r"\end{pmatrix},\qquad \log\left|\det \frac{\partial f_k}{\partial z}\right| = s(z_c)",
    ),
    ("md", "Training maximises the exact likelihood of the data (minimises the NLL, in nats):"),
    (
        "latex",
        r"\mathcal L(\theta) = \mathbb E_{x\sim p}\big[-\log p_\theta(x)\big]"
        r" = \mathbb E_x\Big[\tfrac12\|f^{-1}(x)\|^2 + \log 2\pi + \sum_k s_k\Big]"
        r" = H(p) + \mathrm{KL}(p\,\|\,p_\theta) \;\ge\; H(p)",
    ),
    (
        "md",
        "So the NLL curve can never go below the data's entropy H(p): log 32 for the checkerboard (uniform on "
        "32 units of area); for the Gaussian mixtures it has no closed form and is estimated by Monte Carlo "
        "with the exact log p. The gap between the curve and that floor is KL(p ‖ p_θ). Sampling is one "
        "forward pass x = f(z), z ~ N(0, I). The page trains the couplings with a hand-derived backward pass "
        "(Adam), tested against autograd.",
    ),
    (
        "md",
        "**Data in a box.** The checkerboard lies in [-4, 4]², but a flow's samples come from a Gaussian with "
        "tails, and the bounded scales let a few of them spill past the edges. With *Bounded output* on (the "
        "default; other densities ignore it) the flow ends with one more, fixed layer onto the box (-L, L)², "
        "L = 1.025 × 4 = 4.1, so the couplings model the unbounded y = L artanh(x / L) (RealNVP's logit "
        "transform of pixel values, for a box):",
    ),
    (
        "latex",
        r"x_i = L \tanh(y_i / L),\qquad \log\left|\det \frac{\partial y}{\partial x}\right|"
        r" = -\sum_i \log\Big(1 - \frac{x_i^2}{L^2}\Big)",
    ),
    (
        "md",
        "It has no parameters: its term is the same for every model, so it moves the NLL but not its gradient. "
        "Measured on the checkerboard (the page's 3,000 steps, seeds 0-4): 3.8-4.8% of the samples outside the "
        "cells with it, 5.1-6.9% without (docs/decisions.md).",
    ),
]
