"""Drawn data: strokes to points, the drawing as a density (the upload's validation), the share link."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from apptest_pages import run_page

from explorer.data.drawing import (
    LINK_MAX_POINTS,
    Stroke,
    decode_link,
    drawn_density,
    encode_link,
    replay,
    to_csv,
)
from explorer.data.userdata import UserDataError
from explorer.methods import FlowMatchingConfig, GANConfig
from explorer.methods.flow_matching import FlowMatching
from explorer.methods.gan import GAN

FM_PAGE = str(Path(__file__).resolve().parents[1] / "pages/flow_matching.py")


def _line(y: float, n: int = 40, label: int = 0) -> Stroke:
    return Stroke("spray", np.stack([np.linspace(-3, 3, n), np.full(n, y)], 1), label)


def test_strokes_add_points_and_erasing_removes_those_within_the_radius():
    strokes = [_line(2.0), _line(-2.0, label=1), Stroke("erase", np.array([[0.0, 2.0]]), radius=1.0)]
    points, labels = replay(strokes)
    gone = (np.abs(points[:, 1] - 2) < 1e-6) & (np.abs(points[:, 0]) <= 1.0)
    assert not gone.any()
    expected = 40 + 40 - int((np.abs(np.linspace(-3, 3, 40)) <= 1.0).sum())
    assert len(points) == expected and set(labels.tolist()) == {0, 1}
    assert len(replay(strokes[:-1])[0]) == 80  # undo is dropping the last stroke


def test_spray_outside_the_canvas_is_clipped_into_it():
    points, _ = replay([Stroke("spray", np.array([[9.0, -7.0], [0.5, 0.5]]))])
    assert np.abs(points).max() <= 5.0 and points[0].tolist() == [5.0, -5.0]


def test_a_labelled_drawing_becomes_a_conditional_density_through_the_upload_validation():
    points, labels = replay([_line(2.0, label=0), _line(-2.0, label=3)])
    assert to_csv(points, labels).startswith(b"x,y,label\n")
    density = drawn_density(points, labels, "moons", taken={"drawn: moons"})
    assert density.name == "drawn: moons (2)" and density.n_classes == 2
    assert density.class_names == ("label 0", "label 3")
    x, y = density.sample_labelled(2000, torch.Generator().manual_seed(0))
    assert torch.all((x[:, 1] > 0) == (y == 0))  # each sampled point keeps its stroke's class
    assert GAN(GANConfig(conditional=True), density, torch.device("cpu")).n_classes == 2
    assert FlowMatching(FlowMatchingConfig(guidance=True), density, torch.device("cpu")).net.n_classes >= 2


def test_a_drawing_of_one_class_has_no_label_column():
    points, labels = replay([_line(1.0)])
    assert to_csv(points, labels).startswith(b"x,y\n")
    assert drawn_density(points, labels, "one").n_classes == 1


def test_a_drawing_with_too_few_points_is_refused_with_the_reason():
    points, labels = replay([_line(0.0, n=4)])
    with pytest.raises(UserDataError, match="at least 10"):
        drawn_density(points, labels, "tiny")


def test_a_small_drawing_travels_in_a_link_to_the_hundredth():
    rng = np.random.default_rng(0)
    points = rng.uniform(-5, 5, (LINK_MAX_POINTS, 2)).astype(np.float32)
    labels = rng.integers(0, 3, LINK_MAX_POINTS)
    text = encode_link(points, labels)
    assert text is not None and len(text) < 2000 and text.replace("-", "").replace("_", "").isalnum()
    back, back_labels = decode_link(text)
    assert np.abs(back - points).max() <= 0.005 + 1e-6 and (back_labels == labels).all()
    assert encode_link(np.zeros((LINK_MAX_POINTS + 1, 2)), np.zeros(LINK_MAX_POINTS + 1)) is None


@pytest.mark.parametrize("damage", [lambda t: t[:-5], lambda t: "A" + t[1:], lambda t: "not*base64", lambda t: ""])
def test_a_damaged_link_is_refused_with_a_message(damage):
    text = encode_link(*replay([_line(1.0), _line(-1.0, label=1)]))
    with pytest.raises(UserDataError, match="damaged"):
        decode_link(damage(text))


def test_a_share_link_with_a_drawing_opens_the_page_on_it():
    points, labels = replay([_line(2.0), _line(-2.0)])
    at = run_page(FM_PAGE, params={"density": "drawn: lines", "drawing": encode_link(points, labels)})
    assert at.sidebar.selectbox(key="fm.density").value == "drawn: lines"
    assert not at.warning, [w.value for w in at.warning]
    assert "drawn: lines" in at.session_state["custom_densities"]


def test_a_damaged_drawing_in_a_link_says_so_and_the_page_still_opens():
    at = run_page(FM_PAGE, params={"density": "drawn: lines", "drawing": "eJzzSM3JyQcABiwCFQ"})
    assert any("damaged" in w.value for w in at.warning)
    assert at.sidebar.selectbox(key="fm.density").value == "eight_gaussians"


def test_a_large_drawing_says_it_does_not_travel_in_the_link():
    points, labels = replay([_line(2.0, n=200), _line(-2.0, n=200)])
    density = drawn_density(points, labels, "big")
    at = run_page(FM_PAGE, {"custom_densities": {density.name: density}}, {"density": density.name})
    assert any("does not travel" in c.value for c in at.sidebar.caption)
    assert "drawing" not in at.query_params
