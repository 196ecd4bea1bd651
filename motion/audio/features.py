"""Per-motion-frame speech features: log-mel, energy, f0/voicing, onsets.

Frame alignment
---------------
Motion frame ``i`` is the instant ``t_i = i / fps``; a clip of duration ``d`` seconds
gives ``T = int(round(d * fps))`` frames, the same count as a motion of that duration.
Features are analysed at 16 kHz on a fine grid of centred frames every 160 samples
(10 ms, 100 Hz; fine frame ``j`` is centred on ``t = j / 100``), then brought to the
motion times: log-mel, energy and f0 by linear interpolation at ``t_i`` (exact
sampling whenever ``100 / fps`` is an integer, e.g. 25 fps; 16000 / 30 = 533.3 samples
is not an integer hop, hence the fine grid), onset strength by max-pooling the fine
frames nearest to each motion frame (so 10 ms peaks are not lost), ``voiced`` by
majority of the interpolated fine decisions. Onsets are picked on the fine envelope
with ``librosa.onset.onset_detect``'s rule (numpy port in :mod:`motion.audio.onsets`)
and rounded to the nearest motion frame.

Long audio is processed in chunks of whole fine frames; every fine frame depends only
on its own window, so the result does not depend on the chunk size and memory stays
bounded by the chunk plus the (fine-rate) feature arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from motion.audio.framing import (
    centered_frames,
    chunks,
    interp_frames,
    max_pool_frames,
    num_centered_frames,
    num_motion_frames,
)
from motion.audio.io import Audio
from motion.audio.onsets import onset_frames
from motion.audio.pitch import YinConfig, yin_frames
from motion.types import AUDIO_SR, FPS

#: Analysis sample rate (Hz); other rates are resampled first.
ANALYSIS_SR: int = AUDIO_SR
#: Fine analysis hop: 160 samples = 10 ms (100 frames per second).
HOP: int = 160
FINE_RATE: float = ANALYSIS_SR / HOP
#: STFT size and (Hann) window for the mel spectrogram: 32 ms FFT, 25 ms window.
N_FFT: int = 512
WIN_LENGTH: int = 400
#: RMS energy window (25 ms, rectangular).
ENERGY_WINDOW: int = 400
#: Floors: power floor of the log-mel (log(1e-10) = -23.03), RMS floor (-100 dB).
MEL_AMIN: float = 1e-10
ENERGY_AMIN: float = 1e-5
#: Onset envelope: mel power in dB clipped to ``TOP_DB`` below the clip's maximum.
TOP_DB: float = 80.0
#: Voicing energy gate: within ``VOICING_RANGE_DB`` of the clip's 99th-percentile
#: frame energy and above ``VOICING_FLOOR_DB`` dBFS.
VOICING_RANGE_DB: float = 40.0
VOICING_FLOOR_DB: float = -70.0
#: Fine frames in the majority vote that smooths the voicing decision (50 ms).
VOICING_SMOOTH_FRAMES: int = 5
#: pyin frame length (64 ms at 16 kHz) and the context kept around each pyin chunk.
PYIN_FRAME_LENGTH: int = 1024
PYIN_MARGIN_FRAMES: int = 100

F0Method = Literal["yin", "pyin"]


@dataclass(frozen=True, eq=False)
class AudioFeatures:
    """Speech features at the motion frame rate (all float32 unless noted).

    Attributes:
        log_mel: (T, n_mels) natural log of mel power, ln(max(P, 1e-10)); Slaney mel,
            0-8 kHz, 25 ms Hann window.
        energy: (T,) RMS level in dBFS over 25 ms, 20*log10(max(rms, 1e-5)).
        f0: (T,) fundamental frequency in Hz, 0 where unvoiced.
        voiced: (T,) bool.
        onset_strength: (T,) spectral flux (mean positive dB change per mel band per
            10 ms), max-pooled to motion frames; >= 0.
        onsets: (K,) int64 motion-frame indices of detected onsets, increasing.
        fps: motion frame rate; frame i is at time i / fps.
    """

    log_mel: np.ndarray
    energy: np.ndarray
    f0: np.ndarray
    voiced: np.ndarray
    onset_strength: np.ndarray
    onsets: np.ndarray
    fps: float

    @property
    def num_frames(self) -> int:
        """T, the number of motion frames."""
        return int(self.energy.shape[0])

    @property
    def times(self) -> np.ndarray:
        """(T,) float64 frame times in seconds, i / fps."""
        return np.arange(self.num_frames) / self.fps


@dataclass
class _Fine:
    """Fine-grid (100 Hz) features of the whole clip; M = 1 + N // HOP frames."""

    log_mel: np.ndarray  # (M, n_mels) float32
    energy: np.ndarray  # (M,) float32 dBFS
    f0: np.ndarray  # (M,) float32 Hz, an estimate for every frame
    periodic: np.ndarray  # (M,) bool, the pitch tracker's own voicing decision


