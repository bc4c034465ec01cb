"""The benchmark of a trained family: its page's default configuration trained through the page's own
`TrainingSession` for a wall-clock budget, scored against the truth, and timed against a plain PyTorch loop.

Everything family-specific comes from the family's bench module (`Family.bench`, see `explorer.methods`):
`figures(session, samples, args) -> dict` (its own figures, `--field-out`), `plain_steps_per_s(session,
seconds)` (the textbook loop of the same sizes: nn.Sequential, torch.optim, autograd, timed in the same
process), and, for pages with a live field view, `live_render(session)` (what the page draws every frame).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import time
from collections.abc import Callable

import numpy as np
import torch

from explorer.configs import from_mapping
from explorer.device import make_generator
from explorer.maths.metrics import QualityMeter, energy_distance, energy_floor
from explorer.methods import Family
from explorer.training.session import TrainingSession


def run(args: argparse.Namespace, family: Family) -> dict:
    """Train, score and time `family` as `args` say; a JSON-able dict of figures."""
    unknown = sorted({name for name, _ in args.set} - {f.name for f in dataclasses.fields(family.config)})
    if unknown:
        raise SystemExit(f"--set: {family.name} has no field {', '.join(unknown)}")
    preset = args.preset
    if preset and preset not in family.presets:
        raise SystemExit(f"--preset: {family.name}'s demos are {', '.join(family.presets)}")
    settings = dict(family.presets[preset].settings) if preset else {}
    density = args.density or settings.get("density") or family.bench_density
    overrides = {**settings, **dict(args.set), "density": density, "device": args.device, "seed": args.seed}
    config = from_mapping(family.config, overrides)
    session = TrainingSession(family.name, config, quality_every=10**9, quality_period_s=math.inf)
    session.start()
    start = time.perf_counter()
    while session.running and time.perf_counter() - start < args.seconds:
        session.run(min(0.5, args.seconds - (time.perf_counter() - start)))
    if session.device_choice.device.type == "cuda":
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    cfg, method, hooks = session.config, session.method, family.bench_module

    n_drawn = max(args.n_samples, args.quality_samples)
    drawn = method.sample(n_drawn, make_generator(args.seed + 1, session.device_choice.device)).float().cpu()
    samples = drawn[: args.n_samples]
    reference_gen = torch.Generator().manual_seed(args.seed + 2)
    truth = session.density.sample(args.n_samples, reference_gen)
    sizes = {
        k: getattr(cfg, k) for k in ("hidden", "depth", "g_hidden", "g_depth", "d_hidden", "d_depth") if hasattr(cfg, k)
    }
    result = {
        "family": family.name,
        "density": density,
        "device": session.device_choice.device.type,
        "device_note": session.device_choice.reason,
        "seconds": round(elapsed, 3),
        "steps": session.step_count,
        "steps_per_s": round(session.step_count / elapsed, 1),
        "batch_size": cfg.batch_size,
        **sizes,
        "status": session.status,
        "energy_distance": round(energy_distance(samples, truth), 5),
        "noise_floor": round(energy_floor(session.density, args.n_samples, reference_gen, repeats=5), 5),
    }
    # the exact metrics (log-density gap, mode TV, cells) on their own, larger sample: at 4,000 samples the gap's
    # evaluation noise alone is about 0.03 nats (docs/decisions.md, "Quality"), as large as the differences measured
    meter = QualityMeter(session.density, args.quality_samples, seed=args.seed + 3, reference_size=100_000)
    result.update({key: round(metric.value, 4) for key, metric in meter(drawn[: args.quality_samples]).items()})
    result["quality_samples"], result["n_samples"] = args.quality_samples, args.n_samples
    result.update(hooks.figures(session, samples, args))
    if args.samples_out:
        np.save(args.samples_out, samples.numpy().astype(np.float32))
    if args.baseline_seconds > 0:
        result.update(plain_baselines(hooks.plain_steps_per_s, session, args.baseline_seconds, result["steps_per_s"]))
    if args.live_seconds > 0 and hasattr(hooks, "live_render"):  # pages with a live field view
        live = live_throughput(family.name, hooks.live_render, config, args.live_seconds)
        result.update({k: round(v, 2) for k, v in live.items()})
        result["live_fraction"] = round(live["live_steps_per_s"] / result["steps_per_s"], 3)
    return result


def plain_baselines(plain, session: TrainingSession, seconds: float, steps_per_s: float) -> dict[str, float]:
    """The plain loop timed with one and with two torch intra-op threads (two can be about twice as fast for
    a lone user on two cores); the speed-up is against the faster of the two. The session's own rate is
    always one thread: the app's policy under several users (docs/decisions.md, "Training")."""
    threads, rates = torch.get_num_threads(), {}
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            rates[n] = plain(session, seconds)
    finally:
        torch.set_num_threads(threads)
    best = max(rates.values())
    return {
        "plain_pytorch_steps_per_s": round(best, 1),
        "plain_1_thread_steps_per_s": round(rates[1], 1),
        "plain_2_threads_steps_per_s": round(rates[2], 1),
        "speedup_vs_plain": round(steps_per_s / best, 2),
        "speedup_vs_plain_1_thread": round(steps_per_s / rates[1], 2),
    }


def live_frame(session: TrainingSession, field_view: Callable[[torch.Generator], object]) -> object:
    """One frame of a live field page: samples over data and the field (with its exact overlay and error map)
    from `field_view(generator)`, with the curves; the caller serialises it as the page would."""
    from explorer.plotting import fields as plot

    generator, snap = session.sample_generator(), session.snapshot()
    data = session.density.sample(max(1, min(300, len(snap.samples))), generator).cpu().numpy()
    figures = [
        plot.samples_figure(snap.samples[:300], data),
        plot.field_figure(field_view(generator), "error", "learned", "exact", ""),
    ]
    return [figures, snap.loss.tolist(), {k: v.tolist() for k, v in snap.quality.items()}]


def live_throughput(family: str, render, config, seconds: float, refresh_s: float = 0.25) -> dict[str, float]:
    """Steps/s of a TrainingWorker while this thread renders the live panel (`render(session)`, as JSON) every
    `refresh_s`: the live page's pattern without a browser."""
    from explorer.training.worker import TrainingWorker

    session = TrainingSession(family, dataclasses.replace(config, steps=10**6))
    worker = TrainingWorker(session)
    session.start()
    worker.ensure_running()
    time.sleep(0.5)  # warm-up
    first, frames, start = session.step_count, 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        tick = time.perf_counter()
        worker.heartbeat()
        json.dumps(render(session))
        frames += 1
        time.sleep(max(0.0, refresh_s - (time.perf_counter() - tick)))
    elapsed = time.perf_counter() - start
    steps = session.step_count - first
    session.pause()
    worker.join(2.0)
    return {"live_steps_per_s": steps / elapsed, "live_refresh_hz": frames / elapsed}
