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
``mocap_frame_rate`` (default 30) are optional. Writing (:mod:`motion.export.npz.beat2`) always
writes every key above, ``betas`` padded/truncated to 300 and ``expressions`` to 100 (zeros without
a face), because the SMPL-X Blender add-on refuses files without ``expressions``.
"""

from __future__ import annotations

from pathlib import Path

from motion.container import Motion
from motion.data.formats._source import open_npz
from motion.types import NUM_BETAS_BEAT2

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
