"""Decode any format ffmpeg knows (m4a, aac, opus, webm, mp4, ...) as a stream of blocks.

Uses the ffmpeg binary shipped by ``imageio-ffmpeg``; no system ffmpeg is needed. ffmpeg
writes a float WAV to a PIPE, read block by block at the native sample rate and channels
(down-mixing and resampling stay in one place, :mod:`motion.audio._stream`). Nothing is
written to disk (its messages go to an unnamed temporary file), and ffmpeg is killed with
this process (``PR_SET_PDEATHSIG``, :mod:`motion._proc`), so a kill at any moment leaves
neither a decoded WAV in TMPDIR nor a running ffmpeg.
"""

from __future__ import annotations

import contextlib
import os
import struct
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from motion.errors import MotionError

#: Bytes of one decoded sample (pcm_f32le).
SAMPLE_BYTES = 4


class FFmpegError(MotionError, RuntimeError):
    """ffmpeg is missing or could not decode the file (message: its stderr)."""


def ffmpeg_exe() -> str:
    """Return the path of the ffmpeg binary shipped by ``imageio-ffmpeg``.

    Raises:
        FFmpegError: if ``imageio-ffmpeg`` is not installed or has no binary.
    """
    try:
        import imageio_ffmpeg
    except ImportError as exc:
        raise FFmpegError("imageio-ffmpeg is not installed (pip install imageio-ffmpeg)") from exc
    try:
        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError as exc:  # no binary for this platform
        raise FFmpegError(str(exc)) from exc


@dataclass
class DecodedAudio:
    """A decoding in progress.

    Attributes:
        sr: native sample rate (Hz).
        channels: native channel count.
        blocks: ``(n, channels)`` float32 blocks; raises :class:`FFmpegError` at the end if
            ffmpeg failed part-way.
    """

    sr: int
    channels: int
    blocks: Iterator[np.ndarray]


@contextlib.contextmanager
def decoded_stream(path: Path, block_frames: int = 1 << 16, timeout_s: float = 600.0) -> Iterator[DecodedAudio]:
    """Decode the first audio stream of ``path`` through a pipe.

    Args:
        path: the file.
        block_frames: frames per yielded block.
        timeout_s: ffmpeg is killed after this many seconds.

    Raises:
        FFmpegError: ffmpeg missing, failed, timed out, or found no audio stream.
    """
    from motion._proc import child_kwargs

    cmd = [
        ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error",
        # "file:" stops ffmpeg reading a name like "a:b.wav" as a protocol.
        "-i", "file:" + os.path.abspath(path),  # not resolve(): /proc/PID/fd/N of a memfd must stay as it is
        "-map", "0:a:0", "-vn", "-sn", "-dn", "-map_metadata", "-1", "-fflags", "+bitexact",
        "-c:a", "pcm_f32le", "-f", "wav", "pipe:1",
    ]  # fmt: skip
    with tempfile.TemporaryFile(prefix="motion-ffmpeg-") as err:  # unnamed (O_TMPFILE)
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                                **child_kwargs())
        timer = _Watchdog(proc, timeout_s)
        try:
            assert proc.stdout is not None
            header = _read_header(proc.stdout)
            if header is None:
                _raise_failure(proc, err, timer, timeout_s, "ffmpeg wrote no audio")
                raise FFmpegError("ffmpeg wrote no audio")  # pragma: no cover - exit code 0 without output
            sr, channels = header
            yield DecodedAudio(sr, channels, _blocks(proc, err, timer, timeout_s, channels, block_frames))
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


class _Watchdog:
    """Kills ``proc`` after ``timeout_s`` seconds unless cancelled; ``fired`` says whether it did."""

    def __init__(self, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
        self.fired = False
        self._proc = proc
        self._timer = threading.Timer(timeout_s, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        self._proc.kill()

    def cancel(self) -> None:
        """Stop the countdown."""
        self._timer.cancel()


def _blocks(proc: subprocess.Popen[bytes], err: IO[bytes], timer: _Watchdog, timeout_s: float,
            channels: int, block_frames: int) -> Iterator[np.ndarray]:
    """``(n, channels)`` float32 blocks from ffmpeg's stdout; checks its exit status at the end."""
    assert proc.stdout is not None
    frame = channels * SAMPLE_BYTES
    while True:
        data = _read_exactly(proc.stdout, block_frames * frame)
        whole = len(data) // frame * frame
        if whole:
            yield np.frombuffer(data[:whole], dtype="<f4").reshape(-1, channels)
        if len(data) < block_frames * frame:
            break
    _raise_failure(proc, err, timer, timeout_s, None)


def _raise_failure(proc: subprocess.Popen[bytes], err: IO[bytes], timer: _Watchdog, timeout_s: float,
                   fallback: str | None) -> None:
    """Wait for ffmpeg; raise :class:`FFmpegError` if it failed (or ``fallback`` is given)."""
    code = proc.wait()
    if timer.fired:
        raise FFmpegError(f"ffmpeg did not finish within {timeout_s:g} s")
    if code == 0 and fallback is None:
        return
    err.seek(0)
    text = err.read().decode("utf-8", "replace")
    if "matches no streams" in text or "value '0:a:0' for option 'map'" in text:
        raise FFmpegError("the file has no audio stream")
    lines = text.strip().splitlines()
    detail = " | ".join(line.strip() for line in lines[-3:]) or fallback or "no error output"
    raise FFmpegError(f"ffmpeg exited with code {code}: {detail}")


def _read_exactly(f: IO[bytes], n: int) -> bytes:
    """Up to ``n`` bytes; fewer only at the end of the stream."""
    parts: list[bytes] = []
    got = 0
    while got < n:
        chunk = f.read(n - got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def _read_header(f: IO[bytes]) -> tuple[int, int] | None:
    """Read a streamed WAV header up to its ``data`` chunk; ``(sample rate, channels)`` or ``None``.

    The sizes in a piped header are placeholders and are ignored.
    """
    head = _read_exactly(f, 12)
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
        return None
    fmt: tuple[int, int] | None = None
    while True:
        chunk = _read_exactly(f, 8)
        if len(chunk) < 8:
            return None
        cid, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        if cid == b"data":
            return fmt
        if size > 1 << 20:  # only 'data' may be huge
            return None
        body = _read_exactly(f, size + (size & 1))
        if cid == b"fmt " and len(body) >= 16:
            channels, sr = struct.unpack("<HI", body[2:8])
            fmt = (int(sr), int(channels))
            if channels < 1:
                return None

