"""Forward kinematics of a fixed SMPL-X skeleton in numpy (no body model, no torch).

For measuring and generating motion, where joint *positions* of the same bones are needed
whatever body shape a clip carries (wrist speed, motion beats, head direction): the metrics
(:func:`motion.metrics.body.joint_positions`) and the synthetic corpus
(:mod:`motion.synthetic.corpus.skeleton`) both use it. The rest joints default to the stand-in's
(:func:`motion.bodymodels.skeleton.joint_positions`); all local frames are world-aligned in
the rest pose, as in SMPL-X. For the posed mesh use :func:`motion.bodymodels.forward_kinematics`.
"""

from __future__ import annotations

import numpy as np

from motion.types import NUM_JOINTS, PARENTS


def global_rotations(poses: np.ndarray) -> np.ndarray:
    """``(T, 55, 3)`` axis-angle -> ``(T, 55, 3, 3)`` world rotation of every joint."""
    from scipy.spatial.transform import Rotation

    poses = np.asarray(poses, np.float64)
    T = poses.shape[0]
    local = Rotation.from_rotvec(poses.reshape(-1, 3)).as_matrix().reshape(T, NUM_JOINTS, 3, 3)
    world = np.empty_like(local)
    for j, p in enumerate(PARENTS):
        world[:, j] = local[:, j] if p < 0 else world[:, p] @ local[:, j]
    return world


def skeleton_forward_kinematics(poses: np.ndarray, trans: np.ndarray | None = None,
                                rest: np.ndarray | None = None) -> np.ndarray:
    """Joint positions of a fixed skeleton.

    Args:
        poses: ``(T, 55, 3)`` axis-angle (SMPL-X order).
        trans: ``(T, 3)`` root translation, or None (root at the rest position).
        rest: ``(55, 3)`` rest joint positions (metres); None: the stand-in's.

    Returns:
        ``(T, 55, 3)`` joint positions in metres (float64).
    """
    if rest is None:
        from motion.bodymodels.skeleton import joint_positions

        rest = joint_positions()
    poses = np.asarray(poses, np.float64)
    world = global_rotations(poses)
    pos = np.empty((poses.shape[0], NUM_JOINTS, 3))
    for j, p in enumerate(PARENTS):
        if p < 0:
            pos[:, j] = rest[j]
        else:
            pos[:, j] = pos[:, p] + world[:, p] @ (rest[j] - rest[p])
    if trans is not None:
        pos += np.asarray(trans, np.float64)[:, None]
    return pos
