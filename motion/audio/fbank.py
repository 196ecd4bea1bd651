"""Kaldi-compatible log mel filterbank in numpy (no torchaudio).

Reproduces ``torchaudio.compliance.kaldi.fbank(waveform - waveform.mean(),
htk_compat=True, sample_frequency=16000, use_energy=False, window_type="hanning",
num_mel_bins=128, dither=0.0, frame_shift=10)``, the AST-style input used by AMUSE's
speech encoder: 25 ms frames every 10 ms taken from the start of the signal
(Kaldi ``snip_edges``: frame k covers samples [160 k, 160 k + 400)), per-frame DC
removal, pre-emphasis 0.97, symmetric Hann window, 512-point power spectrum, Kaldi
mel triangles (1127 ln(1 + f/700), 20 Hz to Nyquist), natural log floored at the
float32 epsilon.
"""

from __future__ import annotations

import math

import numpy as np

from motion.audio.framing import chunks, frame_at
from motion.audio.io import Audio
from motion.types import AUDIO_SR

FBANK_SR: int = AUDIO_SR
FRAME_LENGTH: int = 400  # 25 ms
FRAME_SHIFT: int = 160  # 10 ms
PADDED_LENGTH: int = 512
PREEMPHASIS: float = 0.97
LOW_FREQ: float = 20.0
LOG_FLOOR: float = float(np.finfo(np.float32).eps)
#: AudioSet statistics used by AST-style models to normalise the fbank
#: (``(fbank - mean) / (2 * std)``), see :func:`normalize_fbank`.
AST_FBANK_MEAN: float = -4.2677393
AST_FBANK_STD: float = 4.5689974


def num_fbank_frames(n_samples: int) -> int:
    """F = 1 + (N - 400) // 160 frames for N >= 400 samples, else 0."""
    return 0 if n_samples < FRAME_LENGTH else 1 + (n_samples - FRAME_LENGTH) // FRAME_SHIFT


def kaldi_mel_banks(n_mels: int, sr: int = FBANK_SR) -> np.ndarray:
    """Kaldi triangular mel filters.

    Returns:
        (n_mels, PADDED_LENGTH // 2 + 1) float64; the Nyquist column is zero, as in Kaldi.
    """

    def mel(f: np.ndarray | float) -> np.ndarray:
        return 1127.0 * np.log(1.0 + np.asarray(f, dtype=np.float64) / 700.0)

    n_bins = PADDED_LENGTH // 2
    lo, hi = mel(LOW_FREQ), mel(sr / 2.0)
    delta = (hi - lo) / (n_mels + 1)
    left = lo + np.arange(n_mels)[:, None] * delta
    center, right = left + delta, left + 2.0 * delta
    m = mel(np.arange(n_bins) * (sr / PADDED_LENGTH))[None, :]
    banks = np.maximum(
        0.0, np.minimum((m - left) / (center - left), (right - m) / (right - center))
    )
    return np.concatenate([banks, np.zeros((n_mels, 1))], axis=1)


def kaldi_fbank(
    audio: Audio,
    n_mels: int = 128,
    *,
    chunk_seconds: float = 10.0,
) -> np.ndarray:
    """Kaldi/AST log mel filterbank of ``audio`` (resampled to 16 kHz if needed).

    Args:
        audio: mono audio with samples in [-1, 1] (not rescaled to int16 range).
        n_mels: number of mel bins.
        chunk_seconds: audio processed at once; bounds the working memory.

    Returns:
        (F, n_mels) float32, F = 1 + (N - 400) // 160 (0 rows if N < 400); row k
        describes samples [160 k, 160 k + 400), i.e. it is centred at 10 k + 12.5 ms.

    AST/AMUSE subtract the waveform mean before the fbank; with Kaldi's per-frame DC
    removal that step changes nothing, so it is skipped (no copy of the signal).
    """
    from motion.audio._stream import samples_at

    y = samples_at(audio, FBANK_SR)  # on disk at 16 kHz: read chunk by chunk
    n_frames = num_fbank_frames(y.shape[0])
    out = np.empty((n_frames, n_mels), np.float32)
    basis = fbank_basis(n_mels)
    for k0, k1 in chunks(n_frames, fbank_chunk_frames(chunk_seconds)):
        out[k0:k1] = fbank_rows(y, k0, k1, basis)
    return out


def fbank_chunk_frames(chunk_seconds: float = 10.0) -> int:
    """Frames :func:`kaldi_fbank` computes at once for ``chunk_seconds``."""
    return max(1, int(round(chunk_seconds * FBANK_SR / FRAME_SHIFT)))


def fbank_basis(n_mels: int) -> tuple[np.ndarray, np.ndarray]:
    """``(mel banks (257, n_mels), window (400,))`` of :func:`fbank_rows`."""
    n = np.arange(FRAME_LENGTH)
    window = 0.5 - 0.5 * np.cos(2.0 * math.pi * n / (FRAME_LENGTH - 1))  # symmetric Hann
    return kaldi_mel_banks(n_mels).T, window


def fbank_rows(y: np.ndarray, k0: int, k1: int, basis: tuple[np.ndarray, np.ndarray], offset: int = 0) -> np.ndarray:
    """``(k1 - k0, n_mels)`` float32 rows ``k0..k1-1`` of :func:`kaldi_fbank`, from ``y`` holding the
    16 kHz signal from sample ``offset`` on (a chunk of it, or all with ``offset`` 0)."""
    banks, window = basis
    frames = frame_at(y, k0 * FRAME_SHIFT - offset, k1 - k0, FRAME_SHIFT, FRAME_LENGTH)
    x = frames - frames.mean(axis=1, keepdims=True)  # remove DC offset
    prev = np.concatenate([x[:, :1], x[:, :-1]], axis=1)  # x[-1] := x[0]
    x = (x - PREEMPHASIS * prev) * window
    power = np.abs(np.fft.rfft(x, PADDED_LENGTH, axis=1)) ** 2
    return np.log(np.maximum(power @ banks, LOG_FLOOR)).astype(np.float32)


def normalize_fbank(
    fbank: np.ndarray, mean: float = AST_FBANK_MEAN, std: float = AST_FBANK_STD
) -> np.ndarray:
    """AST normalisation ``(fbank - mean) / (2 * std)``; (F, n_mels) -> (F, n_mels) float32."""
    return ((fbank - mean) / (2.0 * std)).astype(np.float32)
