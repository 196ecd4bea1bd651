"""Write AMUSE-style SMPL-X ``.npz`` files (layout: :mod:`motion.data.formats.amuse`, which reads them)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from motion.container import Motion
from motion.export.npz._write import fit_width, meta_entry, prepare, save_npz, text
from motion.types import NUM_BETAS_BEAT2, NUM_EXPRESSIONS

NAME = "amuse"


def write_amuse(
    motion: Motion,
    path: str | Path,
    *,
    fps: float | None = None,
    num_betas: int = NUM_BETAS_BEAT2,
    with_expressions: bool = False,
    compress: bool = False,
) -> Path:
    """Write ``motion`` as an AMUSE-style ``.npz`` (atomically).

    Args:
        motion: the motion; refused if it holds NaN/Inf.
        path: output path (``.npz`` appended when it has another suffix).
        fps: resample to this rate first (``None`` keeps the motion's rate).
        num_betas: width of ``betas`` (zero-padded / truncated), 300 as AMUSE.
        with_expressions: also write ``expressions`` (the motion's, or ``(T, 100)`` zeros).
        compress: use ``np.savez_compressed``.

    Returns:
        The path written.
    """
    m = prepare(motion, fps, NAME)
    assert m.expression is not None
    arrays: dict[str, np.ndarray] = {
        "poses": m.poses.astype(np.float32),
        "trans": m.trans.astype(np.float32),
        "gender": text(m.gender),
        "betas": fit_width(m.betas, num_betas),
        "mocap_frame_rate": np.array(m.fps, np.float64),
        **meta_entry(m.meta),
    }
    if with_expressions:
        expr = m.expression if m.num_expressions else np.zeros((m.num_frames, NUM_EXPRESSIONS), np.float32)
        arrays["expressions"] = expr.astype(np.float32)
    return save_npz(path, arrays, compress=compress)
