"""Design joint positions of the stand-in mannequin (T-pose, metres, Y up, facing +z).

A 1.69 m adult: soles at y = -0.95, crown at y = 0.74, pelvis joint at the origin, arm
span (finger tip to finger tip) 1.77 m. The stand-in mesh is built around these points
and its ``J_regressor`` reproduces them from the template vertices exactly. Only the left
side is written out; the right side mirrors x.
"""

from __future__ import annotations

import numpy as np

from motion.types import JOINT_INDEX, JOINT_NAMES, NUM_JOINTS

SOLE_Y = -0.95
#: Head-local frame origin (see :mod:`motion.bodymodels.standin.head_geometry`) in the body frame.
HEAD_ORIGIN = np.array([0.0, 0.636, 0.006])

_LEFT: dict[str, tuple[float, float, float]] = {
    "pelvis": (0.0, 0.0, 0.0),
    "left_hip": (0.085, -0.080, 0.0),
    "spine1": (0.0, 0.110, -0.012),
    "left_knee": (0.095, -0.490, 0.008),
    "spine2": (0.0, 0.240, -0.010),
    "left_ankle": (0.100, -0.860, -0.025),
    "spine3": (0.0, 0.300, -0.005),
    "left_foot": (0.110, -0.925, 0.095),
    "neck": (0.0, 0.496, -0.012),
    "left_collar": (0.075, 0.430, -0.012),
    "head": (0.0, 0.576, -0.010),
    "left_shoulder": (0.180, 0.440, -0.015),
    "left_elbow": (0.440, 0.440, -0.020),
    "left_wrist": (0.690, 0.440, -0.012),
    "jaw": (0.0, 0.601, 0.006),
    "left_eye_smplhf": (0.0315, 0.638, 0.064),
    # fingers: MCP, PIP, DIP (thumb: CMC, MCP, IP); palms down, fingers along +x
    "left_index1": (0.786, 0.440, 0.027),
    "left_index2": (0.829, 0.440, 0.029),
    "left_index3": (0.854, 0.440, 0.030),
    "left_middle1": (0.788, 0.441, 0.008),
    "left_middle2": (0.835, 0.441, 0.008),
    "left_middle3": (0.863, 0.441, 0.008),
    "left_pinky1": (0.776, 0.439, -0.030),
    "left_pinky2": (0.810, 0.439, -0.032),
    "left_pinky3": (0.831, 0.439, -0.033),
    "left_ring1": (0.784, 0.440, -0.011),
    "left_ring2": (0.828, 0.440, -0.012),
    "left_ring3": (0.855, 0.440, -0.013),
    "left_thumb1": (0.708, 0.431, 0.024),
    "left_thumb2": (0.737, 0.428, 0.049),
    "left_thumb3": (0.764, 0.426, 0.063),
}
#: Finger tip points (ends of the distal segments).
FINGER_TIPS: dict[str, tuple[float, float, float]] = {
    "index": (0.875, 0.440, 0.031),
    "middle": (0.886, 0.441, 0.008),
    "pinky": (0.850, 0.439, -0.034),
    "ring": (0.877, 0.440, -0.014),
    "thumb": (0.789, 0.425, 0.071),
}
FINGERS = ("index", "middle", "pinky", "ring", "thumb")  # SMPL-X hand joint order


def mirror_name(name: str) -> str:
    """left_* <-> right_* (other names unchanged)."""
    if name.startswith("left_"):
        return "right_" + name[5:]
    if name.startswith("right_"):
        return "left_" + name[6:]
    return name


def joint_positions() -> np.ndarray:
    """Design joint positions ``(55, 3)`` in :data:`motion.types.JOINT_NAMES` order."""
    out = np.zeros((NUM_JOINTS, 3))
    for name, p in _LEFT.items():
        out[JOINT_INDEX[name]] = p
        if name.startswith("left_"):
            out[JOINT_INDEX[mirror_name(name)]] = (-p[0], p[1], p[2])
    return out


def mirror_joint_index() -> np.ndarray:
    """``(55,)`` index of each joint's mirror image (itself on the mid-line)."""
    return np.array([JOINT_INDEX[mirror_name(n)] for n in JOINT_NAMES])
