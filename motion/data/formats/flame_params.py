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

Writing (:mod:`motion.export.npz.flame_params`) inverts this: ``exp`` = the first
``num_expressions`` (default 50) coefficients, ``jaw``, ``eyes`` (T, 6), and in ``"neck"`` mode ``global_pose`` = the world rotation of the
SMPL-X neck (pelvis * spine1 * spine2 * spine3 * neck), ``neck`` = the head joint;
``shape`` = ``meta.extra["flame_shape"]`` or zeros; ``fps``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from motion.container import Motion
from motion.data.formats._source import ArraySource, open_any
from motion.export.npz.flame_params import SHAPE_META_KEY, GlobalPoseMode, global_pose_joints
from motion.types import JAW, LEFT_EYE, NUM_EXPRESSIONS, NUM_JOINTS, RIGHT_EYE

NAME = "flame_params"
#: MEAD / EMOTE frame rate, assumed when a file has no ``fps``.
FLAME_FPS = 25.0
RATE_KEYS: tuple[str, ...] = ("fps", "mocap_frame_rate", "frame_rate")


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
    global_joint, neck_joint = global_pose_joints(global_pose)
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
