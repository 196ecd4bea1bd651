"""Tests for motion.audio: loading (formats, resampling, bad inputs) and features.

All audio is synthesised into tmp_path; the slowest part is librosa's first call.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from motion.audio import (
    Audio,
    AudioDecodeError,
    AudioError,
    AudioFeatures,
    EmptyAudioError,
    NonFiniteAudioError,
    SampleRateError,
    SilentAudioError,
    compute_features,
    kaldi_fbank,
    load_audio,
    load_audio_from_array,
    normalize_fbank,
    num_fbank_frames,
    save_wav,
)

SR = 16000


# ----------------------------------------------------------------------------- helpers
def harmonic(f0: np.ndarray | float, duration: float, sr: int = SR, amp: float = 0.3) -> np.ndarray:
    """(N,) float32 voiced-like signal: 5 harmonics (1/k roll-off) of f0 (Hz, scalar or (N,))."""
    n = int(round(duration * sr))
    f = np.broadcast_to(np.asarray(f0, dtype=np.float64), (n,))
    phase = 2.0 * np.pi * np.cumsum(f) / sr
    x = np.sum([np.sin(k * phase) / k for k in range(1, 6)], axis=0)
    return (amp * x / 1.5).astype(np.float32)


def fade(x: np.ndarray, ms: float = 10.0, sr: int = SR) -> np.ndarray:
    """Raised-cosine fade in/out so segment edges do not click."""
    n = int(sr * ms / 1000)
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n))
    y = x.copy()
    y[:n] *= ramp
    y[-n:] *= ramp[::-1]
    return y


def silence(duration: float, sr: int = SR) -> np.ndarray:
    return np.zeros(int(round(duration * sr)), np.float32)


def ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def ffmpeg_convert(src: Path, dst: Path, *args: str) -> None:
    subprocess.run(
        [ffmpeg(), "-nostdin", "-loglevel", "error", "-y", "-i", str(src), *args, str(dst)],
        check=True,
    )


def tone_file(
    tmp_path: Path,
    name: str,
    sr: int = 44100,
    channels: int = 1,
    duration: float = 1.2345,
    **kwargs: object,
) -> tuple[Path, np.ndarray]:
    """Write a 440 Hz tone (channel c scaled by 1/(c+1)); returns (path, (N, C) data)."""
    t = np.arange(int(round(duration * sr))) / sr
    x = 0.5 * np.sin(2 * np.pi * 440.0 * t)
    data = np.stack([x / (c + 1) for c in range(channels)], axis=1)
    path = tmp_path / name
    sf.write(path, data, sr, **kwargs)
    return path, data


# ----------------------------------------------------------------------------- bad inputs
def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not found.*nope.wav"):
        load_audio(tmp_path / "nope.wav")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError, match="is a directory"):
        load_audio(tmp_path)


@pytest.mark.parametrize("name", ["notes.wav", "noise.wav", "noise.mp3", "noise"])
def test_not_audio(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    if name == "notes.wav":
        path.write_text("this is a text file, renamed to .wav\n" * 40)
    else:
        path.write_bytes(np.random.default_rng(1).bytes(6000))
    with pytest.raises(AudioDecodeError) as info:
        load_audio(path)
    msg = str(info.value)
    assert name in msg and "could not decode" in msg
    assert "soundfile:" in msg and "ffmpeg:" in msg and "convert" in msg


def test_video_without_audio(tmp_path: Path) -> None:
    path = tmp_path / "silent_film.mp4"
    subprocess.run(
        [ffmpeg(), "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
         "color=c=black:s=16x16:d=0.2", "-c:v", "mpeg4", str(path)],
        check=True,
    )  # fmt: skip
    with pytest.raises(AudioDecodeError, match="silent_film.mp4.*no audio stream"):
        load_audio(path)


def test_zero_length(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    sf.write(path, np.zeros(0, np.float32), SR)
    with pytest.raises(EmptyAudioError, match="empty.wav contains no audio samples"):
        load_audio(path)
    with pytest.raises(EmptyAudioError, match="no audio samples"):
        load_audio_from_array(np.zeros(0, np.float32), SR)
    path = tmp_path / "zero_bytes.mp3"
    path.touch()
    with pytest.raises(EmptyAudioError, match=r"zero_bytes.mp3 is an empty file \(0 bytes\)"):
        load_audio(path)


def test_silent(tmp_path: Path) -> None:
    path = tmp_path / "quiet.wav"
    sf.write(path, np.full(SR, 2e-5, np.float32), SR, subtype="FLOAT")
    with pytest.raises(SilentAudioError, match=r"quiet.wav is silent.*allow_silent=True"):
        load_audio(path)
    audio = load_audio(path, allow_silent=True)
    assert audio.num_samples == SR
    # The threshold is a parameter.
    sf.write(path, np.full(SR, 1e-3, np.float32), SR, subtype="FLOAT")
    assert load_audio(path).num_samples == SR
    with pytest.raises(SilentAudioError, match="threshold 0.01"):
        load_audio(path, silence_threshold=1e-2)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite(tmp_path: Path, bad: float) -> None:
    x = harmonic(200.0, 1.0)
    x[8000] = bad
    path = tmp_path / "broken.wav"
    sf.write(path, x, SR, subtype="FLOAT")
    with pytest.raises(NonFiniteAudioError, match=r"broken.wav contains NaN.*t=0.500 s"):
        load_audio(path)
    with pytest.raises(NonFiniteAudioError, match="nan_to_num"):
        load_audio_from_array(x, SR)


def test_absurd_sample_rates(tmp_path: Path) -> None:
    path = tmp_path / "one_hz.wav"
    sf.write(path, harmonic(200.0, 0.1, sr=8000), 8000, subtype="PCM_16")
    header = bytearray(path.read_bytes())
    header[24:28] = (1).to_bytes(4, "little")  # fmt chunk: sample rate
    header[28:32] = (2).to_bytes(4, "little")  # byte rate
    path.write_bytes(bytes(header))
    with pytest.raises(
        SampleRateError, match=r"one_hz.wav declares a sample rate of 1 Hz.*4000-384000"
    ):
        load_audio(path)
    path = tmp_path / "fast.wav"
    sf.write(path, harmonic(200.0, 0.01, sr=500000), 500000)
    with pytest.raises(SampleRateError, match="500000 Hz"):
        load_audio(path)
    with pytest.raises(SampleRateError, match="resample to a sample rate of 100 Hz"):
        load_audio(path, sr=100)
    with pytest.raises(SampleRateError):
        load_audio_from_array(harmonic(200.0, 0.1), 1)


def test_audio_errors_are_value_errors() -> None:
    for cls in (
        AudioDecodeError,
        EmptyAudioError,
        SilentAudioError,
        NonFiniteAudioError,
        SampleRateError,
    ):
        assert issubclass(cls, AudioError) and issubclass(cls, ValueError)


# ----------------------------------------------------------------------------- loading
@pytest.mark.parametrize(
    ("sr", "channels"), [(44100, 2), (8000, 1), (48000, 1), (22050, 3), (SR, 1)]
)
def test_resample_to_16k_mono(tmp_path: Path, sr: int, channels: int) -> None:
    path, data = tone_file(tmp_path, f"tone_{sr}.wav", sr=sr, channels=channels, subtype="FLOAT")
    audio = load_audio(path)
    assert audio.sr == SR and audio.samples.dtype == np.float32 and audio.samples.ndim == 1
    expected_len = data.shape[0] * SR / sr
    assert abs(audio.num_samples - expected_len) <= 1.0
    assert audio.duration == pytest.approx(data.shape[0] / sr, abs=1.0 / SR)
    assert audio.path == path
    # Mono = mean of the channels (the same tone at gains 1, 1/2, 1/3), brought to the loudest
    # channel's level (gain 1), with no time shift from resampling.
    t = np.arange(audio.num_samples) / SR
    ref = 0.5 * np.sin(2 * np.pi * 440.0 * t)
    inner = slice(200, -200)
    assert np.abs(audio.samples[inner] - ref[inner]).max() < 2e-3


@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "mp3", "m4a", "opus"])
def test_formats(tmp_path: Path, fmt: str) -> None:
    sr, duration = 44100, 1.5
    wav, data = tone_file(tmp_path, "src.wav", sr=sr, channels=2, duration=duration)
    path = tmp_path / f"tone.{fmt}"
    if fmt in ("wav", "flac", "ogg"):
        sf.write(path, data, sr)
    elif fmt == "mp3" and "MP3" in sf.available_formats():
        sf.write(path, data, sr, format="MP3")
    else:  # mp3 without libsndfile support, and ffmpeg-only formats
        try:
            ffmpeg_convert(wav, path)
        except (ImportError, subprocess.CalledProcessError) as exc:
            pytest.skip(f"cannot write {fmt}: neither soundfile nor imageio-ffmpeg can ({exc})")
    audio = load_audio(path)
    assert audio.sr == SR
    assert audio.duration == pytest.approx(duration, abs=0.03)
    t = np.arange(audio.num_samples) / SR
    ref = 0.375 * np.sin(2 * np.pi * 440.0 * t)
    inner = slice(1600, -1600)
    corr = np.corrcoef(audio.samples[inner], ref[inner])[0, 1]
    assert corr > 0.95, f"{fmt}: decoded signal does not match (corr {corr:.3f})"


def test_streaming_blocks_do_not_change_result(tmp_path: Path) -> None:
    path, _ = tone_file(tmp_path, "tone.flac", sr=44100, channels=2, duration=2.0)
    a = load_audio(path)
    b = load_audio(path, block_frames=777)
    assert a.num_samples == b.num_samples
    np.testing.assert_allclose(a.samples, b.samples, atol=1e-6)


def test_unnormalised_float_file_is_scaled(tmp_path: Path) -> None:
    path = tmp_path / "loud.wav"
    sf.write(path, 3.0 * harmonic(200.0, 0.5) / 0.3, SR, subtype="FLOAT")
    x = load_audio(path).samples
    assert np.abs(x).max() == pytest.approx(1.0, abs=1e-6)


def test_load_from_array() -> None:
    x = (harmonic(200.0, 1.0, sr=22050) * 32767).astype(np.int16)
    stereo = np.stack([x, x], axis=1)
    audio = load_audio_from_array(stereo, 22050)
    assert audio.sr == SR and audio.path is None
    assert abs(audio.num_samples - 22050 * SR / 22050) <= 1
    assert np.abs(audio.samples).max() == pytest.approx(np.abs(x).max() / 32768, rel=0.02)
    with pytest.raises(AudioError, match=r"samples\.T"):
        load_audio_from_array(stereo.T, 22050)
    with pytest.raises(AudioError, match=r"shape \(N,\) or \(N, C\)"):
        load_audio_from_array(np.zeros((2, 2, 2)), 22050)


def test_audio_container_checks() -> None:
    audio = Audio(samples=np.zeros(800, np.float32), sr=SR)
    assert audio.duration == pytest.approx(0.05) and audio.num_samples == 800
    with pytest.raises(AudioError, match="1-D"):
        Audio(samples=np.zeros((800, 2), np.float32), sr=SR)
    with pytest.raises(AudioError, match="positive"):
        Audio(samples=np.zeros(800, np.float32), sr=0)


def test_save_wav_roundtrip_is_atomic(tmp_path: Path) -> None:
    x = harmonic(200.0, 0.5)
    dest = tmp_path / "out" / "speech.wav"
    assert save_wav(dest, x, SR) == dest
    save_wav(dest, 0.5 * x, SR)  # overwrite
    back = load_audio(dest)
    np.testing.assert_allclose(back.samples, 0.5 * x, atol=2.0 / 32768)
    assert sorted(p.name for p in dest.parent.iterdir()) == ["speech.wav"]
    bad = x.copy()
    bad[3] = np.nan
    with pytest.raises(NonFiniteAudioError, match="refusing to write"):
        save_wav(dest, bad, SR)
    assert sorted(p.name for p in dest.parent.iterdir()) == ["speech.wav"]


# ----------------------------------------------------------------------------- features
# Layout of the test clip (seconds): silence | 200 Hz | silence | chirp 120->320 Hz | silence
SEGMENTS = [(0.0, 0.5), (0.5, 1.3), (1.3, 1.6), (1.6, 2.6), (2.6, 3.0)]
CHIRP = (120.0, 320.0)


@pytest.fixture(scope="module")
def voiced_clip() -> Audio:
    chirp_n = int(SR * 1.0)
    chirp_f0 = np.linspace(*CHIRP, chirp_n)
    x = np.concatenate([
        silence(0.5), fade(harmonic(200.0, 0.8)), silence(0.3), fade(harmonic(chirp_f0, 1.0)),
        silence(0.4),
    ])  # fmt: skip
    return Audio(samples=x, sr=SR)


@pytest.fixture(scope="module")
def feats(voiced_clip: Audio) -> AudioFeatures:
    return compute_features(voiced_clip)


def frames_in(feats: AudioFeatures, start: float, stop: float, margin: int = 2) -> np.ndarray:
    """Motion frame indices strictly inside [start, stop] seconds, ``margin`` frames in."""
    i0 = int(np.ceil(start * feats.fps)) + margin
    i1 = int(np.floor(stop * feats.fps)) - margin
    return np.arange(i0, i1 + 1)


def test_feature_shapes_and_dtypes(feats: AudioFeatures) -> None:
    T = 90  # 3.0 s at 30 fps
    assert feats.fps == 30.0 and feats.num_frames == T
    assert feats.log_mel.shape == (T, 80) and feats.log_mel.dtype == np.float32
    for name in ("energy", "f0", "onset_strength"):
        arr = getattr(feats, name)
        assert arr.shape == (T,) and arr.dtype == np.float32, name
    assert feats.voiced.shape == (T,) and feats.voiced.dtype == bool
    assert feats.onsets.dtype == np.int64 and np.all(np.diff(feats.onsets) > 0)
    assert np.all(np.isfinite(feats.log_mel)) and np.all(feats.onset_strength >= 0)
    np.testing.assert_allclose(feats.times[:3], [0.0, 1 / 30, 2 / 30])


@pytest.mark.parametrize("fps", [30.0, 25.0])
@pytest.mark.parametrize("duration", [1.0, 2.345, 0.51, 1.0 + 1 / 60])
def test_frame_count(fps: float, duration: float) -> None:
    rng = np.random.default_rng(0)
    n = int(round(duration * SR))
    audio = Audio(samples=(0.1 * rng.standard_normal(n)).astype(np.float32), sr=SR)
    f = compute_features(audio, fps=fps, n_mels=40)
    T = int(round(audio.duration * fps))
    assert f.num_frames == T
    assert f.log_mel.shape == (T, 40)
    assert f.f0.shape == f.voiced.shape == f.onset_strength.shape == (T,)
    assert np.all(f.onsets < T)


def test_f0_of_tone(feats: AudioFeatures) -> None:
    idx = frames_in(feats, *SEGMENTS[1])
    assert feats.voiced[idx].all()
    f0 = feats.f0[idx]
    assert np.median(f0) == pytest.approx(200.0, rel=0.03)
    assert np.all(np.abs(f0 / 200.0 - 1.0) < 0.03)


def test_f0_of_chirp_rises(feats: AudioFeatures) -> None:
    start, stop = SEGMENTS[3]
    idx = frames_in(feats, start, stop)
    assert feats.voiced[idx].all()
    f0 = feats.f0[idx]
    expected = np.interp(idx / feats.fps, [start, stop], CHIRP)
    assert np.all(np.abs(f0 / expected - 1.0) < 0.03)
    assert np.all(np.diff(f0) > 0)


def test_silence_is_unvoiced(feats: AudioFeatures) -> None:
    for seg in (SEGMENTS[0], SEGMENTS[2], SEGMENTS[4]):
        idx = frames_in(feats, *seg)
        assert not feats.voiced[idx].any()
        assert np.all(feats.f0[idx] == 0.0)
        assert np.all(feats.energy[idx] <= -90.0)


def test_voicing_onsets(feats: AudioFeatures) -> None:
    # The two voiced segments start at 0.5 s and 1.6 s: frames 15 and 48.
    for t in (0.5, 1.6):
        assert np.min(np.abs(feats.onsets - t * 30)) <= 2


def test_onsets_at_bursts() -> None:
    rng = np.random.default_rng(3)
    x = 1e-3 * rng.standard_normal(int(2.5 * SR))
    times = [0.3, 0.9, 1.45, 2.1]
    for t in times:
        n = int(0.04 * SR)
        burst = rng.standard_normal(n) * np.exp(-np.arange(n) / (0.008 * SR))
        i = int(t * SR)
        x[i : i + n] += 0.5 * burst
    f = compute_features(Audio(samples=x.astype(np.float32), sr=SR))
    for t in times:
        assert np.min(np.abs(f.onsets - t * 30)) <= 2, (t, f.onsets)
    assert len(f.onsets) <= 2 * len(times)
    peaks = f.onset_strength[np.rint(np.array(times) * 30).astype(int)]
    assert np.all(peaks > 5 * np.median(f.onset_strength))


def test_energy_tracks_envelope() -> None:
    duration = 3.0
    t = np.arange(int(duration * SR)) / SR
    env_db = -30.0 + 20.0 * np.sin(2 * np.pi * 0.7 * t)  # -50 .. -10 dB
    x = harmonic(180.0, duration, amp=1.0) * 1.5 * np.sqrt(2) * 10 ** (env_db / 20)
    f = compute_features(Audio(samples=x.astype(np.float32), sr=SR))
    expected = np.interp(f.times, t, env_db)
    inner = slice(3, -3)
    slope, offset = np.polyfit(expected[inner], f.energy[inner], 1)
    assert slope == pytest.approx(1.0, abs=0.05)
    assert np.corrcoef(expected[inner], f.energy[inner])[0, 1] > 0.99
    assert np.abs(f.energy[inner] - expected[inner] - offset).max() < 1.5


def test_chunking_does_not_change_features(voiced_clip: Audio, feats: AudioFeatures) -> None:
    small = compute_features(voiced_clip, chunk_seconds=0.37)
    for name in ("log_mel", "energy", "f0", "voiced", "onset_strength", "onsets"):
        np.testing.assert_allclose(
            getattr(small, name), getattr(feats, name), atol=1e-5, err_msg=name
        )


def test_log_mel_matches_librosa_at_25fps(voiced_clip: Audio) -> None:
    import librosa

    # At 25 fps motion frame i is fine frame 4 i exactly: no interpolation involved.
    f = compute_features(voiced_clip, fps=25.0)
    mel = librosa.feature.melspectrogram(
        y=voiced_clip.samples, sr=SR, n_fft=512, win_length=400, hop_length=160, n_mels=80,
        center=True, pad_mode="constant",
    )  # fmt: skip
    ref = np.log(np.maximum(mel[:, ::4][:, : f.num_frames].T, 1e-10))
    np.testing.assert_allclose(f.log_mel, ref, atol=1e-3)


def test_other_sample_rate_and_fps(voiced_clip: Audio) -> None:
    import soxr

    x = soxr.resample(voiced_clip.samples, SR, 22050).astype(np.float32)
    f = compute_features(Audio(samples=x, sr=22050), fps=25.0)
    assert f.num_frames == int(round(x.size / 22050 * 25))
    idx = frames_in(f, *SEGMENTS[1])
    assert np.median(f.f0[idx]) == pytest.approx(200.0, rel=0.03)


def test_pyin_option(voiced_clip: Audio) -> None:
    clip = Audio(samples=voiced_clip.samples[: int(1.4 * SR)], sr=SR)
    f = compute_features(clip, f0_method="pyin")
    idx = frames_in(f, *SEGMENTS[1])
    assert f.voiced[idx].all()
    assert np.median(f.f0[idx]) == pytest.approx(200.0, rel=0.03)
    assert not f.voiced[frames_in(f, *SEGMENTS[0])].any()


def test_bad_feature_arguments(voiced_clip: Audio) -> None:
    with pytest.raises(ValueError, match="f0_method"):
        compute_features(voiced_clip, f0_method="crepe")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fps"):
        compute_features(voiced_clip, fps=0)


# ----------------------------------------------------------------------------- kaldi fbank
def fbank_signal() -> np.ndarray:
    t = np.arange(4000) / SR
    x = (0.3 * np.sin(2 * np.pi * (150 * t + 400 * t * t)) + 0.05 * np.sin(2 * np.pi * 2500 * t)
         + 0.03 * np.sign(np.sin(2 * np.pi * 37 * t)) + 0.02)  # fmt: skip
    return x.astype(np.float32)


def test_kaldi_fbank_matches_reference() -> None:
    # Reference: kaldi-native-fbank 1.23 (window "hanning", no dither, 80 bins) on the
    # mean-removed signal, rows [0, 7, 22], columns [0, 5, 20, 40, 60, 79].
    expected = np.array([
        [-4.6089, 1.0787, -5.4515, -4.7465, -4.1557, -3.5800],
        [-4.2541, -0.0919, -5.4721, -4.7668, -4.1754, -3.5995],
        [-4.8811, -5.8771, -5.6879, -4.9505, -4.3560, -3.7781],
    ])  # fmt: skip
    fb = kaldi_fbank(Audio(samples=fbank_signal(), sr=SR), n_mels=80)
    assert fb.shape == (num_fbank_frames(4000), 80) == (23, 80)
    assert fb.dtype == np.float32
    np.testing.assert_allclose(fb[[0, 7, 22]][:, [0, 5, 20, 40, 60, 79]], expected, atol=2e-4)


def test_kaldi_fbank_against_kaldi_native_fbank() -> None:
    knf = pytest.importorskip("kaldi_native_fbank")
    x = fbank_signal()
    opts = knf.FbankOptions()
    opts.frame_opts.dither = 0.0
    opts.frame_opts.window_type = "hanning"
    opts.mel_opts.num_bins = 64
    online = knf.OnlineFbank(opts)
    online.accept_waveform(SR, (x - x.mean()).tolist())
    online.input_finished()
    ref = np.stack([online.get_frame(i) for i in range(online.num_frames_ready)])
    np.testing.assert_allclose(kaldi_fbank(Audio(samples=x, sr=SR), n_mels=64), ref, atol=3e-4)


def test_kaldi_fbank_128_and_chunks() -> None:
    x = np.tile(fbank_signal(), 5)
    audio = Audio(samples=x, sr=SR)
    fb = kaldi_fbank(audio)
    assert fb.shape == (1 + (x.size - 400) // 160, 128)
    np.testing.assert_allclose(kaldi_fbank(audio, chunk_seconds=0.05), fb, atol=1e-6)
    # 128 Kaldi bins at 16 kHz leave a few low filters without an FFT bin: log(eps).
    assert np.all(fb[:, 3] == pytest.approx(np.log(np.finfo(np.float32).eps)))
    assert normalize_fbank(fb).shape == fb.shape
    assert kaldi_fbank(Audio(samples=x[:399], sr=SR)).shape == (0, 128)


def test_import_is_light_and_torch_free() -> None:
    code = (
        "import sys, numpy as np, motion.audio as ma\n"
        "mods = ('librosa', 'soundfile', 'soxr', 'scipy', 'torch')\n"
        "heavy = [m for m in mods if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "audio = ma.load_audio_from_array(np.full(1600, 0.1, np.float32), 8000)\n"
        "ma.kaldi_fbank(audio)\n"
        "assert 'torch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_downmix_keeps_the_level_of_the_loudest_channel(tmp_path) -> None:
    """A 5.1 file with the dialogue in the centre channel alone, a stereo file with one silent
    channel, and a stereo file with the same signal twice all load at the signal's own level."""
    import soundfile as sf

    rng = np.random.default_rng(0)
    x = (0.1 * np.sin(2 * np.pi * 220 * np.arange(32000) / 16000) * (1 + 0.3 * rng.standard_normal(32000))).astype(np.float32)
    rms = float(np.sqrt(np.mean(x**2)))
    six = np.zeros((32000, 6), np.float32)
    six[:, 2] = x
    one_sided = np.stack([x, np.zeros_like(x)], axis=1)
    both = np.stack([x, x], axis=1)
    for name, data in (("six", six), ("one_sided", one_sided), ("both", both)):
        path = tmp_path / f"{name}.wav"
        sf.write(path, data, 16000, subtype="FLOAT")
        y = load_audio(path).samples
        assert float(np.sqrt(np.mean(y**2))) == pytest.approx(rms, rel=1e-3), name
    # uncorrelated channels: the mix has the energy of the louder one, never more than C times the mean
    two = np.stack([x, rng.permutation(x)], axis=1)
    sf.write(tmp_path / "two.wav", two, 16000, subtype="FLOAT")
    y = load_audio(tmp_path / "two.wav").samples
    assert float(np.sqrt(np.mean(y**2))) == pytest.approx(rms, rel=0.05)
