"""The lecture-demo buttons of a training page (`explorer.training.presets`): one click sets the demo up and
resets the model; while the settings still match, a note says what to watch (also when the demo's
settings arrive through a share link)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import streamlit as st

from explorer.training.presets import Preset, apply_preset, shows_preset
from explorer.ui import state


def _apply(family: str, key: str, default: Any, preset: Preset, name: str) -> None:
    """Button callback (runs before the widgets render): the preset's config, the widgets moved to it,
    a fresh model."""
    new = apply_preset(state.stored_config(family, default), preset)
    state.store_config(family, new)
    for field in dataclasses.fields(new):
        st.session_state[f"{key}.{field.name}"] = getattr(new, field.name)
    st.session_state[f"{key}.preset"] = name
    if (session := st.session_state.get(f"session:{family}")) is not None:
        session.pause()
        session.reset()


def preset_bar(family: str, key: str, default: Any, presets: Mapping[str, Preset], config: Any) -> None:
    """The demos' buttons in an expander, and what to watch for the one `config` still matches."""
    with st.expander("Lecture demos: one click sets everything up, then press Train", expanded=True):
        for col, (name, preset) in zip(st.columns(len(presets)), presets.items(), strict=True):
            col.button(
                preset.title,
                key=f"{key}.preset.{name}",
                on_click=_apply,
                args=(family, key, default, preset, name),
                width="stretch",
            )
        chosen = showing_preset(presets, st.session_state.get(f"{key}.preset"), config, default)
        if chosen is not None:
            st.info(f"**{chosen.title}.** {chosen.look}", icon=":material/school:")


def showing_preset(presets: Mapping[str, Preset], clicked: str | None, config: Any, default: Any) -> Preset | None:
    """The demo whose advice applies to `config`: the one last clicked while its settings still hold;
    else (a shared link opened elsewhere) the most specific of those whose settings `config` has and the
    defaults do not (the most settings away from the defaults; the first of equals)."""
    if (preset := presets.get(clicked)) is not None and shows_preset(config, preset):
        return preset
    held = [p for p in presets.values() if shows_preset(config, p) and not shows_preset(default, p)]
    return max(held, key=lambda p: sum(getattr(default, k) != v for k, v in p.settings.items()), default=None)
