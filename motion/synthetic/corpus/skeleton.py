"""A lightweight numpy SMPL-X skeleton: rest joints, FK and joint limits.

The generator and its tests need joint *positions* (wrist speed, motion beats, head
direction) but not the mesh, and must not depend on licensed model files or torch. Rest
joints are the toolkit's stand-in skeleton (:mod:`motion.bodymodels.skeleton`, numpy only;
y up, character faces +z, metres): close enough for speeds and directions, not for
rendering. All local frames are world-aligned in the rest pose, as in SMPL-X. The FK itself
is the toolkit's one numpy FK (:mod:`motion.bodymodels.kinematics`, shared with the body
metrics), on these rest joints.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from motion.bodymodels.kinematics import global_rotations, skeleton_forward_kinematics
from motion.bodymodels.skeleton import joint_positions
from motion.types import UPPER_BODY  # noqa: F401 (re-exported)

#: Rest joints used by :func:`forward_kinematics`: the toolkit's stand-in skeleton.
REST_JOINTS: Final[np.ndarray] = joint_positions()


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
