"""The frame every training page shares: config in the sidebar, the session and its buttons, the
live header. A page adds only its own panels."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import streamlit as st

from explorer.configs import TrainingConfig
from explorer.densities import DENSITIES
from explorer.session import Snapshot, TrainingSession
from explorer.ui import controls, live, state, widgets


def sidebar_config(
    family: str,
    key: str,
    default: TrainingConfig,
    groups: dict[str, str],
    expanded: Collection[str] = (),
    choices: Callable[[Any], dict] | None = None,
    labels: Callable[[Any], dict] | dict[str, Callable] | None = None,
) -> Any:
    """One sidebar expander per config group; returns the config (kept across page switches).

    `choices(config)` adds options decided at run time and `labels` (a dict, or a function of the
    config) formats them; both see the groups rendered so far. Every density field offers the
    registered densities plus the user's uploads.
    """
    densities = list(DENSITIES) + list(state.custom_densities())
    config = state.stored_config(family, default)
    with st.sidebar:
        for group, title in groups.items():
            options = {"density": densities, **(choices(config) if choices else {})}
            formats = labels(config) if callable(labels) else labels
            with st.expander(title, expanded=group in expanded):
                config = widgets.config_widgets(config, key, [group], choices=options, labels=formats)
    state.store_config(family, config)
    return config


def training_session(family: str, key: str, config: TrainingConfig) -> TrainingSession:
    """This user's session for `config`, with its notices and the Train / Pause / Step / Reset row."""
    session = state.training_session(family, config)
    controls.notices(session)
    controls.training_buttons(session, key)
    return session


def live_header(snap: Snapshot, key: str) -> None:
    """Progress, status message and readouts (with the view's own refresh rate)."""
    controls.status_line(snap)
    controls.readouts(snap, {"view refresh / s": f"{live.refresh_rate(key + '.live'):.1f}"})


def plot_config(snap: Snapshot) -> dict:
    """While training, static plots (no hover layers or modebar) redraw far cheaper in the browser."""
    return {"staticPlot": snap.status == "running"}
