"""Lecture demos: named settings that reproduce one picture from the notes, and what to watch.

A page keeps its presets as `{name: Preset}` next to its views; `explorer.ui.presets.preset_bar`
shows them as one-click buttons. A preset's settings apply over the family's defaults (so earlier
changes do not leak into the demo); the device choice is kept.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Preset:
    """A lecture demonstration: settings applied over the defaults, and what to look at."""

    title: str
    settings: dict[str, Any]
    look: str


def apply_preset(config: Any, preset: Preset) -> Any:
    """The defaults of `config`'s class with the preset's settings; `config`'s device is kept."""
    keep = {"device": config.device} if hasattr(config, "device") else {}
    return dataclasses.replace(type(config)(**keep), **preset.settings)


def shows_preset(config: Any, preset: Preset) -> bool:
    """Whether `config` still has every setting of `preset` (its advice no longer applies otherwise)."""
    return all(getattr(config, name) == value for name, value in preset.settings.items())
