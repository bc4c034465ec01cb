"""The frame every training page shares: config in the sidebar, the session and its buttons, the
live header. A page adds only its own panels."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import fields, replace
from typing import Any

import streamlit as st

from explorer.configs import TrainingConfig, clamp
from explorer.data.densities import DENSITIES
from explorer.training.session import Snapshot, TrainingSession
from explorer.ui import controls, draw, live, share, state, widgets


def sidebar_config(
    family: str,
    key: str,
    default: TrainingConfig,
    groups: dict[str, str],
    expanded: Collection[str] = (),
    choices: Callable[[Any], dict] | None = None,
    labels: Callable[[Any], dict] | dict[str, Callable] | None = None,
    hide: Callable[[Any], Collection[str]] | None = None,
    view: Any = None,
) -> Any:
    """One sidebar expander per config group; returns the config (kept across page switches, and in
    the URL: `explorer.ui.share`). A group's widgets run only while it is open (`expanded` names the groups
    open at first; opening one reruns the page), so a page opens without building every widget.

    `choices(config)` adds options decided at run time and `labels` (a dict, or a function of the
    config) formats them; both see the groups rendered so far. Every density field offers the
    registered densities plus the user's uploads and drawings, with the *Draw your own data* button under it
    (`explorer.ui.draw`). `hide(config)` names fields not to show (e.g. the
    parameters of another loss); it sees the values the widgets hold in this run, so a field shown
    or hidden by a widget of its own group follows that widget at once. Hidden fields keep their values.
    `view` is the page's own widgets as a dataclass of defaults (see `share.seed`): the URL sets them too.
    """
    draw.before_density_widget(key)
    densities = list(DENSITIES) + list(state.custom_densities())
    config = state.stored_config(family, default)
    if view is not None:
        share.seed(key, view)
    if linked := share.restore(key, default, *([view] if view is not None else []), densities=densities):
        config = replace(config, **{k: v for k, v in linked.items() if k in {f.name for f in fields(default)}})
    share.notices(key)
    density_group = next((f.metadata.get("group") for f in fields(default) if f.name == "density"), None)
    with st.sidebar:
        for group, title in groups.items():
            options = {"density": densities, **(choices(config) if choices else {})}
            formats = labels(config) if callable(labels) else labels
            hidden = tuple(hide(with_widget_values(config, key))) if hide else ()
            box = st.expander(title, expanded=group in expanded, key=f"{key}.group.{group}", on_change="rerun")
            if not box.open:  # a closed group's widgets are not built (a page opens ~0.6 s sooner); its fields
                continue  # keep the config's values, and its widgets start from them when it is opened
            with box:
                config = widgets.config_widgets(config, key, [group], choices=options, labels=formats, hide=hidden)
                if group == density_group:
                    draw.draw_button(key)
                    draw.publish_link(config.density)
    state.store_config(family, config)
    share.publish((config, default))
    return config


def with_widget_values(config: TrainingConfig, key: str) -> Any:
    """`config` with each field replaced by the value its widget holds now (widgets not yet created keep
    the config's value), coerced into range."""
    values = {
        f.name: st.session_state[f"{key}.{f.name}"] for f in fields(config) if f"{key}.{f.name}" in st.session_state
    }
    return clamp(replace(config, **values))


def training_session(family: str, key: str, config: TrainingConfig) -> TrainingSession:
    """This user's session for `config`, with its notices and the Train / Pause / Step / Reset row."""
    session = state.training_session(family, config)
    controls.notices(session)
    controls.training_buttons(session, key)
    return session


def live_clouds(session: TrainingSession, snap: Snapshot, n: int) -> tuple:
    """(the snapshot's model samples, data samples) `[n, 2]` each for a live samples chart; the data drawn with the
    session's fixed sampling noise, so they stay put from one refresh to the next."""
    return snap.samples[:n], session.density.sample(n, session.sample_generator()).cpu().numpy()


def live_header(snap: Snapshot, key: str, extra: Callable[[Snapshot], dict[str, str]] | None = None) -> None:
    """Progress, readouts (with the view's own refresh rate, then `extra(snap)`), refreshed live; then the status
    message once training has stopped."""
    rate = live.refresh_rate(key + ".live")

    def header(s: Snapshot) -> str:
        return controls.header_html(s, {"view refresh / s": f"{rate():.1f}"} | (extra(s) if extra else {}))

    live.html(st, header)
    controls.status_message(snap)
