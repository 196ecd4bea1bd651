"""Load, validate and save audio: any common file in, 16 kHz float32 mono out.

Files are read in blocks and resampled with a streaming soxr resampler, so peak
memory is about the size of the output (10 min at 16 kHz float32 = 38 MB);
:func:`open_audio` keeps even that out of memory (the decoded samples go to an unnamed
temporary file and are read back range by range).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from motion.audio._stream import MonoResampler, SpilledSamples, check_sample_rate
from motion.audio.errors import (
    AudioDecodeError,
    AudioError,
    AudioWarning,
    EmptyAudioError,
    NonFiniteAudioError,
    SilentAudioError,
    check_audio_path,
)
from motion.types import AUDIO_SR

if TYPE_CHECKING:
    from soundfile import SoundFile

#: Default peak amplitude below which audio counts as silent.
SILENCE_THRESHOLD: float = 1e-4
#: Frames read per block.
BLOCK_FRAMES: int = 1 << 16

PathLike = str | os.PathLike[str]


@dataclass(frozen=True, eq=False)
class Audio:
    """Mono audio.

    Attributes:
        samples: (N,) float32 in [-1, 1].
        sr: sample rate in Hz (16000 unless asked otherwise).
        path: file the audio came from, or None for arrays.
    """

    samples: np.ndarray
    sr: int
    path: Path | None = None

    def __post_init__(self) -> None:
        if getattr(self.samples, "ndim", None) != 1:
            shape = getattr(self.samples, "shape", None)
            raise AudioError(
                f"Audio.samples must be a 1-D (N,) mono array, got shape {shape}; "
                "use load_audio_from_array to down-mix (N, C) audio"
            )
        if not self.sr > 0:
            raise AudioError(f"Audio.sr must be a positive sample rate, got {self.sr}")

    @property
    def num_samples(self) -> int:
        """N, the number of samples."""
        return int(self.samples.shape[0])

    @property
    def duration(self) -> float:
        """Length in seconds (N / sr)."""
        return self.num_samples / self.sr


def load_audio(
    path: PathLike,
    sr: int = AUDIO_SR,
    *,
    allow_silent: bool = False,
    silence_threshold: float = SILENCE_THRESHOLD,
    block_frames: int = BLOCK_FRAMES,
) -> Audio:
    """Load an audio file as mono float32 at ``sr`` Hz.

    wav/flac/ogg/mp3 (and the other libsndfile formats) are read with soundfile;
    anything else (m4a, aac, opus, webm, mp4, ...) is decoded by the ffmpeg binary of
    ``imageio-ffmpeg``. Channels are averaged; resampling uses soxr ("HQ").

    Args:
        path: the audio file.
        sr: output sample rate (Hz).
        allow_silent: accept audio whose peak is below ``silence_threshold``.
        silence_threshold: peak amplitude (of the mono mix) below which audio is silent.
        block_frames: frames read per block (bounds the working memory).

    Returns:
        :class:`Audio` with ``samples`` of shape (round(n_in * sr / sr_in),).

    Raises:
        FileNotFoundError: no such file.
        IsADirectoryError: ``path`` is a directory.
        AudioError: ``path`` is a FIFO, socket or device, not a regular file.
        PermissionError: the file is not readable.
        AudioDecodeError: neither soundfile nor ffmpeg can decode it.
        EmptyAudioError: zero samples (or a 0-byte file).
        SilentAudioError: peak below ``silence_threshold`` (unless ``allow_silent``).
        NonFiniteAudioError: NaN or Inf samples.
        SampleRateError: file rate or ``sr`` outside 4000-384000 Hz.

    Warns:
        AudioWarning: the WAV is truncated (its header declares more than it holds), or the
            recording is (almost) silent (under 0.5 s above -50 dBFS).
    """
    return _load(path, sr, allow_silent, silence_threshold, block_frames, spill=False)


def open_audio(
    path: PathLike,
    sr: int = AUDIO_SR,
    *,
    allow_silent: bool = False,
    silence_threshold: float = SILENCE_THRESHOLD,
    block_frames: int = BLOCK_FRAMES,
) -> Audio:
    """:func:`load_audio`, with the samples kept on disk instead of in memory.

    The file is decoded once, as by :func:`load_audio` (same checks, errors and warnings), into
    an unnamed temporary file (in ``$TMPDIR``; 230 MB per hour of audio, freed with the
    :class:`Audio`, and never left behind, even by a kill); ``samples`` is then a
    :class:`~motion.audio._stream.SpilledSamples` that reads ranges of it back, the same float32
    numbers as :func:`load_audio`'s array. Code that walks the recording chunk by chunk (speech
    features, loudness, the lip-event detector, the phone recogniser) then holds one chunk at a
    time, so memory does not grow with the length; ``np.asarray(audio.samples)`` reads it all.
    Where no temporary file can be written, the samples are held in memory (:func:`load_audio`).
    """
    return _load(path, sr, allow_silent, silence_threshold, block_frames, spill=True)


def _load(path: PathLike, sr: int, allow_silent: bool, silence_threshold: float, block_frames: int,
          spill: bool) -> Audio:
    """:func:`load_audio` (``spill`` False) or :func:`open_audio` (True)."""
    import soundfile as sf

    from motion.audio._ffmpeg import FFmpegError

    check_sample_rate(sr, "load_audio", "was asked to resample to")
    p = check_audio_path(path)
    if p.stat().st_size == 0:
        raise EmptyAudioError(
            f"{p} is an empty file (0 bytes), not audio; the recording or download failed: "
            "re-export it"
        )
    try:
        samples, peak = _spilling(_read_soundfile, spill, p, p, sr, block_frames)
    except sf.SoundFileError as sf_exc:
        # libsndfile cannot read it: let ffmpeg try (m4a, opus in webm, ...).
        try:
            samples, peak = _spilling(_read_ffmpeg, spill, p, sr, block_frames)
        except FFmpegError as ff_exc:
            size = p.stat().st_size
            raise AudioDecodeError(
                f"could not decode {p} ({size} bytes) as audio. soundfile: "
                f"{_reason(sf_exc)}. ffmpeg: {_reason(ff_exc)}. Is it really an audio "
                "file (not text, a video without sound, or a truncated download)? "
                "Supported: wav, flac, ogg, mp3 and "
                "anything ffmpeg reads (m4a, aac, opus, webm, ...); convert it with e.g. "
                "`ffmpeg -i input output.wav`."
            ) from None
    _check_level(samples.size, peak, str(p), allow_silent, silence_threshold)
    _warn_if_odd(p, samples, int(sr))
    return Audio(samples=samples, sr=int(sr), path=p)


def _spilling(read: Any, spill: bool, *args: Any) -> tuple[Any, float]:
    """``read(*args, spill=file)`` into a new unnamed temporary file when ``spill`` (the file is
    closed again if reading fails), else (or when no temporary file can be written)
    ``read(*args)`` into memory."""
    if spill:
        import tempfile

        try:
            file = tempfile.TemporaryFile(prefix="motion_audio_")
        except OSError:
            file = None
        if file is not None:
            try:
                return read(*args, spill=file)
            except OSError as exc:
                file.close()
                if not _is_disk_error(exc):
                    raise
            except BaseException:
                file.close()
                raise
    return read(*args)


def _is_disk_error(exc: OSError) -> bool:
    """True for an error of writing the temporary file (full disk, quota), not of reading the audio."""
    import errno

    return exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO)


def _warn_if_odd(path: Path, samples: np.ndarray, sr: int) -> None:
    """:class:`AudioWarning` for a truncated WAV or a recording without sound."""
    import warnings

    from motion.audio.checks import silence_note, truncated_wav

    for note in (truncated_wav(path), silence_note(samples, sr, str(path))):
        if note:
            warnings.warn(AudioWarning(note), stacklevel=4)  # caller of load_audio / open_audio


def load_audio_from_array(
    samples: np.ndarray,
    sr: int,
    *,
    target_sr: int = AUDIO_SR,
    allow_silent: bool = False,
    silence_threshold: float = SILENCE_THRESHOLD,
    block_frames: int = BLOCK_FRAMES,
) -> Audio:
    """Validate, down-mix and resample an in-memory signal, like :func:`load_audio`.

    Args:
        samples: (N,) or (N, C) channels-last; float in [-1, 1], or int16/int32/uint8
            PCM (scaled to [-1, 1]).
        sr: sample rate of ``samples`` (Hz).
        target_sr: output sample rate (Hz).
        allow_silent: accept audio whose peak is below ``silence_threshold``.
        silence_threshold: peak amplitude below which audio is silent.
        block_frames: frames processed per block.

    Returns:
        :class:`Audio` with ``path=None`` and (round(N * target_sr / sr),) samples.

    Raises:
        AudioError: wrong shape or dtype; plus the content errors of :func:`load_audio`.
    """
    x = np.asarray(samples)
    check_sample_rate(sr, "the array", "declares")
    check_sample_rate(target_sr, "load_audio_from_array", "was asked to resample to")
    if x.ndim not in (1, 2):
        raise AudioError(f"expected samples of shape (N,) or (N, C), got {x.shape}")
    if x.ndim == 2 and x.shape[1] > 64:
        raise AudioError(
            f"samples of shape {x.shape} would mean {x.shape[1]} channels; pass "
            "channels last, (N, C) (for a (C, N) array, pass samples.T)"
        )
    scale = _pcm_scale(x.dtype)
    resampler = MonoResampler(sr, target_sr, "the array", expected_frames=x.shape[0])
    for start in range(0, x.shape[0], block_frames):
        block = x[start : start + block_frames]
        resampler.push(_to_float(block, scale))
    out = resampler.finish()
    _check_level(x.shape[0], resampler.peak, "the array", allow_silent, silence_threshold)
    return Audio(samples=out, sr=int(target_sr), path=None)


def save_wav(path: PathLike, samples: np.ndarray, sr: int, subtype: str = "PCM_16") -> Path:
    """Write a WAV file atomically (temporary file in the same folder, then rename).

    Args:
        path: destination; missing parent folders are created.
        samples: (N,) or (N, C) float in [-1, 1] (clipped for PCM subtypes).
        sr: sample rate (Hz).
        subtype: soundfile subtype, e.g. "PCM_16", "PCM_24", "FLOAT".

    Returns:
        The destination path.

    Raises:
        NonFiniteAudioError: NaN or Inf samples.
        AudioError: wrong shape.
    """
    import soundfile as sf

    dest = Path(path).expanduser()
    check_sample_rate(sr, "save_wav", "was asked to write")
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim not in (1, 2):
        raise AudioError(f"expected samples of shape (N,) or (N, C), got {x.shape}")
    if not np.isfinite(x).all():
        raise NonFiniteAudioError(
            f"refusing to write {dest}: the samples contain NaN or Inf; clean them first "
            "(e.g. np.nan_to_num)"
        )
    if subtype.upper().startswith("PCM"):
        x = np.clip(x, -1.0, 1.0)
    from motion.atomic import atomic_path

    with atomic_path(dest, suffix=".tmp", mkdir=True) as tmp:
        sf.write(tmp, x, int(sr), subtype=subtype, format="WAV")
    return dest


def _read_soundfile(
    file: Path, source: Path, sr: int, block_frames: int, spill: IO[bytes] | None = None
) -> tuple[np.ndarray | SpilledSamples, float]:
    """Stream ``file`` through soundfile into a mono ``sr`` Hz array (or into ``spill``).

    Returns:
        ((N,) float32 samples, or :class:`SpilledSamples` of ``spill``; peak of the mono input).
        Errors name ``source``.
    """
    import soundfile as sf

    with sf.SoundFile(str(file)) as f:
        check_sample_rate(f.samplerate, str(source))
        if f.frames == 0:
            _raise_empty(str(source))
        resampler = MonoResampler(f.samplerate, sr, str(source), expected_frames=f.frames, spill=spill)
        for block in _blocks(f, block_frames):
            resampler.push(block)
        return _finish(resampler, spill), resampler.peak


def _read_ffmpeg(path: Path, sr: int, block_frames: int, spill: IO[bytes] | None = None
                 ) -> tuple[np.ndarray | SpilledSamples, float]:
    """Decode ``path`` with ffmpeg through a pipe into a mono ``sr`` Hz array (or into ``spill``).

    Returns:
        ((N,) float32 samples or :class:`SpilledSamples`, peak of the mono input).
    """
    from motion.audio._ffmpeg import decoded_stream

    with decoded_stream(path, block_frames) as dec:
        check_sample_rate(dec.sr, str(path))
        resampler = MonoResampler(dec.sr, sr, str(path), spill=spill)
        for block in dec.blocks:
            resampler.push(block)
        if resampler.in_frames == 0:
            _raise_empty(str(path))
        return _finish(resampler, spill), resampler.peak


def _finish(resampler: MonoResampler, spill: IO[bytes] | None) -> np.ndarray | SpilledSamples:
    if spill is None:
        return resampler.finish()
    transform = resampler.finish_spill()
    return SpilledSamples(spill, resampler.out_frames, transform)


def _blocks(f: SoundFile, block_frames: int) -> Iterator[np.ndarray]:
    """Yield (n, C) float32 blocks from an open ``soundfile.SoundFile``."""
    while True:
        block = f.read(block_frames, dtype="float32", always_2d=True)
        if block.shape[0] == 0:
            return
        yield block


def _reason(exc: BaseException) -> str:
    """One-line reason from a decoder exception, without pointer noise or final dot."""
    text = re.sub(r"\[[^\]]*@ 0x[0-9a-f]+\]\s*", "", str(exc))
    return " ".join(text.split()).rstrip(".")


def _check_level(n_in: int, peak: float, source: str, allow_silent: bool, threshold: float) -> None:
    """Raise EmptyAudioError / SilentAudioError for empty or silent input."""
    if n_in == 0:
        _raise_empty(source)
    if not allow_silent and peak < threshold:
        raise SilentAudioError(
            f"{source} is silent: its peak amplitude is {peak:.2e}, below the threshold "
            f"{threshold:g}. Check the recording (muted microphone? wrong channel?), or "
            "pass allow_silent=True to load it anyway."
        )


def _raise_empty(source: str) -> None:
    raise EmptyAudioError(
        f"{source} contains no audio samples (0 frames); the recording is empty or was "
        "cut off: re-export it"
    )


def _pcm_scale(dtype: np.dtype) -> float | None:
    """Return the divisor that maps integer PCM to [-1, 1], or None for floats."""
    if np.issubdtype(dtype, np.floating):
        return None
    if dtype == np.int16:
        return 32768.0
    if dtype == np.int32:
        return 2147483648.0
    if dtype == np.uint8:
        return 128.0
    raise AudioError(f"unsupported sample dtype {dtype}; use float32/64, int16, int32 or uint8")


def _to_float(block: np.ndarray, scale: float | None) -> np.ndarray:
    """Convert a block to float32 in [-1, 1] given its PCM scale (None: already float)."""
    if scale is None:
        return block.astype(np.float32, copy=False)
    if block.dtype == np.uint8:
        return (block.astype(np.float32) - 128.0) / np.float32(scale)
    return block.astype(np.float32) / np.float32(scale)
