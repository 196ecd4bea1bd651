"""Per-vertex colours for SMPL-X / FLAME meshes: skin, lips, eyes, mouth cavity.

Uses the named regions of :func:`motion.bodymodels.regions.face_regions` (FLAME's mask
file, which real FLAME also ships): ``lips``, ``left_eyeball`` / ``right_eyeball`` and,
on the stand-in, ``mouth_cavity``. Iris and pupil are painted by the angle of each eyeball
vertex from the eyeball's forward (+z) axis in the rest template, so they follow the eye
joints when posed.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

SKIN = (0.86, 0.69, 0.58)
LIPS = (0.72, 0.42, 0.40)
SCLERA = (0.95, 0.94, 0.92)
IRIS = (0.30, 0.42, 0.55)
PUPIL = (0.04, 0.04, 0.05)
MOUTH = (0.38, 0.10, 0.11)
IRIS_DEG = 30.0
PUPIL_DEG = 13.0


def face_colors(template: np.ndarray, regions: dict[str, np.ndarray]) -> np.ndarray:
    """Colours ``(V, 3)`` in [0, 1] for a mesh with rest vertices ``template`` ``(V, 3)``.

    Args:
        template: rest-pose vertices (the character looks along +z).
        regions: region name -> vertex ids on this mesh (missing regions stay skin).
    """
    col = np.tile(np.asarray(SKIN), (len(template), 1))
    if "lips" in regions:
        col[regions["lips"]] = LIPS
    if "mouth_cavity" in regions:
        col[regions["mouth_cavity"]] = MOUTH
    for key in ("left_eyeball", "right_eyeball"):
        ids = regions.get(key)
        if ids is None or len(ids) == 0:
            continue
        p = template[ids]
        c = 0.5 * (p.min(0) + p.max(0))
        d = p - c
        ang = np.degrees(np.arccos(np.clip(d[:, 2] / np.maximum(np.linalg.norm(d, axis=1), 1e-12), -1.0, 1.0)))
        col[ids] = np.where((ang < PUPIL_DEG)[:, None], PUPIL, np.where((ang < IRIS_DEG)[:, None], IRIS, SCLERA))
    return col


def body_colors(model: Any, models_dir: str | os.PathLike[str] | None = None) -> np.ndarray | None:
    """Face colours ``(V, 3)`` for an SMPL-X ``model`` (lips, eyes, mouth on skin).

    Uses the model's rest template and the SMPL-X ids of the FLAME regions; returns
    ``None`` (uniform skin) when the models folder has no FLAME region / correspondence files.
    """
    from motion.bodymodels import face_regions

    try:
        regions = face_regions(models_dir).smplx
    except (OSError, ValueError, KeyError):
        return None
    if not regions:
        return None
    template = model.v_template.detach().cpu().numpy() if hasattr(model.v_template, "detach") else model.v_template
    return face_colors(np.asarray(template, np.float64), regions)
