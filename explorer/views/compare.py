"""A finished comparison (`explorer.training.compare.FamilyResult`s) as a table and a plain-language reading.

The reading is derived from the measured numbers: which family came closest to the target, which
covered the modes, what sampling costs (network evaluations and milliseconds), which one also gives
an exact likelihood, and which ones the budget was too short for. Quality figures are judged against
what a perfect sampler of the same size scores (`explorer.maths.metrics.QualityMeter`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from explorer.data.densities import get_density
from explorer.device import make_generator
from explorer.training.compare import RUNNING, Comparison, FamilyResult, Progress, family_title

# The headline metric per kind of target (first present wins), and the coverage metric. On a Gaussian mixture the
# headline is the W₁ of log p, not the log-density gap: the gap averages log p, so modes too narrow (log p too
# high) cancel mass on the bridges between them (far too low), and a bridging GAN read "as good as a perfect sampler".
PRIMARY = ("logp_w1", "outside", "energy")
COVERAGE = ("mode_tv", "cell_tv")
CLOSE, FAR = 2.0, 10.0  # x the perfect-sampler value: "as good as perfect" / "far from the target"
MIN_BAND = {"outside": 0.01}  # a perfect sampler scores 0 here; within this counts as perfect


def primary_key(result: FamilyResult) -> str | None:
    return next((k for k in PRIMARY if k in result.metrics), None)


def coverage_key(result: FamilyResult) -> str | None:
    return next((k for k in COVERAGE if k in result.metrics), None)


def badness(result: FamilyResult, key: str) -> float:
    """|value| in units of what a perfect sampler scores (<= 1: indistinguishable from perfect)."""
    band = max(abs(result.perfect.get(key, 0.0)), MIN_BAND.get(key, 1e-12))
    return abs(result.metrics[key]) / band


def _fmt(value: float, digits: int = 3) -> str:
    """`digits` significant digits, without exponents (values here span about 1e-3 to 1e5)."""
    if not math.isfinite(value):
        return "–"
    if value == 0 or abs(value) >= 10 ** (digits - 1):
        return f"{value:,.0f}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{value:.{decimals}f}"


ENDED = {
    "budget": "budget spent",
    "schedule done": "finished its schedule",
    "stopped": "stopped",
    "diverged": "diverged",
    "error": "failed",
}


def table(results: Sequence[FamilyResult]) -> pd.DataFrame:
    """One row per family: the quality metrics (named as on the pages), then what the run cost."""
    keys: list[str] = []
    for r in results:
        keys += [k for k in r.metrics if k not in keys]
    rows = []
    for r in results:
        row = {"family": r.title}
        for k in keys:
            name = next((x.names[k] for x in results if k in x.names), k)
            row[name] = _fmt(r.metrics[k]) if k in r.metrics else "–"
        row.update(
            {
                "steps": f"{r.steps:,}",
                "seconds": f"{r.seconds:.1f}",
                "evals / sample": f"{r.nfe:,} ({r.nfe_note})" if r.nfe else "–",
                "ms / 1k samples": _fmt(r.sample_ms, 2),
                "params": f"{r.n_params:,}" if r.n_params else "–",
                "ended": ENDED.get(r.ended, r.ended),
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)


def perfect_note(results: Sequence[FamilyResult], n_samples: int) -> str:
    """What a perfect sampler of `n_samples` points would score on each metric shown."""
    seen: dict[str, tuple[str, float]] = {}
    for r in results:
        for k, v in r.perfect.items():
            seen.setdefault(k, (r.names.get(k, k), v))
    if not seen:
        return ""
    sign = {"logp_gap": "±", "nll": "≈ "}  # the gap's band; the NLL of the target itself, H(p)
    parts = [f"{name} {sign.get(k, '≤ ')}{v:.2g}" if v else f"{name} 0" for k, (name, v) in seen.items()]
    return f"A perfect sampler of {n_samples:,} points scores about: " + "; ".join(parts) + "."


def _span(values: Sequence[float]) -> str:
    """ "a" or "a–b" for the smallest and largest of `values`."""
    lo, hi = _fmt(min(values), 2), _fmt(max(values), 2)
    return lo if lo == hi else f"{lo}–{hi}"


def _s(results: Sequence[FamilyResult], verb: str) -> str:
    """`verb` agreeing with the number of `results` ("give" -> "gives" for one)."""
    return verb + ("s" if len(results) == 1 else "")


def _names(results: Sequence[FamilyResult]) -> str:
    titles = [f"**{r.title}**" for r in results]
    return titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " and " + titles[-1]


def reading(results: Sequence[FamilyResult], budget_s: float) -> list[str]:
    """Short sentences on which family to use for what, each from the measured numbers (Markdown)."""
    lines: list[str] = []
    ok = [r for r in results if r.ok]
    for r in results:
        if not r.ok:
            why = r.message or ("it produced non-finite samples" if "nonfinite" in r.metrics else "no samples")
            lines.append(f"**{r.title}** gave no usable result: {why}")
    if not ok:
        return lines
    key = primary_key(ok[0])
    ranked = sorted((r for r in ok if key in r.metrics), key=lambda r: badness(r, key))
    if ranked:
        name = ranked[0].names.get(key, key)
        tied = [r for r in ranked if badness(r, key) <= CLOSE] or ranked[:1]
        rest = ", then ".join(f"{r.title} ({_fmt(r.metrics[key], 2)})" for r in ranked[len(tied) :])
        values = ", ".join(_fmt(r.metrics[key], 2) for r in tied)
        if badness(tied[0], key) <= CLOSE:
            both = "both " if len(tied) == 2 else ("all " if len(tied) > 2 else "")
            quality = f"{both}as good as a perfect sampler at this sample size"
        elif tied[0].perfect.get(key, 0.0) == 0.0:
            quality = "a perfect sampler scores 0"
        else:
            quality = f"{badness(tied[0], key):.0f}× what a perfect sampler scores"
        lines.append(
            f"**Closest to the target in {budget_s:g} s: {_names(tied).replace('**', '')}** ({name} {values}, "
            f"{quality})" + (f"; then {rest}." if rest else ".")
        )
    cover = coverage_key(ok[0])
    if cover is not None:
        covered = [r for r in ok if cover in r.metrics and badness(r, cover) <= CLOSE]
        missing = [r for r in ok if cover in r.metrics and badness(r, cover) > CLOSE]
        part = "mode" if cover == "mode_tv" else "cell"
        if covered:
            lines.append(
                f"**Coverage:** {_names(covered)} {_s(covered, 'give')} every {part} its mass (within sampling noise)."
            )
        for r in sorted(missing, key=lambda r: -badness(r, cover)):
            lines.append(
                f"**{r.title}** gives the {part}s the wrong mass ({r.names[cover]} {_fmt(r.metrics[cover], 2)}): "
                f"{100 * r.metrics[cover]:.0f}% of its samples would have to move to another {part}"
                + (" (or into one)." if part == "cell" else ".")
            )
    for r in ok:
        if "off_mode_mass" in r.metrics and badness(r, "off_mode_mass") > CLOSE:
            share, perfect = 100 * r.metrics["off_mode_mass"], 100 * r.perfect["off_mode_mass"]
            lines.append(
                f"**{r.title}** leaves {share:.0f}% of its samples off the modes, where the data has {perfect:.0f}% "
                "(log p below the data's 1% quantile): the bridges and stray points in its picture."
            )
    one_pass = [r for r in ok if r.nfe == 1]
    many = [r for r in ok if r.nfe > 1]
    if one_pass and many:
        fast, slow = _span([r.sample_ms for r in one_pass]), _span([r.sample_ms for r in many])
        ratio = min(r.sample_ms for r in many) / max(min(r.sample_ms for r in one_pass), 1e-6)
        lines.append(
            f"**Fastest sampling:** {_names(one_pass)} {_s(one_pass, 'draw')} a sample in one network pass "
            f"({fast} ms per 1,000 samples); {_names(many)} {_s(many, 'need')} {_span([r.nfe for r in many])} "
            f"({slow} ms): {ratio:,.0f}× slower or more."
        )
    if ranked and one_pass and key is not None:
        best_fast = min((r for r in one_pass if key in r.metrics), key=lambda r: badness(r, key), default=None)
        if best_fast is not None and best_fast is not ranked[0]:
            lines.append(
                f"**Trade-off:** for many cheap samples, {best_fast.title} is the best one-pass model here "
                f"({best_fast.names[key]} {_fmt(best_fast.metrics[key], 2)}); for the most faithful samples, "
                f"{ranked[0].title} ({_fmt(ranked[0].metrics[key], 2)}) at {ranked[0].nfe} evaluations per sample."
            )
        elif best_fast is ranked[0] and many:
            lines.append(f"**{best_fast.title}** is both the closest and among the cheapest to sample here.")
    exact = [r for r in ok if r.exact_log_prob]
    if exact:
        lines.append(
            f"**Likelihood:** only {_names(exact)} also {_s(exact, 'give')} log p(x) of any new point (a "
            "normalizing flow by its change of variables, flow matching and diffusion by integrating their ODE with "
            "its divergence), for density estimation or anomaly scores: see the NLL column."
        )
    done = [r for r in ok if r.ended == "schedule done"]
    if done:
        lines.append(
            f"{_names(done)} finished {'its' if len(done) == 1 else 'their'} whole default training schedule "
            f"within the budget ({', '.join(f'{r.steps:,} steps in {r.seconds:.1f} s' for r in done)})."
        )
    short = [r for r in ok if key in r.metrics and badness(r, key) > FAR and r.ended != "schedule done"]
    if short:
        lines.append(
            f"{_names(short)} {'is' if len(short) == 1 else 'are'} still far from the target after {budget_s:g} s: "
            "raise the budget (or train on the family's own page) before judging."
        )
    return lines


COLUMNS_NOTE = (
    "Evals / sample: passes of the trained network to draw one sample (ODE / SDE samplers: steps × "
    "evaluations per step; GAN, VAE, RealNVP: one pass; RealNVP's pass runs its coupling networks in turn). "
    "ms / 1k samples: time to draw 1,000 samples, measured right after training on the same device."
)


def reference_points(run: Comparison, n: int) -> np.ndarray:
    """n data points `[n, 2]` of the comparison's density (the same ones every frame)."""
    density = get_density(run.density, run.custom_densities)
    return density.sample(n, make_generator(run.seed + 7)).numpy()


