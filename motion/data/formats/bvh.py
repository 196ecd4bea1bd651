"""Read a BVH file of the SMPL-X skeleton (as :mod:`motion.export.bvh` writes it) into a Motion.

Joints are matched by name (the file's order is depth-first, not SMPL-X's); every one of
the 55 SMPL-X joints must be there, with rotation channels, and the root with position
channels. Units are told from the skeleton: a hip-to-knee offset over 5 means centimetres,
over 100 millimetres, else metres (the toolkit writes metres by default, ``units="cm"`` on
request). Axes are SMPL-X's (Y up), as the toolkit writes them.

What BVH cannot hold comes from the body model (``body_model`` / ``models_dir``, default
the configured or stand-in model): its mean pose is taken off the rotations (the writer
added it), and its rest pelvis joint off the root position (``trans = root - J_pelvis``).
Betas and expression are not in BVH: zeros. A file exported with ``floor=True`` reads back
with ``trans`` raised by that export's floor offset (a constant); rotations are exact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from motion.container import Motion
from motion.data.formats.errors import MotionFormatError
from motion.types import JOINT_NAMES, NUM_JOINTS

NAME = "bvh"


def _units_scale(names: list[str], offsets: np.ndarray) -> float:
    """Metres per file unit, told from the hip-to-knee offset."""
    if "left_knee" not in names:
        return 1.0
    leg = float(np.linalg.norm(offsets[names.index("left_knee")]))
    return 0.001 if leg > 100.0 else 0.01 if leg > 5.0 else 1.0


def read_bvh_motion(path: str | Path, *, fps: float | None = None, body_model: Any = None,
                    models_dir: str | None = None) -> Motion:
    """Read an SMPL-X BVH file (see the module docstring).

    Args:
        path: the ``.bvh`` file.
        fps: resample to this rate (slerp); ``None`` keeps the file's rate.
        body_model: an :mod:`smplx` SMPL-X model (mean pose, rest pelvis); loaded when omitted.
        models_dir: models folder used when loading the body model.

    Raises:
        MotionFormatError: unparsable file, or joints / channels the SMPL-X skeleton needs are missing.
    """
    from scipy.spatial.transform import Rotation

    from motion.export._rest import load_model, model_pose_mean, rest_model
    from motion.export.bvh import BVHError, bvh_local_transforms, read_bvh

    p = Path(path)
    try:
        data = read_bvh(p)
    except BVHError as exc:
        raise MotionFormatError(str(exc), path=p) from exc
    missing = [n for n in JOINT_NAMES if n not in data.names]
    if missing:
        raise MotionFormatError(f"{NAME} file {p}: not an SMPL-X skeleton; joints missing: {', '.join(missing[:5])}"
                                f"{' ...' if len(missing) > 5 else ''}", path=p)
    order = [data.names.index(n) for n in JOINT_NAMES]
    root_chans = data.channels[order[0]]
    if sum(c.lower().endswith("position") for c in root_chans) != 3:
        raise MotionFormatError(f"{NAME} file {p}: the root 'pelvis' has no X/Y/Z position channels", path=p)
    rot, trans = bvh_local_transforms(data)  # (T, J, 3, 3), (T, J, 3) in file units
    scale = _units_scale(data.names, data.offsets)
    T = data.num_frames
    model = load_model(Motion.zeros(1), body_model, models_dir)
    pose_mean = model_pose_mean(model)
    pelvis = rest_model(model, np.zeros(1)).joints[0]
    aa = Rotation.from_matrix(rot[:, order].reshape(-1, 3, 3)).as_rotvec().reshape(T, NUM_JOINTS, 3)
    poses = aa - pose_mean[None]
    root = trans[:, order[0]] * scale - pelvis
    motion = Motion(poses=poses.astype(np.float32), trans=root.astype(np.float32), fps=data.fps)
    if fps is None or abs(float(fps) - motion.fps) < 1e-9:
        return motion
    return motion.resample(float(fps))
