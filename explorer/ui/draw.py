"""Draw your own data: a canvas in a dialog, opened wherever a density is chosen.

`draw_button(key)` opens the dialog: spray or erase with a brush (radius, points per dab), an optional
class label per stroke, Undo, Clear, the drawing as CSV, and *Use this drawing*, which makes it a user
density through the same validation and registry as an uploaded CSV (`explorer.data.drawing`) and
selects it in the widget `{key}.density`. The strokes are kept per browser session, so closing the
dialog loses nothing. Around the density widget of a page: `before_density_widget(key)` first (applies a
chosen drawing, and the drawing a share link carries), `publish_link(density)` after: a drawing of at
most 300 points travels in the URL's `drawing` parameter; a larger one says that it does not.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.data.drawing import (
    CANVAS_LIM,
    DRAWN_PREFIX,
    LINK_MAX_POINTS,
    Stroke,
    decode_link,
    drawn_density,
    encode_link,
    replay,
    to_csv,
)
from explorer.data.userdata import UserDataError
from explorer.plotting.drawing import canvas_figure
from explorer.ui import chart, state

STROKES = "drawing.strokes"  # the strokes of this browser session's drawing
PENDING = "drawing.use"  # (page key, density name) chosen in the dialog, applied before that page's widgets
LINK_PARAM = "drawing"
LABELS = 4  # class labels a stroke can carry
TOOLS = {"spray": ":material/brush: Spray", "erase": ":material/ink_eraser: Erase"}


def _strokes() -> list[Stroke]:
    return st.session_state.setdefault(STROKES, [])


def _undo() -> None:
    if _strokes():
        _strokes().pop()


def _clear() -> None:
    _strokes().clear()


def add_stroke(stroke: dict | None, label: int, radius: float) -> bool:
    """Append the canvas's stroke ({tool, points, id}) once; True when one was added."""
    if not stroke or stroke.get("id") == st.session_state.get("drawing.last_id"):
        return False
    st.session_state["drawing.last_id"] = stroke.get("id")
    points = np.asarray(stroke.get("points") or [], np.float32).reshape(-1, 2)
    if not len(points) or not np.isfinite(points).all():
        return False
    kind = "erase" if stroke.get("tool") == "erase" else "spray"
    _strokes().append(Stroke(kind, points, label, radius))
    return True


def use_drawing(key: str, name: str) -> str | None:
    """Register the drawing as a density for page `key`; the error message when it is refused, else None."""
    points, labels = replay(_strokes())
    custom = state.custom_densities()
    try:
        density = drawn_density(points, labels, name.strip() or "my drawing", taken=custom.keys())
    except UserDataError as err:
        return f"This drawing cannot be used yet: {err}"
    custom[density.name] = density
    st.session_state[PENDING] = (key, density.name)
    return None


@st.dialog("Draw your own data", width="large")
def _dialog(key: str) -> None:
    tool_col, radius_col, count_col, label_col = st.columns([2, 2, 2, 2], vertical_alignment="bottom")
    tool = tool_col.segmented_control(
        "Tool", list(TOOLS), format_func=TOOLS.get, default="spray", key="drawing.tool", required=True
    )
    radius = radius_col.slider("Brush radius", 0.1, 2.0, 0.4, 0.1, key="drawing.radius")
    count = count_col.slider(
        "Points per dab", 1, 40, 6, key="drawing.count", disabled=tool == "erase", help="How densely the brush sprays."
    )
    label = label_col.selectbox(
        "Class of new strokes",
        range(LABELS),
        format_func=lambda k: f"class {k}",
        key="drawing.label",
        help="For the conditional GAN and classifier-free guidance: strokes of two or more classes.",
    )
    points, labels = replay(_strokes())
    figure = canvas_figure(points, labels, tool == "erase", LABELS if len(set(labels.tolist())) > 1 else 1, CANVAS_LIM)
    brush = {"tool": tool, "radius": radius, "count": count}
    if add_stroke(chart.canvas(st, figure, brush, key="drawing.canvas"), label, radius):
        st.rerun(scope="fragment")
    row = st.container(horizontal=True, vertical_alignment="center")
    row.button("Undo", icon=":material/undo:", on_click=_undo, disabled=not _strokes(), key="drawing.undo")
    row.button("Clear", icon=":material/delete:", on_click=_clear, disabled=not _strokes(), key="drawing.clear")
    classes = len(set(labels.tolist()))
    row.caption(
        f"{len(points):,} points" + (f" in {classes} classes" if classes > 1 else "") + ". Press and drag on the "
        "plane to spray points; a click sprays one dab."
    )
    name_col, use_col, csv_col = st.columns([3, 2, 2], vertical_alignment="bottom")
    name = name_col.text_input("Name", "my drawing", key="drawing.name", max_chars=40)
    if use_col.button("Use this drawing", type="primary", icon=":material/check:", key="drawing.use_button"):
        if (error := use_drawing(key, name)) is None:
            st.rerun()
        st.error(error, icon=":material/error:")
    csv_col.download_button(
        "Download CSV",
        to_csv(points, labels),
        "drawing.csv",
        "text/csv",
        icon=":material/download:",
        on_click="ignore",
        disabled=not len(points),
        key="drawing.csv",
    )


def draw_button(key: str) -> None:
    """The button that opens the drawing dialog for the density widget `{key}.density`."""
    if st.button("Draw your own data", icon=":material/draw:", key=f"{key}.draw", width="stretch"):
        _dialog(key)


def before_density_widget(key: str) -> None:
    """Before `{key}.density` is drawn: select a drawing just chosen for this page, and on a browser
    session's first run register the drawing its share link carries (a message if it is damaged)."""
    pending = st.session_state.get(PENDING)
    if pending and pending[0] == key:
        del st.session_state[PENDING]
        st.session_state[f"{key}.density"] = pending[1]
    if st.session_state.get("drawing.link_read"):
        return
    st.session_state["drawing.link_read"] = True
    text, name = st.query_params.get(LINK_PARAM), st.query_params.get("density", "")
    if not text:
        return
    try:
        points, labels = decode_link(text)
        label = name[len(DRAWN_PREFIX) :] if name.startswith(DRAWN_PREFIX) else "shared drawing"
        density = drawn_density(points, labels, label, taken=state.custom_densities().keys())
    except UserDataError as err:
        st.warning(str(err), icon=":material/link_off:")
        return
    state.custom_densities()[density.name] = density
    _strokes()[:] = [Stroke("spray", points[labels == k], int(k)) for k in sorted(set(labels.tolist()))]


def publish_link(density_name: str, where=st) -> None:
    """The URL's `drawing` parameter follows the chosen density: set for a small drawing, else removed."""
    density = state.custom_densities().get(density_name)
    drawn = density is not None and density_name.startswith(DRAWN_PREFIX)
    text = encode_link(density.points.numpy(), density.labels.numpy()) if drawn else None
    if text is None:
        st.query_params.pop(LINK_PARAM, None)
        if drawn:
            where.caption(
                f"This drawing has {len(density.points):,} points: a share link carries at most {LINK_MAX_POINTS}, "
                "so it does not travel in this page's link (download it as CSV)."
            )
    elif st.query_params.get(LINK_PARAM) != text:
        st.query_params[LINK_PARAM] = text
