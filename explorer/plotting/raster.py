"""PNG pictures and GIF animations of the app's figures, drawn with Pillow alone.

Plotly's own image export needs Kaleido and a Chrome it downloads at run time, which a classroom
machine may not have; this module draws the app's plotly figure dicts itself. It knows the trace
kinds the app uses: `scatter` / `scattergl` (markers, lines with None breaks, filled areas are
drawn as lines) and `heatmap` (z on an x, y grid with a colorscale), on one or more axis pairs
(`xaxis`, `xaxis2`, ... with their `domain` and `range`). Titles are drawn; ticks and legends
are not: a picture for a slide, not a replacement for the page.

`figure_png(fig)` draws the figure; `animation_gif(fig)` draws each of its frames (the traces a
frame names replace the base ones, as in plotly.js) and assembles a looping GIF.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageColor, ImageDraw

WIDTH, HEIGHT = 900, 620
MAX_FRAMES = 120
DEFAULT_SCALE = ((0.0, "#440154"), (0.5, "#21918c"), (1.0, "#fde725"))  # viridis, coarsely
TRACE_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def _rgba(color, alpha: float = 1.0) -> tuple[int, int, int, int]:
    """Any plotly colour string as RGBA (unknown ones: grey)."""
    if isinstance(color, str):
        text = color.strip().lower()
        if text.startswith("rgba(") and text.endswith(")"):
            parts = [float(p) for p in text[5:-1].split(",")]
            return int(parts[0]), int(parts[1]), int(parts[2]), int(255 * parts[3] * alpha)
        try:
            r, g, b = ImageColor.getrgb(text)[:3]
            return r, g, b, int(255 * alpha)
        except ValueError:
            pass
    return 128, 128, 128, int(255 * alpha)


def _colorscale(scale) -> list[tuple[float, tuple[int, int, int, int]]]:
    stops = scale if isinstance(scale, list | tuple) and scale and isinstance(scale[0], list | tuple) else DEFAULT_SCALE
    return [(float(s), _rgba(c)) for s, c in stops]


def _colormap(values: np.ndarray, scale, lo: float, hi: float) -> np.ndarray:
    """values `[...]` -> RGBA uint8 `[..., 4]` by linear interpolation between the scale's stops."""
    stops = _colorscale(scale)
    t = np.clip((values - lo) / (hi - lo if hi > lo else 1.0), 0.0, 1.0)
    positions = [s for s, _ in stops]
    channels = [np.interp(t, positions, [c[k] for _, c in stops]) for k in range(4)]
    out = np.stack(channels, axis=-1)
    out[~np.isfinite(values)] = 0
    return out.astype(np.uint8)


class _Panel:
    """One axis pair's rectangle in pixels and its data ranges."""

    def __init__(self, layout: dict, xname: str, yname: str, box: tuple[int, int, int, int]) -> None:
        xa, ya = layout.get(xname, {}), layout.get(yname, {})
        left, top, right, bottom = box
        x0, x1 = xa.get("domain", [0, 1])
        y0, y1 = ya.get("domain", [0, 1])
        self.left, self.right = left + x0 * (right - left), left + x1 * (right - left)
        self.top, self.bottom = bottom - y1 * (bottom - top), bottom - y0 * (bottom - top)
        self.xrange, self.yrange = xa.get("range"), ya.get("range")
        if ya.get("scaleanchor") and self.xrange and self.yrange:  # equal scales: shrink to a square-ish box
            sx = (self.right - self.left) / (self.xrange[1] - self.xrange[0])
            sy = (self.bottom - self.top) / (self.yrange[1] - self.yrange[0])
            s = min(sx, sy)
            cx, cy = (self.left + self.right) / 2, (self.top + self.bottom) / 2
            half_w, half_h = s * (self.xrange[1] - self.xrange[0]) / 2, s * (self.yrange[1] - self.yrange[0]) / 2
            self.left, self.right, self.top, self.bottom = cx - half_w, cx + half_w, cy - half_h, cy + half_h

    def fit(self, xs: np.ndarray, ys: np.ndarray) -> None:
        """Ranges from the data where the layout gives none."""
        if self.xrange is None and np.isfinite(xs).any():
            self.xrange = [float(np.nanmin(xs)), float(np.nanmax(xs)) + 1e-9]
        if self.yrange is None and np.isfinite(ys).any():
            self.yrange = [float(np.nanmin(ys)), float(np.nanmax(ys)) + 1e-9]

    def to_pixels(self, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        (x0, x1), (y0, y1) = self.xrange or (0, 1), self.yrange or (0, 1)
        px = self.left + (xs - x0) / (x1 - x0 or 1) * (self.right - self.left)
        py = self.bottom - (ys - y0) / (y1 - y0 or 1) * (self.bottom - self.top)
        return px, py


def _floats(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in (values or [])], dtype=np.float64)


