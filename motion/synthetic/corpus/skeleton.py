"""A lightweight numpy SMPL-X skeleton: approximate rest joints, FK and joint limits.

The generator and its tests need joint *positions* (wrist speed, motion beats, head
direction) but not the mesh, and must not depend on licensed model files or torch. Rest
joints come from the toolkit's stand-in skeleton (:mod:`motion.bodymodels.skeleton`)
when it imports, else from a built-in table approximating the SMPL-X neutral mean shape
(y up, character faces +z, metres); either is close enough for speeds and directions,
not for rendering. All local frames are world-aligned in the rest pose, as in SMPL-X. The
FK itself is the toolkit's one numpy FK (:mod:`motion.bodymodels.kinematics`, shared with
the body metrics), on these rest joints.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from motion.bodymodels.kinematics import global_rotations, skeleton_forward_kinematics
from motion.types import NUM_JOINTS, UPPER_BODY  # noqa: F401 (UPPER_BODY re-exported)

_BODY: Final[list[tuple[float, float, float]]] = [
    (0.00, -0.35, 0.01), (0.06, -0.44, 0.00), (-0.06, -0.44, 0.00), (0.00, -0.24, -0.01),
    (0.11, -0.82, 0.01), (-0.11, -0.82, 0.01), (0.00, -0.10, 0.01), (0.07, -1.23, -0.03),
    (-0.07, -1.23, -0.03), (0.00, -0.05, 0.03), (0.12, -1.28, 0.09), (-0.12, -1.28, 0.09),
    (0.00, 0.16, -0.01), (0.07, 0.07, 0.00), (-0.07, 0.07, 0.00), (0.00, 0.29, 0.04),
    (0.17, 0.11, -0.02), (-0.17, 0.11, -0.02), (0.43, 0.09, -0.04), (-0.43, 0.09, -0.04),
    (0.68, 0.10, -0.04), (-0.68, 0.10, -0.04), (0.00, 0.26, 0.05), (0.03, 0.33, 0.10),
    (-0.03, 0.33, 0.10),
]
# Finger chains of the left hand relative to the left wrist: root offset, then two
# phalanx offsets (index, middle, pinky, ring, thumb - SMPL-X order).
_FINGERS: Final[list[tuple[tuple[float, float, float], float]]] = [
    ((0.085, -0.005, 0.025), 0.032), ((0.090, -0.005, 0.000), 0.036),
    ((0.075, -0.010, -0.040), 0.024), ((0.085, -0.008, -0.020), 0.032),
    ((0.025, -0.015, 0.030), 0.030),
]


def rest_joints() -> np.ndarray:
    """``(55, 3)`` approximate SMPL-X neutral rest joint positions (metres)."""
    j = np.zeros((NUM_JOINTS, 3))
    j[:25] = np.asarray(_BODY)
    for side, wrist, first in ((1.0, 20, 25), (-1.0, 21, 40)):
        for f, (root, length) in enumerate(_FINGERS):
            base = first + 3 * f
            mirror = np.array([side, 1.0, 1.0])
            j[base] = j[wrist] + np.asarray(root) * mirror
            direction = np.array([side, 0.0, 0.3 if f == 4 else 0.0])
            direction /= np.linalg.norm(direction)
            j[base + 1] = j[base] + direction * length
            j[base + 2] = j[base + 1] + direction * length * 0.8
    return j


def _toolkit_rest_joints() -> np.ndarray:
    """The toolkit's stand-in skeleton when available (same conventions), else ours."""
    try:
        from motion.bodymodels.skeleton import joint_positions

        j = np.asarray(joint_positions(), np.float64)
    except Exception:  # noqa: BLE001 - optional: fall back to the built-in table
        return rest_joints()
    return j if j.shape == (NUM_JOINTS, 3) and np.isfinite(j).all() else rest_joints()


#: Rest joints used by :func:`forward_kinematics`.
REST_JOINTS: Final[np.ndarray] = _toolkit_rest_joints()


def forward_kinematics(poses: np.ndarray, trans: np.ndarray | None = None) -> np.ndarray:
    """Joint positions of the approximate skeleton.

    Args:
        poses: ``(T, 55, 3)`` axis-angle (SMPL-X order).
        trans: ``(T, 3)`` root translation or None.

    Returns:
        ``(T, 55, 3)`` positions in metres (:func:`motion.bodymodels.kinematics.skeleton_forward_kinematics`).
    """
    return skeleton_forward_kinematics(poses, trans, REST_JOINTS)


def head_pitch(poses: np.ndarray) -> np.ndarray:
    """``(T,)`` downward pitch (rad) of the head's forward (+z) axis; + = looking down."""
    fwd = global_rotations(np.asarray(poses, np.float64))[:, 15] @ np.array([0.0, 0.0, 1.0])
    return np.arcsin(np.clip(-fwd[:, 1], -1.0, 1.0))


# Per-joint axis-angle component limits (radians), generous physiological ranges used
# as a final safety clamp: (joint indices, low xyz, high xyz).
_LIMITS: Final[list[tuple[tuple[int, ...], tuple[float, ...], tuple[float, ...]]]] = [
    ((0,), (-0.4, -0.6, -0.3), (0.4, 0.6, 0.3)),  # root
    ((1, 2), (-0.5, -0.4, -0.4), (0.5, 0.4, 0.4)),  # hips
    ((4, 5), (0.0, -0.1, -0.1), (0.8, 0.1, 0.1)),  # knees flex only
    ((7, 8, 10, 11), (-0.3, -0.2, -0.2), (0.3, 0.2, 0.2)),  # ankles, feet
    ((3, 6, 9), (-0.3, -0.35, -0.25), (0.45, 0.35, 0.25)),  # spine
    ((12, 15), (-0.5, -0.7, -0.4), (0.6, 0.7, 0.4)),  # neck, head
    ((13, 14), (-0.4, -0.4, -0.5), (0.4, 0.4, 0.5)),  # collars
    ((16, 17), (-2.0, -2.0, -2.0), (2.0, 2.0, 2.0)),  # shoulders
    ((18, 19), (-0.6, -2.5, -0.6), (0.6, 2.5, 0.6)),  # elbows
    ((20, 21), (-1.7, -0.6, -1.2), (1.7, 0.6, 1.2)),  # wrists
    ((22,), (-0.05, -0.05, -0.05), (0.5, 0.05, 0.05)),  # jaw: opens about +x
    ((23, 24), (-0.5, -0.6, -0.1), (0.5, 0.6, 0.1)),  # eyes
    (tuple(range(25, 55)), (-1.2, -1.2, -1.8), (1.2, 1.2, 1.8)),  # fingers
]


def clamp_to_limits(poses: np.ndarray) -> np.ndarray:
    """Clamp every joint's axis-angle components to :data:`_LIMITS` (in place; returned)."""
    for joints, lo, hi in _LIMITS:
        idx = list(joints)
        poses[:, idx] = np.clip(poses[:, idx], lo, hi)
    return poses
