"""Standing on the floor: the vertical shift that puts a motion's lowest vertex at height 0.

SMPL-X places the pelvis at ``J_pelvis + trans`` (about the origin for generated motion), so
the feet of an unshifted export stand about a metre below the ground of every viewer. The
exporters add :func:`floor_offset` to the up coordinate of the root; the horizontal
translation and its vertical motion are kept as they are (one constant for the whole clip).

The heights come from linear blend skinning of the shaped rest mesh (the skinning every
importer does; pose-corrective blendshapes are not exported, so they are left out here too),
on at most ``max_frames`` frames spread evenly over the clip.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from motion.types import NUM_JOINTS

if TYPE_CHECKING:  # pragma: no cover
    from motion.container import Motion
    from motion.export._rest import RestModel

#: Frames sampled (evenly, first and last included) to find the lowest vertex.
MAX_FRAMES: int = 96


def sample_frames(num_frames: int, max_frames: int = MAX_FRAMES) -> np.ndarray:
    """``(K,)`` frame indices, ``K = min(num_frames, max_frames)``, evenly spread, ends included."""
    if num_frames <= max_frames:
        return np.arange(num_frames)
    return np.unique(np.linspace(0, num_frames - 1, max_frames).round().astype(np.int64))


def global_transforms(rest: RestModel, rot: np.ndarray, root: np.ndarray) -> np.ndarray:
    """``(T, 55, 4, 4)`` world transforms of the joints (rest frame -> posed world).

    Args:
        rest: shaped rest body.
        rot: ``(T, 55, 3, 3)`` local rotations (mean pose included).
        root: ``(T, 3)`` world position of the pelvis.

    Returns:
        ``A`` with ``v_posed = A_j @ [v_rest, 1]`` for a vertex bound to joint ``j`` only.
    """
    T = rot.shape[0]
    g_rot = np.empty_like(rot)
    g_pos = np.empty((T, NUM_JOINTS, 3))
    for j in range(NUM_JOINTS):
        p = int(rest.parents[j])
        if p < 0:
            g_rot[:, j], g_pos[:, j] = rot[:, j], root
        else:
            g_rot[:, j] = g_rot[:, p] @ rot[:, j]
            g_pos[:, j] = g_pos[:, p] + np.einsum("tab,b->ta", g_rot[:, p], rest.offsets[j])
    out = np.zeros((T, NUM_JOINTS, 4, 4))
    out[:, :, :3, :3] = g_rot
    out[:, :, :3, 3] = g_pos - np.einsum("tjab,jb->tja", g_rot, rest.joints)
    out[:, :, 3, 3] = 1.0
    return out


def skinned_heights(rest: RestModel, rot: np.ndarray, root: np.ndarray) -> np.ndarray:
    """``(T, V)`` height (SMPL-X ``y``) of every skinned vertex at every given frame."""
    a = global_transforms(rest, rot, root)[:, :, 1, :]  # (T, 55, 4): the y row only
    T = a.shape[0]
    coef = (rest.weights @ a.transpose(1, 0, 2).reshape(NUM_JOINTS, T * 4)).reshape(-1, T, 4)  # (V, T, 4)
    return (np.einsum("vtk,vk->tv", coef[..., :3], rest.vertices) + coef[..., 3].T)


def lowest_point(motion: Motion, rest: RestModel, max_frames: int = MAX_FRAMES) -> float:
    """Height (metres, SMPL-X ``y``) of the lowest skinned vertex over the clip (sampled frames)."""
    from scipy.spatial.transform import Rotation

    idx = sample_frames(motion.num_frames, max_frames)
    aa = motion.poses[idx].astype(np.float64) + rest.pose_mean[None]
    rot = Rotation.from_rotvec(aa.reshape(-1, 3)).as_matrix().reshape(len(idx), NUM_JOINTS, 3, 3)
    root = motion.trans.astype(np.float64)[idx] + rest.joints[0]
    return float(skinned_heights(rest, rot, root).min())


def floor_offset(motion: Motion, rest: RestModel, max_frames: int = MAX_FRAMES) -> float:
    """Metres to add to the up coordinate so the lowest vertex of the clip touches ``y = 0``."""
    return -lowest_point(motion, rest, max_frames)
