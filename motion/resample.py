"""Frame-rate resampling and cross-fade of animation channels: the numeric core of
:meth:`motion.container.Motion.resample` and :meth:`~motion.container.Motion.concat`.

Works on plain arrays (``poses (T, J, 3)`` axis-angle, ``trans (T, 3)``, ``expression (T, E)``),
so it knows nothing of :class:`~motion.container.Motion`. Rotations are interpolated on SO(3)
by quaternion slerp (Shoemake, "Animating rotation with quaternion curves", SIGGRAPH 1985);
vector channels (translation, expression) linearly.
"""

from __future__ import annotations

import numpy as np

#: ``(poses (T, J, 3), trans (T, 3), expression (T, E))`` of one animation.
Channels = tuple[np.ndarray, np.ndarray, np.ndarray]


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


def resample_channels(poses: np.ndarray, trans: np.ndarray, expression: np.ndarray, src_fps: float,
                      dst_fps: float) -> Channels:
    """The channels resampled from ``src_fps`` to ``dst_fps``: output frame ``j`` samples time
    ``j / dst_fps``, ``round(T * dst_fps / src_fps)`` frames (at least 1); poses slerped,
    translation and expression lerped."""
    i0, i1, w = _interp_indices(int(poses.shape[0]), src_fps, dst_fps)
    return _slerp_frames(poses, i0, i1, w), _lerp(trans, i0, i1, w), _lerp(expression, i0, i1, w)


def smoothstep(n: int) -> np.ndarray:
    """``n`` blend weights rising from just above 0 to just below 1: ``3s^2 - 2s^3``."""
    s = (np.arange(n, dtype=np.float32) + 1.0) / (n + 1.0)
    return s * s * (3.0 - 2.0 * s)


def crossfade_channels(a: Channels, b: Channels, n: int) -> Channels:
    """``a`` then ``b``, their last / first ``n`` frames blended (``n = 0``: a hard cut).

    Over the overlap, poses are slerped and translation / expression lerped with
    :func:`smoothstep` weights; ``b``'s translation is first shifted horizontally (x, z;
    SMPL-X is Y-up) so its first overlapped frame meets ``a``'s. The caller checks that the
    shapes agree and that ``n`` is at most either length.
    """
    import torch

    from motion.rotations import slerp_rotvec

    (a_poses, a_trans, a_expr), (b_poses, b_trans_in, b_expr) = a, b
    b_trans = b_trans_in.copy()
    if n == 0:  # hard cut: both parts stay as they are
        poses = np.concatenate([a_poses, b_poses])
        trans = np.concatenate([a_trans, b_trans])
        expr = np.concatenate([a_expr, b_expr])
    else:
        # Shift b horizontally (x, z; SMPL-X is Y-up) so its first overlapped frame
        # meets a's, so the character does not slide during the blend.
        offset = a_trans[a_poses.shape[0] - n] - b_trans[0]
        offset[1] = 0.0
        b_trans += offset
        w = smoothstep(n)
        pa, pb = torch.from_numpy(a_poses[-n:]), torch.from_numpy(b_poses[:n])
        t = torch.from_numpy(w)[:, None].expand(pa.shape[:-1])
        blend_p = slerp_rotvec(pa, pb, t).numpy()
        wv = w[:, None]
        blend_t = (1 - wv) * a_trans[-n:] + wv * b_trans[:n]
        blend_e = (1 - wv) * a_expr[-n:] + wv * b_expr[:n]
        poses = np.concatenate([a_poses[:-n], blend_p, b_poses[n:]])
        trans = np.concatenate([a_trans[:-n], blend_t, b_trans[n:]])
        expr = np.concatenate([a_expr[:-n], blend_e, b_expr[n:]])
    return poses, trans, expr
