"""Downloads on every training page: the experiment as a Jupyter notebook (plain PyTorch, from
`explorer.notebook`), the animation (HTML that plays offline, GIF), pictures (PNG), and the trained model
(a checkpoint to save and load back).

Every file is made only when its button is pressed (`st.download_button` with a callable), so
the page does not build megabytes of HTML on each rerun. The HTML embeds plotly.js itself; the
GIF and PNG are drawn by `explorer.plotting.raster` (Pillow only, nothing fetched at run time).
"""

from __future__ import annotations

import plotly.io as pio
import streamlit as st

from explorer.data.densities import Density, get_density
from explorer.notebook import notebook_bytes
from explorer.plotting import raster
from explorer.plotting.evolution import evolution_figure
from explorer.training import checkpoint
from explorer.training.session import TrainingSession
from explorer.ui import state


def standalone_html(fig: dict) -> str:
    """A whole HTML page holding the figure, its frames and plotly.js: it plays offline."""
    return pio.to_html(fig, include_plotlyjs=True, full_html=True, auto_play=False, config={"displaylogo": False})


def animation_downloads(fig: dict, name: str, key: str) -> None:
    """HTML and GIF download buttons for an animated figure."""
    html, gif = st.columns(2)
    html.download_button(
        "Animation (HTML, plays offline)",
        lambda: standalone_html(fig),
        file_name=f"{name}.html",
        mime="text/html",
        key=f"{key}.html",
        icon=":material/download:",
        on_click="ignore",
    )
    gif.download_button(
        "Animation (GIF)",
        lambda: raster.animation_gif(fig),
        file_name=f"{name}.gif",
        mime="image/gif",
        key=f"{key}.gif",
        icon=":material/gif_box:",
        on_click="ignore",
    )


def figure_png(fig: dict, name: str, key: str, label: str = "Figure (PNG)") -> None:
    st.download_button(
        label,
        lambda: raster.figure_png(fig),
        file_name=f"{name}.png",
        mime="image/png",
        key=f"{key}.png",
        icon=":material/image:",
        on_click="ignore",
    )


def notebook_button(name: str, config, density: Density, key: str) -> None:
    """*Download as notebook*: this page's configuration as a notebook that trains it in plain PyTorch."""
    st.download_button(
        "Download as notebook (.ipynb)",
        lambda: notebook_bytes(name, config, density, lambda other: get_density(other, state.custom_densities())),
        file_name=f"{name}-{density.name.replace(':', '').replace(' ', '-')}.ipynb",
        mime="application/x-ipynb+json",
        key=f"{key}.notebook",
        icon=":material/code_blocks:",
        on_click="ignore",
        help="This page's settings written out in plain PyTorch, NumPy and matplotlib (Jupyter, Colab, VS Code): "
        "the data, the networks, the objective in a textbook training loop, the sampler and a figure.",
    )


def export_panel(session: TrainingSession, key: str) -> None:
    """The page's export expander: the notebook, training evolution (GIF, HTML), samples picture, model checkpoint.
    Its contents are built only while it is open (opening it reruns the page): a page opens ~0.3 s sooner."""
    family = session.family
    box = st.expander(
        "Export and share: notebook, animation, pictures, model",
        icon=":material/ios_share:",
        key=f"{key}.export",
        on_change="rerun",
    )
    if not box.open:
        return
    with box:
        st.caption(
            "The address bar holds every setting of this page: copy it to share the exact view. "
            "Downloads are made when you press them."
        )
        st.markdown("**The experiment as a notebook** (runs anywhere with torch, numpy and matplotlib)")
        notebook_button(family, session.config, session.density, key)
        frames = session.evolution()
        if frames:
            data = session.density.sample(500, session.sample_generator()).cpu().numpy()
            fig = evolution_figure(data, frames, f"{family.replace('_', ' ')}: samples during training")
            st.markdown(f"**Training evolution** ({len(frames)} frames, one per quality evaluation)")
            animation_downloads(fig, f"{family}-training", f"{key}.evolution")
            figure_png(
                {**fig, "data": [fig["data"][0], {**fig["data"][1], **fig["frames"][-1]["data"][0]}]},
                f"{family}-samples",
                f"{key}.samples",
                "Latest samples (PNG)",
            )
        else:
            st.caption("Train for a moment to record the training evolution.")
        st.markdown("**Model** (weights only; loads back into this page's architecture)")
        save, load = st.columns(2)
        save.download_button(
            "Save checkpoint (.pt)",
            lambda: checkpoint.save(family, session.config, session.step_count, session.method.state_dict()),
            file_name=f"{family}-step{session.step_count}.pt",
            mime="application/octet-stream",
            key=f"{key}.checkpoint",
            icon=":material/save:",
            on_click="ignore",
        )
        upload = load.file_uploader("Load checkpoint", type=["pt"], key=f"{key}.load", label_visibility="collapsed")
        if upload is not None and st.session_state.get(f"{key}.loaded") != upload.file_id:
            st.session_state[f"{key}.loaded"] = upload.file_id
            try:
                state, step, _ = checkpoint.load(upload.getvalue(), family, session.config, session.method.state_dict())
            except checkpoint.CheckpointError as err:
                st.session_state[f"{key}.load_message"] = ("error", f"Not loaded: {err}")
            else:
                session.pause()
                session.load_weights(state, step)
                st.session_state[f"{key}.load_message"] = ("success", f"Loaded {upload.name} (step {step:,}).")
        if message := st.session_state.get(f"{key}.load_message"):
            (st.error if message[0] == "error" else st.success)(message[1])