def compute_features(
    audio: Audio,
    fps: float = FPS,
    n_mels: int = 80,
    *,
    f0_method: F0Method = "yin",
    fmin: float = 50.0,
    fmax: float = 600.0,
    voicing_threshold: float = 0.35,
    chunk_seconds: float = 10.0,
) -> AudioFeatures:
    """Compute per-motion-frame features of ``audio`` (see the module docstring).

    Args:
        audio: mono audio (resampled to 16 kHz first if it is at another rate).
        fps: motion frame rate.
        n_mels: mel bands of ``log_mel``.
        f0_method: "yin" (fast; voiced where the YIN aperiodicity is below
            ``voicing_threshold``) or "pyin" (librosa's probabilistic YIN, ~10x slower).
        fmin: lowest f0 searched (Hz).
        fmax: highest f0 searched (Hz).
        voicing_threshold: YIN aperiodicity below which a frame is periodic (0-1).
        chunk_seconds: audio processed at once; bounds the working memory.

    Returns:
        :class:`AudioFeatures` with T = int(round(audio.duration * fps)) frames.
    """
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if not 0 < fmin < fmax <= ANALYSIS_SR / 2:
        raise ValueError(f"need 0 < fmin < fmax <= 8000 Hz, got fmin={fmin}, fmax={fmax}")
    if f0_method not in ("yin", "pyin"):
        raise ValueError(f"f0_method must be 'yin' or 'pyin', got {f0_method!r}")
    y = _analysis_signal(audio)
    chunk_frames = max(1, int(round(chunk_seconds * FINE_RATE)))
    fine = _fine_features(y, n_mels, chunk_frames)
    yin_cfg = YinConfig(sr=ANALYSIS_SR, fmin=fmin, fmax=fmax)
    if f0_method == "yin":
        for j0, j1 in chunks(fine.f0.shape[0], chunk_frames):
            f0, aperiodicity = yin_frames(y, j0, j1, HOP, yin_cfg)
            fine.f0[j0:j1] = f0
            fine.periodic[j0:j1] = aperiodicity < voicing_threshold
    else:
        _pyin_into(y, fine, fmin, fmax, chunk_frames)
    voiced_fine = _voicing(fine, fmin, fmax)
    flux = _spectral_flux(fine.log_mel, chunk_frames)

    T = num_motion_frames(audio.duration, fps)
    pos = np.arange(T) * (FINE_RATE / fps)
    voiced = interp_frames(voiced_fine.astype(np.float32), pos) >= 0.5
    f0 = np.where(voiced, interp_frames(_fill_unvoiced(fine.f0, voiced_fine), pos), 0.0)
    return AudioFeatures(
        log_mel=interp_frames(fine.log_mel, pos),
        energy=interp_frames(fine.energy, pos),
        f0=f0.astype(np.float32),
        voiced=voiced,
        onset_strength=max_pool_frames(flux, FINE_RATE, T, fps),
        onsets=_detect_onsets(flux, T, fps),
        fps=float(fps),
    )


