"""Frame-rate resampling and cross-fade of animation channels: the numeric core of
:meth:`motion.container.Motion.resample` and :meth:`~motion.container.Motion.concat`, and of
the Blender add-on's import at another frame rate.

Works on plain arrays (``poses (T, J, 3)`` axis-angle, ``trans (T, 3)``, ``expression (T, E)``),
so it knows nothing of :class:`~motion.container.Motion`. Rotations are interpolated on SO(3)
by quaternion slerp along the shorter arc (Shoemake, "Animating rotation with quaternion
curves", SIGGRAPH 1985), in float64; vector channels (translation, expression) linearly, in
their own float type.

**The frame convention** (toolkit and add-on alike): a clip of ``T`` frames at ``fps_in`` lasts
``T / fps_in`` seconds (frame ``i`` holds ``[i / fps, (i + 1) / fps)``, as the toolkit counts
frames everywhere: ``T = round(duration * fps)`` for audio of that duration). Resampled to
``fps_out`` it keeps that duration: ``round(T * fps_out / fps_in)`` frames (at least 1, Python's
``round``: halves to even), output frame ``j`` at time ``j / fps_out``, interpolated between
the source frames either side of source position ``j * fps_in / fps_out`` and holding the
last source frame past it. A 90-frame clip at 30 fps is 180 frames at 60 fps (3 s, in step
with its audio) and comes back to the same 90; "first to last frame", ``(T - 1) k + 1``
frames, would give 179 (2.98 s) and lose a frame's time at every resampling.

Self-contained on purpose (numpy only, no toolkit import): the Blender add-on gets a copy of
this file at build time (``blender_addon/build.py``), so the two resample alike.
"""

from __future__ import annotations

import numpy as np

#: ``(poses (T, J, 3), trans (T, 3), expression (T, E))`` of one animation.
Channels = tuple[np.ndarray, np.ndarray, np.ndarray]

#: Output frames slerped at once (bounds the float64 working arrays on long clips).
CHUNK_FRAMES = 4096


def num_frames_at(src_len: int, src_fps: float, dst_fps: float) -> int:
    """Frames of a ``src_len``-frame clip at ``dst_fps``: ``round(src_len * dst_fps / src_fps)``, at least 1."""
    return max(1, int(round(src_len * dst_fps / src_fps)))


