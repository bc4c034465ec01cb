"""The Divergences page's widgets that keep their values, and its cached views.

Streamlit drops a widget's state when it is not drawn in a run: on a page switch, and here also when
its tab is closed (tabs render lazily). Each widget below keeps a plain copy of its value under
`key + "#kept"` and restores it, checked against the widget's range or options (a value out of range
is clamped, a non-number or unknown option falls back to the default), before the widget is drawn.
The views are pure functions of plain values, so `st.cache_data` can serve repeated settings at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from explorer.views import divergences as views
from explorer.views import earth_mover


def _kept_key(key: str) -> str:
    return f"{key}#kept"


def _restore(key: str, default: Any, check: Callable[[Any], Any]) -> None:
    """Put a valid value into the widget's state before it is drawn."""
    value = st.session_state.get(key, st.session_state.get(_kept_key(key), default))
    try:
        value = check(value)
    except (TypeError, ValueError):
        value = default
    st.session_state[key] = value


def _in_range(lo: float, hi: float) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        value = float(value)
        if math.isnan(value):
            raise ValueError("not a number")
        return min(max(value, lo), hi)

    return check


def _member(options: Sequence) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value not in options:
            raise ValueError("not an option")
        return value

    return check


def slider(label: str, lo: float, hi: float, default: float, key: str, step: float, **kwargs: Any) -> float:
    """A float slider over [lo, hi] whose value survives tab and page switches."""
    _restore(key, default, _in_range(lo, hi))
    value = st.slider(label, float(lo), float(hi), step=float(step), key=key, **kwargs)
    st.session_state[_kept_key(key)] = value
    return value


def select_slider(label: str, options: Sequence, default: Any, key: str, **kwargs: Any) -> Any:
    _restore(key, default, _member(options))
    value = st.select_slider(label, options=list(options), key=key, **kwargs)
    st.session_state[_kept_key(key)] = value
    return value


def selectbox(label: str, options: Sequence, default: Any, key: str, **kwargs: Any) -> Any:
    _restore(key, default, _member(options))
    value = st.selectbox(label, list(options), key=key, **kwargs)
    st.session_state[_kept_key(key)] = value
    return value


def value(key: str, default: Any) -> Any:
    """A widget's value, drawn in this run or kept from an earlier one (e.g. in a closed tab)."""
    return st.session_state.get(key, st.session_state.get(_kept_key(key), default))


def keep_tab(key: str, tabs: Sequence[str]) -> None:
    """Restore the open tab (a widget too) before `st.tabs` is drawn."""
    _restore(key, tabs[0], _member(tabs))


def remember_tab(key: str) -> None:
    st.session_state[_kept_key(key)] = st.session_state.get(key)


def set_values(values: dict[str, Any]) -> None:
    """Button callback: move widgets (by key) to new values before they are drawn."""
    for key, value in values.items():
        st.session_state[key] = value
        st.session_state[_kept_key(key)] = value


def metrics(values: dict[str, str], helps: dict[str, str] | None = None) -> None:
    """One st.metric per entry, side by side."""
    helps = helps or {}
    for col, (label, value) in zip(st.columns(len(values)), values.items(), strict=True):
        col.metric(label, value, help=helps.get(label))


# --- cached views (pure functions of plain values) ------------------------------------------------
@st.cache_data(max_entries=64, show_spinner=False)
def point_mass_view(theta: float, blur: float) -> views.PointMassView:
    return views.point_mass_view(theta, blur)


@st.cache_data(max_entries=32, show_spinner="Integrating the curves…")
def shift_curves(p_name: str, q_name: str, scale: float) -> views.ShiftCurves:
    return views.shift_curves(p_name, q_name, scale)


@st.cache_data(max_entries=128, show_spinner=False)
def shift_now(p_name: str, q_name: str, scale: float, theta: float) -> views.ShiftNow:
    return views.shift_now(p_name, q_name, scale, theta, shift_curves(p_name, q_name, scale).x)


@st.cache_data(max_entries=32, show_spinner=False)
def earth_mover_view(offset: float) -> earth_mover.EarthMoverView:
    return earth_mover.earth_mover_view(offset)


@st.cache_data(max_entries=64, show_spinner="Integrating on the grid…")
def discriminator_view(p_name: str, q_name: str, shift: tuple[float, float], scale: float) -> views.DiscriminatorView2D:
    return views.discriminator_view_2d(p_name, q_name, shift, scale, floor=pot_floor(p_name))


@st.cache_data(max_entries=16, show_spinner=False)
def pot_floor(p_name: str) -> float:
    return views.pot_floor_2d(p_name)