def log_mel_features(audio: Audio, fps: float = FPS, n_mels: int = 80,
                     chunk_seconds: float = 10.0, gain: np.float32 | None = None) -> np.ndarray:
    """``(T, n_mels)`` log-mel at the motion frame rate: ``compute_features(...).log_mel``
    without the pitch tracker and onsets (what the model stages read; ~2x faster).

    ``gain``: a float32 scale of the samples (loudness normalisation), applied chunk by chunk
    as each chunk is framed: the same numbers as the log-mel of ``audio.samples * gain``
    without a scaled copy of the whole recording. Needs audio at ``ANALYSIS_SR``.
    """
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if gain is not None and audio.sr != ANALYSIS_SR:
        raise ValueError(f"gain= needs audio at {ANALYSIS_SR} Hz (scale after resampling), got {audio.sr} Hz")
    y = _analysis_signal(audio)
    T = num_motion_frames(audio.duration, fps)
    m = num_centered_frames(y.shape[0], HOP)
    out = np.empty((T, n_mels), np.float32)
    if T == 0:
        return out
    # Streamed: fine rows [j0, j1] are computed chunk by chunk (each row depends only on its own
    # window) and the motion frames whose two neighbours lie in them are interpolated at once,
    # as interp_frames does over the whole clip (same numbers), so nothing of the clip's length
    # is held but the output.
    pos = np.clip(np.arange(T) * (FINE_RATE / fps), 0.0, m - 1)
    i0 = np.floor(pos).astype(np.int64)
    i1 = np.minimum(i0 + 1, m - 1)
    w = (pos - i0).astype(np.float32)[:, None]
    mel_fb, window = _mel_basis(n_mels)
    chunk = max(1, int(round(chunk_seconds * FINE_RATE)))
    t = 0
    for j0, j1 in chunks(m, chunk):
        stop = int(np.searchsorted(i1, j1, side="left"))  # frames whose rows are all below j1
        if j1 == m:
            stop = T
        if stop <= t:
            continue
        lo = int(i0[t])
        rows = _log_mel_rows(y, lo, int(i1[stop - 1]) + 1, mel_fb, window, gain)
        a, b = i0[t:stop] - lo, i1[t:stop] - lo
        out[t:stop] = ((1.0 - w[t:stop]) * rows[a] + w[t:stop] * rows[b]).astype(np.float32)
        t = stop
    return out


def _mel_basis(n_mels: int) -> tuple[np.ndarray, np.ndarray]:
    """``(mel filterbank (n_mels, N_FFT // 2 + 1) float64, analysis window (N_FFT,))``."""
    import librosa

    mel_fb = librosa.filters.mel(
        sr=ANALYSIS_SR, n_fft=N_FFT, n_mels=n_mels, fmin=0.0, fmax=ANALYSIS_SR / 2
    ).astype(np.float64)  # (n_mels, N_FFT // 2 + 1)
    window = np.zeros(N_FFT)
    off = (N_FFT - WIN_LENGTH) // 2  # librosa.stft pads the window to n_fft, centred
    window[off : off + WIN_LENGTH] = 0.5 - 0.5 * np.cos(
        2.0 * np.pi * np.arange(WIN_LENGTH) / WIN_LENGTH
    )  # periodic Hann, as scipy.signal.get_window("hann", 400)
    return mel_fb, window


def _log_mel_rows(y: np.ndarray, j0: int, j1: int, mel_fb: np.ndarray, window: np.ndarray,
                  gain: np.float32 | None = None) -> np.ndarray:
    """``(j1 - j0, n_mels)`` float32 fine log-mel rows ``j0..j1-1`` of ``y * gain``."""
    frames = centered_frames(y, j0, j1, HOP, N_FFT, gain)
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    return np.log(np.maximum(power @ mel_fb.T, MEL_AMIN)).astype(np.float32)


def _analysis_signal(audio: Audio) -> np.ndarray:
    """(N,) float32 samples at ANALYSIS_SR (on-disk samples at that rate as they are: every
    reader here takes them range by range)."""
    from motion.audio._stream import samples_at

    return samples_at(audio, ANALYSIS_SR)


def _fine_features(y: np.ndarray, n_mels: int, chunk_frames: int, gain: np.float32 | None = None) -> _Fine:
    """Log-mel and energy on the fine grid of ``y * gain``; allocates f0 / periodic for the tracker."""
    m = num_centered_frames(y.shape[0], HOP)
    mel_fb, window = _mel_basis(n_mels)
    fine = _Fine(
        log_mel=np.empty((m, n_mels), np.float32),
        energy=np.empty(m, np.float32),
        f0=np.zeros(m, np.float32),
        periodic=np.zeros(m, bool),
    )
    for j0, j1 in chunks(m, chunk_frames):
        fine.log_mel[j0:j1] = _log_mel_rows(y, j0, j1, mel_fb, window, gain)
        frames = centered_frames(y, j0, j1, HOP, ENERGY_WINDOW, gain)
        rms = np.sqrt(np.mean(frames * frames, axis=1))
        fine.energy[j0:j1] = 20.0 * np.log10(np.maximum(rms, ENERGY_AMIN))
    return fine


