"""AMASS SMPL-X ``.npz`` files (the "SMPL-X N" / ``*_stageii.npz`` flavour).

Layout::

    gender              'male' | 'female' | 'neutral'
    surface_model_type  'smplx'
    mocap_frame_rate    e.g. 120 (older files: ``mocap_framerate``; some tools: ``fps``)
    mocap_time_length   T / fps, seconds
    trans               (T, 3)
    poses               (T, 165)  flat SMPL-X axis-angle
    betas               (16,), num_betas 16
    root_orient (T, 3), pose_body (T, 63), pose_hand (T, 90), pose_jaw (T, 3), pose_eye (T, 6)
    expressions         (T, E)  ours: zeros when the motion has no face (Blender add-on needs it)
    motion_meta         ours: JSON metadata

Reading uses ``poses`` when present, else assembles it from the split keys
(``root_orient`` and ``pose_body`` required; hands, jaw, eyes zero when absent), then
resamples to ``fps`` (AMASS is often 120 fps) with :meth:`Motion.resample` (slerp).
Only the keys named above are loaded, so AMASS's extra keys (marker data, object arrays)
are ignored. Coordinates are kept as stored (AMASS is Z-up; no axis conversion is made).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from motion.container import Motion
from motion.data.formats._source import ArraySource, open_npz
from motion.data.formats._write import fit_width, meta_entry, prepare, save_npz, text
from motion.types import (
    NUM_EXPRESSIONS,
    NUM_JOINTS,
    POSE_BODY,
    POSE_EYES,
    POSE_GLOBAL,
    POSE_JAW,
    POSE_LHAND,
    POSE_RHAND,
)

NAME = "amass"
RATE_KEYS: tuple[str, ...] = ("mocap_frame_rate", "mocap_framerate", "fps")
#: The split keys, in the order they fill the flat 165-value pose vector.
SPLIT_KEYS: tuple[tuple[str, slice], ...] = (
    ("root_orient", POSE_GLOBAL),
    ("pose_body", POSE_BODY),
    ("pose_jaw", POSE_JAW),
    ("pose_eye", POSE_EYES),
    ("pose_hand", slice(POSE_LHAND.start, POSE_RHAND.stop)),
)
AMASS_NUM_BETAS = 16
_FLAT_HINT = "flat SMPL-X axis-angle, 55 joints x 3; SMPL+H files (156) are not supported"


def _poses(src: ArraySource) -> np.ndarray:
    """``(T, 165)`` poses: the ``poses`` key, else assembled from the split keys."""
    if src.has("poses"):
        poses = src.array("poses", ("T", 165), hint=_FLAT_HINT)
        for key, sl in SPLIT_KEYS:  # split keys, when present, must agree in shape and frames
            src.optional(key, ("T", sl.stop - sl.start))
        return poses
    if not (src.has("root_orient") or src.has("pose_body")):
        src.raw("poses")  # raises: key 'poses' is missing
    parts = {
        key: src.array(key, ("T", sl.stop - sl.start))
        if key in ("root_orient", "pose_body")
        else src.optional(key, ("T", sl.stop - sl.start))
        for key, sl in SPLIT_KEYS
    }
    assert src.num_frames is not None
    out = np.zeros((src.num_frames, NUM_JOINTS * 3), np.float32)
    for key, sl in SPLIT_KEYS:
        part = parts[key]
        if part is not None:
            out[:, sl] = part
    return out


def read_amass(path: str | Path, *, fps: float | None = 30.0) -> Motion:
    """Read an AMASS SMPL-X ``.npz``.

    Args:
        path: the ``.npz`` file.
        fps: resample to this rate (slerp for rotations); ``None`` keeps the file's rate.

    Raises:
        MotionFormatError: see :func:`motion.data.formats.beat2.read_beat2`; also a
            ``surface_model_type`` other than ``smplx`` and a missing frame-rate key.
    """
    with open_npz(path, NAME) as src:
        model = src.text("surface_model_type", default="smplx").strip().lower()
        if model != "smplx":
            raise src.error(f"is {model!r}; expected 'smplx'", "surface_model_type")
        rate = src.frame_rate(RATE_KEYS, None)
        poses = _poses(src)
        trans = src.array("trans", ("T", 3))
        expression = src.optional("expressions", ("T", "E"))
        betas = src.betas("betas", AMASS_NUM_BETAS)
        if src.has("num_betas"):
            n = src.number("num_betas")
            if n != int(n) or not 0 < n <= betas.shape[0]:
                expected = f"expected an integer in [1, {betas.shape[0]}] (size of 'betas')"
                raise src.error(f"is {n:g}; {expected}", "num_betas")
            betas = betas[: int(n)]
        gender, meta = src.gender(), src.meta()
        motion = Motion.from_flat(poses, trans, betas=betas, expression=expression, fps=rate, gender=gender, meta=meta)
        return src.finish(motion, fps)


def write_amass(
    motion: Motion,
    path: str | Path,
    *,
    fps: float | None = None,
    num_betas: int = AMASS_NUM_BETAS,
    compress: bool = False,
) -> Path:
    """Write ``motion`` as an AMASS SMPL-X ``.npz`` (atomically).

    Args:
        motion: the motion; refused if it holds NaN/Inf.
        path: output path (``.npz`` appended when it has another suffix).
        fps: write at this rate (slerp resampling on the way out); ``None`` keeps the motion's.
        num_betas: width of ``betas`` (zero-padded / truncated), 16 in AMASS.
        compress: use ``np.savez_compressed``.

    Returns:
        The path written.
    """
    m = prepare(motion, fps, NAME)
    assert m.expression is not None
    flat = m.flat_poses.astype(np.float32)
    expression = m.expression if m.num_expressions else np.zeros((m.num_frames, NUM_EXPRESSIONS), np.float32)
    arrays: dict[str, np.ndarray] = {
        "gender": text(m.gender),
        "surface_model_type": text("smplx"),
        "mocap_frame_rate": np.array(m.fps, np.float64),
        "mocap_time_length": np.array(m.duration, np.float64),
        "trans": m.trans.astype(np.float32),
        "poses": flat,
        "betas": fit_width(m.betas, num_betas),
        "num_betas": np.array(num_betas, np.int64),
        **{key: flat[:, sl] for key, sl in SPLIT_KEYS},
        "expressions": expression.astype(np.float32),
        **meta_entry(m.meta),
    }
    return save_npz(path, arrays, compress=compress)
