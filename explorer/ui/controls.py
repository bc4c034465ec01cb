"""Train / Pause / Step / Reset, the status line, and the device notice: the same on every training page."""

from __future__ import annotations

import html
from collections.abc import Callable

import streamlit as st

from explorer.training.session import DIVERGED, FINISHED, RUNNING, Snapshot, TrainingSession
from explorer.ui import live

STATUS_TEXT = {
    "ready": "Ready: press Train.",
    "running": "Training…",
    "paused": "Paused.",
    "finished": "Finished.",
    "diverged": "Diverged: paused.",
}


def training_buttons(session: TrainingSession, key: str) -> None:
    """The four buttons, in a fragment with the live panel `key`.live's start signal (`live.start_signal`): pressing
    Train reruns the buttons only, and the live panel starts fetching; the others rerun the page. Each acts in a
    callback, so the rerun it triggers already sees the new state."""

    @st.fragment(key=f"{key}.buttons")
    def row() -> None:
        if st.session_state.pop(f"{key}.rerun_page", False):
            st.rerun()
        for col, (label, icon, action, disabled, help_text) in zip(st.columns(4), _buttons(session), strict=True):
            col.button(
                label,
                key=f"{key}.{label.lower()}",
                icon=icon,
                on_click=_press,
                args=(action, f"{key}.rerun_page" if label != "Train" else ""),
                disabled=disabled,
                type="primary" if label == "Train" else "secondary",
                width="stretch",
                help=help_text,
            )
        live.start_signal(session, f"{key}.live")

    row()


def _buttons(session: TrainingSession) -> list[tuple]:
    """(label, icon, action, disabled, help) of each button in the session's state now."""
    status = session.status
    return [
        ("Train", ":material/play_arrow:", session.start, status == RUNNING, "Train continuously; plots update live."),
        ("Pause", ":material/pause:", session.pause, status != RUNNING, "Stop after the current chunk of steps."),
        ("Step", ":material/skip_next:", session.step, status in (RUNNING, FINISHED), "One optimisation step."),
        ("Reset", ":material/restart_alt:", session.reset, False, "Fresh weights from the seed; settings are kept."),
    ]


def _press(action: Callable[[], object], rerun_page: str) -> None:
    """A button's callback: `action()`, and a note to rerun the whole page (the session key `rerun_page`, if any)."""
    action()
    if rerun_page:
        st.session_state[rerun_page] = True


PART_BUTTONS = (
    ("d", "Step D", "One discriminator update alone: watch the surface move, not the samples."),
    ("g", "Step G", "One generator update alone: the samples move along their arrows."),
)


def step_part_buttons(session: TrainingSession, key: str) -> None:
    """Single updates of one player of a two-player method, for step-by-step teaching (only a G update counts as a
    step); disabled while training runs."""
    for col, (part, label, help_text) in zip(st.columns(2), PART_BUTTONS, strict=True):
        col.button(
            label,
            key=f"{key}.step_{part}",
            disabled=session.status == RUNNING,
            width="stretch",
            on_click=session.step_part,
            args=(part,),
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


def status_label(snap: Snapshot) -> str:
    """The status line's words: "Training…  step 1,200 / 8,000"."""
    return f"{STATUS_TEXT.get(snap.status, snap.status)}  step {snap.step:,} / {snap.total_steps:,}"


def status_message(snap: Snapshot) -> None:
    """The session's message after it diverged or finished; else an empty element in its place, so that the elements
    after it keep their places when it appears (a live chart that moved would be redrawn from scratch, and blink)."""
    if snap.status == DIVERGED:
        st.error(snap.message, icon=":material/error:")
    elif snap.status == FINISHED and snap.message:
        st.success(snap.message, icon=":material/check_circle:")
    else:
        st.empty()


def readout_tiles(snap: Snapshot, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Steps/s, loss, learning rate and the latest quality figures, then `extra`: {label: value}."""
    tiles = {
        "steps / s": f"{snap.steps_per_s:,.0f}" if snap.status == RUNNING else "–",
        "loss": f"{snap.loss[-1]:.4g}" if len(snap.loss) else "–",
        "learning rate": f"{snap.lr:.2g}",
    }
    for key, series in snap.quality.items():
        if len(series):
            tiles[snap.quality_names[key]] = f"{series[-1]:.3g}"
    return tiles | (extra or {})


def readouts_html(tiles: dict[str, str]) -> str:
    """The tiles as big numbers, in ONE element (every element is a message to the browser); styled by READOUT_CSS,
    which `progress_html` carries."""
    cells = "".join(
        f'<div class="readout"><div class="label">{html.escape(label)}</div>'
        f'<div class="value">{html.escape(value)}</div></div>'
        for label, value in tiles.items()
    )
    return f'<div class="readouts">{cells}</div>'


def progress_html(snap: Snapshot) -> str:
    """The status line over a progress bar, as HTML (with the styles of it and of the readouts)."""
    label = html.escape(status_label(snap))
    bar = f'<div class="explorer-progress"><div style="width: {100 * snap.progress:.1f}%"></div></div>'
    return f'<div class="explorer-status">{label}</div>{bar}{READOUT_CSS}'


def header_html(snap: Snapshot, extra: dict[str, str] | None = None) -> str:
    """A live panel's header as HTML: the status line over a progress bar, then the readouts."""
    return progress_html(snap) + readouts_html(readout_tiles(snap, extra))


READOUT_CSS = """<style>
.explorer-status {font-size: 0.875rem; margin-bottom: 0.25rem; white-space: pre;}
.explorer-progress {height: 0.5rem; border-radius: 0.25rem; background: var(--st-secondary-background-color, #f0f2f6);}
.explorer-progress > div {height: 100%; border-radius: 0.25rem; background: var(--st-primary-color, #ff4b4b);}
.readouts {display: flex; flex-wrap: wrap; gap: 0.5rem 2rem; margin: 0.25rem 0 0.5rem 0;}
.readouts .label {font-size: 0.85rem; opacity: 0.7;}
.readouts .value {font-size: 1.9rem; line-height: 1.2; font-variant-numeric: tabular-nums;}
</style>"""


CURVES_PER_ROW = 3  # a Gaussian mixture's loss and four quality curves in one row left each about 250 px wide


CURVES_EVERY_S = 1.0  # the curves' refresh while training: they change slowly, and each is a chart to redraw

Charts = Callable[[Snapshot], list]  # Altair charts or Vega-Lite dicts (None: an empty cell) from a snapshot


def curves(snap: Snapshot, before: Charts | None = None, after: Charts | None = None) -> None:
    """The quality curves (each with its perfect-sampler line) side by side, after the charts `before(snap)`
    (default: the loss curve, whose cell is kept empty until the first loss) and before `after(snap)`; in a live
    panel, refreshed once a second while training runs."""
    from explorer.plotting.charts import loss_chart, quality_chart, vega_spec

    def charts(s: Snapshot) -> list:
        first = before(s) if before else [loss_chart(s.loss_steps, s.loss) if len(s.loss) else None]
        quality = [
            quality_chart(s.quality_steps, s.quality[key], s.quality_perfect_at[key], s.quality_names[key])
            for key in s.quality
        ]
        return [vega_spec(c) if c is not None else None for c in (*first, *quality, *(after(s) if after else []))]

    live.vega_grid(st, charts, per_row=CURVES_PER_ROW, every=CURVES_EVERY_S)
