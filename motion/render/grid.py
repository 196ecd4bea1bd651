"""Side-by-side grid videos of several motions (e.g. one sentence in four emotions).

Each cell renders one motion with its own fixed camera (the preset applied to that motion),
the same lights and face colours as single videos, and a label drawn with PIL in its top
left corner. Motions at another frame rate are resampled to the first one's; shorter ones
hold their last frame until the longest ends. One audio track (optional) is muxed in.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from motion.render.output import RenderError
from motion.render.video import camera_for_motion, check_video_inputs, head_focus, posed_vertices

if TYPE_CHECKING:  # pragma: no cover
    from PIL import ImageFont

    from motion.container import Motion

LABEL_BG = (255, 255, 255, 200)
LABEL_FG = (30, 33, 40)


def grid_shape(n: int, cols: int | None = None) -> tuple[int, int]:
    """``(rows, cols)`` for ``n`` cells: ``cols`` if given, else as square as possible (wide)."""
    if n < 1:
        raise RenderError("a grid needs at least one motion")
    c = int(cols) if cols else math.ceil(math.sqrt(n))
    if c < 1:
        raise RenderError(f"cols must be >= 1, got {cols}")
    return math.ceil(n / c), c


def label_font(height: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """PIL's bundled font at about ``height`` pixels (bitmap default on old Pillow)."""
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=max(8, height))
    except TypeError:  # pragma: no cover - Pillow < 10.1
        return ImageFont.load_default()


