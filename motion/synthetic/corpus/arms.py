"""Arm and hand parameters -> SMPL-X axis-angle for shoulder, elbow, wrist and fingers.

Arms are animated in an 11-d anatomical parameter space (radians unless noted), the
same for both sides; the right arm is the mirror image of the left::

    0 abd      shoulder elevation from hanging (0 = arm down, pi/2 = T-pose)
    1 flex     forward raise of the upper arm
    2 ext      external rotation of the upper arm (+ swings a bent forearm outward)
    3 elbow    elbow flexion
    4 pron     forearm rotation (- = supination, palm up; + = pronation)
    5 wflex    wrist flexion (+ toward the palm)
    6 wdev     wrist radial/ulnar deviation
    7-10       hand-shape weights: relaxed, open, point, fist

SMPL-X facts used: rest pose is a T-pose with the left arm along +x, palms down, all
local frames world-aligned; the character faces +z with y up. For the left arm the
shoulder rotation is ``R_x(-flex) R_z(abd - pi/2) R_x(-ext)``, elbow flexion is
``R_y(-elbow)``, wrist ``R_x(pron) R_z(-wflex) R_y(wdev)``, finger curl ``R_z(-c)``.
Mirroring through the body's sagittal (x = 0) plane maps an axis-angle (x, y, z) to
(x, -y, -z), which turns every left-arm rotation into the right-arm one.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from scipy.spatial.transform import Rotation

ARM_DIM: Final[int] = 11
HAND_SHAPES: Final[tuple[str, ...]] = ("relaxed", "open", "point", "fist")
MIRROR: Final[np.ndarray] = np.array([1.0, -1.0, -1.0])

#: Lower / upper limits of the 11 parameters (shape weights are renormalised).
PARAM_LO: Final[np.ndarray] = np.array([-0.1, -0.4, -0.9, 0.05, -1.5, -0.9, -0.35, 0, 0, 0, 0])
PARAM_HI: Final[np.ndarray] = np.array([1.6, 1.6, 0.9, 2.3, 0.9, 0.9, 0.35, 1, 1, 1, 1])

# Curl (rad) of the 3 joints of index, middle, pinky, ring, thumb for each hand shape.
_CURL: Final[dict[str, list[tuple[float, float, float]]]] = {
    "relaxed": [(0.15, 0.25, 0.15), (0.25, 0.3, 0.2), (0.35, 0.4, 0.25), (0.3, 0.35, 0.25),
                (0.1, 0.15, 0.1)],
    "open": [(0.02, 0.03, 0.02)] * 4 + [(0.0, 0.0, 0.0)],
    "point": [(0.0, 0.02, 0.02), (1.3, 1.5, 0.9), (1.3, 1.5, 0.9), (1.3, 1.5, 0.9),
              (0.3, 0.5, 0.4)],
    "fist": [(1.4, 1.6, 1.0), (1.45, 1.6, 1.0), (1.4, 1.55, 1.0), (1.45, 1.6, 1.0),
             (0.4, 0.6, 0.5)],
}
# Thumb joints curl about a tilted axis (the thumb's flexion axis is not the fingers').
_THUMB_AXIS: Final[np.ndarray] = np.array([0.3, 0.45, -0.84]) / np.linalg.norm([0.3, 0.45, -0.84])


def hand_shape_pose(shape: str) -> np.ndarray:
    """``(15, 3)`` left-hand axis-angle of a named hand shape."""
    out = np.zeros((15, 3))
    for f, curls in enumerate(_CURL[shape]):
        for k, c in enumerate(curls):
            out[3 * f + k] = c * (_THUMB_AXIS if f == 4 else np.array([0.0, 0.0, -1.0]))
    return out


_SHAPES: Final[np.ndarray] = np.stack([hand_shape_pose(s) for s in HAND_SHAPES])  # (4,15,3)


def hand_weights(shape: str) -> np.ndarray:
    """``(4,)`` one-hot weights of a hand shape."""
    w = np.zeros(4)
    w[HAND_SHAPES.index(shape)] = 1.0
    return w


def clamp_params(params: np.ndarray) -> np.ndarray:
    """Clip ``(..., 11)`` parameters to their limits and renormalise shape weights."""
    p = np.clip(params, PARAM_LO, PARAM_HI)
    w = p[..., 7:11]
    p[..., 7:11] = w / np.maximum(w.sum(axis=-1, keepdims=True), 1e-6)
    return p


def _rv(axis: int, angle: np.ndarray) -> Rotation:
    v = np.zeros((len(angle), 3))
    v[:, axis] = angle
    return Rotation.from_rotvec(v)


def arm_axis_angles(params: np.ndarray, side: str) -> dict[str, np.ndarray]:
    """Axis-angle rotations of one arm.

    Args:
        params: ``(T, 11)`` parameters (see module docstring).
        side: ``"left"`` or ``"right"``.

    Returns:
        ``{"shoulder": (T,3), "elbow": (T,3), "wrist": (T,3), "fingers": (T,15,3)}``.
    """
    p = clamp_params(np.asarray(params, np.float64))
    abd, flex, ext, elbow, pron, wflex, wdev = (p[:, i] for i in range(7))
    shoulder = (_rv(0, -flex) * _rv(2, abd - np.pi / 2) * _rv(0, -ext)).as_rotvec()
    elb = _rv(1, -elbow).as_rotvec()
    wrist = (_rv(0, pron) * _rv(2, -wflex) * _rv(1, wdev)).as_rotvec()
    fingers = np.einsum("ts,sjc->tjc", p[:, 7:11], _SHAPES)
    out = {"shoulder": shoulder, "elbow": elb, "wrist": wrist, "fingers": fingers}
    if side == "right":
        out = {k: v * MIRROR for k, v in out.items()}
    elif side != "left":
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    return out
