"""Densities: the toy targets (samples, exact density and score where known) and the user's own points."""

import dataclasses

import streamlit as st

from explorer.configs import param
from explorer.data.densities import DENSITIES, get_density
from explorer.plotting import densities as dplot
from explorer.ui import chart, draw, share, state, uploads
from explorer.views import densities as views

KEY = "densities"
CHOICE, SEED = f"{KEY}.density", f"{KEY}.seed"
THUMB = {"displayModeBar": False, "staticPlot": True}

st.title("Densities")
st.caption(
    "The 2D targets every training page learns. Where a density has a closed form, its exact density p(x) "
    "and score ∇ log p(x) are drawn: the ground truth the learned fields are compared with."
)

# Filled below in dependency order (uploads first, so a new file is selectable at once), shown in this order.
chooser, main = st.container(), st.container()
st.subheader("All canonical densities at a glance")
st.caption("Click a name to show that density above.")
gallery_box = st.container()
st.subheader("Your own points")
upload_box = st.container(border=True)


@dataclasses.dataclass(frozen=True)
class View:
    """The page's widgets (in the URL)."""

    density: str = param(next(iter(DENSITIES)), "Density")
    n: int = param(1500, "Number of samples", lo=200, hi=5000)
    by_label: bool = param(True, "Colour by label")
    seed: int = param(0, "Sample seed", lo=0, hi=2**31 - 1)


draw.before_density_widget(KEY)
with upload_box:
    st.markdown("Draw points with the mouse, or upload a CSV file of them.")
    draw.draw_button(KEY)
    added = uploads.csv_upload(f"{KEY}.upload")
custom = state.custom_densities()
names = list(DENSITIES) + list(custom)
with chooser:
    share.page_state(KEY, View(), densities=names)
if added:
    st.session_state[CHOICE] = added
if st.session_state.get(CHOICE) not in names:
    st.session_state[CHOICE] = names[0]
titles = {name: get_density(name, custom).title for name in names}


def _choose(name: str) -> None:
    st.session_state[CHOICE] = name


def _resample() -> None:
    st.session_state[SEED] += 1


with chooser:
    pick, count, options = st.columns([3, 3, 2], vertical_alignment="bottom")
    name = pick.selectbox("Density", names, key=CHOICE, format_func=titles.get)
    n = count.slider("Number of samples", 200, 5000, step=100, key=f"{KEY}.n")
    by_label = options.toggle("Colour by label", key=f"{KEY}.by_label")
    options.button("New samples", key=f"{KEY}.resample", on_click=_resample, icon=":material/casino:")

share.publish_view(KEY, View())
draw.publish_link(name, chooser)
density = get_density(name, custom)
view = views.density_view(density, n, seed=st.session_state[SEED])
with main:
    st.markdown(f"**{density.title}.** {views.definition(density)}")
    left, right = st.columns(2)
    chart.plotly(left, dplot.samples_figure(view, by_label), key=f"{KEY}.samples")
    exact, note = dplot.exact_figure(view), views.unknown_note(density)
    if exact is None:
        right.info(note, icon=":material/function:")
    else:
        chart.plotly(right, exact, key=f"{KEY}.exact")
        right.caption(
            note or "Orange arrows: the exact score ∇ log p(x), pointing uphill, all lengths scaled by one factor."
        )

with gallery_box:
    for col, thumb in zip(st.columns(len(DENSITIES)), views.gallery(), strict=True):
        chart.plotly(col, dplot.gallery_figure(thumb), key=f"{KEY}.thumb.{thumb.name}", config=THUMB)
        col.button(
            thumb.title,
            key=f"{KEY}.show.{thumb.name}",
            on_click=_choose,
            args=(thumb.name,),
            width="stretch",
            wrap=True,
        )