def draw_label(cell: np.ndarray, text: str, font: Any) -> np.ndarray:
    """``cell`` ``(H, W, 3)`` with ``text`` on a light rounded box in the top left corner."""
    from PIL import Image, ImageDraw

    if not text:
        return cell
    img = Image.fromarray(cell).convert("RGBA")
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    pad = max(3, cell.shape[0] // 60)
    x0, y0, x1, y1 = d.textbbox((2 * pad, 2 * pad), text, font=font)
    d.rounded_rectangle((x0 - pad, y0 - pad, x1 + pad, y1 + pad), radius=pad, fill=LABEL_BG)
    d.text((2 * pad, 2 * pad), text, font=font, fill=LABEL_FG)
    return np.asarray(Image.alpha_composite(img, layer).convert("RGB"))


def default_label(motion: Motion, fallback: str) -> str:
    """``emotion`` (+ `` 3`` intensity) from the motion's metadata, else ``fallback``."""
    if motion.meta.emotion:
        inten = motion.meta.intensity
        return motion.meta.emotion + (f" {inten:g}" if inten is not None else "")
    return fallback


def _frames(motion: Motion, model: Any, total: int) -> Iterator[np.ndarray]:
    """Vertices ``(V, 3)`` of each frame, then the last frame again up to ``total`` frames."""
    last = None
    n = 0
    for chunk in posed_vertices(motion, model):
        for last in chunk:
            n += 1
            yield last
    while n < total:
        n += 1
        yield last  # type: ignore[misc]


def render_grid(
    motions: Sequence[Motion],
    path: str | os.PathLike[str],
    labels: Sequence[str] | None = None,
    audio: str | os.PathLike[str] | None = None,
    preset: str = "full_body",
    cell_size: tuple[int, int] = (320, 360),
    cols: int | None = None,
    models_dir: str | os.PathLike[str] | None = None,
    body_model: Any = None,
    progress: bool = True,
    supersample: int = 1,
) -> Path:
    """Render ``motions`` side by side into one MP4 at ``path`` (atomically).

    Args:
        motions: the animations (resampled to the first one's fps when they differ).
        path: output ``.mp4``.
        labels: one label per motion; default the emotion (+ intensity) or ``clip N``.
        audio: optional audio file muxed in (padded / cut to the video's length).
        preset: camera framing of every cell.
        cell_size: ``(width, height)`` of one cell; the video is ``cols x rows`` cells.
        cols: cells per row (default: as square as possible).
        models_dir, body_model: the SMPL-X model (default ``$MOTION_MODELS_DIR`` / stand-in).
        progress: show a progress bar.
        supersample: anti-aliasing factor of each cell.

    Raises:
        RenderError: bad suffix / destination, a non-finite motion, label count mismatch,
            odd video size.
    """
    from tqdm.auto import tqdm

    from motion.bodymodels import load_body_model
    from motion.render.colors import body_colors
    from motion.render.mp4 import Mp4Writer
    from motion.render.scene import MeshRenderer

    motions = list(motions)
    rows, cols = grid_shape(len(motions), cols)
    for m in motions:
        out = check_video_inputs(m, path, preset, audio)
    if labels is None:
        labels = [default_label(m, f"clip {i + 1}") for i, m in enumerate(motions)]
    if len(labels) != len(motions):
        raise RenderError(f"{len(labels)} labels for {len(motions)} motions")
    fps = motions[0].fps
    motions = [m if abs(m.fps - fps) < 1e-9 else m.resample(fps) for m in motions]
    cw, ch = int(cell_size[0]), int(cell_size[1])
    total = max(m.num_frames for m in motions)
    writer = Mp4Writer(out, (cols * cw, rows * ch), fps, audio, num_frames=total)
    model = body_model if body_model is not None else load_body_model(models_dir, gender=motions[0].gender)
    focus = head_focus(models_dir) if preset == "face" else None
    cams = [camera_for_motion(m, model, preset, cw / ch, focus=focus) for m in motions]
    font = label_font(max(10, ch // 16))
    canvas = np.full((rows * ch, cols * cw, 3), 255, np.uint8)
    streams = [_frames(m, model, total) for m in motions]
    with MeshRenderer(np.asarray(model.faces, np.int64), cams[0], (cw, ch), body_colors(model, models_dir),
                      supersample) as draw, writer, \
            tqdm(total=total, desc=f"grid {out.name}", unit="frame", disable=not progress) as bar:
        for _ in range(total):
            for i, stream in enumerate(streams):
                draw.set_camera(cams[i])
                r, c = divmod(i, cols)
                canvas[r * ch:(r + 1) * ch, c * cw:(c + 1) * cw] = draw_label(draw(next(stream)), labels[i], font)
            writer.send(canvas)
            bar.update(1)
    return out


def render_grid_png(
    motions: Sequence[Motion],
    path: str | os.PathLike[str],
    frames: Sequence[int] | None = None,
    labels: Sequence[str] | None = None,
    preset: str = "upper_body",
    cell_size: tuple[int, int] = (320, 360),
    cols: int | None = None,
    models_dir: str | os.PathLike[str] | None = None,
    body_model: Any = None,
    supersample: int = 2,
) -> Path:
    """A still grid: one frame of each motion side by side, labelled, as a PNG.

    ``frames`` default to each motion's most expressive frame
    (:func:`motion.render.still.expressive_frame`); other arguments as :func:`render_grid`.
    """
    from motion.bodymodels import load_body_model
    from motion.render.colors import body_colors
    from motion.render.output import check_motion, check_output
    from motion.render.scene import MeshRenderer, frame_preset
    from motion.render.still import expressive_frame, write_png

    motions = list(motions)
    rows, cols = grid_shape(len(motions), cols)
    check_output(path, (".png",))
    for m in motions:
        check_motion(m)
    frames = [expressive_frame(m) for m in motions] if frames is None else list(frames)
    labels = [default_label(m, f"clip {i + 1}") for i, m in enumerate(motions)] if labels is None else list(labels)
    if not len(frames) == len(labels) == len(motions):
        raise RenderError(f"{len(motions)} motions need as many frames and labels")
    cw, ch = int(cell_size[0]), int(cell_size[1])
    model = body_model if body_model is not None else load_body_model(models_dir, gender=motions[0].gender)
    focus = head_focus(models_dir) if preset == "face" else None
    verts = [next(posed_vertices(m, model, np.array([t])))[0] for m, t in zip(motions, frames)]
    canvas = np.full((rows * ch, cols * cw, 3), 255, np.uint8)
    font = label_font(max(10, ch // 16))
    with MeshRenderer(np.asarray(model.faces, np.int64), frame_preset(verts[0], preset, cw / ch, focus=focus),
                      (cw, ch), body_colors(model, models_dir), supersample) as draw:
        for i, v in enumerate(verts):
            draw.set_camera(frame_preset(v, preset, cw / ch, focus=focus))
            r, c = divmod(i, cols)
            canvas[r * ch:(r + 1) * ch, c * cw:(c + 1) * cw] = draw_label(draw(v), labels[i], font)
    return write_png(canvas, path)
