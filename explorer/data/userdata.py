"""A user's own 2D points from an uploaded CSV, validated (docs/decisions.md, "Data and maths").

`parse_points_csv(data, filename)` turns the raw bytes of an upload into a `UserPoints` density
(a `PointCloud` that remembers where it came from) or raises `UserDataError` whose message says,
in words a learner can act on, what is wrong and where: not a text file, empty, not exactly two
columns, a cell that is not a number (line and column), NaN / inf, too many rows, too large, or
too few points. Separators: comma, semicolon (with decimal commas allowed), tab or whitespace;
an optional header row such as `x,y` is skipped; blank lines and `#` comments are ignored. A file
whose header is `x,y,label` has a third column of class labels (non-negative integers: a drawing
with labelled strokes is saved so), which the conditional models use.

Points far outside the plotted window [-6, 6]^2 (or squeezed into a tiny blob) are standardised
into roughly [-4, 4]^2 with one shift and one isotropic scale, so shapes keep their aspect ratio;
`UserPoints.note` says so and `UserPoints.transform` keeps (shift, scale) to undo it.
"""

from __future__ import annotations

import re
from collections.abc import Collection

import numpy as np
import torch

from explorer.data.densities import PointCloud

MAX_BYTES = 5 * 1024 * 1024  # same as server.maxUploadSize = 5 in .streamlit/config.toml
MAX_ROWS = 50_000  # more than any toy density needs; the pages sample a few thousand points from these
MIN_POINTS = 10  # fewer gives no shape to learn (and the energy distance's floor is meaningless)
VIEW_LIM = 6.0  # the pages plot [-6, 6]^2
TARGET_LIM = 4.0  # rescaled points fill about [-4, 4]^2
NAME_PREFIX = "csv: "
LABEL_HEADER = ("x", "y", "label")
MAX_LABEL = 99  # labels 0-99: a legend and a conditional model's class list stay readable

_SIGNATURES = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a zip archive (an .xlsx spreadsheet is one: export it as CSV instead)",
    b"\xd0\xcf\x11\xe0": "an old Office document (.xls): export it as CSV instead",
}
_MISSING = {"", "na", "n/a", "null", "none", "-", "?"}  # cells that say "no value" (refused, with their line)
# bytes that never occur in a text file (tab, newline, CR, vertical tab, form feed, Ctrl-Z allowed)
_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x19\x1b-\x1f]")


class UserDataError(ValueError):
    """An upload the explorer refuses; `str(error)` is the reason, written for the user."""


class UserPoints(PointCloud):
    """A `PointCloud` from a user's file: `points` `[m, 2]` (after any rescaling), sampled by
    drawing rows uniformly with replacement (the empirical distribution of the file).

    `filename` is the uploaded name, `note` a sentence for the page (how many points, rescaled or
    not), `transform` the (shift `[2]`, scale) applied as x' = (x - shift) * scale, or None.
    """

    def __init__(
        self,
        points: torch.Tensor,
        *,
        name: str,
        title: str,
        filename: str,
        note: str,
        transform: tuple[np.ndarray, float] | None,
        labels: torch.Tensor | None = None,
    ) -> None:
        super().__init__(points, name=name, title=title, labels=labels)
        self.filename, self.note, self.transform = filename, note, transform


def safe_filename(filename: str, max_len: int = 40) -> str:
    """The base name of `filename` with anything but letters, digits, space, '.', '_', '-' replaced."""
    base = re.split(r"[\\/]", str(filename))[-1].strip() or "upload"
    base = re.sub(r"[^\w .\-]", "_", base, flags=re.ASCII)
    return base if len(base) <= max_len else base[: max_len - 1] + "…"


def unique_name(filename: str, taken: Collection[str] = (), prefix: str = NAME_PREFIX) -> str:
    """'csv: <safe filename>' (or another `prefix`), with ' (2)', ' (3)', ... appended while the name is in `taken`."""
    base = prefix + safe_filename(filename)
    name, k = base, 2
    while name in taken:
        name, k = f"{base} ({k})", k + 1
    return name


