"""Streaming down-mix + resampling: blocks in, one float32 mono array out.

Peak memory is the output array (grown in place) plus one input block, so a long
file never has to be held at its native rate or channel count. With a ``spill`` file the
output is not held at all: it goes to an unnamed temporary file, and :class:`SpilledSamples`
reads it back range by range (with the level fixes :meth:`MonoResampler.finish` would have
made, :class:`OutputTransform`), so memory does not grow with the length of the recording.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from motion.audio.errors import NonFiniteAudioError, SampleRateError

#: Sample rates accepted for input files and as resampling targets (Hz).
MIN_SAMPLE_RATE: int = 4000
MAX_SAMPLE_RATE: int = 384000
#: soxr quality preset ("HQ": 20-bit precision, ~0.9 passband).
RESAMPLE_QUALITY: str = "HQ"


def check_sample_rate(sr: float, source: str, role: str = "declares") -> None:
    """Raise :class:`SampleRateError` unless ``MIN_SAMPLE_RATE <= sr <= MAX_SAMPLE_RATE``.

    Args:
        sr: the sample rate to check (Hz).
        source: what the rate belongs to, for the message (a file path or "array").
        role: verb phrase for the message, e.g. "declares" or "was asked to resample to".
    """
    if not (math.isfinite(sr) and MIN_SAMPLE_RATE <= sr <= MAX_SAMPLE_RATE):
        raise SampleRateError(
            f"{source} {role} a sample rate of {sr:g} Hz, outside the supported range "
            f"{MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz. If this is a file, its header is "
            "probably corrupt: re-export it (e.g. `ffmpeg -i in.wav -ar 16000 out.wav`); "
            "if you passed the rate yourself, check its value."
        )


class MonoResampler:
    """Collect ``(n, C)`` blocks, average the channels and resample to ``out_sr``.

    The downmix keeps the level: the channel average is scaled (in :meth:`finish`) so that its
    energy equals that of the loudest channel, ``g = sqrt(max_c E_c / E_mean)`` within
    ``[1, C]``. Identical channels are unchanged (g = 1); a 5.1 file with the dialogue in the
    centre channel alone keeps the centre's level (g = 6) instead of coming out 6x quieter.

    Args:
        in_sr: input sample rate (Hz).
        out_sr: output sample rate (Hz).
        source: file path or "array", used in error messages.
        expected_frames: number of input frames if known (pre-sizes the output).
    """

    def __init__(
        self, in_sr: int, out_sr: int, source: str, expected_frames: int | None = None,
        spill: IO[bytes] | None = None,
    ) -> None:
        import soxr

        self.in_sr = int(in_sr)
        self.out_sr = int(out_sr)
        self.source = source
        self.in_frames = 0
        #: Largest absolute value of the mono input seen so far.
        self.peak = 0.0
        self._stream = (
            None
            if self.in_sr == self.out_sr
            else soxr.ResampleStream(
                self.in_sr, self.out_sr, 1, dtype="float32", quality=RESAMPLE_QUALITY
            )
        )
        if spill is not None:
            capacity = 0
        elif expected_frames is not None and expected_frames > 0:
            capacity = math.ceil(expected_frames * self.out_sr / self.in_sr) + 64
        else:
            capacity = 1 << 16
        self._buf = np.empty(capacity, dtype=np.float32)
        self._n = 0
        #: ``spill``: a binary file the output goes to (raw float32, before :meth:`finish`'s
        #: level fixes) instead of memory; :meth:`finish_spill` closes the stream.
        self._spill = spill
        self._max, self._min = -math.inf, math.inf  # of the spilled output
        self._channel_energy: np.ndarray | None = None  # (C,) sum of squares per channel
        self._mono_energy = 0.0

    def push(self, block: np.ndarray) -> None:
        """Add a block of ``(n,)`` or ``(n, C)`` float samples (channels last)."""
        block = np.asarray(block, dtype=np.float32)
        if block.ndim == 2:
            mono = block[:, 0] if block.shape[1] == 1 else block.mean(axis=1, dtype=np.float32)
            if block.shape[1] > 1 and np.isfinite(block).all():
                e = np.einsum("ij,ij->j", block, block, dtype=np.float64)
                self._channel_energy = e if self._channel_energy is None else self._channel_energy + e
                self._mono_energy += float(np.dot(mono.astype(np.float64), mono))
        else:
            mono = block
        mono = np.ascontiguousarray(mono, dtype=np.float32)
        if mono.size == 0:
            return
        finite = np.isfinite(mono)
        if not finite.all():
            first = self.in_frames + int(np.flatnonzero(~finite)[0])
            bad = int(mono.size - finite.sum())
            raise NonFiniteAudioError(
                f"{self.source} contains NaN or infinite samples (first at sample {first}, "
                f"t={first / self.in_sr:.3f} s; at least {bad} bad samples). The file is "
                "corrupt or was written from a failed computation: regenerate it, or clean "
                "the samples (e.g. np.nan_to_num) and use load_audio_from_array."
            )
        self.peak = max(self.peak, float(np.abs(mono).max()))
        self.in_frames += mono.size
        out = mono if self._stream is None else self._stream.resample_chunk(mono)
        self._append(out)

    def finish(self) -> np.ndarray:
        """Flush the resampler and return the ``(N,)`` float32 output in [-1, 1].

        Samples above 1 in magnitude are handled as follows: if the *input* already
        exceeded 1 (an unnormalised float file) the whole signal is scaled down by its
        peak; if only resampling overshoot (Gibbs ripple) exceeds 1, it is clipped.
        """
        self._flush()
        out = self._buf[: self._n]
        if self._n < self._buf.size // 2:  # grew far past the need: give memory back
            out = out.copy()
        self._buf = np.empty(0, np.float32)
        extremes = (float(out.max()), float(out.min())) if out.size else None  # no |out| temporary
        return self._level_fixes(extremes).apply(out)

    @property
    def out_frames(self) -> int:
        """Output samples so far."""
        return self._n

    def finish_spill(self) -> OutputTransform:
        """Flush the resampler into the ``spill`` file; the :class:`OutputTransform` that makes the
        spilled samples what :meth:`finish` would have returned (the same float32 numbers)."""
        if self._spill is None:
            raise RuntimeError("finish_spill needs a MonoResampler made with spill=")
        self._flush()
        self._spill.flush()
        return self._level_fixes((self._max, self._min) if self._n else None)

    def _flush(self) -> None:
        """Push the resampler's last samples to the output."""
        if self._stream is not None:
            self._append(self._stream.resample_chunk(np.zeros(0, np.float32), last=True))

    def _level_fixes(self, extremes: tuple[float, float] | None) -> OutputTransform:
        """The level fixes of :meth:`finish` for an output whose raw float32 samples range over
        ``extremes`` (max, min; None: no samples), and ``peak`` brought to the gained signal.

        The peak is that of the gained float32 output: rounding is monotonic, so the extreme
        products are the products of the extremes."""
        gain = self.downmix_gain()
        g32 = np.float32(gain) if gain != 1.0 else None
        if g32 is not None:
            self.peak *= gain
        scale, clip = None, False
        if extremes is not None:
            hi, lo = np.float32(extremes[0]), np.float32(extremes[1])
            if g32 is not None:
                hi, lo = hi * g32, lo * g32
            peak = max(float(hi), -float(lo))
            if peak > 1.0:
                clip = True
                if self.peak > 1.0:
                    scale = np.float32(1.0 / peak)
        return OutputTransform(g32, scale, clip)

    def downmix_gain(self) -> float:
        """Gain that brings the channel average to the loudest channel's energy (class notes)."""
        ce = self._channel_energy
        if ce is None or self._mono_energy <= 0.0:
            return 1.0
        return float(np.clip(np.sqrt(ce.max() / self._mono_energy), 1.0, ce.size))

    def _append(self, x: np.ndarray) -> None:
        if self._spill is not None:
            if x.size:
                x = np.ascontiguousarray(x, np.float32)
                self._max = max(self._max, float(x.max()))
                self._min = min(self._min, float(x.min()))
                self._spill.write(memoryview(x).cast("B"))
                self._n += x.size
            return
        need = self._n + x.size
        if need > self._buf.size:
            grown = np.empty(max(need, int(self._buf.size * 1.5)), dtype=np.float32)
            grown[: self._n] = self._buf[: self._n]
            self._buf = grown
        self._buf[self._n : need] = x
        self._n = need


