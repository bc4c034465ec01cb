"""Benchmark: `python -m explorer.bench --family flow_matching --density eight_gaussians --seconds 5`.

Trains a family's default page configuration from scratch for a wall-clock budget through the same
`TrainingSession` the page uses, then reports sample quality against the truth, and the training
throughput next to a plain PyTorch loop (nn.Sequential + torch.optim.Adam + loss.backward, same
batch, width, depth and thread count) timed in the same process. `--live-seconds` also measures
the live page's pattern: the `TrainingWorker` thread trains while this thread renders the page's
live panel (samples, field, figures serialised to JSON) four times a second.

Outputs: `--samples-out S.npy` (float32 [4000, 2], the page's default sampler), `--field-out F.npz`
(`points` [N, 2] on a grid over [-6, 6]^2, `t` [T], `velocity` [T, N, 2]: t = 0 noise, t = 1 data),
and one JSON line (`--json`) or a readable table.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time

import numpy as np
import torch

from explorer.configs import from_mapping
from explorer.device import configure_threads, make_generator
from explorer.methods import METHODS
from explorer.metrics import QualityMeter, energy_distance, energy_floor
from explorer.plain_loop import autograd_steps_per_s, plain_mlp, steps_per_s
from explorer.session import TrainingSession
from explorer.views.grid import make_grid

FIELD_TIMES = (0.25, 0.5, 0.75)


def plain_pytorch_steps_per_s(session: TrainingSession, seconds: float) -> float:
    """Steps/s of a textbook loop (nn.Sequential + torch.optim.Adam + loss.backward) of the session's
    width and depth, on batches drawn per step by the family's own `training_pairs` (same data)."""
    cfg, device, method = session.config, session.device_choice.device, session.method
    torch.manual_seed(cfg.seed)
    net = plain_mlp(method.net.mlp.layers[0].in_features, 2, cfg.hidden, cfg.depth, device)
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    generator = make_generator(cfg.seed, device)

    def loss() -> torch.Tensor:
        inputs, targets = method.training_pairs(1, generator)
        return (net(inputs[0]) - targets[0]).pow(2).mean()

    return autograd_steps_per_s(loss, optimizer, seconds, device)


def plain_gan_steps_per_s(session: TrainingSession, seconds: float) -> float:
    """Generator steps/s of a textbook alternating GAN loop (nn.Sequential, torch.optim.Adam, the
    same loss, n_critic, gradient penalty or clipping, batch, widths and depths)."""
    from explorer.gan_losses import clip_weights, discriminator_loss, generator_loss, gradient_penalty

    cfg, device = session.config, session.device_choice.device

    g = plain_mlp(cfg.latent_dim, 2, cfg.g_hidden, cfg.g_depth, device)
    d = plain_mlp(2, 1, cfg.d_hidden, cfg.d_depth, device)
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, 0.999))
    generator, batch = make_generator(cfg.seed, device), cfg.batch_size

    def step() -> None:
        for _ in range(cfg.n_critic):
            real = session.density.sample(batch, generator)
            fake = g(torch.randn((batch, cfg.latent_dim), generator=generator, device=device)).detach()
            loss = discriminator_loss(cfg.loss, d(real).squeeze(-1), d(fake).squeeze(-1))
            if cfg.loss == "wgan_gp":
                u = torch.rand((batch, 1), generator=generator, device=device)
                loss = loss + cfg.gp_lambda * gradient_penalty(lambda x: d(x).squeeze(-1), real, fake, u)
            opt_d.zero_grad()
            loss.backward()
            opt_d.step()
            if cfg.loss == "wgan":
                clip_weights(d, cfg.clip)
        fake = g(torch.randn((batch, cfg.latent_dim), generator=generator, device=device))
        loss = generator_loss(cfg.loss, d(fake).squeeze(-1))
        opt_g.zero_grad()
        loss.backward()
        opt_g.step()

    return steps_per_s(step, seconds, device)


def plain_baselines(plain, session: TrainingSession, seconds: float, steps_per_s: float) -> dict[str, float]:
    """The plain loop timed with one and with two torch intra-op threads (two can be about twice as fast for
    a lone user on two cores); the speed-up is against the faster of the two. The session's own rate is
    always one thread: the app's policy under several users (DESIGN.md, Live training)."""
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


