"""The words and readouts of the Divergences page: values formatted for display (inf as ∞), the metric
rows of each section, the lessons, how each number is computed, and the maths in the notes' notation
(as (kind, text) pairs, kind "md" or "latex"). Plain strings and dicts; the numbers come from
`explorer.views.divergences`."""

from __future__ import annotations

import math

from explorer.views.divergences import POT_SAMPLES, DiscriminatorView2D, PointMassView, ShiftNow
from explorer.views.earth_mover import EarthMoverView


# --- words ----------------------------------------------------------------------------------------
def fmt(value: float, digits: int = 3) -> str:
    """A divergence for display: "∞" for +inf, else `digits` decimals."""
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if math.isnan(value):
        return "–"
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text.replace("-", "−")


def point_mass_metrics(view: PointMassView) -> dict[str, str]:
    return {
        "KL(p ‖ q)": fmt(view.now.kl_pq),
        "JS(p ‖ q)": fmt(view.now.js),
        "W₁(p, q)": fmt(view.now.w1),
        "dJS/dθ": fmt(view.slope_js),
        "dW₁/dθ": fmt(view.slope_w1, 0),
    }


SLOPE_HELP = {"dJS/dθ": "What a generator at θ learns from JS.", "dW₁/dθ": "What it learns from W₁: sign θ."}


def shift_metrics(now: ShiftNow) -> dict[str, str]:
    return {
        "KL(p ‖ q)": fmt(now.now.kl_pq),
        "KL(q ‖ p)": fmt(now.now.kl_qp),
        "JS(p ‖ q)": fmt(now.now.js),
        "W₁ from the CDFs": fmt(now.now.w1),
        f"W₁ by POT (floor {now.pot_floor:.2f})": fmt(now.pot_w1),
    }


def shift_closed_text(now: ShiftNow) -> str:
    if now.closed is None:
        return "No closed form for KL or JS here (a mixture or a box): the page integrates them."
    kl_pq, kl_qp, w1 = now.closed
    return (
        f"Closed forms (both Gaussian): KL(p ‖ q) = **{fmt(kl_pq)}**, KL(q ‖ p) = **{fmt(kl_qp)}**, W₁ = **{fmt(w1)}**."
    )


def earth_mover_metrics(view: EarthMoverView) -> dict[str, str]:
    return {
        "W₁ from the CDFs": fmt(view.w1_cdf),
        "cost of the plan": fmt(view.w1_quantiles),
        "dual value of the critic": fmt(view.w1_dual),
        f"POT ({view.n_pot:,} samples)": fmt(view.w1_pot),
    }


def earth_mover_table(view: EarthMoverView) -> list[dict[str, object]]:
    """One row per piece of mu: where its mass goes and what that costs (the costs add up to W_1)."""
    return [
        {
            "piece of μ": i,
            "mass": f"{m:g}",
            "goes to": to,
            "mean distance": f"{d:.3f}",
            "cost = mass × distance": f"{c:.4f}",
        }
        for i, m, to, d, c in view.pieces
    ]


def dstar_metrics(view: DiscriminatorView2D) -> dict[str, str]:
    return {
        "JS(p ‖ q)": fmt(view.now.js),
        "V(D*, G) on the grid": fmt(view.gan_value),
        "−log 4 + 2 JS": fmt(-math.log(4) + 2 * view.now.js),
        "KL(p ‖ q)": fmt(view.now.kl_pq),
        "KL(q ‖ p)": fmt(view.now.kl_qp),
        f"W₁ by POT (floor {view.w1_floor:.2f})": fmt(view.now.w1),
    }


def dstar_closed_text(view: DiscriminatorView2D) -> str:
    if view.closed_kl is None:
        return ""
    kl_pq, kl_qp = view.closed_kl
    return f"Closed forms (two Gaussians): KL(p ‖ q) = **{fmt(kl_pq)}**, KL(q ‖ p) = **{fmt(kl_qp)}**."


