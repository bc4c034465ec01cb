"""Upload a CSV of 2D points as a density of one's own (per user, in st.session_state).

`csv_upload()` draws the uploader, validates a new file with `explorer.data.userdata.parse_points_csv`,
stores the result in `state.custom_densities()` (the training pages offer those names in their
density selectors) and lists the user's uploads with a Remove button each. A refused file shows
the reason with st.error, never a traceback, and earlier uploads are kept.
"""

from __future__ import annotations

import re

import streamlit as st

from explorer.data.densities import Density
from explorer.data.userdata import MAX_BYTES, MAX_ROWS, MIN_POINTS, UserDataError, example_csv, parse_points_csv
from explorer.ui import state

MAX_UPLOADS = 8  # per user: each keeps up to 50,000 points in the session


def _escape(text: str) -> str:
    """Text shown literally in Markdown (user-controlled cell contents and filenames)."""
    return re.sub(r"([\\`*_\[\]<>$~|#])", r"\\\1", text)


def _ingest(data: bytes, filename: str, custom: dict[str, Density]) -> tuple[str, str, str | None]:
    """(kind, message, added name or None) for one uploaded file; adds it to `custom` on success."""
    try:
        density = parse_points_csv(data, filename, taken=custom.keys())
    except UserDataError as err:
        return "error", f"**{_escape(filename)}** was not loaded. {_escape(str(err))}", None
    except Exception as err:  # noqa: BLE001 - a bug must not become a traceback on the page
        return "error", f"**{_escape(filename)}** could not be read (unexpected {type(err).__name__}).", None
    custom[density.name] = density
    message = (
        f"Loaded **{_escape(density.name)}**: {_escape(density.note)} It is now selectable here and in the "
        "density selectors of the training pages."
    )
    return "success", message, density.name


def _remove(name: str) -> None:
    state.custom_densities().pop(name, None)


def csv_upload(key: str = "uploads") -> str | None:
    """The upload section; returns the name of a density added during this run, else None."""
    custom = state.custom_densities()
    st.markdown(
        f"A CSV or text file with **two numeric columns, x and y** (an optional header row such as `x,y`; "
        f"comma, semicolon, tab or space separated), {MIN_POINTS} to {MAX_ROWS:,} points, at most "
        f"{MAX_BYTES // 2**20} MB. Points that do not fit the [-6, 6]² view are rescaled to about [-4, 4]²."
    )
    upload = st.file_uploader("Upload your own points", type=["csv", "txt"], key=f"{key}.file")
    st.download_button(
        "Download an example CSV",
        example_csv(),
        "heart.csv",
        "text/csv",
        key=f"{key}.example",
        on_click="ignore",
        icon=":material/download:",
    )
    added = None
    last_key = f"{key}.last"
    if upload is not None:
        last = st.session_state.get(last_key)
        if last is None or last[0] != upload.file_id:
            if len(custom) >= MAX_UPLOADS:
                st.error(f"You already have {MAX_UPLOADS} uploaded densities: remove one below first.")
            else:
                kind, message, added = _ingest(upload.getvalue(), upload.name, custom)
                last = (upload.file_id, kind, message, added)
                st.session_state[last_key] = last
        if last is not None and last[0] == upload.file_id:
            _, kind, message, name = last
            if kind == "error":
                st.error(message, icon=":material/error:")
            elif name in custom:
                st.success(message, icon=":material/check_circle:")
    if custom:
        st.markdown("**Your uploads and drawings** (kept while this browser tab is open)")
        for name, density in list(custom.items()):
            text, button = st.columns([5, 1], vertical_alignment="center")
            text.markdown(f"`{name}`: {_escape(getattr(density, 'note', density.title))}")
            button.button("Remove", key=f"{key}.remove.{name}", on_click=_remove, args=(name,), width="stretch")
    return added