def _axis_names(trace: dict) -> tuple[str, str]:
    x, y = trace.get("xaxis", "x"), trace.get("yaxis", "y")
    return "xaxis" + x[1:], "yaxis" + y[1:]


def _draw_heatmap(image: Image.Image, panel: _Panel, trace: dict) -> None:
    z = np.array([[np.nan if v is None else v for v in row] for row in trace.get("z", [])], dtype=np.float64)
    if z.ndim != 2 or z.size == 0:
        return
    xs, ys = _floats(trace.get("x")), _floats(trace.get("y"))
    xs = xs if len(xs) == z.shape[1] else np.arange(z.shape[1], dtype=float)
    ys = ys if len(ys) == z.shape[0] else np.arange(z.shape[0], dtype=float)
    panel.fit(xs, ys)
    finite = z[np.isfinite(z)]
    lo = trace.get("zmin", float(finite.min()) if finite.size else 0.0)
    hi = trace.get("zmax", float(finite.max()) if finite.size else 1.0)
    rgba = _colormap(z[::-1], trace.get("colorscale"), lo, hi)  # row 0 is the lowest y
    rgba[..., 3] = (rgba[..., 3] * float(trace.get("opacity", 1.0))).astype(np.uint8)
    (px0, px1), (py0, py1) = panel.to_pixels(xs[[0, -1]], ys[[-1, 0]])
    width, height = max(1, int(round(px1 - px0))), max(1, int(round(py1 - py0)))
    tile = Image.fromarray(rgba, "RGBA").resize((width, height), Image.Resampling.BILINEAR)
    image.alpha_composite(tile, (int(round(px0)), int(round(py0))))


def _draw_scatter(draw: ImageDraw.ImageDraw, panel: _Panel, trace: dict, index: int) -> None:
    xs, ys = _floats(trace.get("x")), _floats(trace.get("y"))
    if not len(xs):
        return
    panel.fit(xs, ys)
    px, py = panel.to_pixels(xs, ys)
    mode = trace.get("mode", "markers" if len(xs) > 20 else "lines+markers")
    opacity = float(trace.get("opacity", 1.0))
    fallback = TRACE_COLORS[index % len(TRACE_COLORS)]
    if "lines" in mode:
        line = trace.get("line", {})
        color = _rgba(line.get("color", fallback), opacity)
        width = max(1, int(round(float(line.get("width", 2)))))
        segment: list[tuple[float, float]] = []
        for x, y in zip(px, py, strict=True):
            if math.isfinite(x) and math.isfinite(y):
                segment.append((x, y))
                continue
            if len(segment) > 1:
                draw.line(segment, fill=color, width=width)
            segment = []
        if len(segment) > 1:
            draw.line(segment, fill=color, width=width)
    if "markers" in mode:
        marker = trace.get("marker", {})
        colors = marker.get("color", fallback)
        alpha = opacity * float(marker.get("opacity", 1.0)) if not isinstance(marker.get("opacity"), list) else opacity
        radius = max(1.0, float(marker.get("size", 6)) / 2) if not isinstance(marker.get("size"), list) else 3.0
        if isinstance(colors, list | tuple | np.ndarray) and len(colors) == len(xs):
            if all(isinstance(c, int | float) for c in colors):
                values = np.asarray(colors, dtype=float)
                rgba = _colormap(values, marker.get("colorscale"), float(np.nanmin(values)), float(np.nanmax(values)))
                fills = [tuple(int(v) for v in c[:3]) + (int(255 * alpha),) for c in rgba]
            else:
                fills = [_rgba(c, alpha) for c in colors]
        else:
            fills = [_rgba(colors, alpha)] * len(xs)
        for x, y, fill in zip(px, py, fills, strict=True):
            if math.isfinite(x) and math.isfinite(y):
                draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=fill)