def progress_text(p: Progress) -> str:
    """The progress bar's label."""
    if p.status == RUNNING and p.current is not None:
        index = p.families.index(p.current) + 1
        return (
            f"Training {family_title(p.current)} ({index} of {len(p.families)}): "
            f"{p.current_elapsed:.1f} / {p.budget_s:g} s, step {p.current_step:,}"
        )
    if p.status == RUNNING:
        return f"Preparing the next family… ({len(p.results)} of {len(p.families)} done)"
    if p.status == "stopped":
        return p.note or f"Stopped after {len(p.results)} of {len(p.families)} families."
    return f"Done: {len(p.results)} families, {p.budget_s:g} s each."


def cell_title(r: FamilyResult) -> str:
    """Two lines: the family, then its steps and evaluations per sample (Plotly title markup)."""
    detail = f"{r.steps:,} steps in {r.seconds:.1f} s · {r.nfe:,} network eval{'s' if r.nfe != 1 else ''} / sample"
    return f"<b>{r.title}</b><br><span style='font-size:11px'>{detail}</span>"


def cell_placeholder(family: str, p: Progress, result: FamilyResult | None) -> str:
    """Markdown for a grid cell whose samples are not there (yet)."""
    title = f"**{family_title(family)}**"
    if result is not None:
        return f"{title}: no samples. {result.message}"
    upcoming = p.families[len(p.results)] if len(p.results) < len(p.families) else None
    if family == p.current or (p.status == RUNNING and family == upcoming):
        return f"{title}: training now (progress above)."
    if p.status == RUNNING:
        return f"{title}: waiting its turn."
    return f"{title}: not trained (stopped before its turn)."
