"""The body model's rest pose, as the exporters need it (numpy, float64).

BVH and glTF describe a skeleton by rest offsets and per-joint local rotations. The
SMPL-X forward kinematics of :mod:`smplx` (``lbs``) is exactly such a chain:
``G_j = G_parent(j) @ [R_j | J_j - J_parent(j)]`` with the rest joints
``J = J_regressor @ (v_template + shapedirs @ betas)``, the root placed at ``J_0 + trans``.
So exporting that rest skeleton with the motion's local rotations reproduces the model's
joint positions exactly, provided the rotations include the model's mean pose
(``pose_mean``: the hand mean pose when the model was built with ``flat_hand_mean=False``).

Not representable in BVH / glTF: the small shift of rest joints caused by expression
blendshapes (smplx regresses joints after adding them) and pose-corrective blendshapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from motion.types import NUM_JOINTS, PARENTS

if TYPE_CHECKING:  # pragma: no cover
    from motion.container import Motion


@dataclass
class RestModel:
    """A body model shaped by ``betas``, in rest pose (metres, Y up).

    Attributes:
        joints: ``(55, 3)`` rest joint positions.
        offsets: ``(55, 3)`` parent-relative offsets (row 0 = ``joints[0]``).
        parents: ``(55,)`` parent indices, -1 for the root.
        vertices: ``(V, 3)`` rest vertices.
        faces: ``(F, 3)`` triangle vertex indices.
        weights: ``(V, 55)`` linear-blend-skinning weights.
        expr_dirs: ``(V, 3, E)`` expression blendshapes (E may be 0).
        pose_mean: ``(55, 3)`` axis-angle the model adds to every pose (zeros mostly).
    """

    joints: np.ndarray
    offsets: np.ndarray
    parents: np.ndarray
    vertices: np.ndarray
    faces: np.ndarray
    weights: np.ndarray
    expr_dirs: np.ndarray
    pose_mean: np.ndarray


def _np(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def load_model(motion: Motion, body_model: Any = None, models_dir: str | None = None) -> Any:
    """``body_model`` if given, else :func:`motion.bodymodels.load_body_model` for the motion."""
    if body_model is not None:
        return body_model
    from motion.bodymodels import load_body_model

    return load_body_model(models_dir, gender=motion.gender)


def model_pose_mean(model: Any) -> np.ndarray:
    """``(55, 3)`` the model's mean pose, added to every pose as the toolkit's FK does.

    ``smplx.SMPLX.forward`` adds ``pose_mean`` itself and
    :func:`motion.bodymodels.forward_kinematics` adds it for ``SMPLXLayer`` models too
    (non-zero on the hands when ``flat_hand_mean=False``).
    """
    mean = getattr(model, "pose_mean", None)
    if mean is None:
        return np.zeros((NUM_JOINTS, 3))
    return _np(mean).reshape(NUM_JOINTS, 3)


def rest_model(model: Any, betas: np.ndarray) -> RestModel:
    """The rest pose of an :mod:`smplx` SMPL-X ``model`` shaped by ``betas``.

    ``betas`` ``(B,)`` is truncated or zero-padded to the model's shape space.
    """
    v_template = _np(model.v_template)
    shapedirs = _np(model.shapedirs)  # (V, 3, Bm)
    b = np.zeros(shapedirs.shape[-1])
    n = min(len(b), len(betas))
    b[:n] = np.asarray(betas, np.float64)[:n]
    vertices = v_template + shapedirs @ b
    joints = _np(model.J_regressor) @ vertices
    if joints.shape != (NUM_JOINTS, 3):
        raise ValueError(f"expected an SMPL-X model with 55 joints, got J_regressor -> {joints.shape}")
    parents = np.asarray(PARENTS, np.int64)
    model_parents = _np(model.parents).astype(np.int64)
    if not np.array_equal(model_parents[1:], parents[1:]):
        raise ValueError("the body model's kinematic tree differs from SMPL-X (motion.types.PARENTS)")
    offsets = joints.copy()
    offsets[1:] -= joints[parents[1:]]
    expr = getattr(model, "expr_dirs", None)
    expr_dirs = _np(expr) if expr is not None else np.zeros(v_template.shape + (0,))
    faces_src = model.faces_tensor if hasattr(model, "faces_tensor") else model.faces
    faces = _np(faces_src).astype(np.int64).reshape(-1, 3)
    return RestModel(
        joints=joints,
        offsets=offsets,
        parents=parents,
        vertices=vertices,
        faces=faces,
        weights=_np(model.lbs_weights),
        expr_dirs=expr_dirs,
        pose_mean=model_pose_mean(model),
    )


def local_rotations(motion: Motion, pose_mean: np.ndarray) -> np.ndarray:
    """``(T, 55, 3, 3)`` local rotation matrices of ``motion.poses + pose_mean`` (float64)."""
    from scipy.spatial.transform import Rotation

    aa = motion.poses.astype(np.float64) + pose_mean[None]
    return Rotation.from_rotvec(aa.reshape(-1, 3)).as_matrix().reshape(aa.shape[0], NUM_JOINTS, 3, 3)
