"""Frame-rate resampling and concatenation with cross-fade for :class:`~motion.container.Motion`.

Rotations are interpolated on SO(3) by quaternion slerp (Shoemake, "Animating rotation
with quaternion curves", SIGGRAPH 1985); vector channels (translation, expression)
linearly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from motion.container import Motion


def _interp_indices(src_len: int, src_fps: float, dst_fps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source neighbours and weights for each output frame.

    Output frame ``j`` is at time ``j / dst_fps``; its source position is
    ``u = j * src_fps / dst_fps``. Returns ``(i0, i1, w)`` each of shape ``(T_out,)``
    with ``value = (1 - w) * src[i0] + w * src[i1]``.
    """
    n_out = max(1, int(round(src_len * dst_fps / src_fps)))
    u = np.arange(n_out, dtype=np.float64) * (src_fps / dst_fps)
    u = np.clip(u, 0.0, src_len - 1)
    i0 = np.floor(u).astype(np.int64)
    i1 = np.minimum(i0 + 1, src_len - 1)
    w = (u - i0).astype(np.float32)
    return i0, i1, w


def _slerp_frames(poses: np.ndarray, i0: np.ndarray, i1: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Slerp ``(T, J, 3)`` axis-angle poses between frames ``i0`` and ``i1`` with weights ``w``."""
    import torch

    from motion.rotations import slerp_rotvec

    a = torch.from_numpy(poses[i0])
    b = torch.from_numpy(poses[i1])
    t = torch.from_numpy(w)[:, None].expand(a.shape[:-1])
    return slerp_rotvec(a, b, t).numpy().astype(np.float32)


def _lerp(x: np.ndarray, i0: np.ndarray, i1: np.ndarray, w: np.ndarray) -> np.ndarray:
    shape = (-1,) + (1,) * (x.ndim - 1)
    ww = w.reshape(shape)
    return ((1.0 - ww) * x[i0] + ww * x[i1]).astype(np.float32)


def resample_motion(motion: "Motion", fps: float) -> "Motion":
    """Return ``motion`` resampled to ``fps`` (see :meth:`Motion.resample`)."""
    fps = float(fps)
    if fps <= 0:
        raise ValueError(f"target fps must be positive, got {fps}")
    if abs(fps - motion.fps) < 1e-9:
        return motion.copy()
    assert motion.expression is not None
    i0, i1, w = _interp_indices(motion.num_frames, motion.fps, fps)
    return motion.replace(
        poses=_slerp_frames(motion.poses, i0, i1, w),
        trans=_lerp(motion.trans, i0, i1, w),
        expression=_lerp(motion.expression, i0, i1, w),
        fps=fps,
    )


def smoothstep(n: int) -> np.ndarray:
    """``n`` blend weights rising from just above 0 to just below 1: ``3s^2 - 2s^3``."""
    s = (np.arange(n, dtype=np.float32) + 1.0) / (n + 1.0)
    return s * s * (3.0 - 2.0 * s)


def concat_motions(motions: list["Motion"], crossfade: int = 0) -> "Motion":
    """Concatenate motions, blending ``crossfade`` frames at each junction.

    Args:
        motions: at least one motion; all must share fps, betas size and expression size.
        crossfade: number of overlapping frames at each junction (0 = hard cut).

    Returns:
        A motion of ``sum(T_i) - crossfade * (len(motions) - 1)`` frames with the first
        motion's metadata.
    """
    if not motions:
        raise ValueError("concat needs at least one motion")
    if crossfade < 0:
        raise ValueError(f"crossfade must be >= 0, got {crossfade}")
    out = motions[0].copy()
    for nxt in motions[1:]:
        out = _concat_two(out, nxt, crossfade)
    return out


def _concat_two(a: "Motion", b: "Motion", n: int) -> "Motion":
    import torch

    from motion.rotations import slerp_rotvec

    if abs(a.fps - b.fps) > 1e-6:
        raise ValueError(f"cannot concatenate motions at {a.fps:g} and {b.fps:g} fps; resample one first")
    assert a.expression is not None and b.expression is not None
    if a.expression.shape[1] != b.expression.shape[1]:
        raise ValueError(
            f"cannot concatenate motions with {a.expression.shape[1]} and {b.expression.shape[1]} expression coefficients"
        )
    if n > min(a.num_frames, b.num_frames):
        raise ValueError(f"crossfade of {n} frames is longer than a motion ({a.num_frames}, {b.num_frames} frames)")
    b_trans = b.trans.copy()
    if n == 0:  # hard cut: both parts stay as they are
        poses = np.concatenate([a.poses, b.poses])
        trans = np.concatenate([a.trans, b_trans])
        expr = np.concatenate([a.expression, b.expression])
    else:
        # Shift b horizontally (x, z; SMPL-X is Y-up) so its first overlapped frame
        # meets a's, so the character does not slide during the blend.
        offset = a.trans[a.num_frames - n] - b_trans[0]
        offset[1] = 0.0
        b_trans += offset
        w = smoothstep(n)
        pa, pb = torch.from_numpy(a.poses[-n:]), torch.from_numpy(b.poses[:n])
        t = torch.from_numpy(w)[:, None].expand(pa.shape[:-1])
        blend_p = slerp_rotvec(pa, pb, t).numpy()
        wv = w[:, None]
        blend_t = (1 - wv) * a.trans[-n:] + wv * b_trans[:n]
        blend_e = (1 - wv) * a.expression[-n:] + wv * b.expression[:n]
        poses = np.concatenate([a.poses[:-n], blend_p, b.poses[n:]])
        trans = np.concatenate([a.trans[:-n], blend_t, b_trans[n:]])
        expr = np.concatenate([a.expression[:-n], blend_e, b.expression[n:]])
    return a.replace(poses=poses, trans=trans, expression=expr)
