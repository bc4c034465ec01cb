"""docs/performance.md, made by one command: `python -m explorer.bench --all --markdown [--page] > docs/performance.md`.

Every trained family at its page's defaults (`Family.bench_density`, the page's config) through the page's own
`TrainingSession`, for each of `--seeds`, with the plain PyTorch loop timed in the same run; with `--page`, the live
page's Train to Finished in headless Chromium beside the engine's time for the same steps (`explorer.bench.page`),
and with `--page-baseline REF` the same pages at an earlier commit, timed on the same machine in the same run. The
page names the machine, the date and the commit: figures from another machine or day are not comparable, and
history lives in git.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess

import torch

from explorer.bench.server import ROOT
from explorer.methods import FAMILIES

# the quality figures each table shows, in this order, where the family reports them
QUALITY = {
    "logp_gap": "log-density gap",
    "logp_w1": "W₁ of log p",
    "off_mode_mass": "off-mode mass",
    "mode_tv": "mode TV",
    "outside": "outside the cells",
    "cell_tv": "cell TV",
    "nll": "NLL",
    "nll_minus_entropy": "NLL − H",
    "nll_is": "NLL, IS K = 100",
    "energy_distance": "energy distance",
    "noise_floor": "its floor",
}
BUDGET_S = 120.0  # per run: the page's default steps end every run long before this on any CPU we know


def cpu_model() -> str:
    """The CPU's model name, as `lscpu` gives it."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def commit() -> str:
    """This checkout's commit (short), with '+' when the work tree has changes."""
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)
        return sha.stdout.strip() + ("+" if dirty.stdout.strip() else "") or "unknown"
    except OSError:
        return "unknown"


def families() -> list[str]:
    """The trained families in the lecture notes' order."""
    return [f.name for f in sorted(FAMILIES.values(), key=lambda f: f.course)]


def run_all(args: argparse.Namespace) -> dict[str, list[dict]]:
    """{family: [bench result per seed]} at the page defaults (`explorer.bench.trained.run`)."""
    from explorer.bench import trained

    results: dict[str, list[dict]] = {}
    for name in families():
        for seed in args.seeds:
            changes = {"family": name, "seed": seed, "seconds": BUDGET_S, "preset": ""}
            one = argparse.Namespace(**{**vars(args), **changes})
            results.setdefault(name, []).append(trained.run(one, FAMILIES[name]))
    return results


# The GAN's Lipschitz variants (the notes' table), each trained for --variant-seconds on eight_gaussians: (title,
# --set).
GAN_VARIANTS = {
    "WGAN-GP (page default)": [],
    "DRAGAN": [("loss", "dragan")],
    "penalty on real and generated points": [("penalty_at", "real_and_generated")],
    "spectral normalisation, non-saturating, leaky-ReLU D": [
        ("spectral_norm", "true"),
        ("loss", "nonsaturating"),
        ("d_activation", "leaky_relu"),
    ],
    "spectral normalisation, non-saturating, SiLU D": [("spectral_norm", "true"), ("loss", "nonsaturating")],
}


def run_gan_variants(args: argparse.Namespace) -> dict[str, list[dict]]:
    """{variant: [bench result per seed]}: the GAN trained for `--variant-seconds` (not its default steps); none
    when that is 0."""
    from explorer.bench import trained

    if args.variant_seconds <= 0:
        return {}
    results: dict[str, list[dict]] = {}
    for title, settings in GAN_VARIANTS.items():
        for seed in args.seeds:
            changes = {"family": "gan", "seed": seed, "seconds": args.variant_seconds, "density": "eight_gaussians"}
            changes["preset"] = ""  # each variant is its settings over the defaults
            one = argparse.Namespace(**{**vars(args), **changes, "set": [*settings, ("steps", "1000000")]})
            results.setdefault(title, []).append(trained.run(one, FAMILIES["gan"]))
    return results


def variants_markdown(results: dict[str, list[dict]]) -> list[str]:
    """The GAN variants' table: throughput against the plain loop, and quality per seed."""
    seconds = round(statistics.mean(r["seconds"] for runs in results.values() for r in runs))
    lines = [
        "",
        f"## The GAN's Lipschitz constraints (about {seconds} s each on eight_gaussians, values per seed)",
        "",
        "The page's kernel (spectral normalisation exact through σ(W), one power-iteration step per D update)",
        "against the plain loop of the same variant (torch's `spectral_norm` parametrization, autograd penalties).",
        "",
        "| variant | steps | steps / s | plain loop, 1 / 2 threads | speed-up | log-density gap | smallest mode |",
        "|---|---|---|---|---|---|---|",
    ]
    for title, runs in results.items():
        first = runs[0]
        one, two = first.get("plain_1_thread_steps_per_s", 0), first.get("plain_2_threads_steps_per_s", 0)
        lines.append(
            f"| {title} | {_spread([r['steps'] for r in runs], 0)} | {_spread([r['steps_per_s'] for r in runs], 0)} | "
            f"{one:,.0f} / {two:,.0f} | {_spread([r.get('speedup_vs_plain', float('nan')) for r in runs], 2)}× | "
            f"{_spread([r['logp_gap'] for r in runs], 3)} | {_spread([min(r['mode_mass']) for r in runs], 3)} |"
        )
    return lines


def _spread(values: list[float], digits: int) -> str:
    return " / ".join(f"{v:,.{digits}f}" for v in values)


