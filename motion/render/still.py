"""Offscreen PNG stills of a triangle mesh with pyrender (EGL, falling back to OSMesa).

``PYOPENGL_PLATFORM`` must be chosen before PyOpenGL is imported: when it is unset this
module tries ``egl`` first and, if no EGL context can be made, reloads PyOpenGL with
``osmesa``. :class:`RenderUnavailableError` says so when neither works.

Camera presets frame a part of the mesh's bounding box, seen from the front (+z), Y up:
``full_body`` (everything), ``upper_body`` (top half), ``face`` (top 14 %, i.e. the head
of a standing person).
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

PRESETS = ("full_body", "upper_body", "face")
SKIN_COLOR = (0.86, 0.69, 0.58)
BACKGROUND = (0.93, 0.94, 0.96)


class RenderUnavailableError(RuntimeError):
    """No offscreen OpenGL platform (EGL or OSMesa) could be used."""


@dataclass(frozen=True)
class CameraFrame:
    """Where the camera looks (``target`` (3,)) and its distance, vertical field of view."""

    target: np.ndarray
    distance: float
    yfov: float


_PYRENDER: Any = None


def _purge_gl_modules() -> None:
    for name in [m for m in sys.modules if m == "OpenGL" or m.startswith(("OpenGL.", "pyrender"))]:
        del sys.modules[name]


def _pyrender() -> Any:
    """Import pyrender with a working offscreen platform (cached).

    Tried in order: PyOpenGL as already imported (its platform is fixed at import), then
    ``$PYOPENGL_PLATFORM`` or, when unset, ``egl`` and ``osmesa`` (PyOpenGL is reloaded).
    """
    global _PYRENDER
    if _PYRENDER is not None:
        return _PYRENDER
    requested = os.environ.get("PYOPENGL_PLATFORM")
    candidates: list[str | None] = [None] if "OpenGL" in sys.modules else []
    candidates += [requested] if requested else ["egl", "osmesa"]
    errors = []
    for platform in candidates:
        if platform is not None:
            _purge_gl_modules()
            os.environ["PYOPENGL_PLATFORM"] = platform
        try:
            import pyrender

            pyrender.OffscreenRenderer(8, 8).delete()
            _PYRENDER = pyrender
            return pyrender
        except Exception as exc:  # noqa: BLE001 - any GL failure means "try the next one"
            errors.append(f"{platform or 'as imported'}: {type(exc).__name__}: {exc}")
    raise RenderUnavailableError(
        "no offscreen OpenGL platform works (" + "; ".join(errors) + "). Install Mesa EGL "
        "(libegl1, libgl1-mesa-dri) or OSMesa (libosmesa6 with PyOpenGL>=3.1.9)."
    )


def frame_preset(vertices: np.ndarray, preset: str, aspect: float, yfov_deg: float = 24.0,
                 focus: np.ndarray | None = None) -> CameraFrame:
    """Camera framing for ``vertices`` ``(V, 3)`` (metres, Y up, facing +z).

    ``focus`` (vertex ids) replaces the preset's height band, e.g. the head vertices for
    ``face`` when a raised hand would otherwise enter the top band.
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {PRESETS}")
    if focus is not None:
        sel = vertices[np.asarray(focus)]
    else:
        lo, hi = vertices.min(0), vertices.max(0)
        frac = {"full_body": 1.0, "upper_body": 0.5, "face": 0.14}[preset]
        sel = vertices[vertices[:, 1] >= hi[1] - frac * (hi[1] - lo[1])]
    lo, hi = sel.min(0), sel.max(0)
    margin = {"full_body": 1.08, "upper_body": 1.1, "face": 1.25}[preset]
    half_h = 0.5 * margin * max(hi[1] - lo[1], (hi[0] - lo[0]) / aspect)
    yfov = np.radians(yfov_deg)
    target = 0.5 * (lo + hi)
    target[2] = 0.5 * (lo[2] + hi[2])
    distance = half_h / np.tan(0.5 * yfov) + 0.5 * (hi[2] - lo[2])
    return CameraFrame(target=target, distance=float(distance), yfov=float(yfov))


def _look_at(eye: np.ndarray, target: np.ndarray) -> np.ndarray:
    fwd = target - eye
    fwd = fwd / np.linalg.norm(fwd)
    right = np.cross(fwd, [0.0, 1.0, 0.0])
    if np.linalg.norm(right) < 1e-6:
        right = np.array([1.0, 0.0, 0.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, fwd)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = right, up, -fwd, eye
    return pose


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
    import trimesh
    from PIL import Image

    pyrender = _pyrender()
    v = np.asarray(vertices, dtype=np.float64)
    w, h = int(size[0]), int(size[1])
    f = np.asarray(faces, dtype=np.int64)
    normals = trimesh.Trimesh(v, f, process=False).vertex_normals
    if vertex_colors is None:
        vertex_colors = np.broadcast_to(np.asarray(SKIN_COLOR), v.shape)
    rgba = np.concatenate([np.clip(np.asarray(vertex_colors, dtype=np.float32), 0, 1), np.ones((len(v), 1), np.float32)], 1)
    material = pyrender.MetallicRoughnessMaterial(baseColorFactor=(1.0, 1.0, 1.0, 1.0), metallicFactor=0.0,
                                                  roughnessFactor=0.8, doubleSided=True)  # no see-through gaps
    prim = pyrender.Primitive(positions=v, normals=normals, indices=f, color_0=rgba, material=material)
    scene = pyrender.Scene(bg_color=(*BACKGROUND, 1.0), ambient_light=(0.22, 0.22, 0.24))
    scene.add(pyrender.Mesh([prim]))
    frame = frame if frame is not None else frame_preset(v, preset, w / h, focus=focus)
    eye = frame.target + np.array([0.0, 0.04 * frame.distance, frame.distance])
    scene.add(pyrender.PerspectiveCamera(yfov=frame.yfov, aspectRatio=w / h), pose=_look_at(eye, frame.target))
    for offset, intensity in (([-1.0, 1.2, 1.6], 1.9), ([1.4, 0.3, 1.0], 0.8), ([0.3, 1.5, -1.5], 1.0)):
        light_pos = frame.target + np.asarray(offset) * frame.distance
        scene.add(pyrender.DirectionalLight(color=np.ones(3), intensity=intensity), pose=_look_at(light_pos, frame.target))
    s = max(1, int(supersample))
    renderer = pyrender.OffscreenRenderer(w * s, h * s)
    try:
        color, _ = renderer.render(scene)
    finally:
        renderer.delete()
    img = Image.fromarray(np.ascontiguousarray(color[..., :3]))
    if s > 1:
        img = img.resize((w, h), Image.LANCZOS)
    return np.asarray(img)


def write_png(image: np.ndarray, path: str | os.PathLike[str]) -> Path:
    """Write an RGB image ``(H, W, 3)`` uint8 to ``path`` atomically (temp file + rename)."""
    from PIL import Image

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".png", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            Image.fromarray(image).save(fh, format="PNG", optimize=True)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
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
