"""Exports: offline HTML animations, GIFs and PNGs drawn without Kaleido, and model checkpoints that
round-trip and refuse files that do not fit."""

from __future__ import annotations

import dataclasses
import io
import pickle
import re

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.methods import FlowConfig, FlowMatchingConfig, GANConfig
from explorer.plotting import raster
from explorer.plotting.evolution import evolution_figure
from explorer.plotting.figures import figure, heatmap, scatter
from explorer.training import checkpoint
from explorer.training.session import PAUSED, TrainingSession
from explorer.ui.export import standalone_html

SMALL = FlowMatchingConfig(hidden=16, depth=2, batch_size=64, steps=400)


@pytest.fixture(scope="module")
def trained() -> TrainingSession:
    session = TrainingSession("flow_matching", SMALL, quality_every=100, quality_samples=300)
    for _ in range(3):
        session.step(100)
    return session


def _animation(n_frames: int = 7) -> dict:
    rng = np.random.default_rng(0)
    frames = [(100 * i, rng.normal(size=(50, 2)) * (1 + i)) for i in range(n_frames)]
    return evolution_figure(rng.normal(size=(80, 2)), frames, "test animation")


def test_html_export_plays_offline_and_holds_every_frame() -> None:
    fig = _animation(5)
    html = standalone_html(fig)
    assert html.lstrip().lower().startswith("<html") or "<!doctype html>" in html.lower()[:50]
    assert not re.search(r"<script[^>]*\bsrc=", html), "no script may be fetched: plotly.js must be embedded"
    assert len(html) > 1_000_000, "plotly.js itself is missing"
    assert "Plotly.newPlot" in html and "addFrames" in html
    for step in ("0", "100", "400"):
        assert f'"name":"{step}"' in html.replace(" ", "")


def test_gif_has_one_frame_per_animation_frame_and_the_points_move() -> None:
    fig = _animation(7)
    gif = Image.open(io.BytesIO(raster.animation_gif(fig)))
    assert gif.format == "GIF" and gif.n_frames == 7
    gif.seek(0)
    first = np.asarray(gif.convert("RGB"), dtype=np.int16)
    gif.seek(6)
    last = np.asarray(gif.convert("RGB"), dtype=np.int16)
    assert np.abs(first - last).sum() > 0, "frames should differ"


def test_png_draws_points_and_heatmaps_in_their_colours() -> None:
    z = np.outer(np.linspace(0, 1, 20), np.ones(20))
    grid = np.linspace(-3, 3, 20)
    fig = figure(
        [heatmap(grid, grid, z, "z", "Reds"), scatter(np.zeros((1, 2)), "dot", "#0000ff", size=30, opacity=1.0)]
    )
    image = np.asarray(Image.open(io.BytesIO(raster.figure_png(fig))).convert("RGB"), dtype=int)
    assert image.shape[2] == 3 and image.shape[0] == fig["layout"]["height"]
    blue = (image[..., 2] > 200) & (image[..., 0] < 60) & (image[..., 1] < 60)
    assert blue.sum() > 100, "the big blue dot is missing"
    reddish = (image[..., 0] > image[..., 2] + 40).sum()
    assert reddish > 1000, "the heatmap is missing"


def test_training_records_its_evolution(trained: TrainingSession) -> None:
    frames = trained.evolution()
    assert len(frames) >= 3
    steps = [step for step, _ in frames]
    assert steps == [100, 200, 300]
    assert all(samples.shape[1] == 2 and np.isfinite(samples).all() for _, samples in frames)


def test_checkpoint_round_trip(trained: TrainingSession) -> None:
    data = checkpoint.save("flow_matching", trained.config, trained.step_count, trained.method.state_dict())
    fresh = TrainingSession("flow_matching", dataclasses.replace(SMALL, seed=5))
    state, step, saved = checkpoint.load(data, "flow_matching", fresh.config, fresh.method.state_dict())
    assert step == trained.step_count and saved["hidden"] == 16
    fresh.load_weights(state, step)
    assert fresh.step_count == trained.step_count and fresh.status == PAUSED
    for a, b in zip(fresh.method.net.parameters(), trained.method.net.parameters(), strict=True):
        torch.testing.assert_close(a, b)
    x = torch.randn(10, 2)
    torch.testing.assert_close(fresh.method.velocity(x, 0.3), trained.method.velocity(x, 0.3))


