"""Write AMASS SMPL-X ``.npz`` files, Z up (layout and axes: :mod:`motion.data.formats.amass`,
which reads them): the key layout and the exact Y-up -> Z-up turn (:func:`turn_world`) live
here, the reader turns back with them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from motion.container import Motion
from motion.export.npz._write import fit_width, meta_entry, prepare, save_npz, text
from motion.types import (
    NUM_EXPRESSIONS,
    POSE_BODY,
    POSE_EYES,
    POSE_GLOBAL,
    POSE_JAW,
    POSE_LHAND,
    POSE_RHAND,
)

NAME = "amass"
#: The split keys, in the order they fill the flat 165-value pose vector.
SPLIT_KEYS: tuple[tuple[str, slice], ...] = (
    ("root_orient", POSE_GLOBAL),
    ("pose_body", POSE_BODY),
    ("pose_jaw", POSE_JAW),
    ("pose_eye", POSE_EYES),
    ("pose_hand", slice(POSE_LHAND.start, POSE_RHAND.stop)),
)
AMASS_NUM_BETAS = 16
#: Rotation of the Y-up (SMPL-X) world into AMASS's Z-up one: +90 degrees about X, ``(x, y, z) -> (x, -z, y)``.
Y_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


def turn_world(poses: np.ndarray, trans: np.ndarray, rot: np.ndarray,
               pelvis: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Turn a motion's whole body by the ``(3, 3)`` rotation ``rot`` about the world origin.

    Args:
        poses: ``(T, 165)`` flat axis-angle; only the root ``[0:3]`` changes (``rot @ R_root``).
        trans: ``(T, 3)``; the pelvis is at ``pelvis + trans``, so ``trans' = rot (trans + J) - J``.
        pelvis: ``(3,)`` rest pelvis joint ``J`` of the body model (zeros when ``None``).

    Returns:
        ``(poses, trans)`` turned (new float32 arrays).
    """
    from scipy.spatial.transform import Rotation

    j = np.zeros(3) if pelvis is None else np.asarray(pelvis, np.float64)
    out = np.array(poses, np.float64)
    r = Rotation.from_matrix(rot)
    out[:, POSE_GLOBAL] = (r * Rotation.from_rotvec(out[:, POSE_GLOBAL])).as_rotvec()
    return out.astype(np.float32), ((np.asarray(trans, np.float64) + j) @ rot.T - j).astype(np.float32)


def write_amass(
    motion: Motion,
    path: str | Path,
    *,
    fps: float | None = None,
    num_betas: int = AMASS_NUM_BETAS,
    compress: bool = False,
    z_up: bool = True,
    floor_offset: float = 0.0,
    pelvis: np.ndarray | None = None,
) -> Path:
    """Write ``motion`` as an AMASS SMPL-X ``.npz`` (atomically), Z up.

    Args:
        motion: the motion; refused if it holds NaN/Inf.
        path: output path (``.npz`` appended when it has another suffix).
        fps: write at this rate (slerp resampling on the way out); ``None`` keeps the motion's.
        num_betas: width of ``betas`` (zero-padded / truncated), 16 in AMASS.
        compress: use ``np.savez_compressed``.
        z_up: turn the (Y-up) motion to AMASS's Z up (see the module docstring); ``False``
            writes the coordinates as they are (a motion already Z up).
        floor_offset: metres added to the up coordinate of ``trans`` (after turning).
        pelvis: ``(3,)`` rest pelvis joint of the body model, for an exact turn (see :func:`turn_world`).

    Returns:
        The path written.
    """
    m = prepare(motion, fps, NAME)
    assert m.expression is not None
    flat = m.flat_poses.astype(np.float32)
    trans = m.trans.astype(np.float32)
    if z_up:
        flat, trans = turn_world(flat, trans, Y_TO_Z_UP, pelvis)
    trans[:, 2 if z_up else 1] += np.float32(floor_offset)
    expression = m.expression if m.num_expressions else np.zeros((m.num_frames, NUM_EXPRESSIONS), np.float32)
    arrays: dict[str, np.ndarray] = {
        "gender": text(m.gender),
        "surface_model_type": text("smplx"),
        "mocap_frame_rate": np.array(m.fps, np.float64),
        "mocap_framerate": np.array(m.fps, np.float64),
        "mocap_time_length": np.array(m.duration, np.float64),
        "trans": trans,
        "poses": flat,
        "betas": fit_width(m.betas, num_betas),
        "num_betas": np.array(num_betas, np.int64),
        **{key: flat[:, sl] for key, sl in SPLIT_KEYS},
        "expressions": expression.astype(np.float32),
        **meta_entry(m.meta),
    }
    return save_npz(path, arrays, compress=compress)