def frame_positions(src_len: int, src_fps: float, dst_fps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source neighbours and weights for each output frame (the module's convention).

    Output frame ``j`` is at time ``j / dst_fps``; its source position is
    ``u = j * src_fps / dst_fps``, clamped to the last frame. Returns ``(i0, i1, w)`` each of
    shape ``(T_out,)`` (``w`` float64) with ``value = (1 - w) * src[i0] + w * src[i1]``.
    """
    n_out = num_frames_at(src_len, src_fps, dst_fps)
    u = np.arange(n_out, dtype=np.float64) * (src_fps / dst_fps)
    u = np.clip(u, 0.0, src_len - 1)
    i0 = np.floor(u).astype(np.int64)
    i1 = np.minimum(i0 + 1, src_len - 1)
    return i0, i1, u - i0


def rotvec_to_quat(rotvec: np.ndarray) -> np.ndarray:
    """``(..., 3)`` axis-angle (radians) -> ``(..., 4)`` unit WXYZ quaternions, float64."""
    v = np.asarray(rotvec, np.float64)
    angle = np.linalg.norm(v, axis=-1, keepdims=True)
    big = angle > 1e-8
    k = np.where(big, np.sin(0.5 * angle) / np.where(big, angle, 1.0), 0.5 - angle**2 / 48.0)  # sin(a/2)/a
    return np.concatenate([np.cos(0.5 * angle), v * k], -1)


def quat_to_rotvec(q: np.ndarray) -> np.ndarray:
    """``(..., 4)`` unit WXYZ quaternions -> ``(..., 3)`` axis-angle, float64, the shorter
    way round: angle in ``[0, pi]`` (``q`` and ``-q`` give the same)."""
    q = np.asarray(q, np.float64)
    q = np.where(q[..., :1] < 0.0, -q, q)
    s = np.linalg.norm(q[..., 1:], axis=-1, keepdims=True)
    big = s > 1e-12
    k = np.where(big, 2.0 * np.arctan2(s, q[..., :1]) / np.where(big, s, 1.0), 2.0)
    return q[..., 1:] * k


def slerp_quats(q0: np.ndarray, q1: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Slerp ``(..., 4)`` unit quaternions along the shorter arc; ``w`` (broadcast to ``(...,)``):
    0 -> ``q0``, 1 -> ``q1`` (up to sign)."""
    q0, q1 = np.asarray(q0, np.float64), np.asarray(q1, np.float64)
    w = np.asarray(w, np.float64)[..., None]
    dot = np.sum(q0 * q1, -1, keepdims=True)
    q1 = np.where(dot < 0.0, -q1, q1)  # the shorter arc
    theta = np.arccos(np.clip(np.abs(dot), 0.0, 1.0))
    s = np.sin(theta)
    small = s < 1e-6
    safe = np.where(small, 1.0, s)
    w0 = np.where(small, 1.0 - w, np.sin((1.0 - w) * theta) / safe)
    w1 = np.where(small, w, np.sin(w * theta) / safe)
    out = w0 * q0 + w1 * q1
    return out / np.linalg.norm(out, axis=-1, keepdims=True)


def slerp_rotvecs(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Slerp between ``(T, ..., 3)`` axis-angle rotations ``a`` and ``b``, weight ``w (T,)`` per
    frame; float64, taken :data:`CHUNK_FRAMES` frames at a time."""
    out = np.empty(np.broadcast_shapes(np.shape(a), np.shape(b)), np.float64)
    w = np.asarray(w, np.float64).reshape((-1,) + (1,) * (out.ndim - 2))
    for s in range(0, out.shape[0], CHUNK_FRAMES):
        e = s + CHUNK_FRAMES
        ww = np.broadcast_to(w[s:e], out[s:e].shape[:-1])
        out[s:e] = quat_to_rotvec(slerp_quats(rotvec_to_quat(a[s:e]), rotvec_to_quat(b[s:e]), ww))
    return out


def _lerp(x: np.ndarray, i0: np.ndarray, i1: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``(1 - w) x[i0] + w x[i1]`` in ``x``'s float type (float32 stays float32)."""
    x = np.asarray(x)
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
    ww = w.astype(dtype).reshape((-1,) + (1,) * (x.ndim - 1))
    return ((1.0 - ww) * x[i0] + ww * x[i1]).astype(dtype)


def resample_linear(values: np.ndarray, src_fps: float, dst_fps: float) -> np.ndarray:
    """``(T, ...)`` values (translation, expression) at ``dst_fps``, linearly (module convention)."""
    i0, i1, w = frame_positions(int(np.shape(values)[0]), src_fps, dst_fps)
    return _lerp(values, i0, i1, w)


def resample_rotvecs(poses: np.ndarray, src_fps: float, dst_fps: float) -> np.ndarray:
    """``(T, J, 3)`` axis-angle poses at ``dst_fps``, slerped (module convention), in their float type."""
    poses = np.asarray(poses)
    i0, i1, w = frame_positions(int(poses.shape[0]), src_fps, dst_fps)
    dtype = poses.dtype if np.issubdtype(poses.dtype, np.floating) else np.float64
    out = np.empty((len(i0),) + poses.shape[1:], dtype)
    for s in range(0, len(i0), CHUNK_FRAMES):
        e = s + CHUNK_FRAMES
        out[s:e] = slerp_rotvecs(poses[i0[s:e]], poses[i1[s:e]], w[s:e])
    return out


def resample_channels(poses: np.ndarray, trans: np.ndarray, expression: np.ndarray, src_fps: float,
                      dst_fps: float) -> Channels:
    """The channels resampled from ``src_fps`` to ``dst_fps`` (module convention:
    ``round(T * dst_fps / src_fps)`` frames, frame ``j`` at time ``j / dst_fps``); poses
    slerped, translation and expression lerped, each in its own float type."""
    return (resample_rotvecs(poses, src_fps, dst_fps), resample_linear(trans, src_fps, dst_fps),
            resample_linear(expression, src_fps, dst_fps))


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
        blend_p = slerp_rotvecs(a_poses[-n:], b_poses[:n], w).astype(a_poses.dtype)
        wv = w[:, None]
        blend_t = (1 - wv) * a_trans[-n:] + wv * b_trans[:n]
        blend_e = (1 - wv) * a_expr[-n:] + wv * b_expr[:n]
        poses = np.concatenate([a_poses[:-n], blend_p, b_poses[n:]])
        trans = np.concatenate([a_trans[:-n], blend_t, b_trans[n:]])
        expr = np.concatenate([a_expr[:-n], blend_e, b_expr[n:]])
    return poses, trans, expr
