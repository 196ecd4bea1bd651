"""Plain helpers shared by test modules (``from helpers import ...``: pytest puts ``tests/`` on the path)."""

from __future__ import annotations

import numpy as np

from motion.container import Motion
from motion.types import JOINT_INDEX


def swaying_motion(num_frames: int, fps: float = 30.0, num_expressions: int = 10) -> Motion:
    """Sinusoidal rotations on every joint, large (up to ~0.75 rad per axis) on the root, spine, a
    wrist, a finger, a foot and the jaw; translation on all three axes; shaped betas."""
    t = np.arange(num_frames)[:, None] / fps
    j = np.arange(55)[None, :, None]
    phase = np.array([0.0, 1.3, 2.1])[None, None, :]
    poses = 0.25 * np.sin(2 * np.pi * (0.4 + 0.05 * j) * t[:, :, None] + phase + j)
    for name in ("pelvis", "spine2", "left_wrist", "left_index2", "right_foot", "jaw"):
        poses[:, JOINT_INDEX[name]] *= 3.0
    trans = np.concatenate([0.2 * np.sin(t), 0.05 * np.cos(3 * t), 0.5 * t], axis=1)
    expression = 0.5 * np.sin(2 * t + np.arange(num_expressions)[None])
    return Motion(poses=poses, trans=trans, betas=np.linspace(-1.0, 1.0, 10), expression=expression, fps=fps)
