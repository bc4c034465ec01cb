"""`python -m explorer.bench --retrain MODEL ...`: the self-consuming loop headless, one JSON line per generation
(`explorer.training.retrain`)."""

from __future__ import annotations

import argparse
import json

from explorer.training.retrain import RetrainConfig, SelfConsumingLoop


def run(args: argparse.Namespace, print_line=print) -> list[dict]:
    """Run the loop `args` describes; print (and return) one record per generation."""
    config = RetrainConfig(
        model=args.retrain,
        density=args.density or "eight_gaussians",
        n=args.n,
        generations=args.generations,
        fresh=args.fresh,
        fixed_real=args.fixed_real,
        accumulate=args.accumulate,
        fine_tune=args.fine_tune,
        components=args.components,
        steps=args.steps,
        seed=args.seed,
    )
    loop, records = SelfConsumingLoop(config), []
    while not loop.done:
        record = loop.step().record()
        records.append(record)
        print_line(json.dumps(record) if args.json else "  ".join(f"{k} {v}" for k, v in record.items()))
    return records
