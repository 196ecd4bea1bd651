"""Smooth time curves: minimum-jerk keyframe tracks, bumps and slow random drift.

Point-to-point human arm movements follow the minimum-jerk profile
(Flash & Hogan 1985): ``x(s) = x0 + (x1 - x0)(10 s^3 - 15 s^4 + 6 s^5)``, zero velocity
and acceleration at both ends. Chaining such segments between keyframes puts a velocity
minimum exactly on each keyframe, which is how gesture strokes end on speech beats.
"""

from __future__ import annotations

import numpy as np


def min_jerk(s: np.ndarray) -> np.ndarray:
    """Minimum-jerk blend ``10s^3 - 15s^4 + 6s^5`` of ``s`` clipped to [0, 1]."""
    s = np.clip(s, 0.0, 1.0)
    return s * s * s * (10.0 + s * (-15.0 + 6.0 * s))


def keyframe_track(times: np.ndarray, values: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Piecewise minimum-jerk interpolation through keyframes.

    Args:
        times: ``(K,)`` strictly increasing keyframe times (s).
        values: ``(K, D)`` keyframe values.
        t: ``(T,)`` sample times.

    Returns:
        ``(T, D)``; constant before the first and after the last keyframe.
    """
    times = np.asarray(times, np.float64)
    values = np.asarray(values, np.float64)
    if len(times) == 1:
        return np.repeat(values[:1], len(t), axis=0)
    seg = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 2)
    t0, t1 = times[seg], times[seg + 1]
    s = min_jerk((t - t0) / np.maximum(t1 - t0, 1e-9))
    return values[seg] + (values[seg + 1] - values[seg]) * s[:, None]


def bump(t: np.ndarray, start: float, peak: float, end: float) -> np.ndarray:
    """``(T,)`` 0 -> 1 -> 0 over [start, end] with its maximum at ``peak``.

    Rise and fall are minimum-jerk, so velocity is zero at start, peak and end; an
    early peak gives a slow rise and a quick fall (and vice versa).
    """
    rise = min_jerk((t - start) / max(peak - start, 1e-6))
    fall = 1.0 - min_jerk((t - peak) / max(end - peak, 1e-6))
    out = np.where(t < peak, rise, fall)
    out[(t <= start) | (t >= end)] = 0.0
    return out


def smooth_noise(rng: np.random.Generator, n: int, dims: int, fps: float, tau: float,
                 sigma: float) -> np.ndarray:
    """``(n, dims)`` slow random drift: white noise low-passed at time scale ``tau`` (s).

    Standard deviation is about ``sigma``. Used for idle sway and gaze jitter.
    """
    from scipy.ndimage import gaussian_filter1d

    pad = int(3 * tau * fps) + 1
    raw = rng.standard_normal((n + 2 * pad, dims))
    sm = gaussian_filter1d(raw, sigma=max(tau * fps, 0.5), axis=0, mode="wrap")
    sm = sm[pad: pad + n]
    std = sm.std(axis=0, keepdims=True) if n > 1 else np.ones((1, dims))
    return sigma * sm / np.maximum(std, 1e-9) * min(1.0, np.sqrt(n / (4 * tau * fps + 1)))


def frame_times(num_frames: int, fps: float) -> np.ndarray:
    """``(T,)`` times of frames ``0..T-1`` in seconds."""
    return np.arange(num_frames, dtype=np.float64) / fps
