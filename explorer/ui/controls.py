"""Train / Pause / Step / Reset, the status line, and the device notice: the same on every training page."""

from __future__ import annotations

import streamlit as st

from explorer.session import DIVERGED, FINISHED, RUNNING, Snapshot, TrainingSession

STATUS_TEXT = {
    "ready": "Ready: press Train.",
    "running": "Training…",
    "paused": "Paused.",
    "finished": "Finished.",
    "diverged": "Diverged: paused.",
}


def training_buttons(session: TrainingSession, key: str) -> None:
    """The four buttons; each acts in a callback, so the rerun it triggers already sees the new state."""
    status = session.status
    buttons = [
        ("Train", ":material/play_arrow:", session.start, status == RUNNING, "Train continuously; plots update live."),
        ("Pause", ":material/pause:", session.pause, status != RUNNING, "Stop after the current chunk of steps."),
        ("Step", ":material/skip_next:", session.step, status in (RUNNING, FINISHED), "One optimisation step."),
        ("Reset", ":material/restart_alt:", session.reset, False, "Fresh weights from the seed; settings are kept."),
    ]
    for col, (label, icon, action, disabled, help_text) in zip(st.columns(4), buttons, strict=True):
        col.button(
            label,
            key=f"{key}.{label.lower()}",
            icon=icon,
            on_click=action,
            disabled=disabled,
            type="primary" if label == "Train" else "secondary",
            width="stretch",
            help=help_text,
        )


def notices(session: TrainingSession) -> None:
    """Device fallback and reset notices (shown once per change)."""
    choice = session.device_choice
    if choice.fell_back:
        st.warning(choice.reason, icon="⚠️")
    if session.notice:
        st.info(session.notice, icon="ℹ️")
        session.notice = ""


def status_line(snap: Snapshot) -> None:
    """Progress bar with step counter, and the session's message when there is one."""
    label = f"{STATUS_TEXT.get(snap.status, snap.status)}  step {snap.step:,} / {snap.total_steps:,}"
    st.progress(snap.progress, text=label)
    if snap.status == DIVERGED:
        st.error(snap.message, icon="🛑")
    elif snap.status == FINISHED and snap.message:
        st.success(snap.message, icon="✅")


def readouts(snap: Snapshot, extra: dict[str, str] | None = None) -> None:
    """Steps/s, loss, learning rate and the latest quality figures as st.metric tiles."""
    tiles = {
        "steps / s": f"{snap.steps_per_s:,.0f}" if snap.status == RUNNING else "–",
        "loss": f"{snap.loss[-1]:.4g}" if len(snap.loss) else "–",
        "learning rate": f"{snap.lr:.2g}",
    }
    for key, series in snap.quality.items():
        if len(series):
            tiles[snap.quality_names[key]] = f"{series[-1]:.3g}"
    tiles.update(extra or {})
    for col, (label, value) in zip(st.columns(len(tiles)), tiles.items(), strict=True):
        col.metric(label, value)
