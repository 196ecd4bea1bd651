"""YIN fundamental-frequency estimation, vectorised over frames, with aperiodicity.

de Cheveigné & Kawahara (2002), "YIN, a fundamental frequency estimator for speech
and music". Unlike ``librosa.yin`` this also returns the aperiodicity (the
normalised difference at the chosen lag), which drives the voicing decision, and
it centres the analysed span on the frame time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from motion.audio.framing import frame_at


@dataclass(frozen=True)
class YinConfig:
    """YIN settings.

    Attributes:
        sr: sample rate (Hz).
        fmin: lowest f0 searched (Hz).
        fmax: highest f0 searched (Hz).
        window: integration window W in seconds (Eq. 6 of the paper).
        trough_threshold: absolute threshold of step 4 (first dip below it wins).
    """

    sr: int = 16000
    fmin: float = 50.0
    fmax: float = 600.0
    window: float = 0.032
    trough_threshold: float = 0.1

    @property
    def min_lag(self) -> int:
        """Shortest lag searched (samples), floor(sr / fmax), at least 2."""
        return max(2, int(math.floor(self.sr / self.fmax)))

    @property
    def max_lag(self) -> int:
        """Longest lag searched (samples), ceil(sr / fmin)."""
        return int(math.ceil(self.sr / self.fmin))

    @property
    def win(self) -> int:
        """W in samples."""
        return int(round(self.window * self.sr))

    @property
    def frame_length(self) -> int:
        """Samples per analysis frame: W + max_lag + 2 (one lag past the search range)."""
        return self.win + self.max_lag + 2


def yin_frames(
    y: np.ndarray, start: int, stop: int, hop: int, cfg: YinConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Run YIN on centred frames ``start..stop-1`` of ``y`` (frame j at ``j * hop``).

    Args:
        y: (N,) signal at ``cfg.sr``.
        start: first frame index.
        stop: one past the last frame index.
        hop: samples between frames.
        cfg: YIN settings.

    Returns:
        f0: (M,) float32 Hz, M = stop - start (an estimate for every frame).
        aperiodicity: (M,) float32 in [0, 1]: 0 = perfectly periodic; 1 for silence.
    """
    length = cfg.frame_length
    frames = frame_at(y, start * hop - length // 2, stop - start, hop, length)
    cmnd = _cmnd(frames, cfg.win, cfg.max_lag + 1)  # (M, max_lag + 2) for lags 0..max_lag+1
    lo, hi = cfg.min_lag, cfg.max_lag
    band = cmnd[:, lo : hi + 1]
    left = cmnd[:, lo - 1 : hi]
    right = cmnd[:, lo + 1 : hi + 2]
    trough = (band < left) & (band <= right) & (band < cfg.trough_threshold)
    has_trough = trough.any(axis=1)
    # Step 4: first trough under the threshold, else the global minimum.
    k = np.where(has_trough, trough.argmax(axis=1), band.argmin(axis=1))
    rows = np.arange(band.shape[0])
    lag = k + lo
    # Step 5: parabolic interpolation of the dip.
    a, b, c = cmnd[rows, lag - 1], cmnd[rows, lag], cmnd[rows, lag + 1]
    denom = a - 2.0 * b + c
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(np.abs(denom) > 1e-12, 0.5 * (a - c) / denom, 0.0)
    shift = np.clip(shift, -1.0, 1.0)
    f0 = cfg.sr / (lag + shift)
    aperiodicity = np.clip(b, 0.0, 1.0)
    return f0.astype(np.float32), aperiodicity.astype(np.float32)


def _cmnd(frames: np.ndarray, win: int, max_lag: int) -> np.ndarray:
    """Cumulative mean normalised difference d'(tau), tau = 0..max_lag (Eq. 8).

    Args:
        frames: (M, L) with L >= win + max_lag.
        win: integration window W.
        max_lag: largest lag.

    Returns:
        (M, max_lag + 1); rows without energy are all ones (aperiodic).
    """
    import scipy.fft

    m, length = frames.shape
    n_fft = scipy.fft.next_fast_len(length, real=True)
    # r(tau) = sum_{n<W} x[n] x[n+tau], by FFT cross-correlation (no wrap: n + tau < L).
    head = np.zeros((m, length))
    head[:, :win] = frames[:, :win]
    spec = np.conj(scipy.fft.rfft(head, n_fft, axis=1)) * scipy.fft.rfft(frames, n_fft, axis=1)
    r = scipy.fft.irfft(spec, n_fft, axis=1)[:, : max_lag + 1]
    # e(tau) = sum_{n<W} x[n+tau]^2 via a cumulative sum.
    cs = np.zeros((m, length + 1))
    np.cumsum(frames * frames, axis=1, out=cs[:, 1:])
    tau = np.arange(max_lag + 1)
    e = cs[:, tau + win] - cs[:, tau]
    d = np.maximum(e[:, :1] + e - 2.0 * r, 0.0)  # Eq. 7, clamped against round-off
    d[:, 0] = 0.0
    cum = np.cumsum(d[:, 1:], axis=1)
    out = np.ones_like(d)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = d[:, 1:] * tau[1:] / cum
    silent = ~(cum > 1e-10 * np.maximum(e[:, :1], 1e-30))
    out[:, 1:] = np.where(silent | ~np.isfinite(ratio), 1.0, ratio)
    return out