def _render(layout: dict, traces: Sequence[dict], size: tuple[int, int]) -> Image.Image:
    width, height = size
    image = Image.new("RGBA", (width, height), (255, 255, 255, 255))
    margin = layout.get("margin", {})
    top = int(margin.get("t", 40)) + 4
    box = (int(margin.get("l", 30)), top, width - int(margin.get("r", 10)), height - int(margin.get("b", 30)))
    panels: dict[tuple[str, str], _Panel] = {}
    for trace in traces:
        names = _axis_names(trace)
        if names not in panels:
            panels[names] = _Panel(layout, *names, box)
    for trace in traces:  # heatmaps first, below the points
        if trace.get("type") == "heatmap" and trace.get("visible", True) is not False:
            _draw_heatmap(image, panels[_axis_names(trace)], trace)
    overlay = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for index, trace in enumerate(traces):
        if trace.get("type", "scatter") in ("scatter", "scattergl") and trace.get("visible", True) is not False:
            _draw_scatter(draw, panels[_axis_names(trace)], trace, index)
    image.alpha_composite(overlay)
    frame = ImageDraw.Draw(image)
    for panel in panels.values():
        frame.rectangle((panel.left, panel.top, panel.right, panel.bottom), outline=(180, 180, 180, 255))
    title = layout.get("title", {})
    text = title.get("text", "") if isinstance(title, dict) else str(title)
    if text:
        frame.text((box[0], 8), text.replace("<b>", "").replace("</b>", ""), fill=(30, 30, 30, 255), font_size=18)
    return image.convert("RGB")


def _size(fig: dict) -> tuple[int, int]:
    height = int(fig.get("layout", {}).get("height", HEIGHT))
    return (WIDTH if height <= 700 else int(WIDTH * height / 700), height) if height > 0 else (WIDTH, HEIGHT)


def figure_png(fig: dict) -> bytes:
    """The figure (its base traces) as PNG bytes."""
    buffer = io.BytesIO()
    _render(fig.get("layout", {}), fig.get("data", []), _size(fig)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def frames_of(fig: dict) -> list[list[dict]]:
    """The traces shown at each frame of an animated figure (a frame replaces the traces it names)."""
    base = list(fig.get("data", []))
    shown = []
    for frame in fig.get("frames", [])[:MAX_FRAMES]:
        traces = list(base)
        indices = frame.get("traces", range(len(frame.get("data", []))))
        for index, trace in zip(indices, frame.get("data", []), strict=False):
            if index < len(traces):
                traces[index] = {**traces[index], **trace}
        shown.append(traces)
    return shown or [base]


def _captions(fig: dict) -> list[str]:
    """Each frame's caption: the figure's title and the frame's slider label (e.g. "t = 0.40")."""
    layout = fig.get("layout", {})
    title = layout.get("title", {})
    text = title.get("text", "") if isinstance(title, dict) else str(title)
    sliders = layout.get("sliders") or [{}]
    prefix = sliders[0].get("currentvalue", {}).get("prefix", "")
    return [f"{text}   {prefix}{frame.get('name', '')}".strip() for frame in fig.get("frames", [])[:MAX_FRAMES]]


def animation_gif(fig: dict, duration_ms: int = 120, titles: Sequence[str] | None = None) -> bytes:
    """Every frame of an animated figure as one looping GIF; `titles[i]` captions frame i (default:
    the title and the frame's slider label)."""
    layout = {**fig.get("layout", {}), "margin": {**fig.get("layout", {}).get("margin", {}), "b": 30}}
    titles = list(titles) if titles is not None else _captions(fig)
    images = []
    for i, traces in enumerate(frames_of(fig)):
        caption = titles[i] if i < len(titles) else ""
        images.append(_render({**layout, "title": {"text": caption}}, traces, _size(fig)).quantize(colors=128))
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=duration_ms, loop=0)
    return buffer.getvalue()
