"""Langevin dynamics' notebook: chains on the exact score (Gaussian mixtures) or on a score network fitted
by denoising score matching, plain or annealed, with MALA's accept / reject where log p is known."""

from __future__ import annotations

from collections.abc import Callable

from explorer.data.densities import Density, GaussianMixture
from explorer.methods.langevin import LangevinConfig
from explorer.notebook.cells import MLP, code, md, metric_before

TITLE, PAGE = "Langevin dynamics", "Langevin dynamics"
SUMMARY = "Chains follow the score ∇ log p(x) plus noise: x ← x + ε ∇ log p(x) + τ √(2ε) ξ samples p."
LOSS = "mean −log p of the chains (per step)"
SCORE_STEPS = 3000  # denoising-score-matching steps when no exact score is written out


def exact(config: LangevinConfig, density: Density) -> bool:
    return config.score == "exact" and isinstance(density, GaussianMixture)


def constants(c: LangevinConfig, density: Density) -> str:
    start = {"noise": f"noise, spread {c.init_scale:g}", "point": f"the point ({c.init_x:g}, {c.init_y:g})"}
    return (
        f"# STEPS: chain steps; {c.n_chains} chains start from {start.get(c.init, f'mode {c.init_mode}')}\n"
        f"N_CHAINS, STEP_SIZE, TAU, MALA = {c.n_chains}, {c.step_size!r}, {c.noise_scale!r}, {c.mala and exact(c, density)}\n"
        f"INIT, INIT_SCALE, INIT_POINT, INIT_MODE = '{c.init}', {c.init_scale!r}, ({c.init_x!r}, {c.init_y!r}), {c.init_mode}\n"
        f"ANNEALED, N_LEVELS, SIGMA_MAX, SIGMA_MIN = {c.annealed}, {c.n_levels}, {c.sigma_max!r}, {c.sigma_min!r}\n"
        f"SCORE_STEPS = {SCORE_STEPS if not exact(c, density) else 0}  # training steps of the score network (0: exact score)"
    )


def cells(c: LangevinConfig, density: Density, lookup: Callable[[str], Density]) -> list:
    if exact(c, density):
        score_md = (
            "The score of the mixture, blurred by N(0, σ² I), is exact: each component's variance grows to s_k² + σ²."
        )
        score_code = '''
def log_prob_and_score(x, sigma=0.0):
    """log p_sigma(x) [n] and its score [n, 2] for the mixture blurred by N(0, sigma^2 I)."""
    var = SAMPLE_DATA_STDS.pow(2) + sigma**2
    diff = SAMPLE_DATA_MEANS[None] - x[:, None, :]
    logs = SAMPLE_DATA_WEIGHTS.log() - diff.pow(2).sum(-1) / (2 * var) - torch.log(2 * math.pi * var)
    r = torch.softmax(logs, 1)
    return torch.logsumexp(logs, 1), ((r / var)[:, :, None] * diff).sum(1)


losses_of = lambda x: float(-log_prob_and_score(x)[0].mean())'''
    else:
        score_md = (
            "No exact score is written out for this setting, so a network s(x, σ) is fitted first by denoising score "
            "matching, E ‖s(x + σ ε, σ) + ε / σ‖² σ², at noise levels between SIGMA_MIN and SIGMA_MAX "
            "(the Diffusion page's objective, in its noise-conditional form); MALA needs log p and is off."
        )
        score_code = (
            MLP
            + '''


score_net = mlp(3, 2, 64, 3)
optimizer = torch.optim.Adam(score_net.parameters(), lr=3e-3)
for step in range(SCORE_STEPS):
    x, _ = sample_data(256)
    sigma = SIGMA_MIN * (SIGMA_MAX / SIGMA_MIN) ** torch.rand(256, 1)
    eps = torch.randn_like(x)
    s = score_net(torch.cat([x + sigma * eps, sigma.log()], 1)) / sigma
    loss = ((s * sigma + eps) ** 2).sum(1).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


@torch.no_grad()
def log_prob_and_score(x, sigma=0.0):
    """(None, the learned score at noise level max(sigma, SIGMA_MIN)) [n, 2]."""
    sigma = max(sigma, SIGMA_MIN)
    return None, score_net(torch.cat([x, torch.full((len(x), 1), math.log(sigma))], 1)) / sigma


data_sample = sample_data(2000)[0]
losses_of = lambda x: energy_distance(x, data_sample)  # no log p here: the energy distance per step'''
        )
    return [
        md(
            f"""
## The dynamics

Unadjusted Langevin: x ← x + ε ∇ log p(x) + τ √(2ε) ξ, ξ ~ N(0, I), which samples p^(1/τ²) as ε → 0 (τ = 1: p).
MALA treats that step as a proposal and accepts it with the Metropolis–Hastings probability, removing the
bias of a finite ε. Annealed Langevin (Song and Ermon) runs the chains on p blurred by N(0, σ_l² I) for a
ladder σ₁ > … > σ_L, with ε_l = ε σ_l² / σ_L², so that chains cross between far-apart modes.

{score_md}
"""
        ),
        code(score_code),
        code(
            '''
def start(n):
    """The chains' starting points [n, 2]."""
    if INIT == "point":
        return torch.tensor(INIT_POINT).expand(n, 2).clone()
    if INIT == "mode" and "SAMPLE_DATA_MEANS" in globals():
        return SAMPLE_DATA_MEANS[INIT_MODE % len(SAMPLE_DATA_MEANS)].expand(n, 2).clone()
    return INIT_SCALE * torch.randn(n, 2)


def ladder():
    """(sigma, step size, steps) per level: one level (sigma = 0), or the annealing ladder."""
    if not ANNEALED:
        return [(0.0, STEP_SIZE, STEPS)]
    sigmas = np.geomspace(SIGMA_MAX, SIGMA_MIN, N_LEVELS).tolist()
    per = max(1, STEPS // N_LEVELS)
    return [(s, STEP_SIZE * s * s / SIGMA_MIN**2, per) for s in sigmas]


@torch.no_grad()
def run_chains(x, record=None):
    accepted = []
    for sigma, eps, steps in ladder():
        log_p, score = log_prob_and_score(x, sigma)
        for _ in range(steps):
            proposal = x + eps * score + TAU * math.sqrt(2 * eps) * torch.randn_like(x)
            if MALA:  # Metropolis-Hastings on p^(1/tau^2) with the Gaussian proposal q(x' | x)
                log_q, score_q = log_prob_and_score(proposal, sigma)
                forward = -((proposal - x - eps * score) ** 2).sum(1) / (4 * eps * TAU**2)
                backward = -((x - proposal - eps * score_q) ** 2).sum(1) / (4 * eps * TAU**2)
                accept = torch.rand(len(x)).log() < (log_q - log_p) / TAU**2 + backward - forward
                x = torch.where(accept[:, None], proposal, x)
                log_p, score = torch.where(accept, log_q, log_p), torch.where(accept[:, None], score_q, score)
                accepted.append(float(accept.float().mean()))
            else:
                x = proposal
                log_p, score = log_prob_and_score(x, sigma)
            if record is not None:
                record.append(losses_of(x))
    if accepted:
        print(f"MALA acceptance rate: {np.mean(accepted):.2f}")
    return x


'''
            + metric_before("start(2000)")
        ),
        md("## Running the chains"),
        code(
            """
losses = []
samples = run_chains(start(N_CHAINS), losses)"""
        ),
    ]
