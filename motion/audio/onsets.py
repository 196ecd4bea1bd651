"""Onset picking: a numpy port of ``librosa.onset.onset_detect`` on a given envelope.

librosa's peak picker is a numba kernel whose first compilation takes ~20 s on a
fresh install; this port gives the same peaks (same parameters, same greedy rule)
without numba, so the feature path never triggers a compile.
"""

from __future__ import annotations

import math

import numpy as np


def peak_pick(
    x: np.ndarray, pre_max: int, post_max: int, pre_avg: int, post_avg: int, delta: float, wait: int
) -> np.ndarray:
    """Indices n where (as ``librosa.util.peak_pick``)

    1. ``x[n] == max(x[n - pre_max : n + post_max])``,
    2. ``x[n] >= mean(x[n - pre_avg : n + post_avg]) + delta``,
    3. ``n - previous_peak > wait`` (greedy, left to right);

    windows are cut at the array ends.

    Args:
        x: (M,) envelope.

    Returns:
        (K,) int64 increasing indices.
    """
    x = np.asarray(x, dtype=np.float64)
    m = x.shape[0]
    if m == 0:
        return np.zeros(0, np.int64)
    padded = np.concatenate([np.full(pre_max, -np.inf), x, np.full(post_max, -np.inf)])
    win_max = np.lib.stride_tricks.sliding_window_view(padded, pre_max + post_max)[:m]
    is_max = x == win_max.max(axis=1)
    n = np.arange(m)
    lo, hi = np.maximum(n - pre_avg, 0), np.minimum(n + post_avg, m)
    csum = np.concatenate([[0.0], np.cumsum(x)])
    avg = (csum[hi] - csum[lo]) / (hi - lo)
    candidates = np.flatnonzero(is_max & (x >= avg + delta))
    peaks: list[int] = []
    for c in candidates:
        if not peaks or c > peaks[-1] + wait:
            peaks.append(int(c))
    return np.asarray(peaks, dtype=np.int64)


def onset_frames(envelope: np.ndarray, rate: float) -> np.ndarray:
    """Onset frames of an envelope sampled at ``rate`` Hz, with librosa's defaults.

    The envelope is scaled to [0, 1]; then peaks are picked with a 30 ms max window
    before (plus the frame itself), a 100 ms mean window before and after, delta 0.07
    and a 30 ms refractory wait (``librosa.onset.onset_detect`` defaults).

    Args:
        envelope: (M,) onset strength.
        rate: frames per second of ``envelope``.

    Returns:
        (K,) int64 frame indices into ``envelope``.
    """
    env = np.asarray(envelope, dtype=np.float64)
    if env.size == 0:
        return np.zeros(0, np.int64)
    env = env - env.min()
    env = env / (env.max() + np.finfo(env.dtype).tiny)
    if not env.any() or not np.all(np.isfinite(env)):
        return np.zeros(0, np.int64)
    return peak_pick(
        env,
        pre_max=math.ceil(0.03 * rate // 1),
        post_max=1,
        pre_avg=math.ceil(0.10 * rate // 1),
        post_avg=math.ceil(0.10 * rate // 1 + 1),
        delta=float(np.float32(0.07)),  # librosa's kernel takes delta as float32
        wait=math.ceil(0.03 * rate // 1),
    )
