"""Standing on the floor: the vertical shift that puts a motion's lowest vertex at height 0.

SMPL-X places the pelvis at ``J_pelvis + trans`` (about the origin for generated motion), so
the feet of an unshifted export stand about a metre below the ground of every viewer. The
exporters add :func:`floor_offset` to the up coordinate of the root; the horizontal
translation and its vertical motion are kept as they are (one constant for the whole clip).

The heights come from linear blend skinning of the shaped rest mesh (the skinning every
importer does; pose-corrective blendshapes are not exported, so they are left out here too),
on at most ``max_frames`` frames spread evenly over the clip.

The numeric core (:func:`sample_frames`, :func:`skinned_heights`) is numpy only: the Blender
add-on gets a copy of this file at build time (``blender_addon/build.py``), so an import in
Blender stands where the toolkit's exports stand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

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


def global_transforms(joints: np.ndarray, parents: np.ndarray, rot: np.ndarray, root: np.ndarray) -> np.ndarray:
    """``(T, J, 4, 4)`` world transforms of the joints (rest frame -> posed world).

    Forward kinematics of the kinematic tree, ``G_j = G_parent(j) [R_j | J_j - J_parent(j)]``
    (SMPL, Loper et al. 2015, Eq. 4), then the rest pose removed (``- G_j J_j``).

    Args:
        joints: ``(J, 3)`` rest joint positions of the shaped body.
        parents: ``(J,)`` parent indices, -1 for the root.
        rot: ``(T, J, 3, 3)`` local rotations (mean pose included).
        root: ``(T, 3)`` world position of the pelvis.

    Returns:
        ``A`` with ``v_posed = A_j @ [v_rest, 1]`` for a vertex bound to joint ``j`` only.
    """
    T, J = rot.shape[:2]
    g_rot = np.empty_like(rot)
    g_pos = np.empty((T, J, 3))
    for j in range(J):
        p = int(parents[j])
        if p < 0:
            g_rot[:, j], g_pos[:, j] = rot[:, j], root
        else:
            g_rot[:, j] = g_rot[:, p] @ rot[:, j]
            g_pos[:, j] = g_pos[:, p] + np.einsum("tab,b->ta", g_rot[:, p], joints[j] - joints[p])
    out = np.zeros((T, J, 4, 4))
    out[:, :, :3, :3] = g_rot
    out[:, :, :3, 3] = g_pos - np.einsum("tjab,jb->tja", g_rot, joints)
    out[:, :, 3, 3] = 1.0
    return out


def skinned_heights(vertices: np.ndarray, joints: np.ndarray, parents: np.ndarray, weights: np.ndarray,
                    rot: np.ndarray, root: np.ndarray, axis: int = 1) -> np.ndarray:
    """``(T, V)`` coordinate ``axis`` (SMPL-X ``y`` = 1 is up) of every skinned vertex at every frame.

    Linear blend skinning ``v' = sum_j w_vj A_j [v, 1]`` (SMPL Eq. 7 without pose correctives),
    evaluated for the one row of ``A`` that gives the height.

    Args:
        vertices: ``(V, 3)`` shaped rest vertices. joints, parents, rot, root: as
            :func:`global_transforms`. weights: ``(V, J)`` skinning weights.
    """
    a = global_transforms(joints, parents, rot, root)[:, :, axis, :]  # (T, J, 4): the up row only
    T, J = a.shape[:2]
    coef = (weights @ a.transpose(1, 0, 2).reshape(J, T * 4)).reshape(-1, T, 4)  # (V, T, 4)
    return np.einsum("vtk,vk->tv", coef[..., :3], vertices) + coef[..., 3].T


def lowest_point(motion: Motion, rest: RestModel, max_frames: int = MAX_FRAMES) -> float:
    """Height (metres, SMPL-X ``y``) of the lowest skinned vertex over the clip (sampled frames)."""
    from scipy.spatial.transform import Rotation

    idx = sample_frames(motion.num_frames, max_frames)
    aa = motion.poses[idx].astype(np.float64) + rest.pose_mean[None]
    rot = Rotation.from_rotvec(aa.reshape(-1, 3)).as_matrix().reshape(len(idx), -1, 3, 3)
    root = motion.trans.astype(np.float64)[idx] + rest.joints[0]
    return float(skinned_heights(rest.vertices, rest.joints, rest.parents, rest.weights, rot, root).min())


def floor_offset(motion: Motion, rest: RestModel, max_frames: int = MAX_FRAMES) -> float:
    """Metres to add to the up coordinate so the lowest vertex of the clip touches ``y = 0``."""
    return -lowest_point(motion, rest, max_frames)
