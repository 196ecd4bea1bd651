"""AMUSE-style SMPL-X ``.npz`` files (what AMUSE's visualiser hands to its Blender renderer).

AMUSE (``models/diffusion/viz/visualizer.py``) writes::

    poses             (T, 55, 3)  axis-angle, NOT flattened
    trans             (T, 3)      zeros by default (AMUSE zeroes translation)
    gender            'male' | 'female' (a '<U7' string)
    betas             (300,)      the actor's SMPL-X shape
    mocap_frame_rate  30.0 (float64)

and no ``expressions`` (AMUSE has no face). We add ``motion_meta`` (JSON metadata), which
other readers ignore. Reading also accepts an optional ``expressions`` (T, E) key;
``mocap_frame_rate`` defaults to 30 when absent. Writing (:mod:`motion.export.npz.amuse`) adds
``expressions`` only when asked (``with_expressions=True``), e.g. for the SMPL-X Blender add-on,
which wants one.
"""

from __future__ import annotations

from pathlib import Path

from motion.container import Motion
from motion.data.formats._source import open_npz
from motion.types import NUM_BETAS_BEAT2, NUM_JOINTS

NAME = "amuse"
AMUSE_FPS = 30.0
RATE_KEYS: tuple[str, ...] = ("mocap_frame_rate", "mocap_framerate", "fps")


def read_amuse(path: str | Path, *, fps: float | None = 30.0) -> Motion:
    """Read an AMUSE-style ``.npz`` with ``poses`` of shape ``(T, 55, 3)``.

    Args:
        path: the ``.npz`` file.
        fps: resample to this rate (slerp); ``None`` keeps the file's rate.

    Raises:
        MotionFormatError: see :func:`motion.data.formats.beat2.read_beat2`.
    """
    with open_npz(path, NAME) as src:
        poses = src.array("poses", ("T", NUM_JOINTS, 3), hint="SMPL-X axis-angle per joint, not flattened")
        trans = src.array("trans", ("T", 3))
        expression = src.optional("expressions", ("T", "E"))
        motion = Motion(
            poses=poses,
            trans=trans,
            betas=src.betas("betas", NUM_BETAS_BEAT2),
            expression=expression,
            fps=src.frame_rate(RATE_KEYS, AMUSE_FPS),
            gender=src.gender(),
            meta=src.meta(),
        )
        return src.finish(motion, fps)
