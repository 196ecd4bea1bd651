"""EMOTE-style FLAME parameter files (MEAD pseudo ground truth, EMOTE / FLINT outputs).

Keys (``.npz``, or a ``.pkl`` holding a dict of numpy arrays)::

    exp          (T, E)   FLAME expression, E = 50..100                 required
    jaw          (T, 3)   jaw axis-angle                                 required
    global_pose  (T, 3)   FLAME global (root) rotation, axis-angle       optional
    neck         (T, 3)   FLAME neck rotation                            optional
    eyes         (T, 6) or (T, 2, 3)  left, right eye axis-angle         optional
    shape        (S,) or (T, S)  FLAME identity shape                    optional
    fps          frame rate (MEAD / EMOTE: 25 when absent)               optional
    motion_meta  ours: JSON metadata                                     optional

``.pkl`` files are read with the numpy-only restricted unpickler of
:mod:`motion.data.formats.safe_pickle`, never with plain ``pickle.load``.

Mapping onto a :class:`~motion.container.Motion` (body at rest, zero translation):

* ``jaw`` -> SMPL-X joint 22 (jaw); ``eyes`` -> joints 23 / 24.
* ``exp`` -> ``expression``, zero-padded to ``num_expressions`` (100, SMPL-X 2020 /
  BEAT2), never truncated. SMPL-X 2020's expression space is FLAME 2020's, so the
  coefficients carry over unchanged.
* ``global_pose`` (option ``global_pose``, default ``"neck"``): FLAME's global rotation is
  the head's rotation relative to the world (camera), pivoting where the head meets the
  body. With the body at rest that is exactly the world rotation of the SMPL-X **neck**
  joint (12), so by default it goes there and FLAME's ``neck`` goes to the SMPL-X head
  joint (15): the head turns on the neck instead of the whole body spinning about the
  pelvis, and translation-free pseudo-GT stays plausible on a full body. ``"root"`` puts it
  on the pelvis (joint 0; FLAME ``neck`` -> SMPL-X neck), reproducing a FLAME-only viewer;
  ``"drop"`` discards it (FLAME ``neck`` -> SMPL-X neck).
* ``shape`` is FLAME head-identity space, not SMPL-X body betas, so it is kept in
  ``meta.extra["flame_shape"]`` (per-frame shapes are averaged; an all-zero shape, the
  mean identity, is not kept) and ``betas`` stay zero.

Writing inverts this: ``exp`` = the first ``num_expressions`` (default 50) coefficients,
``jaw``, ``eyes`` (T, 6), and in ``"neck"`` mode ``global_pose`` = the world rotation of the
SMPL-X neck (pelvis * spine1 * spine2 * spine3 * neck), ``neck`` = the head joint;
``shape`` = ``meta.extra["flame_shape"]`` or zeros; ``fps``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np

from motion.container import Motion, MotionMeta
from motion.data.formats._source import ArraySource, open_any
from motion.data.formats._write import meta_entry, prepare, save_npz, save_pickle
from motion.types import (
    JAW,
    JOINT_INDEX,
    LEFT_EYE,
    NUM_EXPRESSIONS,
    NUM_FACE_EXPRESSIONS_DEFAULT,
    NUM_JOINTS,
    PARENTS,
    RIGHT_EYE,
    ROOT,
)

NAME = "flame_params"
#: MEAD / EMOTE frame rate, assumed when a file has no ``fps``.
FLAME_FPS = 25.0
RATE_KEYS: tuple[str, ...] = ("fps", "mocap_frame_rate", "frame_rate")
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


def _mode(global_pose: str) -> tuple[int | None, int]:
    if global_pose not in _JOINT_MAP:
        raise ValueError(f"global_pose must be one of {', '.join(_JOINT_MAP)}; got {global_pose!r}")
    return _JOINT_MAP[global_pose]


def _eyes(src: ArraySource) -> np.ndarray | None:
    if not src.has("eyes"):
        return None
    if src.raw("eyes").ndim == 3:
        return src.array("eyes", ("T", 2, 3)).reshape(-1, 6)
    return src.array("eyes", ("T", 6), hint="left then right eye axis-angle")


def _shape(src: ArraySource) -> np.ndarray | None:
    if not src.has("shape"):
        return None
    ndim = src.raw("shape").ndim
    if ndim == 1:
        return src.array("shape", ("S",))
    if src.raw("shape").shape[0] == 1:
        return src.array("shape", (1, "S"))[0]
    return src.array("shape", ("T", "S")).mean(axis=0)


def read_flame_params(
    path: str | Path,
    *,
    fps: float | None = 30.0,
    num_expressions: int = NUM_EXPRESSIONS,
    global_pose: GlobalPoseMode = "neck",
) -> Motion:
    """Read FLAME parameters (``.npz`` or restricted-unpickled ``.pkl``) into a Motion.

    Args:
        path: the file.
        fps: resample to this rate (25 -> 30 by default; slerp); ``None`` keeps the file's.
        num_expressions: pad ``exp`` with zeros up to this width (wider ``exp`` is kept).
        global_pose: where FLAME's global rotation goes: ``"neck"``, ``"root"``, ``"drop"``
            (see the module docstring).

    Raises:
        MotionFormatError: bad file, keys, shapes, frame counts, values or frame rate; a
            pickle that names anything but numpy array reconstruction.
    """
    global_joint, neck_joint = _mode(global_pose)
    with open_any(path, NAME, pickle_ok=True) as src:
        exp = src.array("exp", ("T", "E"), hint="FLAME expression coefficients")
        jaw = src.array("jaw", ("T", 3), hint="jaw axis-angle")
        T = exp.shape[0]
        poses = np.zeros((T, NUM_JOINTS, 3), np.float32)
        poses[:, JAW] = jaw
        glob = src.optional("global_pose", ("T", 3), hint="FLAME global rotation, axis-angle")
        if glob is not None and global_joint is not None:
            poses[:, global_joint] = glob
        neck = src.optional("neck", ("T", 3), hint="FLAME neck rotation, axis-angle")
        if neck is not None:
            poses[:, neck_joint] = neck
        eyes = _eyes(src)
        if eyes is not None:
            poses[:, LEFT_EYE] = eyes[:, :3]
            poses[:, RIGHT_EYE] = eyes[:, 3:]
        expression = np.zeros((T, max(num_expressions, exp.shape[1])), np.float32)
        expression[:, : exp.shape[1]] = exp
        meta = src.meta()
        shape = _shape(src)
        if shape is not None and shape.any():  # all-zero = mean identity: nothing to keep
            meta.extra[SHAPE_META_KEY] = [float(v) for v in shape]
        motion = Motion(
            poses=poses,
            trans=np.zeros((T, 3), np.float32),
            expression=expression,
            fps=src.frame_rate(RATE_KEYS, FLAME_FPS),
            meta=meta,
        )
        return src.finish(motion, fps)


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
    global_joint, neck_joint = _mode(global_pose)
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