def _decode(data: bytes) -> str:
    """Bytes -> text, or UserDataError when they are not text (images, spreadsheets, binaries)."""
    for magic, what in _SIGNATURES.items():
        if data.startswith(magic):
            raise UserDataError(f"This is not a CSV text file: it looks like {what}.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with BOM ("Unicode text" exports)
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as err:
            raise UserDataError("This file starts like UTF-16 text but cannot be decoded as such.") from err
    head = data[:65536]
    if _CONTROL.search(head):
        raise UserDataError(
            "This is not a text file: it contains binary bytes (NUL or control characters). "
            "Upload a plain-text CSV with two numeric columns, x and y."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # every byte decodes; a bad cell is then reported by position


def _separator(lines: list[str]) -> str | None:
    """The column separator of the first lines: ';', tab, ',' or None (runs of whitespace)."""
    sample = lines[:20]
    for sep in (";", "\t", ","):
        if any(sep in line for line in sample):
            return sep
    return None


def _cells(line: str, sep: str | None) -> list[str]:
    cells = [c.strip().strip('"').strip("'").strip() for c in (line.split(sep) if sep else line.split())]
    while len(cells) > 2 and cells[-1] == "":  # tolerate trailing separators "1,2,"
        cells.pop()
    return cells


def _number(cell: str, decimal_comma: bool) -> float | None:
    text = cell.replace(",", ".") if decimal_comma else cell
    if not text or "_" in text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _is_header(cells: list[str], decimal_comma: bool) -> bool:
    return all(_number(c, decimal_comma) is None for c in cells)


def _column_error(lineno: int, cells: list[str], header: bool) -> UserDataError:
    n = len(cells)
    where = "The header" if header else f"Line {lineno}"
    hint = ""
    if n == 3 and header and cells[0] == "":
        hint = " The first column looks like a row index: remove it (pandas: to_csv(index=False))."
    elif n == 1:
        hint = " Separate x and y by a comma, semicolon, tab or spaces."
    elif n > 2:
        hint = " Keep only the x and y columns."
    plural = "column" if n == 1 else "columns"
    return UserDataError(f"{where} has {n} {plural}; the file must have exactly 2 numeric columns (x, y).{hint}")


def _parse(text: str) -> tuple[np.ndarray, list[int], np.ndarray | None]:
    """Text -> (points `[m, 2]` float64, the file line number of each point, labels `[m]` or None),
    with every check but the count and the finiteness."""
    numbered = [(i + 1, line) for i, line in enumerate(text.splitlines())]
    rows = [(i, line) for i, line in numbered if line.strip() and not line.lstrip().startswith("#")]
    if not rows:
        raise UserDataError("The file is empty: it has no rows of numbers.")
    sep = _separator([line for _, line in rows])
    decimal_comma = sep == ";"  # European CSV: "1,5;2,25"
    first = _cells(rows[0][1], sep)
    header = _is_header(first, decimal_comma)
    labelled = header and tuple(c.lower() for c in first) == LABEL_HEADER
    columns = 3 if labelled else 2
    if len(first) != columns:
        raise _column_error(rows[0][0], first, header)
    body = rows[1:] if header else rows
    if not body:
        raise UserDataError("The file has only a header row and no points.")
    if len(body) > MAX_ROWS:
        raise UserDataError(
            f"The file has {len(body):,} points; the limit is {MAX_ROWS:,}. Subsample it first "
            f"(pandas: df.sample({MAX_ROWS}))."
        )
    points, labels = np.empty((len(body), 2)), np.zeros(len(body), dtype=np.int64)
    for r, (lineno, line) in enumerate(body):
        cells = _cells(line, sep)
        if len(cells) != columns:
            if labelled:
                raise UserDataError(
                    f"Line {lineno} has {len(cells)} columns; under the header x,y,label every line has 3."
                )
            raise _column_error(lineno, cells, header=False)
        if labelled:
            labels[r] = _label(cells.pop(), lineno)
        for c, cell in enumerate(cells):
            value = _number(cell, decimal_comma)
            if value is None:
                axis = "xy"[c]
                if cell.lower() in _MISSING:
                    shown = "empty" if cell == "" else f"'{cell}'"
                    raise UserDataError(f"Line {lineno}, column {c + 1} ({axis}) is {shown}: a value is missing there.")
                shown = cell if len(cell) <= 20 else cell[:19] + "…"
                raise UserDataError(f"Line {lineno}, column {c + 1} ({axis}): '{shown}' is not a number.")
            points[r, c] = value
    return points, [lineno for lineno, _ in body], labels if labelled else None


def _label(cell: str, lineno: int) -> int:
    """A class label: an integer from 0 to MAX_LABEL, or UserDataError naming the line."""
    if not re.fullmatch(r"\d+", cell) or int(cell) > MAX_LABEL:
        raise UserDataError(
            f"Line {lineno}, column 3 (label): '{cell[:20]}' is not a whole number from 0 to {MAX_LABEL}."
        )
    return int(cell)


def standardise(points: np.ndarray, target: float = TARGET_LIM) -> tuple[np.ndarray, np.ndarray, float]:
    """(points', shift `[2]`, scale) with points' = (points - shift) * scale: centred on the mean,
    one isotropic scale putting the 99.5th percentile of max(|x'|, |y'|) at `target`."""
    shift = points.mean(axis=0)
    radius = float(np.percentile(np.abs(points - shift).max(axis=1), 99.5))
    scale = target / radius if radius > 0 else 1.0
    return (points - shift) * scale, shift, scale


def needs_rescaling(points: np.ndarray, lim: float = VIEW_LIM) -> bool:
    """True when more than 1% of the points lie outside [-lim, lim]^2, or the points fill less
    than a 1/10 of it (both central 98% ranges under lim / 10 wide) and would look like a dot."""
    outside = float((np.abs(points) > lim).any(axis=1).mean())
    lo, hi = np.percentile(points, [1, 99], axis=0)
    tiny = bool(((hi - lo) < lim / 10).all())
    return outside > 0.01 or tiny


def parse_points_csv(
    data: bytes, name: str, *, taken: Collection[str] = (), rescale: bool = True, prefix: str = NAME_PREFIX
) -> UserPoints:
    """Validate an uploaded CSV of 2D points and return it as a density.

    `data`: the file's bytes; `name`: its filename (the density is named 'csv: <filename>', made
    unique against `taken`). With `rescale`, points that do not fit the [-6, 6]^2 view are
    standardised into about [-4, 4]^2 (see `standardise`); the returned `note` says so. `prefix` starts the
    density's name ('csv: ' for uploads, 'drawn: ' for drawings).
    Raises `UserDataError` with the reason for every file it refuses.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise UserDataError("The upload could not be read as a file.")
    data = bytes(data)
    if len(data) > MAX_BYTES:
        raise UserDataError(f"The file is {len(data) / 1e6:.1f} MB; the limit is {MAX_BYTES / 2**20:.0f} MB.")
    if not data.strip():
        raise UserDataError("The file is empty.")
    points, linenos, labels = _parse(_decode(data))
    bad = ~np.isfinite(points)
    if bad.any():
        r, c = (int(v) for v in np.argwhere(bad)[0])
        what = "NaN (not a number)" if np.isnan(points[r, c]) else "infinite"
        count = int(bad.any(axis=1).sum())
        others = f" ({count} rows have such values)" if count > 1 else ""
        raise UserDataError(
            f"Line {linenos[r]}, column {c + 1} ({'xy'[c]}) is {what}{others}. Remove or fill missing values."
        )
    if len(points) < MIN_POINTS:
        raise UserDataError(f"There are only {len(points)} points; at least {MIN_POINTS} are needed.")
    if float(np.abs(points).max()) > 1e15:
        raise UserDataError("Some values are larger than 1e15 in size; the explorer cannot plot or train on these.")
    if np.ptp(points, axis=0).max() == 0:
        raise UserDataError("All the points are the same; there is no distribution to learn.")

    density_name = unique_name(name, taken, prefix)
    note = f"{len(points):,} points from {safe_filename(name)}"
    if labels is not None and len(set(labels.tolist())) > 1:
        note += f" in {len(set(labels.tolist()))} classes"
    transform = None
    title = density_name
    if rescale and needs_rescaling(points):
        points, shift, scale = standardise(points)
        transform = (shift, scale)
        note += (
            f", rescaled to fit the view: x' = (x − ({shift[0]:.4g}, {shift[1]:.4g})) × {scale:.4g} "
            f"(the points did not fit [-{VIEW_LIM:g}, {VIEW_LIM:g}]²)"
        )
        title += " (rescaled)"
    note += "."
    return UserPoints(
        torch.as_tensor(points, dtype=torch.float32),
        name=density_name,
        title=title,
        filename=safe_filename(name),
        note=note,
        transform=transform,
        labels=None if labels is None else torch.as_tensor(labels),
    )


def example_csv(n: int = 1000, seed: int = 0) -> bytes:
    """A small example upload: `n` noisy points on a heart curve, in units that need rescaling
    (x = 16 sin^3 t, y = 13 cos t - 5 cos 2t - 2 cos 3t - cos 4t), with an `x,y` header."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 2 * np.pi, n)
    x = 16 * np.sin(t) ** 3
    y = 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
    points = np.stack([x, y], axis=1) + rng.normal(scale=0.4, size=(n, 2))
    return ("x,y\n" + "\n".join(f"{a:.4f},{b:.4f}" for a, b in points) + "\n").encode()
