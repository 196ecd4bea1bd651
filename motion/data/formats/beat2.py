"""BEAT2 / EMAGE SMPL-X ``.npz`` files.

Layout (``docs``: /work/shared/reference/formats.md, "Motion files")::

    poses             (T, 165)  axis-angle, flat SMPL-X order (global, body, jaw, eyes, hands)
    trans             (T, 3)
    betas             (300,)
    expressions       (T, 100)  FLAME / SMPL-X 2020 expression
    model             'smplx2020'
    gender            'neutral'
    mocap_frame_rate  30
    motion_meta       JSON string of :class:`~motion.container.MotionMeta` (ours; real
                      BEAT2 files lack it, which is fine)

Reading requires ``poses`` and ``trans``; ``betas``, ``expressions``, ``gender`` and
``mocap_frame_rate`` (default 30) are optional. Writing always writes every key above,
``betas`` padded/truncated to 300 and ``expressions`` to 100 (zeros without a face), because
the SMPL-X Blender add-on refuses files without ``expressions``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from motion.container import Motion
from motion.data.formats._source import open_npz
from motion.data.formats._write import fit_width, meta_entry, prepare, save_npz, text
from motion.types import NUM_BETAS_BEAT2, NUM_EXPRESSIONS

NAME = "beat2"
#: BEAT2's frame rate, assumed when a file has no ``mocap_frame_rate``.
BEAT2_FPS = 30.0
RATE_KEYS: tuple[str, ...] = ("mocap_frame_rate", "mocap_framerate", "fps")


def read_beat2(path: str | Path, *, fps: float | None = 30.0) -> Motion:
    """Read a BEAT2 / EMAGE SMPL-X ``.npz``.

    Args:
        path: the ``.npz`` file.
        fps: resample to this rate (slerp); ``None`` keeps the file's rate.

    Raises:
        MotionFormatError: missing file, not an npz, missing/misshapen keys, frame counts
            that disagree, NaN/Inf, zero frames, non-positive frame rate.
    """
    with open_npz(path, NAME) as src:
        poses = src.array("poses", ("T", 165), hint="flat SMPL-X axis-angle, 55 joints x 3")
        trans = src.array("trans", ("T", 3))
        expression = src.optional("expressions", ("T", "E"))
        betas = src.betas("betas", NUM_BETAS_BEAT2)
        rate = src.frame_rate(RATE_KEYS, BEAT2_FPS)
        gender = src.gender()
        meta = src.meta()
        motion = Motion.from_flat(
            poses, trans, betas=betas, expression=expression, fps=rate, gender=gender, meta=meta
        )
        return src.finish(motion, fps)


def write_beat2(
    motion: Motion,
    path: str | Path,
    *,
    fps: float | None = None,
    num_betas: int = NUM_BETAS_BEAT2,
    num_expressions: int = NUM_EXPRESSIONS,
    compress: bool = False,
) -> Path:
    """Write ``motion`` as a BEAT2 / EMAGE ``.npz`` (atomically).

    Args:
        motion: the motion; refused if it holds NaN/Inf.
        path: output path (``.npz`` appended when it has another suffix).
        fps: resample to this rate first (``None``: keep the motion's rate; BEAT2 is 30).
        num_betas: width of ``betas`` (zero-padded / truncated), 300 in BEAT2.
        num_expressions: width of ``expressions`` (zero-padded / truncated), 100 in BEAT2.
        compress: use ``np.savez_compressed``.

    Returns:
        The path written.
    """
    m = prepare(motion, fps, NAME)
    assert m.expression is not None
    arrays: dict[str, np.ndarray] = {
        "poses": m.flat_poses.astype(np.float32),
        "trans": m.trans.astype(np.float32),
        "betas": fit_width(m.betas, num_betas),
        "expressions": fit_width(m.expression, num_expressions),
        "model": text("smplx2020"),
        "gender": text(m.gender),
        "mocap_frame_rate": np.array(m.fps, np.float64),
        **meta_entry(m.meta),
    }
    return save_npz(path, arrays, compress=compress)
