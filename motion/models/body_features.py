"""The body motion representation the motion VAE learns: 52 joints in 6D + root motion.

Per frame, ``BODY_FEATURE_DIM = 52 * 6 + 3 = 315`` values::

    [0:312]   6D rotations (Zhou et al. 2019, first two matrix rows) of the 52 joints of
              BODY_JOINTS, in SMPL-X order: global orient, 21 body joints, 2 x 15 finger joints
    [312]     root x velocity (m/s)      horizontal root motion as velocity, so a window
    [313]     root height y (m)          does not depend on where the speaker stands
    [314]     root z velocity (m/s)      (SMPL-X / BEAT2 are Y-up)

Jaw and eyes (joints 22-24) are left out on purpose: the jaw belongs to the face model
(FLAME jaw, driven by the lips) and the eyes to gaze post-processing; AMUSE zeroes the jaw
of its body output as well. :func:`decode_body` returns them as zero rotations.
"""

from __future__ import annotations

from typing import Final

import torch

from motion.rotations import convert
from motion.types import FPS, JAW, LEFT_EYE, NUM_JOINTS, RIGHT_EYE

#: SMPL-X joints modelled by the body prior: all 55 but jaw and eyes (52 joints).
BODY_JOINTS: Final[tuple[int, ...]] = tuple(
    j for j in range(NUM_JOINTS) if j not in (JAW, LEFT_EYE, RIGHT_EYE))
ROT_DIM: Final[int] = 6 * len(BODY_JOINTS)
BODY_FEATURE_DIM: Final[int] = ROT_DIM + 3
#: Up axis of SMPL-X / BEAT2 root translation.
UP_AXIS: Final[int] = 1


def encode_body(poses: torch.Tensor, trans: torch.Tensor, fps: float = FPS) -> torch.Tensor:
    """SMPL-X axis-angle poses + translation -> body features.

    Args:
        poses: ``(..., T, 55, 3)`` axis-angle (radians).
        trans: ``(..., T, 3)`` root translation (metres, Y up).
        fps: frame rate, to express velocities in m/s.

    Returns:
        ``(..., T, 315)`` features; the first frame's horizontal velocity is 0.
    """
    rot6 = convert(poses[..., BODY_JOINTS, :], "axis_angle", "6d")  # (..., T, 52, 6)
    vel = torch.zeros_like(trans)
    vel[..., 1:, :] = (trans[..., 1:, :] - trans[..., :-1, :]) * fps
    root = torch.stack([vel[..., 0], trans[..., UP_AXIS], vel[..., 2]], dim=-1)
    return torch.cat([rot6.flatten(-2), root], dim=-1)


def decode_body(features: torch.Tensor, fps: float = FPS,
                start: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Body features -> SMPL-X axis-angle poses + translation (inverse of :func:`encode_body`).

    The horizontal root position integrates the velocities from frame 1 on:
    ``x_t = x_0 + sum_{k=1..t} v_k / fps`` with ``x_0 = start`` (default 0).

    Args:
        features: ``(..., T, 315)``.
        fps: frame rate of the features.
        start: optional ``(..., 3)`` translation of the first frame (its height is ignored).

    Returns:
        poses ``(..., T, 55, 3)`` (jaw and eyes zero) and trans ``(..., T, 3)``.
    """
    if features.shape[-1] != BODY_FEATURE_DIM:
        raise ValueError(f"body features must have {BODY_FEATURE_DIM} values per frame, "
                         f"got {features.shape[-1]}")
    lead = features.shape[:-1]
    rot6 = features[..., :ROT_DIM].reshape(*lead, len(BODY_JOINTS), 6)
    poses = features.new_zeros(*lead, NUM_JOINTS, 3)
    poses[..., BODY_JOINTS, :] = convert(rot6, "6d", "axis_angle")
    vel = features[..., ROT_DIM:].clone()
    vel[..., 0, :] = 0.0
    step = torch.cumsum(vel, dim=-2) / fps
    trans = torch.stack([step[..., 0], features[..., ROT_DIM + 1], step[..., 2]], dim=-1)
    if start is not None:
        trans[..., 0] = trans[..., 0] + start[..., None, 0]
        trans[..., 2] = trans[..., 2] + start[..., None, 2]
    return poses, trans
