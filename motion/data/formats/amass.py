"""AMASS SMPL-X ``.npz`` files (the "SMPL-X N" / ``*_stageii.npz`` flavour).

Layout::

    gender              'male' | 'female' | 'neutral'
    surface_model_type  'smplx'
    mocap_frame_rate    e.g. 120 (older files and loaders: ``mocap_framerate``; both written; some tools: ``fps``)
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
are ignored.

Axes: AMASS is Z up, the toolkit (SMPL-X) Y up. The writer (:mod:`motion.export.npz.amass`) turns the whole body +90
degrees about X (``R``): ``root_orient' = R root_orient``, ``trans' = R (trans + J) - J``
with ``J`` the rest pelvis joint (``pelvis=``; the exporter passes the body model's, so the
turn is exact and the SMPL-X Blender add-on's -90 degree X object rotation gives back the
original placement; ``J = 0`` when not given). ``floor_offset`` is then added to
``trans[:, 2]`` (the exporter passes the value that puts the lowest vertex at ``z = 0``).
The reader turns a file whose root rotations hold the body up along ``+Z`` back to Y up
(``up="y"``, default; exact inverse for the same ``pelvis``) or keeps it as stored
(``up="file"``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from motion.container import Motion
from motion.data.formats._source import ArraySource, open_npz
from motion.export.npz.amass import AMASS_NUM_BETAS, SPLIT_KEYS, Y_TO_Z_UP, turn_world
from motion.types import NUM_JOINTS, POSE_GLOBAL

NAME = "amass"
RATE_KEYS: tuple[str, ...] = ("mocap_frame_rate", "mocap_framerate", "fps")
UP_CHOICES: tuple[str, ...] = ("y", "file")
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


def is_z_up(root_orient: np.ndarray) -> bool:
    """Whether ``(T, 3)`` root rotations hold the body's up (+Y) nearer the world's +Z than +Y (mean over frames)."""
    from scipy.spatial.transform import Rotation

    up = Rotation.from_rotvec(np.asarray(root_orient, np.float64)).apply([0.0, 1.0, 0.0]).mean(0)
    return bool(up[2] > up[1])


def read_amass(path: str | Path, *, fps: float | None = 30.0, up: str = "y",
               pelvis: np.ndarray | None = None) -> Motion:
    """Read an AMASS SMPL-X ``.npz``.

    Args:
        path: the ``.npz`` file.
        fps: resample to this rate (slerp for rotations); ``None`` keeps the file's rate.
        up: ``"y"``: a Z-up file (told from its root rotations) is turned to the toolkit's
            Y up (the inverse of the writer's turn); ``"file"``: coordinates as stored.
        pelvis: ``(3,)`` rest pelvis joint for the turn (see :func:`turn_world`).

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
        if up not in UP_CHOICES:
            raise ValueError(f"up must be one of {', '.join(UP_CHOICES)}, got {up!r}")
        if up == "y" and len(poses) and is_z_up(poses[:, POSE_GLOBAL]):
            poses, trans = turn_world(poses, trans, Y_TO_Z_UP.T, pelvis)
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