def field_arrays(family: str, method, points: torch.Tensor) -> dict[str, np.ndarray]:
    """The learned field on `points` at a few times, for --field-out (t conventions as the page's)."""
    with torch.no_grad():
        if family == "diffusion":
            from explorer.views.diffusion import time_at_abar

            times = sorted({0.1, round(time_at_abar(method, 0.5), 4), 0.5, 0.9})
            score = [method.score(points, t).float().cpu().numpy() for t in times]
            return {
                "t": np.asarray(times, np.float32),
                "alpha": np.asarray([float(method.schedule.alpha(t)) for t in times], np.float32),
                "sigma": np.asarray([float(method.schedule.sigma(t)) for t in times], np.float32),
                "score": np.stack(score).astype(np.float32),
            }
        velocity = [method.sampling_field()(points, t).float().cpu().numpy() for t in FIELD_TIMES]
        return {"t": np.asarray(FIELD_TIMES, np.float32), "velocity": np.stack(velocity).astype(np.float32)}


def field_errors(family: str, method, generator: torch.Generator) -> dict[str, float]:
    """Relative L2 error of the learned field against the exact one, weighted by p_t (exact targets only)."""
    if not hasattr(method, "exact") or method.exact() is None:
        return {}
    if family == "diffusion":
        from explorer.views.diffusion import relative_score_error, time_at_abar

        t = time_at_abar(method, 0.5)
        return {
            "score_t_at_alpha2_half": round(t, 4),
            "score_rel_error": round(relative_score_error(method, t, generator, 20_000), 4),
        }
    from explorer.views.flow_matching import relative_field_error

    return {"velocity_rel_error_t05": round(relative_field_error(method, 0.5, generator, 20_000), 4)}


def live_render(family: str, session: TrainingSession) -> object:
    """What the family's page renders every frame: samples over data and the field with its error map."""
    from explorer.plotting import fields as plot

    generator = session.sample_generator()
    snap = session.snapshot()
    data = session.density.sample(max(1, min(300, len(snap.samples))), generator).cpu().numpy()
    if family == "diffusion":
        from explorer.views.diffusion import score_view

        view = score_view(session.method, 0.3, generator)
    else:
        from explorer.views.flow_matching import velocity_view

        view = velocity_view(session.method, 0.5, generator)
    figures = [plot.samples_figure(snap.samples[:300], data), plot.field_figure(view, "error", "learned", "exact", "")]
    return [figures, snap.loss.tolist(), {k: v.tolist() for k, v in snap.quality.items()}]


def live_throughput(family: str, config, seconds: float, refresh_s: float = 0.25) -> dict[str, float]:
    """Steps/s of a TrainingWorker while this thread renders the live panel every `refresh_s`."""
    from explorer.worker import TrainingWorker

    session = TrainingSession(family, dataclasses.replace(config, steps=10**6))
    worker = TrainingWorker(session)
    session.start()
    worker.ensure_running()
    time.sleep(0.5)  # warm-up
    first, frames, start = session.step_count, 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        tick = time.perf_counter()
        worker.heartbeat()
        json.dumps(live_render(family, session))
        frames += 1
        time.sleep(max(0.0, refresh_s - (time.perf_counter() - tick)))
    elapsed = time.perf_counter() - start
    steps = session.step_count - first
    session.pause()
    worker.join(2.0)
    return {"live_steps_per_s": steps / elapsed, "live_refresh_hz": frames / elapsed}


