"""Compare models: every family trained on one density with equal wall-clock budgets, side by side."""

import dataclasses

import streamlit as st

from explorer.data.densities import DENSITIES, get_density
from explorer.methods import FAMILIES
from explorer.plotting import compare as cplot
from explorer.training.compare import RUNNING, CompareConfig, Comparison, family_title, parse_families
from explorer.ui import chart, draw, share, state, widgets
from explorer.views import compare as views

KEY, RUN, STORED, SHOWN = "cmp", "compare:run", "config:compare", "cmp.shown"
REFRESH_S = 0.5
PLOT_POINTS = 600

st.title("Compare models")
st.caption(
    "Every family trains its page's default model on the same density for the same wall-clock time, one after "
    "the other so each has the machine to itself. Then: samples side by side, quality against the truth, and "
    "what drawing a sample costs. Which model should you use for what?"
)

draw.before_density_widget(KEY)
custom = state.custom_densities()
names = list(DENSITIES) + list(custom)
titles = {name: get_density(name, custom).title for name in names}
stored: CompareConfig = st.session_state.setdefault(STORED, CompareConfig())
for field in dataclasses.fields(stored):  # widgets not drawn on another page lose their state: restore it
    st.session_state.setdefault(f"{KEY}.{field.name}", getattr(stored, field.name))
share.page_state(KEY, CompareConfig(), densities=names)
if st.session_state[f"{KEY}.density"] not in names:
    st.warning(f"Density `{st.session_state[f'{KEY}.density']}` is not available here: using Eight Gaussians.")
    st.session_state[f"{KEY}.density"] = CompareConfig().density
if f"{KEY}.pick" not in st.session_state:  # the families widget is a list; the URL holds "a,b,c"
    picked, unknown = parse_families(st.session_state[f"{KEY}.families"])
    if unknown:
        st.warning(f"Unknown families in the link, ignored: {', '.join(f'`{n}`' for n in unknown)}.")
    st.session_state[f"{KEY}.pick"] = picked

with st.sidebar:
    st.subheader("Comparison")
    picked = st.multiselect("Families", list(FAMILIES), key=f"{KEY}.pick", format_func=family_title)
    config = widgets.config_widgets(
        stored, KEY, ["model"], choices={"density": names}, labels={"density": titles.get}, hide=("families",)
    )
    draw.draw_button(KEY)
    draw.publish_link(config.density)
st.session_state[f"{KEY}.families"] = ",".join(picked)
config = dataclasses.replace(config, families=",".join(picked))
st.session_state[STORED] = config
share.publish_view(KEY, CompareConfig())

run: Comparison | None = st.session_state.get(RUN)


def start() -> None:
    if (old := st.session_state.get(RUN)) is not None:
        old.stop()
    families, _ = parse_families(config.families)
    comparison = Comparison(
        families, config.density, config.budget_s, config.seed, config.device, custom, config.fit_schedule
    )
    st.session_state[RUN] = comparison
    comparison.start()


running = run is not None and run.running
go, halt = st.columns(2)
go.button(
    "Start",
    key=f"{KEY}.start",
    icon=":material/play_arrow:",
    type="primary",
    on_click=start,
    disabled=running or not picked,
    width="stretch",
    help="Train every selected family in turn, each for the budget.",
)
halt.button(
    "Stop",
    key=f"{KEY}.stop",
    icon=":material/stop:",
    on_click=lambda: run.stop() if run is not None else None,
    disabled=not running,
    width="stretch",
    help="End the current family now (it is still scored) and skip the rest.",
)
if not picked:
    st.warning("Pick at least one family in the sidebar to compare.", icon=":material/warning:")
elif run is None:
    total = len(picked) * config.budget_s
    st.info(f"Press Start: {len(picked)} families × {config.budget_s:g} s, about {total:g} s in all.")


@st.fragment(run_every=REFRESH_S if running else None)
def progress() -> None:
    """The live part (text only, cheap to resend): the progress bar; a full rerun when a family is done."""
    run.heartbeat()
    p = run.progress()
    slot = st.empty()  # always drawn: a note that comes and goes would shift the fragment's elements
    if p.queue_position is not None:
        slot.info(
            "Waiting for the machine: this server trains a limited number of sessions at once, and a comparison "
            "needs uninterrupted time for equal budgets. It starts by itself.",
            icon=":material/hourglass_top:",
        )
    st.progress(p.fraction, text=views.progress_text(p))
    if (p.status, len(p.results)) != st.session_state.get(SHOWN):
        st.rerun()  # draw the new family's samples and the table; at the end, re-enable Start


if run is not None:
    shown = run.progress()
    st.session_state[SHOWN] = (shown.status, len(shown.results))
    progress()
    for note in run.notes:
        st.warning(note, icon=":material/warning:")
    data = views.reference_points(run, PLOT_POINTS)
    done = {r.family: r for r in shown.results}
    for row in range(0, len(shown.families), 3):
        for col, family in zip(st.columns(3), shown.families[row : row + 3], strict=False):
            if family in done and len(done[family].samples):
                fig = cplot.family_figure(done[family].samples[:PLOT_POINTS], data, views.cell_title(done[family]))
                chart.plotly(col, fig, key=f"{KEY}.fig.{family}", config={"displayModeBar": False})
            else:
                col.container(border=True).markdown(views.cell_placeholder(family, shown, done.get(family)))
    if shown.results:
        st.table(views.table(shown.results).set_index("family"))
        st.caption(views.perfect_note(shown.results, run.n_samples) + " " + views.COLUMNS_NOTE)
    if shown.status != RUNNING and shown.results:
        st.subheader("What to use for what")
        st.markdown("\n".join(f"- {line}" for line in views.reading(shown.results, run.budget_s)))
