"""The retraining page: it renders and runs generations under AppTest, keeps earlier runs on its curves, and each
lecture demo does what its sentence says (the GMM demos run here in full)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from apptest_pages import ok
from streamlit.testing.v1 import AppTest

from explorer.training.presets import apply_preset
from explorer.training.retrain import RetrainConfig, SelfConsumingLoop
from explorer.views import retrain as views

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "retrain.py")


def _preset(name: str) -> SelfConsumingLoop:
    loop = SelfConsumingLoop(apply_preset(RetrainConfig(), views.PRESETS[name]), scored=2000)
    while not loop.done:
        loop.step()
    return loop


def _vega_titles(at: AppTest) -> list[str]:
    import json

    return [json.loads(e.proto.spec).get("title", "") for e in at.get("vega_lite_chart")]


def test_the_page_runs_generations_and_keeps_the_earlier_run_on_the_curves() -> None:
    at = AppTest.from_file(PAGE, default_timeout=120)
    ok(at.run())
    for _ in range(3):
        at.button(key="retrain.one").click().run()
    ok(at)
    assert len(at.session_state["retrain.runner"].loop.generations) == 3
    assert {m.label for m in at.metric} >= {"covariance trace", "log-density gap", "smallest mode"}
    titles = _vega_titles(at)
    assert {"log-density gap (nats)", "mode coverage TV", "covariance trace", "Mass of each mode (this run)"} <= set(
        titles
    )
    at.sidebar.slider(key="retrain.fresh").set_value(0.5).run()  # a new run; the first stays on the curves
    at.button(key="retrain.one").click().run()
    ok(at)
    assert len(at.session_state["retrain.earlier"]) == 1
    assert at.session_state["retrain.runner"].loop.config.fresh == 0.5


def test_the_sidebar_shows_only_the_chosen_models_settings() -> None:
    at = AppTest.from_file(PAGE, default_timeout=120)
    ok(at.run())
    labels = {w.label for w in at.sidebar.number_input}
    assert "Mixture components (EM)" in labels and "Training steps per generation" not in labels
    at.query_params["model"] = "flow_matching"
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["model"] = "flow_matching"
    ok(at.run())
    labels = {w.label for w in at.sidebar.number_input}
    assert "Training steps per generation" in labels and "Mixture components (EM)" not in labels


def test_fully_synthetic_loses_modes_within_40_generations_and_shrinks_to_a_clump() -> None:
    gens = _preset("synthetic").generations
    assert gens[0].cov_trace == pytest.approx(16, abs=0.5)
    assert min(g.min_mode_mass for g in gens[:41]) == 0.0
    assert max(g.logp_gap for g in gens) > 4
    assert gens[120].cov_trace < 1.6


def test_half_real_keeps_the_spread_and_every_mode() -> None:
    gens = _preset("half_real").generations
    traces = np.array([g.cov_trace for g in gens])
    assert np.all(np.abs(traces - 16) < 2.0)  # "stays near the target's 16"
    assert min(g.min_mode_mass for g in gens) >= 0.015  # "a few percent of the samples or more"


def test_accumulating_keeps_every_mode_at_four_percent_or_more() -> None:
    gens = _preset("accumulate").generations
    assert len(gens) == 60 and min(g.min_mode_mass for g in gens) >= 0.035
    assert gens[-1].training_points == 100 * 60


def test_few_samples_collapse_a_gaussian_and_the_page_draws_the_expected_shrinkage() -> None:
    loop = _preset("few")
    series = views.run_series(loop)
    assert series.cov_trace[-1] < 1e-3 * series.cov_trace[0]
    from explorer.ui.retrain_panel import _expected_trace

    generations, expected = _expected_trace(series, loop.config)
    assert expected[20] == pytest.approx(series.cov_trace[0] * 0.95**20)