def _pyin_into(y: np.ndarray, fine: _Fine, fmin: float, fmax: float, chunk_frames: int) -> None:
    """Fill ``fine.f0`` / ``fine.periodic`` with librosa.pyin, chunk by chunk.

    Each chunk is decoded with ``PYIN_MARGIN_FRAMES`` of context on both sides (pyin's
    Viterbi pass looks at the whole sequence) and only its own frames are kept.
    """
    import librosa

    m = fine.f0.shape[0]
    for j0, j1 in chunks(m, chunk_frames):
        a, b = max(j0 - PYIN_MARGIN_FRAMES, 0), min(j1 + PYIN_MARGIN_FRAMES, m)
        seg = y[a * HOP : (b - 1) * HOP + 1]  # centred frames a..b-1
        f0, flag, _ = librosa.pyin(
            seg, fmin=fmin, fmax=fmax, sr=ANALYSIS_SR, frame_length=PYIN_FRAME_LENGTH,
            hop_length=HOP, center=True, fill_na=None,
        )  # fmt: skip
        fine.f0[j0:j1] = f0[j0 - a : j1 - a]
        fine.periodic[j0:j1] = flag[j0 - a : j1 - a]


def _voicing(fine: _Fine, fmin: float, fmax: float) -> np.ndarray:
    """(M,) bool: periodic, loud enough (energy gate) and f0 inside [fmin, fmax].

    The decision is then smoothed by a majority vote over ``VOICING_SMOOTH_FRAMES``
    fine frames, which removes isolated flips.
    """
    ref = float(np.percentile(fine.energy, 99))
    gate = fine.energy > max(ref - VOICING_RANGE_DB, VOICING_FLOOR_DB)
    in_range = (fine.f0 >= fmin * 0.97) & (fine.f0 <= fmax * 1.03)
    raw = (fine.periodic & gate & in_range).astype(np.float32)
    k = VOICING_SMOOTH_FRAMES
    return np.convolve(raw, np.ones(k, np.float32), mode="same") > k / 2


def _fill_unvoiced(f0: np.ndarray, voiced: np.ndarray) -> np.ndarray:
    """(M,) f0 with unvoiced frames linearly bridged between voiced ones (for interpolation)."""
    idx = np.flatnonzero(voiced)
    if idx.size == 0:
        return np.zeros_like(f0)
    return np.interp(np.arange(f0.shape[0]), idx, f0[idx]).astype(np.float32)


def _spectral_flux(log_mel: np.ndarray, chunk_frames: int) -> np.ndarray:
    """(M,) onset envelope: mean over mel bands of the positive dB increase per frame.

    Mel power is in dB (10 log10) clipped to ``TOP_DB`` below the clip's maximum, as in
    ``librosa.onset.onset_strength``; frame 0 has no predecessor and gets 0.
    """
    m = log_mel.shape[0]
    flux = np.zeros(m, np.float32)
    if m < 2:
        return flux
    to_db = 10.0 / math.log(10.0)
    floor = float(log_mel.max()) * to_db - TOP_DB
    for j0, j1 in chunks(m, chunk_frames):
        a = max(j0 - 1, 0)
        s = np.maximum(log_mel[a:j1] * to_db, floor)
        diff = np.maximum(np.diff(s, axis=0), 0.0).mean(axis=1)
        flux[a + 1 : j1] = diff
    return flux


def _detect_onsets(flux: np.ndarray, num_frames: int, fps: float) -> np.ndarray:
    """(K,) int64 motion frames of onsets, picked on the fine envelope then rounded."""
    if num_frames == 0:
        return np.zeros(0, np.int64)
    frames = np.rint(onset_frames(flux, FINE_RATE) * (fps / FINE_RATE)).astype(np.int64)
    return np.unique(frames[frames < num_frames])
