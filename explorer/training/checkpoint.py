"""Trained models as files: save a session's weights, load them back into a page's model.

A checkpoint is a `torch.save` of plain data only, so that `torch.load(weights_only=True)` reads
it without running any code from the file:

    {"format": FORMAT, "family": str, "config": {field: number | str | bool}, "step": int,
     "state": the method's state_dict (nested dicts of tensors and numbers)}

Loading checks, in order, that the file is such a checkpoint, of the page's family, with the
same tensor names, shapes and dtypes as the page's model, all finite. Each refusal is a
`CheckpointError` whose message says what differs and how to make it fit (e.g. the widths the
file was trained with).
"""

from __future__ import annotations

import dataclasses
import io
from typing import Any

import torch

from explorer.configs import TrainingConfig

FORMAT = "generative-models-explorer/checkpoint-1"
MAX_BYTES = 64 * 2**20
# settings that change what a network computes but none of its tensors' shapes: a file trained with another value
# would load without complaint and draw nonsense
SAME_SHAPES_OTHER_FUNCTION = ("activation", "d_activation")


class CheckpointError(ValueError):
    """A file that cannot be loaded into this model; the message is for the user."""


def _to_cpu(state: Any) -> Any:
    if isinstance(state, torch.Tensor):
        return state.detach().cpu().clone()
    if isinstance(state, dict):
        return {k: _to_cpu(v) for k, v in state.items()}
    if isinstance(state, list | tuple):
        return [_to_cpu(v) for v in state]
    return state


def save(family: str, config: TrainingConfig, step: int, state: dict) -> bytes:
    """The checkpoint file's bytes for a model of `family` trained `step` steps with `config`."""
    buffer = io.BytesIO()
    record = {
        "format": FORMAT,
        "family": family,
        "config": dataclasses.asdict(config),
        "step": int(step),
        "state": _to_cpu(state),
    }
    torch.save(record, buffer)
    return buffer.getvalue()


def _leaves(state: Any, prefix: str = "") -> dict[str, Any]:
    """{"a.b.0": leaf} for nested dicts and lists."""
    if isinstance(state, dict):
        return {k: v for key, value in state.items() for k, v in _leaves(value, f"{prefix}{key}.").items()}
    if isinstance(state, list | tuple):
        return {k: v for i, value in enumerate(state) for k, v in _leaves(value, f"{prefix}{i}.").items()}
    return {prefix.rstrip("."): state}


def _architecture_hint(saved: dict, config: TrainingConfig) -> str:
    """The non-live settings the file was trained with that differ from this page's."""
    differ = []
    for f in dataclasses.fields(config):
        if f.metadata.get("live") or f.name in ("seed", "density", "device") or f.name not in saved:
            continue
        if saved[f.name] != getattr(config, f.name):
            differ.append(f"{f.metadata.get('label', f.name)} = {saved[f.name]} (here: {getattr(config, f.name)})")
    return (" It was trained with " + "; ".join(differ) + ": set these, then load it again.") if differ else ""


def load(data: bytes, family: str, config: TrainingConfig, current: dict) -> tuple[dict, int, dict]:
    """(state, step, saved config) from checkpoint bytes, validated against `current` (the page
    model's state_dict); raises CheckpointError with the reason otherwise."""
    if len(data) > MAX_BYTES:
        raise CheckpointError(f"The file is {len(data) / 2**20:.0f} MB; checkpoints of these models are far smaller.")
    try:
        record = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unreadable upload gets the same answer
        raise CheckpointError(f"This is not a checkpoint saved by this app ({type(err).__name__}).") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise CheckpointError("This file is a PyTorch file, but not a checkpoint saved by this app.")
    if record.get("family") != family:
        raise CheckpointError(f"This checkpoint holds a '{record.get('family')}' model; this page trains '{family}'.")
    saved_config = record.get("config") if isinstance(record.get("config"), dict) else {}
    state, ours = record.get("state"), _leaves(current)
    theirs = _leaves(state) if isinstance(state, dict) else {}
    hint = _architecture_hint(saved_config, config)
    if set(theirs) != set(ours):
        raise CheckpointError("The checkpoint's model does not have this page's architecture." + hint)
    for name, mine in ours.items():
        other = theirs[name]
        if isinstance(mine, torch.Tensor):
            if not isinstance(other, torch.Tensor) or other.shape != mine.shape or other.dtype != mine.dtype:
                got = tuple(other.shape) if isinstance(other, torch.Tensor) else type(other).__name__
                raise CheckpointError(
                    f"The checkpoint's network has another size ('{name}': {got} in the file, {tuple(mine.shape)} "
                    "here)." + hint
                )
            if other.is_floating_point() and not torch.isfinite(other).all():
                raise CheckpointError(f"'{name}' holds NaN or infinite values: the checkpoint is unusable.")
        elif isinstance(other, torch.Tensor):
            raise CheckpointError(f"'{name}' is a tensor in the file but not in this model." + hint)
    changed = [name for name in SAME_SHAPES_OTHER_FUNCTION if name in saved_config and hasattr(config, name)]
    if any(saved_config[name] != getattr(config, name) for name in changed):
        raise CheckpointError("The checkpoint's network computes another function than this page's." + hint)
    step = record.get("step")
    step = int(step) if isinstance(step, int) and not isinstance(step, bool) and step >= 0 else 0
    return state, step, saved_config