@dataclass(frozen=True)
class OutputTransform:
    """The level fixes of :meth:`MonoResampler.finish`, element by element: times the down-mix
    ``gain``, times ``scale`` (an unnormalised float input), clipped to [-1, 1] (``clip``).
    Applied to any range of the raw output, it gives the numbers ``finish`` gives there."""

    gain: np.float32 | None = None
    scale: np.float32 | None = None
    clip: bool = False

    def apply(self, x: np.ndarray) -> np.ndarray:
        """``x`` (float32, changed in place) with the fixes applied."""
        if self.gain is not None:
            x *= self.gain
        if self.scale is not None:
            x *= self.scale
        if self.clip:
            np.clip(x, -1.0, 1.0, out=x)
        return x


class SpilledSamples:
    """``(N,)`` float32 mono samples kept in a file instead of memory, read back range by range.

    Stands in for the ``samples`` array of an :class:`~motion.audio.io.Audio`
    (:func:`motion.audio.io.open_audio`): ``len``, ``shape``, ``size``, ``ndim``, ``dtype`` and
    slicing ``x[a:b]`` (a new float32 array; reads only that range), so code that walks a
    recording chunk by chunk (features, loudness, the lip-event detector, the phone recogniser)
    holds one chunk at a time. ``np.asarray(x)`` reads it all (code that needs the whole array).
    Reads use ``pread`` (no shared file position) and no mapping, so what was read does not stay
    in the process's memory. The file (an unnamed temporary file: nothing is left on disk, even
    after a kill) is closed with the object.

    Args:
        file: the open binary file holding the raw output (native-endian float32).
        n: number of samples.
        transform: the level fixes applied to what is read.
    """

    ndim = 1
    dtype = np.dtype(np.float32)

    def __init__(self, file: IO[bytes], n: int, transform: OutputTransform | None = None) -> None:
        self._file = file
        self._n = int(n)
        self.transform = transform or OutputTransform()

    @property
    def shape(self) -> tuple[int]:
        return (self._n,)

    @property
    def size(self) -> int:
        return self._n

    def __len__(self) -> int:
        return self._n

    def read(self, start: int, stop: int) -> np.ndarray:
        """Samples ``[start, stop)`` (clamped to ``[0, N)``), float32."""
        a, b = max(int(start), 0), min(int(stop), self._n)
        out = np.empty(max(b - a, 0), np.float32)
        view, offset, fd = memoryview(out).cast("B"), a * 4, self._file.fileno()
        done = 0
        while done < view.nbytes:
            got = os.preadv(fd, [view[done:]], offset + done)
            if got <= 0:
                raise OSError(f"the decoded audio's temporary file ended after {(offset + done) // 4} of {self._n} samples")
            done += got
        return self.transform.apply(out)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, slice):
            a, b, step = key.indices(self._n)
            if step == 1:
                return self.read(a, b) if b > a else np.zeros(0, np.float32)
            return np.asarray(self)[key]
        if isinstance(key, (int, np.integer)):
            k = int(key) + (self._n if key < 0 else 0)
            if not 0 <= k < self._n:
                raise IndexError(f"index {key} is out of bounds for {self._n} samples")
            return self.read(k, k + 1)[0]
        return np.asarray(self)[key]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        x = self.read(0, self._n)
        return x if dtype is None else x.astype(dtype, copy=False)

    def close(self) -> None:
        """Close the file (and free its disk space)."""
        self._file.close()

    def __repr__(self) -> str:
        return f"SpilledSamples({self._n} samples, {self.transform})"


def samples_or_array(x: Any) -> Any:
    """``x`` itself if it is :class:`SpilledSamples` (read it range by range), else ``np.asarray(x)``."""
    return x if isinstance(x, SpilledSamples) else np.asarray(x)


def samples_at(audio: Any, sr: int) -> np.ndarray:
    """``(N,)`` float32 samples of ``audio`` (an :class:`~motion.audio.io.Audio`) at ``sr`` Hz:
    on-disk samples already at that rate as they are (:class:`SpilledSamples`, read range by
    range; typed as the array they stand in for), else an array (resampled with soxr "HQ" when
    the rate differs)."""
    if isinstance(audio.samples, SpilledSamples) and audio.sr == sr:
        return audio.samples
    y = np.asarray(audio.samples, dtype=np.float32)
    if audio.sr != sr:
        import soxr

        y = soxr.resample(y, audio.sr, sr, quality="HQ").astype(np.float32)
    return y
