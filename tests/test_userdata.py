"""explorer.data.userdata: every refused upload says why; good files give the right points."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer.data.densities import PointCloud, get_density
from explorer.data.userdata import (
    MAX_BYTES,
    MAX_ROWS,
    MIN_POINTS,
    UserDataError,
    example_csv,
    needs_rescaling,
    parse_points_csv,
    standardise,
    unique_name,
)

RNG = np.random.default_rng(0)
POINTS = np.round(RNG.normal(size=(40, 2)) * 2, 4)  # fits [-6, 6]^2: no rescaling


def _csv(points: np.ndarray, sep: str = ",", header: str | None = None) -> bytes:
    lines = ([header] if header else []) + [f"{x}{sep}{y}" for x, y in points]
    return ("\n".join(lines) + "\n").encode()


def _refused(data: bytes, *fragments: str) -> str:
    with pytest.raises(UserDataError) as info:
        parse_points_csv(data, "bad.csv")
    message = str(info.value)
    for fragment in fragments:
        assert fragment.lower() in message.lower(), message
    return message


# --- good files -------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "x,y", '"x","y"'])
def test_good_csv_with_and_without_header(header):
    density = parse_points_csv(_csv(POINTS, header=header), "mine.csv")
    assert isinstance(density, PointCloud)
    np.testing.assert_allclose(density.points.numpy(), POINTS, rtol=0, atol=1e-5)
    assert density.name == "csv: mine.csv" and density.transform is None
    assert "40 points" in density.note and "rescaled" not in density.note


@pytest.mark.parametrize("sep", [";", "\t", " ", "  "])
def test_other_separators(sep):
    density = parse_points_csv(_csv(POINTS, sep=sep, header=f"x{sep}y"), "p.txt")
    np.testing.assert_allclose(density.points.numpy(), POINTS, atol=1e-5)


def test_semicolon_file_with_decimal_commas_crlf_bom_comments_and_blank_lines():
    body = "\r\n".join(f"{x};{y}".replace(".", ",") for x, y in POINTS)
    data = "\ufeff# exported from a spreadsheet\r\nx;y\r\n\r\n".encode() + body.encode() + b"\r\n\r\n"
    np.testing.assert_allclose(parse_points_csv(data, "eu.csv").points.numpy(), POINTS, atol=1e-5)


def test_trailing_separators_and_quotes_are_tolerated():
    data = ("\n".join(f'"{x}","{y}",' for x, y in POINTS)).encode()
    np.testing.assert_allclose(parse_points_csv(data, "q.csv").points.numpy(), POINTS, atol=1e-5)


def test_utf16_export_is_read():
    text = "x\ty\n" + "\n".join(f"{x}\t{y}" for x, y in POINTS)
    np.testing.assert_allclose(parse_points_csv(text.encode("utf-16"), "u.txt").points.numpy(), POINTS, atol=1e-5)


def test_uploaded_density_samples_its_rows_and_is_found_by_get_density():
    density = parse_points_csv(_csv(POINTS), "mine.csv")
    x = density.sample(500, torch.Generator().manual_seed(0))
    assert x.shape == (500, 2)
    distance_to_nearest_row = np.abs(x.numpy()[:, None, :] - POINTS[None]).max(-1).min(1)
    assert distance_to_nearest_row.max() < 1e-5
    assert get_density(density.name, {density.name: density}) is density


# --- refused files: each with its reason ------------------------------------------------------


def test_png_is_not_text():
    png = b"\x89PNG\r\n\x1a\n" + bytes(RNG.integers(0, 256, 200, dtype=np.uint8))
    _refused(png, "not a csv", "png")


def test_random_binary_is_not_text():
    _refused(bytes(range(256)) * 4, "not a text file", "binary")


def test_xlsx_gets_an_export_hint():
    _refused(b"PK\x03\x04" + b"\x00" * 100, "zip", "export it as csv")


@pytest.mark.parametrize("data", [b"", b"   \n\n \r\n"])
def test_empty_file(data):
    _refused(data, "empty")


def test_comments_only_is_empty():
    _refused(b"# nothing here\n# still nothing\n", "empty")


def test_header_only():
    _refused(b"x,y\n", "only a header", "no points")


@pytest.mark.parametrize(
    ("data", "fragments"),
    [
        (_csv(POINTS).replace(b"\n", b",1\n"), ["line 1 has 3 columns", "exactly 2"]),
        (b"x\n" + b"\n".join(str(v).encode() for v in POINTS[:, 0]), ["1 column", "exactly 2"]),
        (b"\n".join(str(v).encode() for v in POINTS[:, 0]), ["line 1 has 1 column", "exactly 2"]),
        (b",x,y\n" + b"\n".join(f"{i},{x},{y}".encode() for i, (x, y) in enumerate(POINTS)), ["row index"]),
    ],
)
def test_wrong_number_of_columns(data, fragments):
    _refused(data, *fragments)


def test_ragged_row_is_located():
    lines = [f"{x},{y}" for x, y in POINTS]
    lines[6] = "1.0,2.0,3.0"
    _refused(("x,y\n" + "\n".join(lines)).encode(), "line 8", "3 columns")


def test_non_numeric_cell_names_line_and_column():
    lines = [f"{x},{y}" for x, y in POINTS]
    lines[4] = "0.5,abc"
    message = _refused(("x,y\n" + "\n".join(lines)).encode(), "line 6", "column 2", "'abc'", "not a number")
    assert "(y)" in message


def test_missing_value_is_reported_as_missing():
    lines = [f"{x},{y}" for x, y in POINTS]
    lines[2] = "1.5,"
    _refused("\n".join(lines).encode(), "line 3", "column 2", "empty", "missing")
    lines[2] = "NA,1.5"
    _refused("\n".join(lines).encode(), "line 3", "column 1", "missing")


@pytest.mark.parametrize(
    ("cell", "word"), [("nan", "nan"), ("inf", "infinite"), ("-inf", "infinite"), ("1e999", "inf")]
)
def test_nan_and_inf_are_refused(cell, word):
    lines = [f"{x},{y}" for x, y in POINTS]
    lines[9] = f"{cell},0.0"
    _refused(("x,y\n" + "\n".join(lines)).encode(), "line 11", "column 1", word)


def test_too_many_rows():
    data = b"x,y\n" + b"1,2\n" * (MAX_ROWS + 1)
    assert len(data) < MAX_BYTES
    _refused(data, f"{MAX_ROWS + 1:,}", f"limit is {MAX_ROWS:,}")


def test_exactly_the_row_limit_is_accepted():
    rows = np.tile(POINTS, (MAX_ROWS // len(POINTS), 1))
    assert len(parse_points_csv(_csv(rows), "big.csv").points) == MAX_ROWS


def test_too_large_file():
    data = b"1.000000000000000000,2.000000000000000000\n" * (MAX_BYTES // 40)
    _refused(data, "MB", "limit is 5 MB")


def test_too_few_points():
    _refused(_csv(POINTS[: MIN_POINTS - 1], header="x,y"), f"only {MIN_POINTS - 1} points", f"at least {MIN_POINTS}")


def test_identical_points():
    _refused(b"1,2\n" * 20, "all the points are the same")


def test_refusals_are_value_errors_with_no_traceback_text():
    message = _refused(b"x,y\n1,2\n", "points")
    assert "Traceback" not in message and isinstance(UserDataError(message), ValueError)


# --- names and rescaling ----------------------------------------------------------------------


def test_names_are_safe_and_unique():
    assert unique_name("../../etc/pass wd<script>.csv") == "csv: pass wd_script_.csv"
    assert unique_name("C:\\data\\pts.csv") == "csv: pts.csv"
    taken = {"csv: a.csv", "csv: a.csv (2)"}
    assert unique_name("a.csv", taken) == "csv: a.csv (3)"
    assert len(unique_name("x" * 500 + ".csv")) <= 45
    assert parse_points_csv(_csv(POINTS), "a.csv", taken=taken).name == "csv: a.csv (3)"


def test_far_away_points_are_standardised_into_the_view():
    raw = RNG.normal(size=(500, 2)) * [300.0, 100.0] + [1000.0, -2000.0]
    density = parse_points_csv(_csv(raw), "survey.csv")
    pts = density.points.numpy().astype(np.float64)
    assert density.transform is not None and "rescaled" in density.note and "(rescaled)" in density.title
    assert np.abs(pts.mean(0)).max() < 1e-3
    assert 3.5 < np.percentile(np.abs(pts).max(1), 99.5) < 4.5 and np.abs(pts).max() < 6
    shift, scale = density.transform
    np.testing.assert_allclose(pts, (raw - shift) * scale, rtol=1e-5, atol=1e-4)
    # one isotropic scale: the aspect ratio (3 : 1) is kept
    ratio = pts.std(0)[0] / pts.std(0)[1]
    assert 2.5 < ratio < 3.5


def test_tiny_points_are_scaled_up_and_rescaling_can_be_turned_off():
    raw = RNG.uniform(0, 0.2, size=(100, 2))
    assert needs_rescaling(raw) and not needs_rescaling(POINTS)
    assert np.abs(parse_points_csv(_csv(raw), "t.csv").points.numpy()).max() > 3
    off = parse_points_csv(_csv(raw), "t.csv", rescale=False)
    assert off.transform is None
    np.testing.assert_allclose(off.points.numpy(), raw, atol=1e-5)


def test_standardise_is_robust_to_a_few_outliers():
    pts = np.r_[RNG.normal(size=(997, 2)), np.full((3, 2), 1e4)]
    out, _, _ = standardise(pts)
    assert np.percentile(np.abs(out[:997]), 99) > 1.0  # the bulk is not squashed to a dot


def test_example_csv_is_accepted_and_rescaled():
    density = parse_points_csv(example_csv(), "heart.csv")
    assert density.points.shape == (1000, 2) and density.transform is not None
