"""Rotation conversions and interpolation, built on `roma <https://github.com/naver/roma>`_.

Conventions
-----------
* Axis-angle (rotation vector) in radians, shape ``(..., 3)``, as SMPL-X / BEAT2 / AMASS.
* Rotation matrices ``(..., 3, 3)`` acting on column vectors.
* Unit quaternions ``(..., 4)`` in roma's XYZW order.
* The 6D representation of Zhou et al., "On the Continuity of Rotation Representations
  in Neural Networks" (CVPR 2019): the first two *rows* of the matrix, flattened to
  ``(..., 6)``. This is PyTorch3D's ``matrix_to_rotation_6d`` layout, which EMAGE/BEAT2
  code uses, so features are interchangeable with theirs.

Every function takes and returns ``torch.Tensor``; use :func:`as_tensor` for numpy input.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import roma
import torch

RotationRep = Literal["axis_angle", "matrix", "quat", "6d"]
REP_DIMS: dict[str, tuple[int, ...]] = {
    "axis_angle": (3,),
    "matrix": (3, 3),
    "quat": (4,),
    "6d": (6,),
}


def as_tensor(x: np.ndarray | torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Return ``x`` as a float tensor (no copy when it already is one)."""
    if isinstance(x, torch.Tensor):
        return x.to(dtype)
    return torch.from_numpy(np.ascontiguousarray(x)).to(dtype)


def matrix_to_6d(mat: torch.Tensor) -> torch.Tensor:
    """``(..., 3, 3)`` -> ``(..., 6)``: first two rows (Zhou et al. 2019, Sec. 4)."""
    return mat[..., :2, :].reshape(*mat.shape[:-2], 6)


def sixd_to_matrix(d6: torch.Tensor) -> torch.Tensor:
    """``(..., 6)`` -> ``(..., 3, 3)`` by Gram-Schmidt (Zhou et al. 2019, Eq. 15).

    roma's ``special_gramschmidt`` orthonormalises *columns*; our 6D stores rows, so the
    two rows are passed as columns and the result is transposed back.
    """
    rows = d6.reshape(*d6.shape[:-1], 2, 3)
    cols = rows.transpose(-1, -2)  # (..., 3, 2)
    return roma.special_gramschmidt(cols).transpose(-1, -2)


def convert(rot: torch.Tensor, src: RotationRep, dst: RotationRep) -> torch.Tensor:
    """Convert rotations between representations.

    Args:
        rot: rotations in ``src`` representation, shape ``(..., *REP_DIMS[src])``.
        src, dst: one of ``"axis_angle"``, ``"matrix"``, ``"quat"``, ``"6d"``.

    Returns:
        Tensor of shape ``(..., *REP_DIMS[dst])``.
    """
    for rep in (src, dst):
        if rep not in REP_DIMS:
            raise ValueError(f"unknown rotation representation {rep!r}; use one of {list(REP_DIMS)}")
    if src == dst:
        return rot
    if src == "axis_angle":
        if dst == "quat":
            return roma.rotvec_to_unitquat(rot)
        mat = roma.rotvec_to_rotmat(rot)
    elif src == "quat":
        if dst == "axis_angle":
            return roma.unitquat_to_rotvec(rot)
        mat = roma.unitquat_to_rotmat(rot)
    elif src == "6d":
        mat = sixd_to_matrix(rot)
    else:
        mat = rot
    if dst == "matrix":
        return mat
    if dst == "6d":
        return matrix_to_6d(mat)
    if dst == "quat":
        return roma.rotmat_to_unitquat(mat)
    return roma.rotmat_to_rotvec(mat)


def quat_slerp(q0: torch.Tensor, q1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Element-wise spherical linear interpolation of unit quaternions.

    ``slerp(q0, q1, t) = q0 * exp(t * log(q0^-1 q1))`` along the shortest arc
    (Shoemake 1985), written with roma's quaternion algebra. Unlike
    ``roma.unitquat_slerp`` (an outer product over steps), ``t`` is paired with each
    element.

    Args:
        q0, q1: ``(..., 4)`` unit quaternions (XYZW).
        t: interpolation weights broadcastable to ``q0.shape[:-1]``; 0 -> q0, 1 -> q1.

    Returns:
        ``(..., 4)`` unit quaternions.
    """
    rel = roma.quat_product(roma.quat_conjugation(q0), q1)
    log_rel = roma.unitquat_to_rotvec(rel, shortest_arc=True)  # (..., 3)
    step = roma.rotvec_to_unitquat(t.unsqueeze(-1) * log_rel)
    return roma.quat_product(q0, step)


def slerp_rotvec(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Slerp between axis-angle rotations ``a`` and ``b`` ``(..., 3)`` with weights ``t``."""
    qa = roma.rotvec_to_unitquat(a)
    qb = roma.rotvec_to_unitquat(b)
    return roma.unitquat_to_rotvec(quat_slerp(qa, qb, t))
