"""Retraining on its own samples: a model fitted, generation after generation, to data its predecessor
generated, with a share of real data, replacing or accumulating; the scores of every run on the same curves."""

import streamlit as st

from explorer.training.retrain import RetrainConfig
from explorer.ui import presets, retrain_panel, scaffold
from explorer.views import retrain as views

KEY = "retrain"
st.title("Retraining on its own samples")
st.caption(
    "The web fills with generated data: what happens to the next model trained on it? Generation 0 fits n points "
    "of the target; every next generation fits n points of which a share λ is real and the rest the previous "
    "generation's samples. Scores are against the exact target; earlier runs stay on the curves."
)

GROUPS = {"loop": "The loop", "model": "The model"}
config = scaffold.sidebar_config(KEY, KEY, RetrainConfig(), GROUPS, expanded=tuple(GROUPS), hide=views.hidden_params)
presets.preset_bar(KEY, KEY, RetrainConfig(), views.PRESETS, config)
if config.model == "gmm":
    st.caption(f"The model: a mixture of {config.components} Gaussians fitted by EM (instant).")
else:
    st.caption(
        f"The model: the {config.model} page's defaults, {config.steps:,} training steps per generation"
        + (
            ", each generation starting from the previous weights."
            if config.fine_tune
            else ", fresh weights each time."
        )
    )
run = retrain_panel.runner(KEY, config)
retrain_panel.buttons(KEY, run)
retrain_panel.live_panel(KEY, run)
retrain_panel.notebook_button(KEY, config)