POINT_MASS_LESSON = (
    "**The lesson.** Think of δ₀ as the data and $\\delta_\\theta$ as a generator with one parameter θ, trained "
    "by descending a divergence. **KL** is +∞ for every θ ≠ 0: no gradient at all. **JS** is stuck at log 2 "
    "however close θ gets, so its gradient is 0 and the generator learns nothing; this is the original GAN's "
    "vanishing gradient, with a perfect discriminator D* = 1 on the data and 0 on the samples. **W₁ = |θ|** "
    "shrinks continuously as θ → 0, and its gradient sign θ points the generator toward the data from any "
    "distance. Distributions on low-dimensional manifolds (the data, and a generator's outputs) generically have "
    "disjoint supports, which is why a WGAN estimates W₁ with a 1-Lipschitz critic (the Kantorovich–Rubinstein "
    "dual) instead of JS."
)
BLUR_NOTE = (
    "**Blurred** (σ > 0): N(0, σ²) against N(θ, σ²) have full supports, so KL = θ²/2σ² is finite and JS smooth. "
    "Shrink σ: JS flattens to log 2 away from 0 (its gradient vanishes), while W₁ = |θ| does not change. Adding "
    "noise to both sides (instance noise) is one classic fix for GAN training for exactly this reason."
)
SHIFT_METHOD = (
    "How the numbers are computed: **KL and JS** integrate the exact densities by Gauss–Legendre quadrature "
    "(4 nodes per cell, 2,000 nodes per window: ±12 std around each Gaussian component, each box exactly, "
    "cells split at every edge; 800 for the curves), in log space so that far-apart densities do not "
    "underflow; KL = ∞ is decided exactly from the supports (a box against anything that is not inside it). "
    "**W₁** $= \\int |F_p - F_q|\\,dx$ with the exact CDFs by the same quadrature. Dashed: closed forms, where "
    f"both are Gaussian. **POT**: exact optimal transport between {POT_SAMPLES:,} samples of each (in 1D, by "
    "sorting; open circles: the same draws moved along), an estimate with sampling noise: two independent "
    "samples of p (or of q) are already up to the 'floor' apart."
)
EARTH_MOVER_TEXT = (
    "The notes' example: μ = ¼·1[1,2] + ¼·1[3,4] + ½·1[9,10] (piles of earth, blue, above the line) and "
    "μ′ = ½·1[5,7] (a hole, orange, below). The optimal plan fills the hole from left to right in the order of "
    "the piles: the u-quantile of μ goes to the u-quantile of μ′. Each arrow carries 1/24 of the mass."
)
EARTH_MOVER_METHOD = (
    "W₁ four ways: the area between the CDFs $\\int |F_\\mu - F_{\\mu'}|\\,dx$ (exact CDFs, Gauss–Legendre "
    "quadrature); the cost of the monotone plan $\\int_0^1 |F_\\mu^{-1}(u) - F_{\\mu'}^{-1}(u)|\\,du$ (4,000 "
    "quantiles, exact for boxes); the dual value $\\mathbb E_\\mu f - \\mathbb E_{\\mu'} f$ of the critic with "
    "$f' = -\\mathrm{sign}(F_\\mu - F_{\\mu'})$ (drawn, black); and POT's exact OT between 2,000 samples of each."
)
DSTAR_METHOD = (
    "q is the law of s·X + b for X from the chosen density: $q(x) = p_X((x - b)/s)\\,/\\,s^2$. D* = p / (p + q) "
    "is faded where (p + q)/2 is below 10⁻³ of its peak (no evidence either way). JS, V(D*, G) and KL are Riemann"
    " sums of the exact densities on an n × n grid over [−R, R]² that holds both; KL = ∞ where a grid point has p"
    " > 0 = q (the checkerboard is 0 off its cells). Grey: neither density has mass there. W₁: exact OT (POT's "
    "network simplex) between 600 samples of each; two independent samples of p are already the 'floor' apart."
)

DSTAR_TEXT = (
    "**Reading it.** D*(x) is the probability that x came from p rather than q, for the best possible "
    "discriminator: ½ where it cannot tell, blue where the data dominate, orange where the generator puts mass "
    "the data do not have. At D* the GAN's value is V(D*, G) = −log 4 + 2 JS(p ‖ q): −log 4 ≈ −1.386 when "
    "q = p, and 0 when the supports are disjoint (JS = log 2, D* is 0 or 1 wherever there is mass, and the "
    "generator's gradient through log(1 − D*) vanishes)."
)


def dstar_presets(p_name: str) -> dict[str, dict[str, object]]:
    """One-click settings for the D* section (widget key -> value): q = p, and q a small copy of p far away."""
    same = {"div.q2": p_name, "div.bx": 0.0, "div.by": 0.0, "div.scale2": 1.0}
    return {
        "q = p: D* = ½, JS = 0": same,
        "q far from p: JS ≈ log 2": {**same, "div.bx": 6.0, "div.by": 6.0, "div.scale2": 0.5},
    }


