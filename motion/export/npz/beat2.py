"""Write BEAT2 / EMAGE SMPL-X ``.npz`` files (layout: :mod:`motion.data.formats.beat2`, which reads them).

Every key of the layout is written, ``betas`` padded/truncated to 300 and ``expressions`` to
100 (zeros without a face), because the SMPL-X Blender add-on refuses files without ``expressions``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from motion.container import Motion
from motion.export.npz._write import fit_width, meta_entry, prepare, save_npz, text
from motion.types import NUM_BETAS_BEAT2, NUM_EXPRESSIONS

NAME = "beat2"


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
