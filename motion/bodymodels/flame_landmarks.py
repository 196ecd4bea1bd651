"""Vertices under the iBUG-68 face landmarks of a FLAME model (its static embedding).

FLAME's ``flame_static_embedding`` places 51 landmarks, iBUG 17-67, on mesh triangles
(``lmk_faces_idx``, ``lmk_bary_coords``); the vertex of a landmark is the corner of its triangle
with the largest barycentric weight (the stand-in's landmarks sit exactly on vertices). Used by
the face metrics (lip gap), the lip-closure solver, the ARKit exporter and the face decoder's
vertex sets. numpy only; torch tensors are accepted.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: The FLAME static landmarks are iBUG 17-67 (landmark ``i`` is row ``i - 17``).
FIRST_STATIC_IBUG = 17
#: iBUG-68 indices of the upper and lower inner-lip centres.
IBUG_UPPER_LIP_CENTRE, IBUG_LOWER_LIP_CENTRE = 62, 66
#: iBUG-68 upper / lower inner-lip landmark pairs (left, centre, right).
IBUG_INNER_LIP_PAIRS: tuple[tuple[int, int], ...] = ((61, 67), (62, 66), (63, 65))


def _np(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def landmark_vertex_ids(face_model: Any) -> np.ndarray:
    """``(51,)`` vertex id nearest to each static landmark (corner of largest barycentric weight)."""
    faces = _np(face_model.faces_tensor).astype(np.int64)
    fidx = _np(face_model.lmk_faces_idx).astype(np.int64)
    bary = _np(face_model.lmk_bary_coords)
    return faces[fidx, bary.argmax(1)]


def lip_centre_ids(face_model: Any, landmarks: np.ndarray | None = None) -> tuple[int, int]:
    """Vertex ids under the upper and lower inner-lip centre landmarks (iBUG 62, 66);
    ``landmarks``: :func:`landmark_vertex_ids` of the model when already at hand."""
    lm = landmark_vertex_ids(face_model) if landmarks is None else landmarks
    return int(lm[IBUG_UPPER_LIP_CENTRE - FIRST_STATIC_IBUG]), int(lm[IBUG_LOWER_LIP_CENTRE - FIRST_STATIC_IBUG])


def inner_lip_pairs(face_model: Any) -> np.ndarray:
    """``(K, 2)`` vertex ids (upper, lower) under the iBUG inner-lip landmark pairs."""
    lm = landmark_vertex_ids(face_model)
    return np.array([[lm[a - FIRST_STATIC_IBUG], lm[b - FIRST_STATIC_IBUG]] for a, b in IBUG_INNER_LIP_PAIRS],
                    np.int64)