EXPLANATION: list[tuple[str, str]] = [
    ("md", "**Three ways to say how far apart two distributions are.** For densities p and q, in nats:"),
    ("latex", r"KL(p\,\|\,q) = \int p(x)\,\log\frac{p(x)}{q(x)}\,dx \;\ge\; 0"),
    (
        "md",
        "KL is not symmetric, and it is **+∞** as soon as p puts mass where q has none: between distributions "
        "with disjoint supports it says nothing. **Jensen–Shannon** compares both with their mixture m:",
    ),
    (
        "latex",
        r"JS(p\,\|\,q) = \tfrac12\,KL(p\,\|\,m) + \tfrac12\,KL(q\,\|\,m),\qquad m = \tfrac{p+q}{2},"
        r"\qquad 0 \le JS \le \log 2",
    ),
    (
        "md",
        "It is what the original GAN minimises: for a fixed generator the best discriminator is "
        "D* = p / (p + q), and the value of the game at D* is",
    ),
    (
        "latex",
        r"V(D^*, G) = \mathbb E_{x\sim p}\big[\log D^*(x)\big] + \mathbb E_{x\sim q}\big[\log(1 - D^*(x))\big]"
        r" = -\log 4 + 2\,JS(p\,\|\,q)",
    ),
    (
        "md",
        "JS = log 2 for any two distributions with disjoint supports, near or far: its gradient vanishes. The "
        "**Wasserstein-1** (earth mover's) distance is the least average distance mass must travel to turn μ "
        "into ν, over all couplings π ∈ Π(μ, ν), the joint laws with marginals μ and ν (primal form):",
    ),
    ("latex", r"W_1(\mu, \nu) = \inf_{\pi \in \Pi(\mu, \nu)}\; \mathbb E_{(x, y)\sim\pi}\,\|x - y\|"),
    (
        "md",
        "In 1D the optimal plan is monotone (the u-quantile of μ goes to the u-quantile of ν), and W₁ is the "
        "area between the CDFs:",
    ),
    (
        "latex",
        r"W_1(\mu, \nu) = \int_{\mathbb R} \big|F_\mu(x) - F_\nu(x)\big|\,dx"
        r" = \int_0^1 \big|F_\mu^{-1}(u) - F_\nu^{-1}(u)\big|\,du",
    ),
    (
        "md",
        "The **Kantorovich–Rubinstein duality** trades the infimum over plans for a supremum over 1-Lipschitz "
        "critics f. A WGAN trains its critic (weights clipped, or a gradient penalty) to approximate this f, and "
        "the generator descends the estimate:",
    ),
    (
        "latex",
        r"W_1(\mu, \nu) = \sup_{\|f\|_L \le 1}\;"
        r" \mathbb E_{x\sim\mu}\big[f(x)\big] - \mathbb E_{y\sim\nu}\big[f(y)\big]",
    ),
    (
        "md",
        "**Point masses.** For δ₀ and $\\delta_\\theta$ with θ ≠ 0: KL = +∞, JS = log 2, W₁ = |θ|; all three are 0 "
        "at θ = 0. Only W₁ is continuous in θ, with the useful gradient sign θ. **Gaussians** have closed forms "
        "(d dimensions, isotropic):",
    ),
    (
        "latex",
        r"KL\big(\mathcal N(m_1, s_1^2 I)\,\|\,\mathcal N(m_2, s_2^2 I)\big) = "
        r"d\Big(\log\frac{s_2}{s_1} + \frac{s_1^2}{2 s_2^2} - \frac12\Big) + \frac{\|m_1 - m_2\|^2}{2 s_2^2}",
    ),
    (
        "md",
        "A translation moves every point by the same vector b, so W₁(p, p(· − b)) = ‖b‖ for any p; in 1D, "
        "W₁(N(m₁, s₁²), N(m₂, s₂²)) = E|Z| with Z ~ N(m₁ − m₂, (s₁ − s₂)²). JS between Gaussians has no closed "
        "form: the page integrates it.",
    ),
    (
        "md",
        "**Dual forms: divergences from samples alone.** Donsker–Varadhan writes KL as a supremum over critics f, "
        "reached at f = log(q/p) + c; the GAN discriminator's objective is bounded by twice JS, reached at "
        "D* = q / (q + p). A critic trained on samples climbs these bounds without ever evaluating a density "
        "(the critic's tab):",
    ),
    (
        "latex",
        r"KL(q\,\|\,p) = \sup_f\; \mathbb E_qig[fig] - \log \mathbb E_pig[e^{f}ig],\qquad "
        r"\mathbb E_qig[\log Dig] + \mathbb E_pig[\log(1 - D)ig] \le 2\,JS(q\,\|\,p) - \log 4",
    ),
]
