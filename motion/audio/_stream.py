"""Streaming down-mix + resampling: blocks in, one float32 mono array out.

Peak memory is the output array (grown in place) plus one input block, so a long
file never has to be held at its native rate or channel count.
"""

from __future__ import annotations

import math

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
        self, in_sr: int, out_sr: int, source: str, expected_frames: int | None = None
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
        if expected_frames is not None and expected_frames > 0:
            capacity = math.ceil(expected_frames * self.out_sr / self.in_sr) + 64
        else:
            capacity = 1 << 16
        self._buf = np.empty(capacity, dtype=np.float32)
        self._n = 0
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
        if self._stream is not None:
            self._append(self._stream.resample_chunk(np.zeros(0, np.float32), last=True))
        out = self._buf[: self._n]
        if self._n < self._buf.size // 2:  # grew far past the need: give memory back
            out = out.copy()
        self._buf = np.empty(0, np.float32)
        gain = self.downmix_gain()
        if gain != 1.0:
            out *= np.float32(gain)
            self.peak *= gain
        if out.size:
            peak = max(float(out.max()), -float(out.min()))  # no |out| temporary
            if peak > 1.0:
                if self.peak > 1.0:
                    out *= np.float32(1.0 / peak)
                np.clip(out, -1.0, 1.0, out=out)
        return out

    def downmix_gain(self) -> float:
        """Gain that brings the channel average to the loudest channel's energy (class notes)."""
        ce = self._channel_energy
        if ce is None or self._mono_energy <= 0.0:
            return 1.0
        return float(np.clip(np.sqrt(ce.max() / self._mono_energy), 1.0, ce.size))

    def _append(self, x: np.ndarray) -> None:
        need = self._n + x.size
        if need > self._buf.size:
            grown = np.empty(max(need, int(self._buf.size * 1.5)), dtype=np.float32)
            grown[: self._n] = self._buf[: self._n]
            self._buf = grown
        self._buf[self._n : need] = x
        self._n = need