def markdown(
    results: dict[str, list[dict]],
    pages: dict[str, list[float]] | None = None,
    baseline: tuple[str, dict[str, list[float]]] | None = None,
    unavailable: str = "",
    variants: dict[str, list[dict]] | None = None,
) -> str:
    """The performance page: the machine, the training table, the quality table and (with `pages`) the page table."""
    seeds = len(next(iter(results.values())))
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Performance",
        "",
        "Made by `python -m explorer.bench --all --markdown --page > docs/performance.md`",
        "(`explorer/bench/report.py`).",
        "",
        f"- **Machine:** {cpu_model()}, {os.cpu_count()} cores; torch {torch.__version__}, one torch thread",
        "  for the app.",
        f"- **When:** {now}, commit `{commit()}`.",
        "- Every figure below comes from this one run. Figures from another machine or day are not comparable; the",
        "  speed-ups against the plain loop, timed in the same run, are.",
        "",
        f"## Training at the page defaults ({seeds} seeds, values per seed)",
        "",
        "The page's `TrainingSession` trains the default configuration to its last step; the plain loop is the",
        "textbook `nn.Sequential` + `torch.optim` + `loss.backward()` of the same sizes, timed with one and two",
        "threads; the speed-up is against the faster of the two.",
        "",
        "| family | density | steps | seconds | steps / s | plain loop, 1 / 2 threads | speed-up |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, runs in results.items():
        first = runs[0]
        one, two = first.get("plain_1_thread_steps_per_s", 0), first.get("plain_2_threads_steps_per_s", 0)
        plain = f"{one:,.0f} / {two:,.0f}"
        speedups = _spread([r.get("speedup_vs_plain", float("nan")) for r in runs], 2)
        lines.append(
            f"| {FAMILIES[name].title} | {first['density']} | {first['steps']:,} | "
            f"{_spread([r['seconds'] for r in runs], 2)} | {_spread([r['steps_per_s'] for r in runs], 0)} | "
            f"{plain} | {speedups}× |"
        )
    first = next(iter(results.values()))[0]
    lines += [
        "",
        "## Quality of the trained models (values per seed)",
        "",
        f"Exact metrics on {first.get('quality_samples', 0):,} model samples where the target's density is known;",
        f"the energy distance on {first.get('n_samples', 0):,} samples with its two-sample floor. A perfect sampler",
        "reads a log-density gap within ±0.02, a W₁ of log p about 0.01, an off-mode mass of 0.01 (the share of",
        "samples below the data's 1% quantile of log p), a mode TV under 0.01, an NLL − H of 0 (= KL(p ‖ p_θ)).",
        "NLL: of 20,000 fresh data points (flows: exact; flow matching and diffusion: their ODE, RK4 with the exact",
        "divergence; the VAE: quadrature over its latent grid on 2,000 points, and importance sampling with K = 100).",
        "",
        "| family | " + " | ".join(QUALITY.values()) + " |",
        "|---|" + "---|" * len(QUALITY),
    ]
    for name, runs in results.items():
        cells = [_spread([r[k] for r in runs], 3) if k in runs[0] else "–" for k in QUALITY]
        lines.append(f"| {FAMILIES[name].title} | " + " | ".join(cells) + " |")
    if variants:
        lines += variants_markdown(variants)
    lines += ["", "## The live page against the engine", ""]
    if not pages:
        lines.append(f"Not measured in this run ({unavailable or 'run with --page'}).")
        return "\n".join(lines) + "\n"
    lines += [
        "Train to Finished on each page at its defaults in headless Chromium (same machine, same run; the browser",
        "shares the machine's cores with the server): from the click on Train to the first frame painted with",
        "\"Finished.\", by the page's own clock; against the engine's time for the same steps (the mean of the seeds",
        "above). The ratio is what the page costs: its live redraws, its quality evaluations, the browser.",
        "",
    ]
    header = "| family | engine, seconds | page, seconds (runs) | page / engine |"
    if baseline:
        header += f" before (`{baseline[0]}`), seconds | before / engine |"
    lines += [header, "|---|---|---|---|" + ("---|---|" if baseline else "")]
    for name, runs in results.items():
        if name not in pages:
            continue
        engine = statistics.mean(r["seconds"] for r in runs)
        row = (
            f"| {FAMILIES[name].title} | {engine:.2f} | {_spread(pages[name], 2)} | "
            f"{statistics.median(pages[name]) / engine:.2f} |"
        )
        if baseline and name in baseline[1]:
            before = baseline[1][name]
            row += f" {_spread(before, 2)} | {statistics.median(before) / engine:.2f} |"
        lines.append(row)
    lines += ["", "Ratios use the median of the page's runs."]
    if baseline is not None:
        lines.append(
            "The earlier commit's page trains that commit's defaults: where its step count differs from the engine "
            "row's, its ratio is not the same work's."
        )
    return "\n".join(lines) + "\n"


def report(args: argparse.Namespace) -> str:
    """Run everything `args` asks for and return the markdown page."""
    from explorer.bench import page

    results = run_all(args)
    variants = run_gan_variants(args)
    pages, baseline, why = None, None, ""
    if args.page or args.page_baseline:
        why = page.available()
        if not why:
            pages = page.train_to_finished(runs=args.page_runs)
            if args.page_baseline:
                with page.checkout(args.page_baseline) as old:
                    baseline = (args.page_baseline, page.train_to_finished(old, runs=args.page_runs))
    return markdown(results, pages, baseline, why, variants)
