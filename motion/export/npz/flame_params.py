"""Write EMOTE-style FLAME parameter files (``.npz`` or a pickled dict of numpy arrays; layout
and the SMPL-X mapping: :mod:`motion.data.formats.flame_params`, which reads them). The mapping
of FLAME's global / neck rotations onto SMPL-X joints (:func:`global_pose_joints`) lives here."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np

from motion.container import Motion, MotionMeta
from motion.export.npz._write import meta_entry, prepare, save_npz, save_pickle
from motion.types import (
    JAW,
    JOINT_INDEX,
    LEFT_EYE,
    NUM_FACE_EXPRESSIONS_DEFAULT,
    PARENTS,
    RIGHT_EYE,
    ROOT,
)

NAME = "flame_params"
FLAME_NUM_SHAPE = 100
SHAPE_META_KEY = "flame_shape"

GlobalPoseMode = Literal["neck", "root", "drop"]
NECK = JOINT_INDEX["neck"]
HEAD = JOINT_INDEX["head"]
#: mode -> (SMPL-X joint receiving FLAME ``global_pose`` or None, joint receiving FLAME ``neck``)
_JOINT_MAP: dict[str, tuple[int | None, int]] = {
    "neck": (NECK, HEAD),
    "root": (ROOT, NECK),
    "drop": (None, NECK),
}


def global_pose_joints(global_pose: str) -> tuple[int | None, int]:
    """``(joint receiving FLAME global_pose or None, joint receiving FLAME neck)`` for a ``global_pose`` mode."""
    if global_pose not in _JOINT_MAP:
        raise ValueError(f"global_pose must be one of {', '.join(_JOINT_MAP)}; got {global_pose!r}")
    return _JOINT_MAP[global_pose]


def neck_world_rotation(poses: np.ndarray) -> np.ndarray:
    """``(T, 3)`` world rotation of the SMPL-X neck frame: pelvis * spine1..3 * neck."""
    from motion.rotations import as_tensor, convert

    chain: list[int] = []
    j = NECK
    while j >= 0:
        chain.insert(0, j)
        j = PARENTS[j]
    mats = convert(as_tensor(poses[:, chain]), "axis_angle", "matrix")  # (T, len(chain), 3, 3)
    world = mats[:, 0]
    for k in range(1, len(chain)):
        world = world @ mats[:, k]
    return convert(world, "matrix", "axis_angle").numpy().astype(np.float32)


def _shape_from_meta(motion: Motion) -> np.ndarray:
    value = motion.meta.extra.get(SHAPE_META_KEY)
    try:
        arr = np.asarray(value, np.float32)
    except (TypeError, ValueError):
        arr = np.zeros(0, np.float32)
    if value is None or arr.ndim != 1 or not np.isfinite(arr).all():
        return np.zeros(FLAME_NUM_SHAPE, np.float32)
    return arr


def write_flame_params(
    motion: Motion,
    path: str | Path,
    *,
    fps: float | None = None,
    num_expressions: int = NUM_FACE_EXPRESSIONS_DEFAULT,
    global_pose: GlobalPoseMode = "neck",
    compress: bool = False,
) -> Path:
    """Write the face / head part of ``motion`` as FLAME parameters (atomically).

    Args:
        motion: the motion; refused if it holds NaN/Inf.
        path: ``.pkl`` / ``.pickle`` writes a pickled dict of numpy arrays; anything else
            an ``.npz`` (``.npz`` appended when it has another suffix).
        fps: resample to this rate first (``None`` keeps the motion's rate).
        num_expressions: number of ``exp`` coefficients written (first E; zero-padded).
        global_pose: which SMPL-X rotation becomes FLAME ``global_pose`` (see module doc).
        compress: ``.npz`` only: use ``np.savez_compressed``.

    Returns:
        The path written.
    """
    global_joint, neck_joint = global_pose_joints(global_pose)
    m = prepare(motion, fps, NAME)
    assert m.expression is not None
    T = m.num_frames
    exp = np.zeros((T, num_expressions), np.float32)
    n = min(num_expressions, m.num_expressions)
    exp[:, :n] = m.expression[:, :n]
    if global_joint == NECK:
        glob = neck_world_rotation(m.poses)
    elif global_joint is None:
        glob = np.zeros((T, 3), np.float32)
    else:
        glob = m.poses[:, global_joint]
    meta = MotionMeta.from_dict(m.meta.to_dict())
    meta.extra.pop(SHAPE_META_KEY, None)  # stored as "shape" instead
    arrays: dict[str, np.ndarray] = {
        "exp": exp,
        "jaw": m.poses[:, JAW].astype(np.float32),
        "global_pose": glob.astype(np.float32),
        "neck": m.poses[:, neck_joint].astype(np.float32),
        "eyes": m.poses[:, [LEFT_EYE, RIGHT_EYE]].reshape(T, 6).astype(np.float32),
        "shape": _shape_from_meta(m),
        "fps": np.array(m.fps, np.float64),
        **meta_entry(meta),
    }
    if Path(path).suffix.lower() in (".pkl", ".pickle"):
        return save_pickle(path, arrays)
    return save_npz(path, arrays, compress=compress)
