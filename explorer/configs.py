"""Config fields that describe themselves: label, bounds, choices, and whether a change is live.

Every family's config is a frozen dataclass whose fields are declared with `param(...)`. The UI
builds widgets from this metadata, `clamp` repairs any value (a typed number, a query parameter)
into range, and the session compares two configs with `needs_reset`: a change to a field not
marked `live` rebuilds the model, a change to a `live` field (learning rate, sampler settings)
applies in place.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any


def param(
    default: Any,
    label: str,
    *,
    live: bool = False,
    choices: tuple | None = None,
    lo: float | None = None,
    hi: float | None = None,
    log: bool = False,
    group: str = "model",
    help: str = "",
    presets: tuple | None = None,
    slider: bool = False,
) -> Any:
    """A dataclass field with UI and validation metadata.

    `presets` offers a few typical values on a select-slider (any in-range value stays valid, e.g.
    from a query parameter); `slider` asks for a plain slider over [lo, hi] instead of a number box.
    """
    meta = {
        "label": label,
        "live": live,
        "choices": choices,
        "lo": lo,
        "hi": hi,
        "log": log,
        "group": group,
        "help": help,
        "presets": presets,
        "slider": slider,
    }
    return dataclasses.field(default=default, metadata=meta)


def meta(field: dataclasses.Field) -> dict[str, Any]:
    return dict(field.metadata)


def clamp_value(field: dataclasses.Field, value: Any) -> Any:
    """`value` coerced to the field's type and range; the default when it cannot be."""
    m, default = field.metadata, field.default
    try:
        if m.get("choices") is not None:
            return value if value in m["choices"] else default
        if isinstance(default, bool):
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
        if isinstance(default, int):
            value = int(round(float(value)))
        elif isinstance(default, float):
            value = float(value)
            if not math.isfinite(value):
                return default
        else:
            return type(default)(value)
    except (TypeError, ValueError, OverflowError):
        return default
    if m.get("lo") is not None:
        value = max(value, type(default)(m["lo"]))
    if m.get("hi") is not None:
        value = min(value, type(default)(m["hi"]))
    return value


def clamp(config: Any) -> Any:
    """A copy of `config` with every field coerced into its declared range."""
    values = {f.name: clamp_value(f, getattr(config, f.name)) for f in dataclasses.fields(config)}
    return dataclasses.replace(config, **values)


def from_mapping(cls: type, values: dict[str, Any]) -> Any:
    """Build `cls` from loose values (e.g. query parameters): unknown keys ignored, bad ones clamped."""
    known = {f.name: f for f in dataclasses.fields(cls)}
    picked = {k: clamp_value(known[k], v) for k, v in values.items() if k in known}
    return cls(**picked)


def changed_fields(old: Any, new: Any) -> list[str]:
    return [f.name for f in dataclasses.fields(old) if getattr(old, f.name) != getattr(new, f.name)]


def needs_reset(old: Any, new: Any) -> list[str]:
    """Names of changed fields that are not live (empty: the change applies without a reset)."""
    if type(old) is not type(new):
        return ["family"]
    live = {f.name for f in dataclasses.fields(old) if f.metadata.get("live")}
    return [name for name in changed_fields(old, new) if name not in live]


SCHEDULES = ("cosine", "constant")


# The training fields every family has; a family with other defaults declares them again with these.
def batch_size_param(default: int) -> Any:
    return param(
        default, "Batch size", lo=8, hi=4096, group="training", presets=(16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
    )


def lr_param(default: float, label: str = "Learning rate") -> Any:
    return param(
        default,
        label,
        live=True,
        lo=1e-6,
        hi=10.0,
        log=True,
        group="training",
        help="Adam step size; applies immediately, no reset.",
    )


def steps_param(default: int, label: str = "Training steps") -> Any:
    return param(
        default,
        label,
        live=True,
        lo=1,
        hi=1_000_000,
        group="training",
        help="Length of the run; with the cosine schedule the learning rate decays to 0 by then.",
    )


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """Fields every family shares; the session reads these, the family's method the rest."""

    density: str = param(
        "eight_gaussians",
        "Target density",
        group="data",
        help="The 2D distribution to learn (or a CSV you uploaded on the Densities page).",
    )
    batch_size: int = batch_size_param(256)
    lr: float = lr_param(2e-3)
    steps: int = steps_param(12000)
    schedule: str = param("cosine", "LR schedule", live=True, choices=SCHEDULES, group="training")
    seed: int = param(0, "Seed", lo=0, hi=2**31 - 1, group="training")
    slow_motion: bool = param(
        False,
        "Slow motion (4 steps / s)",
        live=True,
        group="training",
        help="One step per refresh, to watch single updates.",
    )
    device: str = param(
        "auto",
        "Device",
        choices=("auto", "cpu", "cuda", "mps"),
        group="training",
        help="An unavailable GPU falls back to the CPU, with a notice.",
    )


def learning_rate(config: TrainingConfig, step: int) -> float:
    """lr at `step`: constant, or cosine from lr to 0 over `config.steps`."""
    if config.schedule == "constant":
        return config.lr
    progress = min(1.0, step / max(1, config.steps))
    return config.lr * 0.5 * (1.0 + math.cos(math.pi * progress))
