"""A density drawn with the mouse: strokes of sprayed points on the canvas [-5, 5]^2.

A drawing is the list of its strokes, in order: a spray stroke adds the points the brush sprayed
(`[m, 2]`, with one class label), an erase stroke removes every point within `radius` of its path.
`replay` turns the strokes into points; undo is dropping the last stroke. `drawn_density` makes the
points a density exactly as an upload does: written as CSV and read back by
`explorer.data.userdata.parse_points_csv` (same validation, same messages), named 'drawn: <name>'.

A drawing of at most `LINK_MAX_POINTS` points travels in a share link: `encode_link` quantises the
coordinates to 0.01 (int16), packs them with their labels, compresses (zlib) and writes URL-safe
base64; `decode_link` checks every byte of what comes back and raises UserDataError if a link was cut
or altered.
"""

from __future__ import annotations

import base64
import binascii
import struct
import zlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from explorer.data.userdata import MAX_LABEL, UserDataError, UserPoints, parse_points_csv

CANVAS_LIM = 5.0  # strokes are drawn on [-5, 5]^2
DRAWN_PREFIX = "drawn: "
LINK_MAX_POINTS = 300
_QUANTUM = 0.01  # link coordinates: multiples of 0.01, as int16 (|x| <= 5 is 500)
_VERSION = 1
_HEADER = struct.Struct("<BH")  # version, number of points


@dataclass(frozen=True)
class Stroke:
    """One mouse stroke. `kind` "spray": `points` `[m, 2]` are the sprayed points, of class `label`;
    "erase": `points` is the brush's path and every drawn point within `radius` of it goes."""

    kind: str
    points: np.ndarray
    label: int = 0
    radius: float = 0.0


def replay(strokes: Sequence[Stroke]) -> tuple[np.ndarray, np.ndarray]:
    """The drawing's points `[n, 2]` (float32, inside the canvas) and labels `[n]` (int64) after every stroke."""
    points, labels = np.zeros((0, 2), np.float32), np.zeros(0, np.int64)
    for stroke in strokes:
        path = np.asarray(stroke.points, np.float32).reshape(-1, 2)
        if stroke.kind == "spray":
            path = np.clip(path, -CANVAS_LIM, CANVAS_LIM)
            points = np.concatenate([points, path])
            labels = np.concatenate([labels, np.full(len(path), stroke.label, np.int64)])
        elif stroke.kind == "erase" and len(points) and len(path):
            distance = np.sqrt(((points[:, None, :] - path[None]) ** 2).sum(-1)).min(1)
            keep = distance > stroke.radius
            points, labels = points[keep], labels[keep]
    return points, labels


def to_csv(points: np.ndarray, labels: np.ndarray) -> bytes:
    """The points as CSV: header `x,y`, or `x,y,label` when the drawing has more than one class."""
    if len(set(labels.tolist())) > 1:
        rows = (f"{x:.4f},{y:.4f},{int(k)}" for (x, y), k in zip(points, labels, strict=True))
        return ("x,y,label\n" + "\n".join(rows) + "\n").encode()
    return ("x,y\n" + "\n".join(f"{x:.4f},{y:.4f}" for x, y in points) + "\n").encode()


def drawn_density(points: np.ndarray, labels: np.ndarray, name: str, taken: Collection[str] = ()) -> UserPoints:
    """The drawing as a user density 'drawn: <name>', validated as an upload (UserDataError with the reason)."""
    return parse_points_csv(to_csv(points, labels), name, taken=taken, rescale=False, prefix=DRAWN_PREFIX)


def encode_link(points: np.ndarray, labels: np.ndarray) -> str | None:
    """The drawing as a URL-safe string, or None when it has more than LINK_MAX_POINTS points.

    Layout before compression: version (uint8), n (uint16), x and y as int16 multiples of 0.01
    (`[2, n]`), then one uint8 label per point when any label is not 0."""
    n = len(points)
    if n > LINK_MAX_POINTS:
        return None
    quantised = np.round(np.clip(points, -CANVAS_LIM, CANVAS_LIM) / _QUANTUM).astype("<i2").T.tobytes()
    body = _HEADER.pack(_VERSION, n) + quantised
    if np.any(labels != 0):
        body += np.asarray(labels, np.uint8).tobytes()
    return base64.urlsafe_b64encode(zlib.compress(body, 9)).decode().rstrip("=")


def decode_link(text: str) -> tuple[np.ndarray, np.ndarray]:
    """(points `[n, 2]` float32, labels `[n]` int64) of `encode_link`'s string; UserDataError otherwise."""
    broken = UserDataError("The drawing in this link is damaged (cut short or altered), so it was not loaded.")
    try:
        body = zlib.decompress(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), bufsize=8192)
    except (binascii.Error, zlib.error, ValueError) as err:
        raise broken from err
    if len(body) < _HEADER.size:
        raise broken
    version, n = _HEADER.unpack_from(body)
    coordinates, rest = body[_HEADER.size : _HEADER.size + 4 * n], body[_HEADER.size + 4 * n :]
    if version != _VERSION or n > LINK_MAX_POINTS or len(coordinates) != 4 * n or len(rest) not in (0, n):
        raise broken
    points = np.frombuffer(coordinates, "<i2").reshape(2, n).T.astype(np.float32) * np.float32(_QUANTUM)
    labels = np.frombuffer(rest, np.uint8).astype(np.int64) if rest else np.zeros(n, np.int64)
    if np.abs(points).max(initial=0) > CANVAS_LIM or labels.max(initial=0) > MAX_LABEL:
        raise broken
    return points, labels