def run(args: argparse.Namespace) -> dict:
    configure_threads(args.threads)
    if args.family == "langevin":
        from explorer import bench_langevin

        return bench_langevin.run(args.density, args.n_chains, args.seed, args.device)
    config_cls = METHODS[args.family][0]
    unknown = sorted({name for name, _ in args.set} - {f.name for f in dataclasses.fields(config_cls)})
    if unknown:
        raise SystemExit(f"--set: {args.family} has no field {', '.join(unknown)}")
    overrides = {**dict(args.set), "density": args.density, "device": args.device, "seed": args.seed}
    config = from_mapping(config_cls, overrides)
    session = TrainingSession(args.family, config, quality_every=10**9, quality_period_s=math.inf)
    session.start()
    start = time.perf_counter()
    while session.running and time.perf_counter() - start < args.seconds:
        session.run(min(0.5, args.seconds - (time.perf_counter() - start)))
    if session.device_choice.device.type == "cuda":
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    cfg, method = session.config, session.method
    steps = session.step_count

    samples = method.sample(args.n_samples, make_generator(args.seed + 1, session.device_choice.device)).float().cpu()
    reference_gen = torch.Generator().manual_seed(args.seed + 2)
    truth = session.density.sample(args.n_samples, reference_gen)
    result = {
        "family": args.family,
        "density": args.density,
        "device": session.device_choice.device.type,
        "device_note": session.device_choice.reason,
        "seconds": round(elapsed, 3),
        "steps": steps,
        "steps_per_s": round(steps / elapsed, 1),
        "batch_size": cfg.batch_size,
        **(
            {"hidden": cfg.hidden, "depth": cfg.depth}
            if hasattr(cfg, "hidden")
            else {"g_hidden": cfg.g_hidden, "g_depth": cfg.g_depth, "d_hidden": cfg.d_hidden, "d_depth": cfg.d_depth}
        ),
        "status": session.status,
        "energy_distance": round(energy_distance(samples, truth), 5),
        "noise_floor": round(energy_floor(session.density, args.n_samples, reference_gen, repeats=5), 5),
    }
    for key, metric in QualityMeter(session.density, args.n_samples, seed=args.seed + 3, reference_size=100_000)(
        samples
    ).items():
        result[key] = round(metric.value, 4)
    result.update(field_errors(args.family, method, torch.Generator().manual_seed(args.seed + 4)))
    if args.samples_out:
        np.save(args.samples_out, samples.numpy().astype(np.float32))
    if args.family == "gan":
        result.update({"loss": cfg.loss, "n_critic": cfg.n_critic})
        if hasattr(session.density, "nearest_component"):
            counts = torch.bincount(session.density.nearest_component(samples), minlength=session.density.n_classes)
            result["mode_mass"] = [round(float(c) / len(samples), 4) for c in counts]
    if args.family == "flow":
        from explorer import bench_flow

        result.update(bench_flow.figures(method, session.density, args.seed, args.field_out, args.field_grid))
    if args.family == "vae":
        from explorer import bench_vae

        result.update(bench_vae.figures(method, args.seed))
    if args.field_out and args.family not in ("gan", "flow", "vae"):
        grid = make_grid(6.0, args.field_grid, session.device_choice.device)
        arrays = field_arrays(args.family, method, grid.points)
        np.savez(args.field_out, points=grid.points.cpu().numpy().astype(np.float32), **arrays)
    if args.baseline_seconds > 0:
        plain = plain_gan_steps_per_s if args.family == "gan" else plain_pytorch_steps_per_s
        if args.family == "flow":
            from explorer.bench_flow import plain_steps_per_s as plain
        if args.family == "vae":
            from explorer.bench_vae import plain_steps_per_s as plain
        result.update(plain_baselines(plain, session, args.baseline_seconds, result["steps_per_s"]))
    if args.live_seconds > 0 and args.family in ("flow_matching", "diffusion"):  # pages with a live view
        live = live_throughput(args.family, config, args.live_seconds)
        result.update({k: round(v, 2) for k, v in live.items()})
        result["live_fraction"] = round(live["live_steps_per_s"] / result["steps_per_s"], 3)
    return result


def _setting(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected FIELD=VALUE, got {text!r}")
    return name.strip(), value.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explorer.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", default="flow_matching", choices=sorted(METHODS) + ["langevin"])
    parser.add_argument("--density", default="eight_gaussians")
    parser.add_argument("--seconds", type=float, default=5.0, help="training wall-clock budget")
    parser.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda", "mps"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (the app uses 1)")
    parser.add_argument("--n-samples", type=int, default=4000)
    parser.add_argument("--n-chains", type=int, default=4000, help="langevin: number of chains")
    parser.add_argument("--samples-out", default="")
    parser.add_argument("--field-out", default="")
    parser.add_argument("--field-grid", type=int, default=41, help="grid points per axis for --field-out")
    parser.add_argument("--baseline-seconds", type=float, default=3.0, help="time the plain PyTorch loop (0: skip)")
    parser.add_argument("--live-seconds", type=float, default=0.0, help="also measure the live pattern (0: skip)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        type=_setting,
        metavar="FIELD=VALUE",
        help="override a field of the page's default configuration (repeatable), e.g. --set batch_size=512",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args(argv)
    result = run(args)
    if args.json:
        print(json.dumps(result))
    else:
        width = max(map(len, result))
        for key, value in result.items():
            print(f"{key:<{width}}  {value}")
    return 0 if all(not (isinstance(v, float) and math.isnan(v)) for v in result.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
