"""Face landmark embeddings of the stand-in head (iBUG-68 semantics).

The 51 static landmarks are iBUG points 17-67 (brows, nose, eyes, lips); the 17 contour
landmarks are points 0-16 (jaw line, from the character's right ear to the left one).
Each landmark sits exactly on a head vertex, embedded as that vertex's face with one-hot
barycentric coordinates (real files use arbitrary surface points; smplx only needs a face
id and barycentric weights).
"""

from __future__ import annotations

import numpy as np

from motion.bodymodels.standin import head_geometry as hg
from motion.bodymodels.standin.head_mesh import SKIN, HeadMesh

NUM_STATIC = 51
NUM_CONTOUR = 17
NUM_YAW_BINS = 79


def _nearest_skin(head: HeadMesh, pts: np.ndarray) -> np.ndarray:
    skin = np.where(head.kind == SKIN)[0]
    d = np.linalg.norm(head.verts[skin][None] - pts[:, None], axis=2)
    return skin[np.argmin(d, axis=1)]


def _surface(theta_deg: np.ndarray, phi_deg: np.ndarray) -> np.ndarray:
    dirs = hg.ray_dirs(np.radians(theta_deg), np.radians(phi_deg))
    return hg.RAY_ORIGIN + hg.cast(dirs)[:, None] * dirs


def _lip_edge(head: HeadMesh, ids: np.ndarray, offset: float) -> np.ndarray:
    """Skin vertices ``offset`` metres above (+) / below (-) the given slit vertices."""
    return _nearest_skin(head, head.verts[ids] + np.array([0.0, offset, 0.004]))


def _pick(ids: np.ndarray, fractions: list[float]) -> np.ndarray:
    return ids[np.round(np.asarray(fractions) * (len(ids) - 1)).astype(int)]


def landmark_vertices(head: HeadMesh) -> tuple[np.ndarray, np.ndarray]:
    """Head vertex ids of the 51 static and the 17 contour landmarks (iBUG order)."""
    brow_x = np.array([-0.050, -0.041, -0.031, -0.021, -0.011, 0.011, 0.021, 0.031, 0.041, 0.050])
    brow_y = 0.032 - 8.0 * (np.abs(brow_x) - 0.028) ** 2
    brows = _nearest_skin(head, np.stack([brow_x, brow_y, np.full(10, 0.1)], 1))
    bridge = _nearest_skin(head, np.array([[0.0, y, 0.12] for y in (0.014, 0.002, -0.010, -0.024)]))
    nose_low = _nearest_skin(head, np.array([[x, -0.033, 0.1] for x in (-0.012, -0.006, 0.0, 0.006, 0.012)]))
    eyes = []
    for side in ("right", "left"):
        up, lo = head.lid_upper[side], head.lid_lower[side]  # ordered by increasing x
        outer, inner = (head.eye_corners[side][0], head.eye_corners[side][1]) if side == "right" else \
            (head.eye_corners[side][1], head.eye_corners[side][0])
        if side == "right":  # 36 outer(-x), 37, 38 upper, 39 inner, 40, 41 lower
            eyes += [outer, *_pick(up, [1 / 3, 2 / 3]), inner, *_pick(lo, [2 / 3, 1 / 3])]
        else:  # 42 inner, 43, 44 upper, 45 outer(+x), 46, 47 lower
            eyes += [inner, *_pick(up, [1 / 3, 2 / 3]), outer, *_pick(lo, [2 / 3, 1 / 3])]
    mu, ml = head.mouth_upper, head.mouth_lower  # ordered by increasing x
    rc, lc = head.mouth_corners
    top = _lip_edge(head, _pick(mu, [0.12, 0.32, 0.5, 0.68, 0.88]), 0.0085)
    bottom = _lip_edge(head, _pick(ml, [0.85, 0.68, 0.5, 0.32, 0.15]), -0.0095)
    outer_lip = [rc, *top, lc, *bottom]
    inner_lip = [rc, *_pick(mu, [0.3, 0.5, 0.7]), lc, *_pick(ml, [0.7, 0.5, 0.3])]
    static = np.array([*brows, *bridge, *nose_low, *eyes, *outer_lip, *inner_lip], dtype=np.int64)
    assert len(static) == NUM_STATIC
    th = np.linspace(-78.0, 78.0, NUM_CONTOUR)
    ph = 128.0 - 26.0 * (np.abs(th) / 78.0) ** 1.5
    contour = _nearest_skin(head, _surface(th, ph))
    return static, contour


def embed_vertices(faces: np.ndarray, vertex_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Face index ``(L,)`` and one-hot barycentric coordinates ``(L, 3)`` putting each
    landmark exactly on its vertex (the lowest-numbered face that uses the vertex)."""
    face_idx = np.empty(len(vertex_ids), dtype=np.int64)
    bary = np.zeros((len(vertex_ids), 3))
    for i, v in enumerate(vertex_ids):
        f, corner = np.argwhere(faces == v)[0]
        face_idx[i] = f
        bary[i, corner] = 1.0
    return face_idx, bary


def head_embeddings(head: HeadMesh) -> dict[str, np.ndarray]:
    """Static ``(51,)``/``(51,3)`` and dynamic ``(79,17)``/``(79,17,3)`` embeddings over
    the head faces (FLAME face numbering)."""
    static, contour = landmark_vertices(head)
    sf, sb = embed_vertices(head.faces, static)
    cf, cb = embed_vertices(head.faces, contour)
    return {
        "lmk_face_idx": sf, "lmk_b_coords": sb,
        "dyn_face_idx": np.repeat(cf[None], NUM_YAW_BINS, 0), "dyn_b_coords": np.repeat(cb[None], NUM_YAW_BINS, 0),
    }
