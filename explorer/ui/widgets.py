"""Config dataclass -> Streamlit widgets, driven by the field metadata of `explorer.configs.param`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from explorer.configs import clamp_value


def _widget(
    field: dataclasses.Field, key: str, current: Any, choices: Sequence | None, format_func: Callable[[Any], str]
) -> Any:
    m = field.metadata
    label, help_text = m.get("label", field.name), m.get("help") or None
    if key not in st.session_state:
        st.session_state[key] = current
    if choices is not None:
        options = list(choices)
        if st.session_state[key] not in options:
            st.session_state[key] = options[0] if current not in options else current
        return st.selectbox(label, options, key=key, help=help_text, format_func=format_func)
    if isinstance(field.default, bool):
        return st.toggle(label, key=key, help=help_text)
    if m.get("presets"):
        options = sorted(set(m["presets"]) | {st.session_state[key]})
        return st.select_slider(label, options=options, key=key, help=help_text)
    lo, hi = m.get("lo"), m.get("hi")
    if isinstance(field.default, int):
        lo, hi = (None if lo is None else int(lo)), (None if hi is None else int(hi))
        if m.get("slider") and lo is not None and hi is not None:
            return st.slider(label, lo, hi, key=key, help=help_text)
        return st.number_input(label, min_value=lo, max_value=hi, step=1, key=key, help=help_text)
    lo, hi = (None if lo is None else float(lo)), (None if hi is None else float(hi))
    if m.get("slider") and lo is not None and hi is not None:
        return st.slider(label, lo, hi, key=key, help=help_text, step=(hi - lo) / 100)
    fmt = "%.0e" if m.get("log") else None
    step = float(field.default) / 2 if m.get("log") else None
    return st.number_input(label, min_value=lo, max_value=hi, key=key, help=help_text, format=fmt, step=step)


def config_widgets(
    config: Any,
    family: str,
    groups: Sequence[str],
    *,
    choices: dict[str, Sequence] | None = None,
    labels: dict[str, Callable[[Any], str]] | None = None,
    hide: Sequence[str] = (),
) -> Any:
    """Render the fields of `config` whose group is in `groups` (in that order); return the new config.

    `choices` supplies options decided at run time (e.g. the density list with the user's uploads);
    `labels` formats options for display. Widget state is keyed `family.field`, initialised from
    `config`, so a page switch (which drops widget state) restores the user's last choice.
    """
    choices, labels = choices or {}, labels or {}
    values = {}
    fields = [f for f in dataclasses.fields(config) if f.name not in hide]
    for group in groups:
        for field in (f for f in fields if f.metadata.get("group") == group):
            key = f"{family}.{field.name}"
            options = choices.get(field.name, field.metadata.get("choices"))
            value = _widget(field, key, getattr(config, field.name), options, labels.get(field.name, str))
            values[field.name] = value if field.name in choices else clamp_value(field, value)
    return dataclasses.replace(config, **values)
