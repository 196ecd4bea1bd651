"""Audio loading and per-motion-frame speech features (numpy only, no torch).

Importing this package loads numpy only; soundfile, soxr and librosa are imported
when first used.

>>> from motion.audio import load_audio, compute_features
>>> audio = load_audio("speech.m4a")          # 16 kHz float32 mono  # doctest: +SKIP
>>> feats = compute_features(audio, fps=30)   # T = round(duration * 30) frames  # doctest: +SKIP
"""

from motion.audio.errors import (
    AudioDecodeError,
    AudioError,
    EmptyAudioError,
    NonFiniteAudioError,
    SampleRateError,
    SilentAudioError,
)
from motion.audio.fbank import kaldi_fbank, normalize_fbank, num_fbank_frames
from motion.audio.features import AudioFeatures, compute_features
from motion.audio.framing import num_motion_frames
from motion.audio.io import Audio, load_audio, load_audio_from_array, save_wav

__all__ = [
    "Audio",
    "AudioDecodeError",
    "AudioError",
    "AudioFeatures",
    "EmptyAudioError",
    "NonFiniteAudioError",
    "SampleRateError",
    "SilentAudioError",
    "compute_features",
    "kaldi_fbank",
    "load_audio",
    "load_audio_from_array",
    "normalize_fbank",
    "num_fbank_frames",
    "num_motion_frames",
    "save_wav",
]
