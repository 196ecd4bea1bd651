"""Render the committed stand-in stills: ``python -m motion.render.standin_gallery [OUT_DIR]``.

Writes ``standin_expression.png`` (the stand-in SMPL-X body, arms lowered, one hand
gesturing, smiling with raised brows and the jaw open) and ``standin_face_closeup.png``
(the same expression, face preset) into ``OUT_DIR`` (default ``renders/``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from motion.types import JOINT_INDEX as J


def gesture_pose() -> np.ndarray:
    """A talking pose ``(55, 3)`` (axis-angle): left arm down, right forearm raised with
    the index finger up, head turned slightly, jaw open."""
    p = np.zeros((55, 3), dtype=np.float32)
    p[J["left_shoulder"]] = (0.0, 0.1, -1.3)
    p[J["left_elbow"]] = (0.0, -0.3, 0.0)
    p[J["right_shoulder"]] = (0.0, -0.35, 0.55)
    p[J["right_elbow"]] = (0.0, 0.0, -1.75)
    p[J["right_wrist"]] = (0.0, -0.2, 0.1)
    for f in ("middle", "ring", "pinky"):
        for k, a in ((1, 1.3), (2, 1.5), (3, 0.9)):
            p[J[f"right_{f}{k}"]] = (0.0, 0.0, a)
    p[J["right_thumb2"]] = (0.4, 0.0, 0.5)
    p[J["right_thumb3"]] = (0.3, 0.0, 0.4)
    p[J["spine2"]] = (0.04, 0.0, 0.0)
    p[J["neck"]] = (0.05, 0.10, 0.0)
    p[J["head"]] = (-0.05, 0.12, 0.05)
    p[J["jaw"]] = (0.15, 0.0, 0.0)
    return p


def gesture_expression(num: int = 100) -> np.ndarray:
    """Expression ``(num,)``: smile, brows up, eyes a little wide, lips parted."""
    from motion.bodymodels.names import expression_index

    e = np.zeros(num, dtype=np.float32)
    for name, value in (("smile", 1.6), ("brow_inner_up", 1.2), ("brow_outer_up", 1.2), ("eye_wide", 0.8),
                        ("cheek_squint", 0.6), ("mouth_open", 0.5)):
        e[expression_index(name)] = value
    return e


def render_gallery(out_dir: str | Path = "renders", models_dir: str | Path | None = None) -> list[Path]:
    """Render both stills into ``out_dir``; returns their paths."""
    import torch

    from motion.bodymodels import forward_kinematics, load_body_model
    from motion.render.colors import body_colors
    from motion.render.still import render_mesh_png
    from motion.render.video import head_focus

    model = load_body_model(models_dir)
    head = head_focus(models_dir)
    with torch.no_grad():
        out = forward_kinematics(model, gesture_pose()[None], expression=gesture_expression()[None])
    verts = out.vertices[0].numpy()
    faces = np.asarray(model.faces, dtype=np.int64)
    colors = body_colors(model, models_dir)
    out_dir = Path(out_dir)
    return [
        render_mesh_png(verts, faces, out_dir / "standin_expression.png", "full_body", (480, 640), colors),
        render_mesh_png(verts, faces, out_dir / "standin_face_closeup.png", "face", (480, 480), colors, focus=head),
    ]


if __name__ == "__main__":
    for path in render_gallery(*sys.argv[1:2]):
        print(path)
