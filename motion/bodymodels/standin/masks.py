"""Named vertex regions of the stand-in head, written as its ``flame/FLAME_masks.pkl`` (the
format of the mask file published with FLAME 2020; read back by :func:`motion.bodymodels.face_regions`).
Part of the stand-in generator (:mod:`motion.bodymodels.standin`)."""

from __future__ import annotations

import numpy as np

from motion.bodymodels.standin.mesh_primitives import smoothstep


def standin_masks(head, expression_mask: np.ndarray) -> dict[str, np.ndarray]:
    """FLAME_masks-style regions of the stand-in head (head order ids).

    Args:
        head: the :class:`~motion.bodymodels.standin.head_mesh.HeadMesh`.
        expression_mask: ``(Vh,)`` the face-front weight of :func:`expression_basis.face_mask`.
    """
    from motion.bodymodels.standin import head_geometry as hg
    from motion.bodymodels.standin.head_mesh import EYE_L, EYE_R, MOUTH, SKIN

    v = head.verts
    skin = head.kind == SKIN
    th = np.nan_to_num(np.abs(head.theta), nan=np.pi)
    phi_m = float(head.phi[head.mouth_upper[0]])
    u = np.nan_to_num((phi_m - head.phi) * np.linalg.norm(hg.MOUTH_CREASE - hg.RAY_ORIGIN))
    lip_w = 1.0 - smoothstep(np.abs(v[:, 0]), 0.022, 0.03)
    lips = skin & (lip_w > 0.5) & (u < 0.0075) & (u > -0.009)
    eye_dist = np.minimum(*(np.linalg.norm(v - hg.EYE_CENTRE * [s, 1, 1], axis=1) for s in (1.0, -1.0)))
    eye_region = skin & (eye_dist < 0.024) & (v[:, 1] > -0.02) & (v[:, 2] > 0.04)
    forehead = skin & (v[:, 1] > 0.028) & (v[:, 1] < 0.085) & (th < np.radians(55.0)) & ~eye_region
    ids = lambda m: np.where(m)[0].astype(np.int64)  # noqa: E731
    return {
        "lips": ids(lips), "eye_region": ids(eye_region), "forehead": ids(forehead),
        "left_eye_region": ids(eye_region & (v[:, 0] > 0)), "right_eye_region": ids(eye_region & (v[:, 0] < 0)),
        "left_eyeball": ids(head.kind == EYE_L), "right_eyeball": ids(head.kind == EYE_R),
        "nose": ids(skin & (np.abs(v[:, 0]) < 0.02) & (v[:, 1] > -0.036) & (v[:, 1] < 0.02) & (v[:, 2] > 0.075)),
        "face": ids(expression_mask > 0.5), "neck": ids(skin & (v[:, 1] < -0.13)),
        "scalp": ids(skin & (v[:, 1] > 0.06) & ~(forehead | eye_region)),
        "mouth_cavity": ids(head.kind == MOUTH),
    }
