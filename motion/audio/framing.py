"""Frame bookkeeping shared by the feature extractors.

Conventions (see :mod:`motion.audio.features`):

* Analysis frames are *centred*: fine frame ``j`` is centred on sample ``j * hop``
  (librosa's ``center=True``); samples outside the signal count as zeros. A signal of
  N samples has ``1 + N // hop`` fine frames.
* Motion frame ``i`` sits at time ``i / fps``; a clip of duration d has
  ``int(round(d * fps))`` motion frames.
* Long signals are processed in chunks of whole fine frames; as each frame only
  depends on its own window, chunking does not change the result.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def num_motion_frames(duration: float, fps: float) -> int:
    """Number of motion frames T = round(duration * fps) for a clip of ``duration`` s."""
    return int(round(duration * fps))


def num_centered_frames(n_samples: int, hop: int) -> int:
    """Number of centred analysis frames, ``1 + n_samples // hop``."""
    return 1 + n_samples // hop


def chunks(n_frames: int, chunk_frames: int) -> Iterator[tuple[int, int]]:
    """Yield ``(start, stop)`` frame ranges of at most ``chunk_frames`` frames."""
    chunk_frames = max(1, int(chunk_frames))
    for start in range(0, n_frames, chunk_frames):
        yield start, min(start + chunk_frames, n_frames)


def frame_at(
    y: np.ndarray, start_sample: int, n_frames: int, hop: int, frame_length: int,
    gain: np.floating | None = None,
) -> np.ndarray:
    """Frames of ``y`` beginning at ``start_sample + k * hop`` (zeros outside ``y``).

    Args:
        y: (N,) signal.
        start_sample: first sample of frame 0 (may be negative).
        n_frames: number of frames M.
        hop: step between frames (samples).
        frame_length: L, samples per frame.
        gain: a scale applied to the samples read, in ``y``'s precision (``y * gain`` then
            widened: the same numbers as framing a scaled copy of ``y``, without the copy).

    Returns:
        (M, L) read-only view into a small zero-padded copy of the needed samples.
    """
    total = (n_frames - 1) * hop + frame_length
    seg = np.zeros(total, dtype=np.float64)
    lo, hi = max(start_sample, 0), min(start_sample + total, y.shape[0])
    if hi > lo:
        seg[lo - start_sample : hi - start_sample] = y[lo:hi] if gain is None else y[lo:hi] * gain
    return np.lib.stride_tricks.sliding_window_view(seg, frame_length)[::hop]


def centered_frames(
    y: np.ndarray, start: int, stop: int, hop: int, frame_length: int,
    gain: np.floating | None = None,
) -> np.ndarray:
    """Frames ``start..stop-1`` with frame ``j`` centred on sample ``j * hop``.

    Returns:
        (stop - start, frame_length) view; frame j covers samples
        ``[j*hop - frame_length//2, j*hop - frame_length//2 + frame_length)``.
    """
    return frame_at(y, start * hop - frame_length // 2, stop - start, hop, frame_length, gain)


def interp_frames(x: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Linearly interpolate rows of ``x`` at fractional row ``positions`` (clamped).

    Args:
        x: (M,) or (M, D) values on a regular grid.
        positions: (T,) fractional indices into the first axis.

    Returns:
        (T,) or (T, D) float32.
    """
    m = x.shape[0]
    pos = np.clip(positions, 0.0, m - 1)
    i0 = np.floor(pos).astype(np.int64)
    i1 = np.minimum(i0 + 1, m - 1)
    w = (pos - i0).astype(np.float32)
    if x.ndim == 2:
        w = w[:, None]
    return ((1.0 - w) * x[i0] + w * x[i1]).astype(np.float32)


def max_pool_frames(x: np.ndarray, rate: float, num_frames: int, fps: float) -> np.ndarray:
    """Resample a (M,) envelope at ``rate`` Hz to (T,) motion frames by max-pooling.

    Motion frame i takes the maximum over the fine frames nearest to it (those within
    half a motion frame of ``i / fps``) and its interpolated value (so frames that
    no fine frame falls into, when fps > rate, are still filled).
    """
    positions = np.arange(num_frames) * (rate / fps)
    out = interp_frames(x, positions)
    if num_frames == 0:
        return out
    nearest = np.rint(np.arange(x.shape[0]) * (fps / rate)).astype(np.int64)
    keep = nearest < num_frames
    np.maximum.at(out, nearest[keep], x[keep].astype(np.float32))
    return out
