"""Training-time speech augmentation: what real recordings do to a clean voice.

:func:`augment_speech` runs a seeded random chain over a clip (same seed, same output), each
step with its own probability (:class:`AugmentConfig`), in the order a recording meets them:

1. pitch shift +-3 semitones (another voice; the timing is kept, so the face and body targets
   stay aligned) - ``audiomentations.PitchShift``;
2. room reverberation: the clip convolved with a room impulse response from a bank of
   simulated shoebox rooms (image-source method, ``pyroomacoustics.ShoeBox``; 3-9 m rooms,
   RT60 about 0.15-0.8 s, microphone 0.3-2.5 m away), built once per process;
3. equalisation: seven-band parametric EQ (+-9 dB) - a microphone's or a room's colour -
   ``audiomentations.SevenBandParametricEQ``;
4. additive noise at 5-30 dB SNR, white to brown (``audiomentations.AddColorNoise``);
5. telephone band (300-3400 Hz, ``HighPassFilter`` + ``LowPassFilter``);
6. a lossy codec round trip (MP3 at 16-64 kbit/s, ``audiomentations.Mp3Compression``);
7. a recording level of -24 to +24 dB, written as 16-bit PCM (clipped at full scale,
   quantised): hot recordings clip, quiet ones lose bits.

The output has the input's length and rate (float32). Tempo changes are left out: they would
move the speech against its motion targets.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AugmentConfig:
    """Probability and range of each step (module notes); ``p_*`` in [0, 1]."""

    p_pitch: float = 0.3
    semitones: float = 3.0
    p_reverb: float = 0.4
    p_eq: float = 0.4
    p_noise: float = 0.5
    snr_db: tuple[float, float] = (5.0, 30.0)
    p_telephone: float = 0.15
    p_codec: float = 0.2
    gain_db: float = 24.0

    def __post_init__(self) -> None:
        for name in ("p_pitch", "p_reverb", "p_eq", "p_noise", "p_telephone", "p_codec"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"AugmentConfig.{name} must be within [0, 1], got {getattr(self, name)}")


#: Rooms in the reverberation bank.
NUM_ROOMS = 32


@functools.lru_cache(maxsize=4)
def room_bank(sr: int, num_rooms: int = NUM_ROOMS, seed: int = 1234) -> tuple[np.ndarray, ...]:
    """``num_rooms`` room impulse responses at ``sr`` (peak-normalised float32 ``(L,)``), seeded."""
    import pyroomacoustics as pra

    rng = np.random.default_rng(seed)
    out = []
    for _ in range(num_rooms):
        dims = rng.uniform([3.0, 3.0, 2.4], [9.0, 7.0, 3.5])
        rt60 = rng.uniform(0.15, 0.8)
        absorption, max_order = pra.inverse_sabine(rt60, dims)
        room = pra.ShoeBox(dims, fs=sr, materials=pra.Material(absorption), max_order=min(max_order, 12))
        src = rng.uniform([0.5, 0.5, 1.2], dims - [0.5, 0.5, 1.0])
        direction = rng.normal(size=3)
        direction[2] *= 0.2
        mic = src + direction / np.linalg.norm(direction) * rng.uniform(0.3, 2.5)
        mic = np.clip(mic, 0.3, dims - 0.3)
        room.add_source(src)
        room.add_microphone(mic)
        room.compute_rir()
        h = np.asarray(room.rir[0][0], np.float64)
        out.append((h / np.abs(h).max()).astype(np.float32))
    return tuple(out)


def _reverb(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """``x`` convolved with ``h``, aligned on the direct path, same length and RMS as ``x``."""
    from scipy.signal import fftconvolve

    onset = int(np.argmax(np.abs(h)))
    y = fftconvolve(x, h)[onset:onset + x.shape[0]]
    rms_x, rms_y = float(np.sqrt(np.mean(x**2))), float(np.sqrt(np.mean(y**2)))
    return (y * (rms_x / rms_y) if rms_y > 0 else y).astype(np.float32)


def augment_speech(samples: np.ndarray, sr: int, seed: int, cfg: AugmentConfig | None = None) -> np.ndarray:
    """One random rendering of ``samples (N,)`` as a real recording might hold it (module notes).

    Returns:
        ``(N,)`` float32 in [-1, 1) (16-bit PCM values).
    """
    import audiomentations as A

    cfg = cfg or AugmentConfig()
    x = np.asarray(samples, np.float32)
    rng = np.random.default_rng(seed)
    # audiomentations draws its parameters from the global `random` / `np.random`: seed them
    # from our generator for this call and restore them afterwards.
    py_state, np_state = random.getstate(), np.random.get_state()
    random.seed(int(rng.integers(2**31)))
    np.random.seed(int(rng.integers(2**31)))
    try:
        if rng.random() < cfg.p_pitch:
            x = A.PitchShift(-cfg.semitones, cfg.semitones, p=1.0)(x, sample_rate=sr)
        if rng.random() < cfg.p_reverb:
            bank = room_bank(sr)
            x = _reverb(x, bank[int(rng.integers(len(bank)))])
        if rng.random() < cfg.p_eq:
            x = A.SevenBandParametricEQ(-9.0, 9.0, p=1.0)(x, sample_rate=sr)
        if rng.random() < cfg.p_noise:
            x = A.AddColorNoise(min_snr_db=cfg.snr_db[0], max_snr_db=cfg.snr_db[1], p=1.0)(x, sample_rate=sr)
        if rng.random() < cfg.p_telephone:
            x = A.HighPassFilter(250.0, 350.0, p=1.0)(x, sample_rate=sr)
            x = A.LowPassFilter(3000.0, 3600.0, p=1.0)(x, sample_rate=sr)
        if rng.random() < cfg.p_codec:
            peak = float(np.abs(x).max())
            scale = 0.9 / peak if peak > 0.9 else 1.0  # the encoder needs [-1, 1]
            x = A.Mp3Compression(16, 64, p=1.0)(x * scale, sample_rate=sr) / scale
            x = x[:len(samples)] if len(x) >= len(samples) else np.pad(x, (0, len(samples) - len(x)))
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
    peak = float(np.abs(x).max())
    level = 0.5 / peak if peak > 0 else 1.0  # from a -6 dBFS peak ...
    gain = 10.0 ** (rng.uniform(-cfg.gain_db, cfg.gain_db) / 20.0)  # ... to a recording level
    y = np.clip(x * level * gain, -1.0, 32767 / 32768)
    return (np.round(y * 32768.0) / 32768.0).astype(np.float32)
