"""Train / Pause / Step / Reset, the status line, and the device notice: the same on every training page."""

from __future__ import annotations

import html

import streamlit as st

from explorer.training.session import DIVERGED, FINISHED, RUNNING, Snapshot, TrainingSession

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
        st.warning(choice.reason, icon=":material/warning:")
    if session.notice:
        st.info(session.notice, icon=":material/info:")
        session.notice = ""


def status_line(snap: Snapshot) -> None:
    """Progress bar with step counter, and the session's message when there is one."""
    label = f"{STATUS_TEXT.get(snap.status, snap.status)}  step {snap.step:,} / {snap.total_steps:,}"
    st.progress(snap.progress, text=label)
    if snap.status == DIVERGED:
        st.error(snap.message, icon=":material/error:")
    elif snap.status == FINISHED and snap.message:
        st.success(snap.message, icon=":material/check_circle:")


def readouts(snap: Snapshot, extra: dict[str, str] | None = None) -> None:
    """Steps/s, loss, learning rate and the latest quality figures as big numbers, in ONE element:
    a live view redraws them four times a second, and every element is a message to the browser."""
    tiles = {
        "steps / s": f"{snap.steps_per_s:,.0f}" if snap.status == RUNNING else "–",
        "loss": f"{snap.loss[-1]:.4g}" if len(snap.loss) else "–",
        "learning rate": f"{snap.lr:.2g}",
    }
    for key, series in snap.quality.items():
        if len(series):
            tiles[snap.quality_names[key]] = f"{series[-1]:.3g}"
    tiles.update(extra or {})
    cells = "".join(
        f'<div class="readout"><div class="label">{html.escape(label)}</div>'
        f'<div class="value">{html.escape(value)}</div></div>'
        for label, value in tiles.items()
    )
    st.markdown(f'<div class="readouts">{cells}</div>{READOUT_CSS}', unsafe_allow_html=True)


READOUT_CSS = """<style>
.readouts {display: flex; flex-wrap: wrap; gap: 0.5rem 2rem; margin: 0.25rem 0 0.5rem 0;}
.readouts .label {font-size: 0.85rem; opacity: 0.7;}
.readouts .value {font-size: 1.9rem; line-height: 1.2; font-variant-numeric: tabular-nums;}
</style>"""


CURVES_PER_ROW = 3  # a Gaussian mixture's loss and four quality curves in one row left each about 250 px wide


def curves(snap: Snapshot, before: list | None = None, after: list = ()) -> None:
    """The quality curves (each with its perfect-sampler line) side by side, after the charts in `before`
    (default: the loss curve, whose column is kept empty until the first loss) and before those in `after`.
    Charts are Altair charts or Vega-Lite dicts; `None` keeps a column empty."""
    from explorer.plotting.charts import loss_chart, quality_chart, vega_spec

    if before is None:
        before = [loss_chart(snap.loss_steps, snap.loss) if len(snap.loss) else None]
    quality = [
        quality_chart(
            snap.quality_steps,
            snap.quality[key],
            snap.quality_perfect_at[key],
            snap.quality_names[key],
        )
        for key in snap.quality
    ]
    charts = [*before, *quality, *after]
    per_row = min(CURVES_PER_ROW, max(1, len(charts)))
    for first in range(0, len(charts), per_row):
        for col, chart in zip(st.columns(per_row), charts[first : first + per_row], strict=False):
            if chart is not None:
                col.vega_lite_chart(vega_spec(chart), width="stretch", theme=None)
