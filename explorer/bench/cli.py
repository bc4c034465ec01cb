"""Benchmark: `python -m explorer.bench --family flow_matching --density eight_gaussians --seconds 5`.

Trains a family's default page configuration from scratch for a wall-clock budget through the same
`TrainingSession` the page uses, then reports sample quality against the truth, and the training
throughput next to a plain PyTorch loop (nn.Sequential + torch.optim + loss.backward, same batch,
widths and depths) timed in the same process with one and with two threads (`explorer.bench.trained`).
`--live-seconds` also measures the live page's pattern: the `TrainingWorker` thread trains while this
thread renders the page's live panel (samples, field, figures serialised to JSON) four times a second.
`--family langevin` runs the Langevin page's chains on the exact score instead (nothing to train).

Outputs: `--samples-out S.npy` (float32 [4000, 2], the page's default sampler), `--field-out F.npz`
(flow matching: `points` [N, 2] on a grid over [-6, 6]^2, `t` [T], `velocity` [T, N, 2], t = 0 noise,
t = 1 data; diffusion: the score; RealNVP: the log-density), and one JSON line (`--json`) or a table.
The families come from the registry (`explorer.methods.FAMILIES`); what each adds, from its bench module.

`--all --markdown [--page [--page-baseline REF]]` prints docs/performance.md (`explorer.bench.report`).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys

from explorer.device import configure_training_thread
from explorer.methods import FAMILIES
from explorer.training.retrain import MODELS

UNTRAINED = {"langevin": "explorer.bench.langevin"}  # benches of pages that train nothing: `run_from_args(args)`


def run(args: argparse.Namespace) -> dict:
    configure_training_thread(args.threads)
    if args.family in FAMILIES:
        from explorer.bench import trained

        return trained.run(args, FAMILIES[args.family])
    return importlib.import_module(UNTRAINED[args.family]).run_from_args(args)


def _setting(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected FIELD=VALUE, got {text!r}")
    return name.strip(), value.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explorer.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", default="flow_matching", choices=sorted(FAMILIES) + sorted(UNTRAINED))
    parser.add_argument("--density", default=None, help="default: the family's own (Family.bench_density)")
    parser.add_argument("--seconds", type=float, default=5.0, help="training wall-clock budget")
    parser.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda", "mps"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (the app uses 1)")
    parser.add_argument("--n-samples", type=int, default=4000, help="samples for the energy distance, --samples-out")
    parser.add_argument(
        "--quality-samples",
        type=int,
        default=20_000,
        help="samples for the exact metrics (log-density gap, mode TV, checkerboard cells)",
    )
    parser.add_argument("--n-chains", type=int, default=4000, help="langevin: number of chains")
    parser.add_argument("--samples-out", default="")
    parser.add_argument("--field-out", default="")
    parser.add_argument("--field-grid", type=int, default=41, help="grid points per axis for --field-out")
    parser.add_argument(
        "--nll-samples",
        type=int,
        default=20_000,
        help="fresh data points for the NLL of the families with a likelihood",
    )
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
    parser.add_argument(
        "--preset",
        default="",
        metavar="NAME",
        help="start from the page's lecture demo NAME (its settings and density over the defaults; --set and "
        "--density still apply), e.g. --family gan --preset spectral",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    parser.add_argument("--all", action="store_true", help="every trained family at its page defaults, --seeds each")
    parser.add_argument("--seeds", type=lambda s: [int(x) for x in s.split(",")], default=[0, 1, 2], help="for --all")
    parser.add_argument("--markdown", action="store_true", help="with --all: print docs/performance.md")
    parser.add_argument("--page", action="store_true", help="with --all: the live pages' Train to Finished (Chromium)")
    parser.add_argument("--page-runs", type=int, default=3, help="with --page: runs per page")
    parser.add_argument("--page-baseline", default="", metavar="REF", help="with --page: the same at git commit REF")
    parser.add_argument(
        "--variant-seconds", type=float, default=20.0, help="with --all: training time of each GAN Lipschitz variant"
    )
    retrain = parser.add_argument_group("the self-consuming loop (--retrain MODEL: gmm or a family)")
    retrain.add_argument("--retrain", default="", metavar="MODEL", choices=["", *MODELS])
    retrain.add_argument("--n", type=int, default=1000, help="points per generation")
    retrain.add_argument("--generations", type=int, default=20)
    retrain.add_argument("--fresh", type=float, default=0.0, help="share λ of real data per generation")
    retrain.add_argument("--accumulate", action="store_true", help="keep every generation's points")
    retrain.add_argument("--fixed-real", action="store_true", help="real points from one fixed set")
    retrain.add_argument("--fine-tune", action="store_true", help="a family continues from the previous weights")
    retrain.add_argument("--components", type=int, default=8, help="gmm: mixture components")
    retrain.add_argument("--steps", type=int, default=2000, help="a family's training steps per generation")
    args = parser.parse_args(argv)
    if args.retrain:
        from explorer.bench import retrain as retrain_bench

        configure_training_thread(args.threads)
        retrain_bench.run(args)
        return 0
    if args.all:
        from explorer.bench import report

        configure_training_thread(args.threads)
        if args.markdown:
            print(report.report(args), end="")
        else:
            print(json.dumps(report.run_all(args)))
        return 0
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