def _refusal(data: bytes, family: str = "flow_matching", config=SMALL) -> str:
    target = TrainingSession(family, config)
    with pytest.raises(checkpoint.CheckpointError) as err:
        checkpoint.load(data, family, target.config, target.method.state_dict())
    return str(err.value)


def test_malformed_and_mismatched_checkpoints_are_refused(trained: TrainingSession) -> None:
    good = checkpoint.save("flow_matching", trained.config, trained.step_count, trained.method.state_dict())
    assert "not a checkpoint" in _refusal(b"\x00garbage" * 10)
    assert "not a checkpoint" in _refusal(good[: len(good) // 2])
    assert "not a checkpoint" in _refusal(pickle.dumps({"format": checkpoint.FORMAT}))
    buffer = io.BytesIO()
    torch.save({"weights": torch.zeros(3)}, buffer)
    assert "not a checkpoint saved by this app" in _refusal(buffer.getvalue())
    assert "'flow_matching' model; this page trains 'gan'" in _refusal(good, "gan", GANConfig(g_hidden=16))
    wider = _refusal(good, config=dataclasses.replace(SMALL, hidden=32))
    assert "another size" in wider and "Width = 16 (here: 32)" in wider
    bad = checkpoint.save("flow_matching", trained.config, 1, _poison(trained.method.state_dict()))
    assert "NaN" in _refusal(bad)


def test_a_checkpoint_trained_with_another_activation_is_refused() -> None:
    """Same shapes, another function: a leaky-ReLU discriminator's weights are not loaded into a SiLU one."""
    small = GANConfig(g_hidden=16, d_hidden=16, d_activation="leaky_relu")
    session = TrainingSession("gan", small)
    data = checkpoint.save("gan", small, 0, session.method.state_dict())
    refusal = _refusal(data, "gan", dataclasses.replace(small, d_activation="silu"))
    assert "another function" in refusal and "D activation = leaky_relu (here: silu)" in refusal
    same = TrainingSession("gan", small)
    assert checkpoint.load(data, "gan", same.config, same.method.state_dict())[2]["d_activation"] == "leaky_relu"


def _poison(state):
    """A copy of a nested state with every float tensor set to NaN."""
    if isinstance(state, torch.Tensor):
        return state.clone().fill_(float("nan")) if state.is_floating_point() else state
    if isinstance(state, dict):
        return {k: _poison(v) for k, v in state.items()}
    return state


def test_code_in_a_checkpoint_is_never_run(tmp_path) -> None:
    """weights_only: a pickle that would call a function is refused, and the function never runs."""

    class Evil:
        def __reduce__(self):
            return (tmp_path.joinpath("ran").write_text, ("oops",))

    buffer = io.BytesIO()
    torch.save({"format": checkpoint.FORMAT, "family": "flow_matching", "state": Evil()}, buffer)
    assert "not a checkpoint" in _refusal(buffer.getvalue())
    assert not tmp_path.joinpath("ran").exists()


def test_a_bounded_flow_checkpoint_needs_the_bounded_output() -> None:
    """RealNVP's bounded output has no weights: its L travels in the state so that the checkpoint check sees it."""
    bounded = TrainingSession("flow", FlowConfig(n_layers=4, hidden=16, steps=10))
    data = checkpoint.save("flow", bounded.config, 0, bounded.method.state_dict())
    refused = _refusal(data, "flow", FlowConfig(n_layers=4, hidden=16, steps=10, bounded=False))
    assert "architecture" in refused and "Bounded output for data in a box = True (here: False)" in refused
    again = TrainingSession("flow", FlowConfig(n_layers=4, hidden=16, steps=10, seed=3))
    state, step, _ = checkpoint.load(data, "flow", again.config, again.method.state_dict())
    again.load_weights(state, step)
    x = again.density.sample(50, torch.Generator().manual_seed(0))
    torch.testing.assert_close(again.method.log_prob(x), bounded.method.log_prob(x))
