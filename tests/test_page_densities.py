"""The Densities page, headless (AppTest): every density renders; uploads appear and can be removed.

AppTest cannot upload files, so the upload path is tested in two halves: the ingest step of
explorer.ui.uploads on bytes, and the page with a PointCloud put into session_state.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from apptest_pages import ok
from page_figures import plotly_figures
from streamlit.testing.v1 import AppTest

from explorer.data.densities import DENSITIES, PointCloud
from explorer.data.userdata import example_csv, parse_points_csv
from explorer.ui.uploads import _ingest

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "densities.py")
CHOICE = "densities.density"


def _page(custom: dict | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    if custom is not None:
        at.session_state["custom_densities"] = custom
    return at.run()


def _charts(at: AppTest) -> int:
    return len(plotly_figures(at))


def test_every_canonical_density_renders():
    at = _page()
    ok(at)
    assert at.selectbox(key=CHOICE).options == [factory().title for factory in DENSITIES.values()]
    gallery = len(DENSITIES)
    for name in DENSITIES:
        at.selectbox(key=CHOICE).select(name).run()
        ok(at)
        assert at.selectbox(key=CHOICE).value == name
        density = DENSITIES[name]()
        exact = density.has_log_prob or density.has_score
        assert _charts(at) == gallery + 1 + exact, name  # samples (+ exact) + thumbnails
        notes = " ".join(i.value for i in at.info) + " ".join(c.value for c in at.caption)
        if not exact:
            assert "no closed form" in notes, name
        elif not density.has_score:
            assert "score: no closed form" in notes.lower(), name


def test_gallery_button_and_sample_controls():
    at = _page()
    at.button(key="densities.show.rings").click().run()
    ok(at)
    assert at.selectbox(key=CHOICE).value == "rings"
    at.slider(key="densities.n").set_value(300).run()
    at.toggle(key="densities.by_label").set_value(False).run()
    at.button(key="densities.resample").click().run()
    ok(at)
    assert at.session_state["densities.seed"] == 1


def test_uploaded_point_cloud_is_selectable_and_removable():
    plain = PointCloud(torch.randn(50, 2), name="csv: plain.csv", title="csv: plain.csv")
    user = parse_points_csv(example_csv(200), "heart.csv")
    at = _page({plain.name: plain, user.name: user})
    ok(at)
    options = at.selectbox(key=CHOICE).options
    assert "csv: plain.csv" in options and "csv: heart.csv (rescaled)" in options
    for name in (plain.name, user.name):
        at.selectbox(key=CHOICE).select(name).run()
        ok(at)
        assert "Your own points" in " ".join(m.value for m in at.markdown)
        assert any("no closed form" in i.value for i in at.info)
    assert any("rescaled to fit the view" in m.value for m in at.markdown)
    # removing the selected upload falls back to a canonical density, the other upload stays
    at.button(key=f"densities.upload.remove.{user.name}").click().run()
    ok(at)
    assert list(at.session_state["custom_densities"]) == [plain.name]
    assert at.selectbox(key=CHOICE).value == next(iter(DENSITIES))


def test_ingest_keeps_earlier_uploads_when_a_file_is_refused():
    custom: dict = {}
    kind, message, name = _ingest(example_csv(100), "heart.csv", custom)
    assert kind == "success" and name == "csv: heart.csv" and "selectable" in message
    kind, message, name = _ingest(b"\x89PNG\r\n\x1a\n\x00\x00", "photo.csv", custom)
    assert kind == "error" and name is None and "PNG" in message and "photo.csv" in message
    kind, message, _ = _ingest(b"x,y\n1,*bold*\n", "b_c.csv", custom)
    assert kind == "error" and "\\*bold\\*" in message and "b\\_c.csv" in message  # Markdown escaped
    kind, _, name = _ingest(example_csv(100), "heart.csv", custom)
    assert kind == "success" and name == "csv: heart.csv (2)"
    assert list(custom) == ["csv: heart.csv", "csv: heart.csv (2)"]
    assert np.isfinite(custom[name].points.numpy()).all()


@pytest.mark.parametrize("bad", [b"", b"1,2\n" * 3])
def test_ingest_never_raises(bad):
    kind, message, name = _ingest(bad, "x.csv", {})
    assert kind == "error" and message and name is None
