"""Decode any format ffmpeg knows (m4a, aac, opus, webm, mp4, ...) to a temporary WAV.

Uses the ffmpeg binary shipped by ``imageio-ffmpeg``; no system ffmpeg is needed.
The WAV keeps the native sample rate and channels (32-bit float, RF64 when large)
so that down-mixing and resampling stay in one place (:mod:`motion.audio._stream`).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path


class FFmpegError(RuntimeError):
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


@contextlib.contextmanager
def decoded_to_wav(path: Path, timeout_s: float = 600.0) -> Iterator[Path]:
    """Decode the first audio stream of ``path`` into a temporary float WAV.

    Yields:
        Path of the temporary WAV (deleted on exit).

    Raises:
        FFmpegError: ffmpeg missing, failed, timed out, or found no audio stream.
    """
    exe = ffmpeg_exe()
    fd, tmp_name = tempfile.mkstemp(prefix="motion-audio-", suffix=".wav")
    os.close(fd)
    tmp = Path(tmp_name)
    cmd = [
        exe, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        # "file:" stops ffmpeg reading a name like "a:b.wav" as a protocol.
        "-i", "file:" + str(path.resolve()),
        "-map", "0:a:0", "-vn", "-sn", "-dn",
        "-c:a", "pcm_f32le", "-rf64", "auto", "-f", "wav", str(tmp),
    ]  # fmt: skip
    try:
        try:
            proc = subprocess.run(
                cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout_s
            )
        except subprocess.TimeoutExpired as exc:
            raise FFmpegError(f"ffmpeg did not finish within {timeout_s:g} s") from exc
        if proc.returncode != 0:
            text = proc.stderr.decode("utf-8", "replace")
            if "matches no streams" in text or "value '0:a:0' for option 'map'" in text:
                raise FFmpegError("the file has no audio stream")
            err = text.strip().splitlines()
            detail = " | ".join(line.strip() for line in err[-3:]) or "no error output"
            raise FFmpegError(f"ffmpeg exited with code {proc.returncode}: {detail}")
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)
