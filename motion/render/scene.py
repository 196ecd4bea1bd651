"""The one offscreen scene of the toolkit: platform choice, camera framing, lights, renderer.

Stills (:mod:`motion.render.still`), videos (:mod:`motion.render.video`) and grids
(:mod:`motion.render.grid`) all draw through :class:`MeshRenderer`, so they share the
camera presets, the three-light rig, the background and the vertex colours.

``PYOPENGL_PLATFORM`` must be chosen before PyOpenGL is imported: when it is unset
:func:`get_pyrender` tries ``egl`` first and, if no EGL context can be made, reloads
PyOpenGL with ``osmesa``. :class:`RenderUnavailableError` says so when neither works.

Camera presets frame a part of the mesh's bounding box, seen from the front (+z), Y up:
``full_body`` (everything), ``upper_body`` (top half), ``face`` (top 14 %, i.e. the head
of a standing person, or the ``focus`` vertices).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from motion.errors import MotionError

PRESETS = ("full_body", "upper_body", "face")
#: Largest drawn width or height in pixels (times the supersampling factor): OpenGL
#: implementations allow 8192 to 16384; beyond, the framebuffer cannot be made.
MAX_RENDER_SIZE = 8192
SKIN_COLOR = (0.86, 0.69, 0.58)
BACKGROUND = (0.93, 0.94, 0.96)
AMBIENT = (0.22, 0.22, 0.24)
#: Directional lights: (offset from the target in units of the camera distance, intensity).
LIGHTS: tuple[tuple[tuple[float, float, float], float], ...] = (
    ((-1.0, 1.2, 1.6), 1.9), ((1.4, 0.3, 1.0), 0.8), ((0.3, 1.5, -1.5), 1.0),
)


class RenderUnavailableError(MotionError, RuntimeError):
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


def get_pyrender() -> Any:
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
    distance = half_h / np.tan(0.5 * yfov) + 0.5 * (hi[2] - lo[2])
    return CameraFrame(target=target, distance=float(distance), yfov=float(yfov))


def look_at(eye: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``(4, 4)`` camera/light pose at ``eye`` looking at ``target`` (Y up)."""
    fwd = np.asarray(target, np.float64) - eye
    fwd = fwd / np.linalg.norm(fwd)
    right = np.cross(fwd, [0.0, 1.0, 0.0])
    if np.linalg.norm(right) < 1e-6:
        right = np.array([1.0, 0.0, 0.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, fwd)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = right, up, -fwd, eye
    return pose


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """``(V, 3)`` unit area-weighted vertex normals (``bincount`` sums: a few ms for SMPL-X)."""
    tri = vertices[faces]
    fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    idx = faces.reshape(-1)
    vn = np.stack([np.bincount(idx, np.repeat(fn[:, k], 3), minlength=len(vertices)) for k in range(3)], 1)
    norm = np.linalg.norm(vn, axis=1, keepdims=True)
    return np.divide(vn, norm, out=np.tile([0.0, 1.0, 0.0], (len(vn), 1)), where=norm > 1e-12)


def check_render_size(size: tuple[int, int], supersample: int = 1) -> None:
    """:class:`~motion.render.output.RenderError` unless ``size`` (times ``supersample``) can be drawn."""
    from motion.render.output import RenderError

    w, h, ss = int(size[0]), int(size[1]), max(1, int(supersample))
    if not (1 <= w * ss <= MAX_RENDER_SIZE and 1 <= h * ss <= MAX_RENDER_SIZE):
        extra = f" with supersample {ss}" if ss > 1 else ""
        raise RenderError(f"cannot render {w}x{h} pixels{extra}: width and height must be 1 to "
                          f"{MAX_RENDER_SIZE // ss} (the drawing is at most {MAX_RENDER_SIZE} pixels a side)")


class MeshRenderer:
    """A persistent offscreen context drawing one vertex-coloured mesh per call.

    Args:
        faces: ``(F, 3)`` triangle indices (fixed for the renderer's life).
        frame: camera framing (:func:`frame_preset`); :meth:`set_camera` changes it.
        size: ``(width, height)`` of the returned images.
        vertex_colors: ``(V, 3)`` RGB in [0, 1]; default a uniform skin tone.
        supersample: draw this many times larger and downsample (anti-aliasing).
    """

    def __init__(self, faces: np.ndarray, frame: CameraFrame, size: tuple[int, int],
                 vertex_colors: np.ndarray | None = None, supersample: int = 1) -> None:
        check_render_size(size, supersample)
        pr = self.pyrender = get_pyrender()
        self.faces = np.asarray(faces, dtype=np.int64)
        self.size = (int(size[0]), int(size[1]))
        self.ss = max(1, int(supersample))
        self.colors = None if vertex_colors is None else np.asarray(vertex_colors, np.float32)
        self.scene = pr.Scene(bg_color=(*BACKGROUND, 1.0), ambient_light=AMBIENT)
        self.material = pr.MetallicRoughnessMaterial(baseColorFactor=(1.0, 1.0, 1.0, 1.0), metallicFactor=0.0,
                                                     roughnessFactor=0.8, doubleSided=True)  # no see-through gaps
        self._camera: list[Any] = []
        self._node: Any = None
        self.set_camera(frame)
        self.renderer = pr.OffscreenRenderer(self.size[0] * self.ss, self.size[1] * self.ss)

    def set_camera(self, frame: CameraFrame) -> None:
        """Point the camera (and the light rig) at ``frame``."""
        pr = self.pyrender
        for node in self._camera:
            self.scene.remove_node(node)
        w, h = self.size
        eye = frame.target + np.array([0.0, 0.04 * frame.distance, frame.distance])
        self._camera = [self.scene.add(pr.PerspectiveCamera(yfov=frame.yfov, aspectRatio=w / h),
                                       pose=look_at(eye, frame.target))]
        for offset, intensity in LIGHTS:
            pos = frame.target + np.asarray(offset) * frame.distance
            self._camera.append(self.scene.add(pr.DirectionalLight(color=np.ones(3), intensity=intensity),
                                               pose=look_at(pos, frame.target)))

    def __call__(self, vertices: np.ndarray) -> np.ndarray:
        """Render ``vertices`` ``(V, 3)`` -> RGB ``(H, W, 3)`` uint8."""
        from PIL import Image

        pr = self.pyrender
        v = np.asarray(vertices, dtype=np.float64)
        normals = vertex_normals(v, self.faces)
        col = self.colors if self.colors is not None else np.broadcast_to(np.asarray(SKIN_COLOR, np.float32), v.shape)
        rgba = np.concatenate([np.clip(col, 0, 1), np.ones((len(v), 1), np.float32)], 1)
        prim = pr.Primitive(positions=v, normals=normals, indices=self.faces, color_0=rgba, material=self.material)
        if self._node is not None:
            self.scene.remove_node(self._node)
        self._node = self.scene.add(pr.Mesh([prim]))
        color, _ = self.renderer.render(self.scene)
        img = np.ascontiguousarray(color[..., :3])
        if self.ss > 1:
            img = np.asarray(Image.fromarray(img).resize(self.size, Image.LANCZOS))
        return img

    def close(self) -> None:
        """Free the GL context."""
        self.renderer.delete()

    def __enter__(self) -> MeshRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
