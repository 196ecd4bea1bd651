"""Offscreen PNG stills of a triangle mesh or of one frame of a motion.

Drawn by :class:`motion.render.scene.MeshRenderer` (the same scene, lights and camera
presets as the videos). Written atomically: no partial PNG is left on failure.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from motion.render.output import atomic_output, check_motion, check_output
from motion.render.scene import (  # noqa: F401 - re-exported for callers of the old module
    BACKGROUND,
    PRESETS,
    SKIN_COLOR,
    CameraFrame,
    MeshRenderer,
    RenderUnavailableError,
    frame_preset,
    get_pyrender,
)

if TYPE_CHECKING:  # pragma: no cover
    from motion.container import Motion


def render_mesh_image(
    vertices: np.ndarray,
    faces: np.ndarray,
    preset: str = "full_body",
    size: tuple[int, int] = (640, 480),
    vertex_colors: np.ndarray | None = None,
    supersample: int = 2,
    frame: CameraFrame | None = None,
    focus: np.ndarray | None = None,
) -> np.ndarray:
    """Render a mesh to an RGB image ``(H, W, 3)`` uint8.

    Args:
        vertices: ``(V, 3)`` positions, metres, Y up, the character facing +z.
        faces: ``(F, 3)`` triangle indices.
        preset: one of :data:`PRESETS`.
        size: ``(width, height)`` in pixels.
        vertex_colors: optional ``(V, 3)`` RGB in [0, 1]; default a uniform skin tone.
        supersample: render this many times larger and downsample (anti-aliasing).
        frame: explicit camera framing (overrides ``preset``).
        focus: vertex ids to frame instead of the preset's height band.
    """
    v = np.asarray(vertices, dtype=np.float64)
    w, h = int(size[0]), int(size[1])
    frame = frame if frame is not None else frame_preset(v, preset, w / h, focus=focus)
    with MeshRenderer(faces, frame, (w, h), vertex_colors, supersample) as draw:
        return draw(v)


def write_png(image: np.ndarray, path: str | os.PathLike[str]) -> Path:
    """Write an RGB image ``(H, W, 3)`` uint8 to ``path`` atomically (temp file + rename)."""
    from PIL import Image

    out = Path(path)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass  # check_output says why it cannot be written
    out = check_output(out, (".png",))
    with atomic_output(out) as tmp:
        Image.fromarray(image).save(tmp, format="PNG", optimize=True)
    return out


def render_mesh_png(
    vertices: np.ndarray,
    faces: np.ndarray,
    path: str | os.PathLike[str],
    preset: str = "full_body",
    size: tuple[int, int] = (640, 480),
    vertex_colors: np.ndarray | None = None,
    focus: np.ndarray | None = None,
) -> Path:
    """Render ``vertices`` ``(V, 3)`` / ``faces`` ``(F, 3)`` to a PNG at ``path``; returns it.

    Arguments as :func:`render_mesh_image`; the file is written atomically.
    """
    return write_png(render_mesh_image(vertices, faces, preset, size, vertex_colors, focus=focus), path)


def expressive_frame(motion: Motion) -> int:
    """The frame with the largest expression energy ``||expression_t||`` (0 without a face)."""
    assert motion.expression is not None
    if motion.num_expressions == 0:
        return 0
    return int(np.linalg.norm(motion.expression, axis=1).argmax())


def render_motion_png(
    motion: Motion,
    path: str | os.PathLike[str],
    frame: int | None = None,
    preset: str = "full_body",
    size: tuple[int, int] = (640, 480),
    models_dir: str | os.PathLike[str] | None = None,
    body_model: Any = None,
) -> Path:
    """Render one frame of ``motion`` (default: :func:`expressive_frame`) with face colours.

    Raises:
        RenderError: bad suffix / destination, non-finite motion, frame out of range.
    """
    from motion.bodymodels import load_body_model
    from motion.render.colors import body_colors
    from motion.render.output import RenderError
    from motion.render.video import head_focus, posed_vertices

    out = check_output(path, (".png",))
    check_motion(motion)
    t = expressive_frame(motion) if frame is None else int(frame)
    if not -motion.num_frames <= t < motion.num_frames:
        raise RenderError(f"frame {t} is out of range for a {motion.num_frames}-frame motion")
    t %= motion.num_frames
    model = body_model if body_model is not None else load_body_model(models_dir, gender=motion.gender)
    verts = next(posed_vertices(motion, model, np.array([t])))[0]
    focus = head_focus(models_dir) if preset == "face" else None
    colors = body_colors(model, models_dir)
    return render_mesh_png(verts, np.asarray(model.faces, np.int64), out, preset, size, colors, focus=focus)
