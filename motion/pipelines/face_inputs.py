"""Inputs of :class:`motion.pipelines.face.FacePipeline`: speech features, emotion code, style.

* speech: a file path, an :class:`~motion.audio.Audio`, a waveform ``(N,)`` at 16 kHz, or
  precomputed features ``(T, F)`` at 30 fps (as :func:`motion.data.feature_cache.audio_features`
  computes them for training, so training and inference see the same numbers);
* emotion: a name (``"happy"``, aliases allowed), a blend ``{"happy": 0.7, "surprised": 0.3}``,
  or None (the emotion heard in the audio, i.e. the speech encoder's probabilities; neutral
  without an encoder);
* style: a speaker id (``3`` or ``"3"``), the path of a reference clip, or None (the style
  heard in the audio).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from motion.audio.loudness import TARGET_LUFS
from motion.pipelines.request import PHONE_MODES
from motion.types import AUDIO_SR, EMOTIONS, FPS, canonical_emotion

AudioLike = str | Path | np.ndarray | torch.Tensor | Any
#: A name, a blend, None, or an :class:`~motion.pipelines.emotion_curve.EmotionCurve` (the face
#: pipeline samples a curve itself; :func:`emotion_code` takes the rest).
EmotionLike = str | Mapping[str, float] | Any | None
StyleLike = str | int | Path | None


def check_phone_mode(mode: str) -> str:
    """``mode`` if it is one of :data:`PHONE_MODES`, else a ValueError naming them."""
    if mode not in PHONE_MODES:
        raise ValueError(f"phones must be one of {', '.join(PHONE_MODES)}, got {mode!r}")
    return mode


def as_audio(audio: AudioLike) -> Any:
    """An :class:`~motion.audio.Audio` from a path, an Audio or a 16 kHz waveform ``(N,)``;
    features ``(T, F)`` come back unchanged (as a float32 array)."""
    from motion.audio import Audio, load_audio_from_array
    from motion.audio.io import open_audio

    if isinstance(audio, torch.Tensor):
        audio = audio.detach().cpu().numpy()
    if isinstance(audio, np.ndarray) and audio.ndim == 2:
        return np.ascontiguousarray(audio, np.float32)
    if isinstance(audio, np.ndarray):
        audio = load_audio_from_array(audio, AUDIO_SR, allow_silent=True)
    elif isinstance(audio, (str, Path)):
        audio = open_audio(audio, allow_silent=True)  # the samples on disk, read chunk by chunk
    if not isinstance(audio, Audio):
        raise TypeError(f"speech must be a path, an Audio, a (N,) waveform or (T, F) features; got {type(audio).__name__}")
    return audio


def recogniser_mode(phones: str) -> str:
    """The :func:`~motion.audio.phones.recognise_phones` mode of a :data:`PhoneMode`: "off" and
    "detector" (which finds no phones) recognise with the loop when an export reads phones as
    features (``log_mel_visemes``)."""
    return "loop" if phones in ("off", "detector") else phones


def phone_track(audio: AudioLike, transcript: str | None = None, phones: str = "loop",
                detector: Any = None) -> Any:
    """The :class:`~motion.audio.phones.PhoneTrack` of the speech (aligned to ``transcript`` when
    given, else detected by :func:`motion.audio.closures.detect_closures` for "detector", with
    ``detector`` (None: the shipped one), else recognised as :func:`recogniser_mode` of ``phones``
    says); None for precomputed features, which hold no audio."""
    from motion.audio.phones import recognise_phones

    audio = as_audio(audio)
    if isinstance(audio, np.ndarray):
        return None
    if phones == "detector" and not (transcript and transcript.strip()):
        from motion.audio.closures import detect_closures

        return detect_closures(audio, detector)
    return recognise_phones(audio, transcript, mode=recogniser_mode(phones))  # type: ignore[arg-type]


def speech_features(audio: AudioLike, audio_features: str = "log_mel", n_mels: int = 80,
                    fps: float = FPS, loudness_lufs: float | None = TARGET_LUFS,
                    transcript: str | None = None, phones: Any = None) -> np.ndarray:
    """``(T, F)`` float32 speech features at ``fps``, T = round(duration * fps), from any accepted
    input; waveforms are brought to ``loudness_lufs`` first (None: the raw level); ``transcript``
    aligns the phones of "log_mel_visemes" features instead of recognising them, ``phones`` (a
    :class:`~motion.audio.phones.PhoneTrack` of this audio) skips both."""
    from motion.data.feature_cache import FeatureConfig
    from motion.data.feature_cache import audio_features as compute

    cfg = FeatureConfig(audio_features, n_mels, fps, loudness_lufs)  # type: ignore[arg-type]
    audio = as_audio(audio)
    if isinstance(audio, np.ndarray):
        if audio.shape[1] != cfg.dim:
            raise ValueError(f"features must be (T, {cfg.dim}) ({audio_features} at {fps:g} fps), got {audio.shape}")
        return audio
    return compute(audio, cfg, transcript, phones)


def emotion_code(emotion: EmotionLike, heard: np.ndarray | None) -> np.ndarray:
    """``(8,)`` emotion weights: one-hot of a name, a normalised blend, or ``heard`` (None: neutral)."""
    w = np.zeros(len(EMOTIONS), np.float32)
    if emotion is None:
        if heard is not None:
            return np.asarray(heard, np.float32)
        w[EMOTIONS.index("neutral")] = 1.0
    elif isinstance(emotion, str):
        w[EMOTIONS.index(canonical_emotion(emotion))] = 1.0
    elif isinstance(emotion, Mapping):
        for name, value in emotion.items():
            if float(value) < 0:
                raise ValueError(f"emotion weights must be >= 0, got {name}={value}")
            w[EMOTIONS.index(canonical_emotion(name))] += float(value)
        if w.sum() <= 0:
            raise ValueError("an emotion blend needs a positive weight")
        w /= w.sum()
    else:
        raise TypeError(f"emotion must be a name, a {{name: weight}} blend or None, got {type(emotion).__name__}")
    return w


def parse_style(style: StyleLike) -> int | Path | None:
    """A speaker id (int), a reference clip (existing path) or None; raises on anything else."""
    if style is None or isinstance(style, int):
        return style
    if isinstance(style, str) and style.strip().lstrip("-").isdigit():
        return int(style)
    p = Path(style)
    if not p.is_file():
        raise FileNotFoundError(f"style must be a speaker id or a reference clip; {p} is not a file")
    return p


def check_intensity(intensity: float) -> float:
    """``intensity`` as float, within [0, 3] (MEAD levels 1-3; 0 = neutral)."""
    x = float(intensity)
    if not 0.0 <= x <= 3.0:
        raise ValueError(f"intensity must be within [0, 3] (MEAD levels 1-3), got {intensity}")
    return x


def chunk_spans(num_frames: int, chunk: int, overlap: int) -> list[tuple[int, int]]:
    """``[(start, stop)]`` covering ``[0, T)`` with windows of ``chunk`` frames overlapping by at
    least ``overlap`` (the last one ends at T)."""
    if num_frames <= chunk:
        return [(0, num_frames)]
    step = max(chunk - overlap, 1)
    starts = list(range(0, num_frames - chunk, step)) + [num_frames - chunk]
    return [(s, s + chunk) for s in sorted(set(starts))]


def blend_weights(spans: list[tuple[int, int]], num_frames: int, ramp: int) -> list[np.ndarray]:
    """Per span ``(stop - start,)`` cross-fade weights: linear ramps of ``ramp`` frames at inner
    boundaries; the weighted sum divided by the summed weights is seamless."""
    out = []
    for i, (s, e) in enumerate(spans):
        t = np.arange(s, e, dtype=np.float64)
        w = np.ones(e - s)
        if i > 0:
            w = np.minimum(w, (t - s + 1) / (ramp + 1))
        if i < len(spans) - 1:
            w = np.minimum(w, (e - t) / (ramp + 1))
        out.append(w)
    return out
