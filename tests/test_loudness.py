"""Loudness normalisation (BS.1770-4) and the level / channel / format invariance of the features."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from motion.audio import Audio, load_audio
from motion.audio.loudness import (
    TARGET_LUFS,
    hop_mean_squares,
    integrated_loudness,
    normalize_loudness,
)
from motion.data.feature_cache import FeatureConfig, audio_features

REAL = Path(__file__).parent / "data" / "real" / "mfa_acoustic_corpus.wav"


def _speechlike(seconds: float, seed: int = 0, sr: int = 16000) -> np.ndarray:
    """Noise bursts with pauses: a signal whose gated loudness differs from its plain RMS."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    env = (np.sin(np.arange(n) * 2 * np.pi * 2.5 / sr) > 0.2).astype(np.float32)
    return (0.1 * rng.standard_normal(n) * env).astype(np.float32)


def test_integrated_loudness_matches_pyloudnorm() -> None:
    import pyloudnorm

    for seconds, sr in ((3.3, 16000), (7.0, 44100)):
        x = _speechlike(seconds, sr=sr)
        ref = pyloudnorm.Meter(sr).integrated_loudness(x.astype(np.float64))
        assert integrated_loudness(x, sr) == pytest.approx(ref, abs=1e-6)


def test_streaming_does_not_depend_on_chunk_size() -> None:
    x = _speechlike(5.0, seed=1)
    a, b = hop_mean_squares(x, 16000, chunk=1 << 18), hop_mean_squares(x, 16000, chunk=1600)
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-15)


def test_silence_short_clips_and_gain() -> None:
    assert integrated_loudness(np.zeros(16000, np.float32), 16000) == -np.inf
    out, info = normalize_loudness(Audio(np.zeros(16000, np.float32), 16000))
    assert info.gain_db == 0.0 and not out.samples.any()
    short = _speechlike(0.2)  # shorter than one 400 ms block: measured as one block
    assert np.isfinite(integrated_loudness(short, 16000))
    x = _speechlike(3.0)
    out, info = normalize_loudness(Audio(x, 16000))
    assert integrated_loudness(out.samples, 16000) == pytest.approx(TARGET_LUFS, abs=0.01)
    assert info.gain_db == pytest.approx(TARGET_LUFS - info.lufs)
    with pytest.raises(ValueError, match="mono"):
        integrated_loudness(np.zeros((100, 2)), 16000)


def test_features_do_not_follow_the_recording_level() -> None:
    audio = load_audio(REAL)
    cfg = FeatureConfig()
    ref = audio_features(audio, cfg)
    for gain_db in (-18.0, -6.0, 6.0):
        scaled = Audio(audio.samples * np.float32(10 ** (gain_db / 20)), audio.sr)
        np.testing.assert_allclose(audio_features(scaled, cfg), ref, atol=2e-3)
    raw = FeatureConfig(loudness_lufs=None)  # the old behaviour: log-mel moves with the level
    quiet = Audio(audio.samples * np.float32(10 ** (-18 / 20)), audio.sr)
    shift = float(np.median(audio_features(audio, raw) - audio_features(quiet, raw)))
    assert shift == pytest.approx(18 * np.log(10) / 10, abs=0.05)  # 18 dB of power in natural log


def test_channels_and_formats_give_the_same_features(tmp_path: Path) -> None:
    """A 5.1 file with the speech in the centre channel only, and lossy copies, read like the wav."""
    from motion.metrics.real_speech import write_format

    audio = load_audio(REAL)
    cfg = FeatureConfig()
    ref = audio_features(audio, cfg)
    for fmt in ("flac", "wav6", "mp3", "ogg", "m4a"):
        sub = tmp_path / fmt
        sub.mkdir()
        path = write_format(audio.samples, audio.sr, fmt, sub)
        if fmt == "wav6":
            assert sf.info(str(path)).channels == 6
        got = audio_features(load_audio(path), cfg)
        assert abs(got.shape[0] - ref.shape[0]) <= 1, fmt
        n = min(len(got), len(ref))
        err = np.abs(got[:n] - ref[:n])
        loud = ref[:n] > np.percentile(ref, 50)  # lossy codecs drop what is far below the speech
        tol = 1e-3 if fmt in ("flac", "wav6") else 0.6
        assert float(np.median(err[loud])) < tol, (fmt, float(np.median(err[loud])))


def test_feature_config_checks_the_loudness() -> None:
    with pytest.raises(ValueError, match="loudness_lufs"):
        FeatureConfig(loudness_lufs=3.0)
    assert FeatureConfig().key() != FeatureConfig(loudness_lufs=None).key()  # the cache tells them apart


@pytest.mark.parametrize("given", ["file", "array"])
def test_one_generate_measures_the_loudness_once(given: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The body's features and the face's lip-event detector both bring the speech to the same
    level: one BS.1770 measurement per call (``Audio.lufs``), whether the speech is a file or an array."""
    from pathlib import Path

    import motion
    import motion.audio.loudness as loudness

    clip = Path(__file__).parent / "data" / "real" / "mfa_acoustic_corpus.wav"
    measured: list[int] = []
    real = loudness.integrated_loudness
    monkeypatch.setattr(loudness, "integrated_loudness", lambda x, sr: measured.append(sr) or real(x, sr))
    if given == "file":
        motion.generate(clip, seed=0, threads=1)
    else:
        audio = motion.load_audio(clip)
        motion.generate(np.asarray(audio.samples), sr=audio.sr, seed=0, threads=1)
    assert measured == [16000]
