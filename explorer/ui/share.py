"""Share links: a page's whole configuration lives in its URL's query string.

Each page declares its settings as dataclasses of `explorer.configs.param` fields (its training
config, plus a small view dataclass for page widgets such as the time slider), whose widgets are
keyed `{key}.{field}`. Two calls make the address bar a share link:

- `restore(key, *defaults)`, before the widgets: the first time a browser session runs the page,
  each query parameter is parsed, clamped into its field's range and put where the widget reads
  it. A value out of range or not understood, and a parameter the page does not know, leaves a
  notice that `notices(key)` shows; nothing raises.
- `publish(key, *pairs)`, after the widgets: writes every setting that differs from its default
  (`?loss=minimax&n_critic=1`), and removes those back at their default, so the URL stays short.

Only the first run applies the URL: from then on the widgets are the truth and the URL follows
them (opening the link elsewhere starts a new browser session, which applies it).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Collection
from typing import Any

import streamlit as st

from explorer.configs import clamp_value

RESERVED = ("embed", "embed_options")  # Streamlit's own query parameters
ANY_PAGE = ("drawing",)  # read by explorer.ui.draw on every page that chooses a density


def _parse(field: dataclasses.Field, raw: str, names: Collection[str]) -> tuple[Any, str]:
    """(value, notice) for query string `raw`; value None when it is ignored."""
    default, m = field.default, field.metadata
    label = m.get("label", field.name)
    if field.name == "density":
        if raw in names:
            return raw, ""
        return None, f"Density `{raw}` is not available here (uploaded data does not travel in a link): ignored."
    choices = m.get("choices")
    if choices is not None:
        for choice in choices:
            if str(choice) == raw or (isinstance(choice, int | float) and _same_number(raw, choice)):
                return choice, ""
        return None, f"{label}: `{raw}` is not one of {', '.join(map(str, choices))}: ignored."
    if isinstance(default, bool):
        if raw.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return raw.lower() in ("1", "true", "yes", "on"), ""
        return None, f"{label}: `{raw}` is not true or false: ignored."
    if isinstance(default, int | float):
        try:
            number = float(raw)
        except ValueError:
            return None, f"{label}: `{raw}` is not a number: ignored."
        if not math.isfinite(number):
            return None, f"{label}: `{raw}` is not a finite number: ignored."
        value = clamp_value(field, number)
        if value != number:
            return value, f"{label}: `{raw}` is outside the allowed range; using {value:g}."
        return value, ""
    return str(raw), ""


def _same_number(raw: str, number: float) -> bool:
    try:
        return float(raw) == number
    except ValueError:
        return False


def restore(key: str, *defaults: Any, densities: Collection[str] = ()) -> dict[str, Any]:
    """Apply the URL's query parameters to the widgets of `defaults`' fields (first run only).

    Returns the accepted values by field name (empty after the first run), so a caller can also
    update settings whose widgets are hidden. `densities` lists the names a density field accepts.
    """
    marker = f"share:{key}:restored"
    if st.session_state.get(marker):
        return {}
    st.session_state[marker] = True
    fields = {f.name: f for d in defaults for f in dataclasses.fields(d)}
    values, notes = {}, []
    for name, raw in st.query_params.to_dict().items():
        if name in RESERVED or name in ANY_PAGE:
            continue
        if name not in fields:
            notes.append(f"`{name}` is not a setting of this page: ignored.")
            del st.query_params[name]
            continue
        value, note = _parse(fields[name], str(raw), densities)
        if note:
            notes.append(note)
        if value is not None:
            values[name] = value
            st.session_state[f"{key}.{name}"] = value
    st.session_state[f"share:{key}:notes"] = notes
    return values


def page_state(key: str, view: Any, densities: Collection[str] = ()) -> None:
    """For a page without a training config: seed its widgets, apply the URL, show what was adjusted."""
    seed(key, view)
    restore(key, view, densities=densities)
    notices(key)


def notices(key: str) -> None:
    """What the link asked for that could not be applied as given (shown once, on opening it)."""
    notes = st.session_state.pop(f"share:{key}:notes", None)
    if notes:
        lines = "\n".join(f"- {n}" for n in notes)
        st.warning(f"This link's settings were adjusted:\n\n{lines}", icon=":material/link:")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def query(*pairs: tuple[Any, Any]) -> dict[str, str]:
    """The query parameters of (values, defaults) dataclass pairs: the fields that differ from the default."""
    params = {}
    for values, defaults in pairs:
        for f in dataclasses.fields(values):
            value = getattr(values, f.name)
            if value != getattr(defaults, f.name):
                params[f.name] = _text(value)
    return params


def seed(key: str, defaults: Any) -> None:
    """Give each page widget of view dataclass `defaults` its default value where it has none yet, so
    the widget is created without `value=` (a value from the URL then never conflicts with one)."""
    for f in dataclasses.fields(defaults):
        st.session_state.setdefault(f"{key}.{f.name}", getattr(defaults, f.name))


def publish_view(key: str, defaults: Any) -> None:
    """`publish` for page widgets keyed `{key}.{field}`, read from the session state (call it where
    they render, e.g. inside the live fragment, so their changes reach the URL at once)."""
    values = {
        f.name: st.session_state.get(f"{key}.{f.name}", getattr(defaults, f.name)) for f in dataclasses.fields(defaults)
    }
    publish((dataclasses.replace(defaults, **values), defaults))


def publish(*pairs: tuple[Any, Any]) -> None:
    """Write (values, defaults) pairs into the URL: changed fields set, fields back at default removed."""
    wanted = query(*pairs)
    current = st.query_params.to_dict()
    for values, _ in pairs:
        for f in dataclasses.fields(values):
            if f.name in wanted and current.get(f.name) != wanted[f.name]:
                st.query_params[f.name] = wanted[f.name]
            elif f.name not in wanted and f.name in current:
                del st.query_params[f.name]
