"""Per-user state in st.session_state (never module globals: those are shared by every user)."""

from __future__ import annotations

import streamlit as st

from explorer.configs import TrainingConfig
from explorer.data.densities import Density, get_density
from explorer.training.session import TrainingSession

CUSTOM_KEY = "custom_densities"


def custom_densities() -> dict[str, Density]:
    """This user's uploaded densities, by name (shared by every page of their browser session)."""
    return st.session_state.setdefault(CUSTOM_KEY, {})


def class_names(density: str) -> tuple[str, ...]:
    """The class names of a built-in or this user's density (empty when it has no classes)."""
    return get_density(density, custom_densities()).class_names


def stored_config(family: str, default: TrainingConfig) -> TrainingConfig:
    """The config this user last chose on a family's page (survives page switches)."""
    return st.session_state.setdefault(f"config:{family}", default)


def store_config(family: str, config: TrainingConfig) -> None:
    st.session_state[f"config:{family}"] = config


def training_session(family: str, config: TrainingConfig) -> TrainingSession:
    """This user's session for `family`, created on first use and updated to `config`.

    A change to a live field (learning rate, sampler) applies in place; any other change
    rebuilds the model and leaves a notice in `session.notice` for the page to show.
    """
    key = f"session:{family}"
    session: TrainingSession | None = st.session_state.get(key)
    if session is None:
        session = TrainingSession(family, config, custom_densities())
        st.session_state[key] = session
    else:
        session.custom_densities = custom_densities()
        session.update(config)
    return session
