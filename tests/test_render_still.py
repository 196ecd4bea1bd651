"""Offscreen PNG stills (pyrender): size, content, presets, atomic writes, committed renders."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

if importlib.util.find_spec("pyrender") is None:  # not imported here: it would fix the GL platform
    pytest.skip("pyrender is not installed", allow_module_level=True)
from PIL import Image  # noqa: E402

from motion.bodymodels.standin.mesh_primitives import sweep, uv_sphere  # noqa: E402
from motion.render.still import BACKGROUND, RenderUnavailableError, frame_preset, render_mesh_png  # noqa: E402


def _figure() -> tuple[np.ndarray, np.ndarray]:
    """A 1.7 m 'person' made of a body capsule and a head sphere."""
    K = 5
    c = np.stack([np.zeros(K), np.linspace(-0.85, 0.45, K), np.zeros(K)], 1)
    body = sweep(c, np.tile([1.0, 0, 0], (K, 1)), np.tile([0, 0, 1.0], (K, 1)) * -1, np.full(K, 0.15), np.full(K, 0.1),
                 n_seg=24)
    head = uv_sphere(np.zeros(3), 0.11, np.linspace(10, 170, 12), 24)
    head_v = head.verts[:, [0, 2, 1]] * [1.0, 1.0, -1.0] + [0.0, 0.74, 0.0]  # poles up/down, not at the camera
    return np.concatenate([body.verts, head_v]), np.concatenate([body.faces, head.faces + len(body.verts)])


def _render(tmp_path: Path, **kw) -> np.ndarray:
    v, f = _figure()
    try:
        path = render_mesh_png(v, f, tmp_path / "still.png", **kw)
    except RenderUnavailableError as exc:
        pytest.skip(f"no offscreen OpenGL platform (EGL/OSMesa): {exc}")
    assert path.is_file() and not list(tmp_path.glob(".still.png.*"))  # atomic: no temp file left
    return np.asarray(Image.open(path).convert("RGB"))


def test_png_size_and_content(tmp_path: Path) -> None:
    img = _render(tmp_path, size=(160, 120))
    assert img.shape == (120, 160, 3)
    bg = np.round(np.asarray(BACKGROUND) * 255)
    centre = img[55:65, 76:84].reshape(-1, 3)
    assert (np.abs(centre - bg).max(1) > 20).all()  # the figure fills the centre
    assert np.abs(img[2, 2] - bg).max() <= 2  # background in the corner
    assert img[55:65, 76:84].mean() > 100  # lit, not black


def test_presets_frame_differently(tmp_path: Path) -> None:
    v, _ = _figure()
    full, face = frame_preset(v, "full_body", 1.0), frame_preset(v, "face", 1.0)
    assert face.distance < 0.3 * full.distance and face.target[1] > 0.6
    img = _render(tmp_path, size=(96, 96), preset="face")
    bg = np.round(np.asarray(BACKGROUND) * 255)
    assert (np.abs(img[44:52, 44:52].reshape(-1, 3) - bg).max(1) > 20).mean() > 0.9
    with pytest.raises(ValueError, match="unknown preset"):
        frame_preset(v, "feet", 1.0)

