"""The retraining page's notebook: the self-consuming loop with a Gaussian mixture fitted by EM, in plain PyTorch
(the page's settings written out; the families' own notebooks train one generation each)."""

from __future__ import annotations

from typing import Any

import nbformat

from explorer.data.densities import Density
from explorer.notebook.cells import code, data, header, md, parameters

EM = '''
def fit_gmm(x, k, restarts=3, iterations=100, tolerance=1e-4, jitter=1e-6):
    """The best of `restarts` EM runs (k-means++ seeds): weights [k], means [k, 2], covariances [k, 2, 2]."""
    x = x.double()
    best, best_ll = None, -math.inf
    for _ in range(restarts):
        means = [x[torch.randint(len(x), (1,))][0]]
        for _ in range(k - 1):  # k-means++: far points are likelier seeds
            d2 = torch.cdist(x, torch.stack(means)).min(1).values ** 2
            means.append(x[torch.multinomial(d2 / d2.sum(), 1)][0] if d2.sum() > 0 else x[0])
        means = torch.stack(means)
        covs = torch.cov(x.T).expand(k, 2, 2).clone() + jitter * torch.eye(2, dtype=x.dtype)
        weights, previous = torch.full((k,), 1.0 / k, dtype=x.dtype), -math.inf
        for _ in range(iterations):
            logs = weights.log() + torch.distributions.MultivariateNormal(means, covs).log_prob(x[:, None])
            total = torch.logsumexp(logs, 1, keepdim=True)
            resp = (logs - total).exp()  # E step
            mass = resp.sum(0) + 1e-12  # M step: maximum likelihood (divided by the mass, not the mass - 1)
            means = resp.T @ x / mass[:, None]
            diff = x[:, None] - means[None]
            covs = torch.einsum("nk,nki,nkj->kij", resp, diff, diff) / mass[:, None, None]
            covs = covs + jitter * torch.eye(2, dtype=x.dtype)
            weights = mass / len(x)
            if float(total.mean()) - previous < tolerance:
                break
            previous = float(total.mean())
        ll = float(total.mean())
        if ll > best_ll:
            best, best_ll = (weights, means, covs), ll
    return best


def sample_gmm(fit, n):
    weights, means, covs = fit
    k = torch.multinomial(weights, n, replacement=True)
    return means[k] + torch.einsum("nij,nj->ni", torch.linalg.cholesky(covs)[k], torch.randn(n, 2, dtype=means.dtype))


def covariance_trace(fit):
    """The mixture's total variance: tr(sum_k w_k (S_k + m_k m_k^T) - m m^T)."""
    weights, means, covs = fit
    mean = (weights[:, None] * means).sum(0)
    return float((weights[:, None, None] * (covs + means[:, :, None] * means[:, None])).sum(0).trace() - mean @ mean)'''


def notebook(config: Any, density: Density) -> nbformat.NotebookNode:
    """The loop of `config` (an `explorer.training.retrain.RetrainConfig`, read by attribute; its Gaussian-mixture
    model) on `density`, as a notebook."""
    c = config
    settings = {k: getattr(c, k) for k in ("density", "n", "generations", "fresh", "fixed_real", "accumulate")}
    cells = [
        *header(
            "Retraining on its own samples",
            "Retraining on its own samples",
            "A Gaussian mixture refitted by EM, generation after generation, on data its predecessor generated.",
            settings | {"components": c.components, "seed": c.seed},
        ),
        *parameters(
            c.generations,
            c.seed,
            f"N, FRESH, FIXED_REAL, ACCUMULATE, K = {c.n}, {c.fresh!r}, {c.fixed_real}, {c.accumulate}, "
            f"{c.components}  # STEPS: generations",
        ),
        *data(density, heading="## The target"),
        md(
            """
## The model: a Gaussian mixture fitted by EM

The M step's covariances are maximum-likelihood estimates (divided by n, not n − 1): refitted on n of its own
samples, one Gaussian's covariance shrinks by (1 − 1/n) per generation on average.
"""
        ),
        code(EM),
        md(
            """
## The loop

Generation 0 fits N real points. Each next generation adds N points: a share FRESH of real data (fresh draws,
or from generation 0's set when FIXED_REAL) and the rest samples of the previous model; with ACCUMULATE it
trains on every batch so far, else on the newest one only.
"""
        ),
        code(
            """
real0 = sample_data(N)[0]
batches, traces, samples = [real0], [], None
for generation in range(STEPS):
    if generation:
        n_real = round(FRESH * N)
        real = real0[torch.randperm(N)[:n_real]] if FIXED_REAL else sample_data(n_real)[0] if n_real else real0[:0]
        batches.append(torch.cat([real.double(), samples[: N - n_real]]))
    fit = fit_gmm(torch.cat(batches) if ACCUMULATE else batches[-1], K)
    samples = sample_gmm(fit, N)
    traces.append(covariance_trace(fit))
RESULTS["cov_trace"] = traces

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
left.plot(traces, label="covariance trace")
if K == 1 and FRESH == 0 and not ACCUMULATE:
    left.plot(traces[0] * (1 - 1 / N) ** np.arange(STEPS), "--", label="expected: (1 - 1/N)^g")
left.set(xlabel="generation", title="Total variance of each generation's model")
left.legend()
right.scatter(*real0.T, s=3, alpha=0.3, label="target")
right.scatter(*samples.T, s=3, alpha=0.6, label=f"generation {STEPS - 1}")
right.set(aspect="equal", title="Samples")
right.legend()
plt.show()"""
        ),
        code("print(json.dumps(RESULTS))"),
    ]
    book = nbformat.v4.new_notebook(cells=cells)
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return book


def notebook_bytes(config: Any, density: Density) -> bytes:
    return nbformat.writes(notebook(config, density)).encode()
