"""The retraining page's machinery: the runs kept in the session (the current one and earlier ones, drawn on the
same curves), the buttons, and the live panel that redraws while generations run in the background."""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.plotting import retrain as rplot
from explorer.plotting.charts import vega_spec
from explorer.training.retrain import LoopRunner, RetrainConfig, SelfConsumingLoop
from explorer.ui import chart, state
from explorer.views import retrain as views

KEPT_RUNS = 6  # earlier runs kept on the curves
FILM_DATA = 600  # target points under each frame of the filmstrip
REFRESH_S = 0.5


def _density(config: RetrainConfig):
    from explorer.data.densities import get_density

    return get_density(config.density, state.custom_densities())


def runner(key: str, config: RetrainConfig) -> LoopRunner:
    """This user's runner for `config`; a changed config starts a new run and keeps the old one on the curves."""
    current: LoopRunner | None = st.session_state.get(f"{key}.runner")
    if current is not None and current.loop.config == config:
        return current
    if current is not None:
        current.pause()
        if current.loop.generations:
            earlier = st.session_state.setdefault(f"{key}.earlier", [])
            earlier.append(current.loop)
            del earlier[:-KEPT_RUNS]
    fresh = LoopRunner(SelfConsumingLoop(config, _density(config)))
    st.session_state[f"{key}.runner"] = fresh
    return fresh


def buttons(key: str, run: LoopRunner) -> None:
    """Run, Pause, one generation, and clearing the earlier runs."""
    busy, done = run.running, run.loop.done
    cols = st.columns(4)
    cols[0].button(
        "Run",
        key=f"{key}.run",
        icon=":material/play_arrow:",
        type="primary",
        width="stretch",
        disabled=busy or done,
        on_click=run.start,
        help="Run the generations in the background.",
    )
    cols[1].button(
        "Pause",
        key=f"{key}.pause",
        icon=":material/pause:",
        width="stretch",
        disabled=not busy,
        on_click=run.pause,
        help="Stop after the generation in progress.",
    )
    cols[2].button(
        "One generation",
        key=f"{key}.one",
        icon=":material/skip_next:",
        width="stretch",
        disabled=busy or done,
        on_click=run.loop.step,
        help="Fit the next generation now.",
    )
    cols[3].button("Clear earlier runs", key=f"{key}.clear", icon=":material/delete_sweep:", width="stretch",
                   on_click=lambda: st.session_state.pop(f"{key}.earlier", None),
                   help="Keep only the current run on the curves.")  # fmt: skip


def _expected_trace(run: views.RunSeries, config: RetrainConfig):
    """E[tr S_g | S_0] = tr S_0 (1 - 1/n)^g for one Gaussian refitted on its own n samples only; else None."""
    single = config.model == "gmm" and config.components == 1 and config.fresh == 0 and not config.accumulate
    if not single or len(run.generation) == 0:
        return None
    generations = np.arange(config.generations)
    return generations, run.cov_trace[0] * (1 - 1 / config.n) ** generations


def live_panel(key: str, run: LoopRunner) -> None:
    """Progress, readouts, the filmstrip and the curves; refreshed while the generations run."""

    @st.fragment(run_every=REFRESH_S if run.running else None)
    def panel() -> None:
        run.touch()
        loop, config = run.loop, run.loop.config
        done = len(loop.generations)
        st.progress(done / config.generations, text=f"generation {done} / {config.generations}")
        if run.error:
            st.error(run.error, icon=":material/error:")
        series = views.run_series(loop)
        if done:
            last = loop.generations[-1]
            tiles = {
                "covariance trace": f"{last.cov_trace:.3g}",
                "seconds per generation": f"{series.seconds.mean():.2g}",
            }
            if last.logp_gap is not None:
                tiles |= {"log-density gap": f"{last.logp_gap:.3g}", "smallest mode": f"{last.min_mode_mass:.3f}"}
            for col, (label, value) in zip(st.columns(len(tiles)), tiles.items(), strict=True):
                col.metric(label, value)
        _filmstrip(key, loop)
        earlier = [views.run_series(old) for old in st.session_state.get(f"{key}.earlier", [])]
        runs = [*earlier, series] if done else earlier
        charts = [rplot.score_chart(runs, name) for name in ("logp_gap", "mode_tv", "min_mode_mass")]
        charts.append(rplot.score_chart(runs, "cov_trace", _expected_trace(series, config)))
        density = loop.target
        if getattr(density, "n_classes", 1) > 1 and hasattr(density, "weights"):
            names = tuple(getattr(density, "class_names", ()))
            charts.append(rplot.mode_mass_chart(series, names, float(density.weights.min())))
        shown = [c for c in charts if c is not None]
        for first in range(0, len(shown), 3):
            for col, spec in zip(st.columns(3), shown[first : first + 3], strict=False):
                col.vega_lite_chart(vega_spec(spec), width="stretch", theme=None)
        was = st.session_state.get(f"{key}.was_running", False)
        st.session_state[f"{key}.was_running"] = run.running
        if was and not run.running:
            st.rerun()  # the buttons and the timer follow the finished run

    panel()


def _filmstrip(key: str, loop: SelfConsumingLoop) -> None:
    picks = views.film_generations(len(loop.generations))
    if not picks:
        st.info("Press Run (or One generation): generation 0 fits n points of the target; each next one fits "
                "the previous generation's samples, mixed with real data as set.", icon=":material/info:")  # fmt: skip
        return
    data = loop.real.numpy()[:FILM_DATA]
    lim = float(np.clip(np.ceil(np.abs(data).max()) + 1.0, 4.0, 12.0))
    with chart.in_place(f"{key}.film"):
        for col, g in zip(st.columns(views.FILM_FRAMES), picks, strict=False):
            chart.plotly(col, rplot.film_figure(loop.generations[g].samples, data, g, lim))


def notebook_button(key: str, config: RetrainConfig) -> None:
    """The loop as a notebook (the Gaussian-mixture model: a family's own notebook is on its page)."""
    from explorer.notebook.retrain import notebook_bytes

    if config.model != "gmm":
        st.caption(
            f"Download as notebook: the loop is written out for the Gaussian mixture; the {config.model} page's own "
            "notebook trains one generation of it."
        )
        return
    st.download_button(
        "Download as notebook (.ipynb)",
        lambda: notebook_bytes(config, _density(config)),
        file_name=f"retrain-{config.density.replace(':', '')}.ipynb",
        mime="application/x-ipynb+json",
        key=f"{key}.notebook",
        icon=":material/code_blocks:",
        on_click="ignore",
        help="The loop in plain PyTorch, NumPy and matplotlib: EM, the generations, the covariance trace.",
    )
