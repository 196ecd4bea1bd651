"""Atomic H.264 MP4 writing (with an AAC audio track) and probing, via imageio-ffmpeg's ffmpeg.

:class:`Mp4Writer` streams RGB frames to the ffmpeg binary that ships with
``imageio-ffmpeg`` (no system ffmpeg needed). The video's rate is the motion's, given to
ffmpeg as an exact fraction, so ``T`` frames last ``T / fps`` seconds. Audio is padded
with silence (``apad``) and cut at the end of the video (``atrim`` at the clip's length when
the writer knows its frame count, else ``-shortest``, which lets the audio run up to about
0.75 s past the last frame under load, since ffmpeg encodes the audio ahead of frames that
arrive through a pipe), so a short recording never shortens the video and a long one never
lengthens it.

:func:`probe_mp4` reads back frame count, duration, rate and streams (what ``ffprobe``
would say), by decoding with the same binary.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from motion.atomic import PendingFile
from motion.render.output import RenderError, commit


def fps_fraction(fps: float) -> Fraction:
    """The rate as ffmpeg gets it: ``30``, ``30000/1001`` for 29.97..., else a close fraction."""
    return Fraction(fps).limit_denominator(1001)


class Mp4Writer:
    """Context manager writing ``path`` atomically; :meth:`send` one RGB frame at a time.

    Args:
        path: the destination ``.mp4`` (already checked by the caller).
        size: ``(width, height)``, both even.
        fps: frame rate.
        audio: optional audio file muxed in as AAC.
        quality: imageio-ffmpeg quality 0-10 (higher = larger files).
        num_frames: the frames that will be sent, if known: the audio is cut at exactly
            ``num_frames / fps`` seconds.
    """

    def __init__(self, path: Path, size: tuple[int, int], fps: float, audio: str | os.PathLike[str] | None = None,
                 quality: float = 7.0, num_frames: int | None = None) -> None:
        w, h = int(size[0]), int(size[1])
        if w < 16 or h < 16 or w % 2 or h % 2:
            raise RenderError(f"video size must be even and at least 16x16, got {w}x{h}")
        if audio is not None:
            check_audio(audio)
        self.path, self.size, self.fps, self.audio, self.quality = Path(path), (w, h), float(fps), audio, quality
        self.frames, self.num_frames = 0, num_frames
        self._pending: PendingFile | None = None
        self._writer: Any = None

    def __enter__(self) -> Mp4Writer:
        import imageio_ffmpeg

        pending = self._pending = PendingFile(self.path)
        audio = str(self.audio) if self.audio is not None else None
        # The pending path has no suffix (/proc/PID/fd/N): the container is named.
        out_params = ["-f", "mp4"]
        if audio:
            out_params = [*self._audio_filter(), "-f", "mp4"]
        try:
            self._writer = imageio_ffmpeg.write_frames(
                str(pending.path), self.size, fps=fps_fraction(self.fps), codec="libx264", pix_fmt_in="rgb24",
                pix_fmt_out="yuv420p", quality=self.quality, macro_block_size=1, ffmpeg_log_level="error",
                audio_path=audio, audio_codec="aac" if audio else None, output_params=out_params,
            )
            self._writer.send(None)  # start ffmpeg
        except BaseException:
            pending.discard()
            raise
        return self

    def _audio_filter(self) -> list[str]:
        """Audio padded with silence, then cut at the clip's length (``num_frames / fps``) when
        known, else where the video ends (``-shortest``); the video keeps all its frames."""
        if self.num_frames is None:
            return ["-af", "apad", "-shortest"]
        seconds = Fraction(self.num_frames) / fps_fraction(self.fps)
        return ["-af", f"apad,atrim=end={float(seconds):.6f}"]

    def send(self, frame: np.ndarray) -> None:
        """Append one ``(H, W, 3)`` uint8 frame."""
        if frame.shape != (self.size[1], self.size[0], 3):
            raise ValueError(f"frame shape {frame.shape} != {(self.size[1], self.size[0], 3)}")
        try:
            self._writer.send(np.ascontiguousarray(frame, dtype=np.uint8))
        except (OSError, RuntimeError) as exc:  # ffmpeg exited: say why, in its own words
            raise RenderError(f"ffmpeg failed writing {self.path}: {_ffmpeg_reason(exc)}") from exc
        self.frames += 1

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        assert self._pending is not None
        try:
            self._writer.close()
            if ev is None and self.frames == 0:
                raise RenderError(f"no frames were rendered for {self.path}")
            if ev is None:
                commit(self._pending)
        except BaseException:
            self._pending.discard()
            raise
        if ev is not None:
            self._pending.discard()  # the caller's exception propagates


def _ffmpeg_reason(exc: BaseException) -> str:
    """First line of an imageio-ffmpeg exception (ffmpeg's own message goes to stderr)."""
    return f"{str(exc).splitlines()[0]} (ffmpeg's message is above)"


def check_audio(path: str | os.PathLike[str]) -> None:
    """:class:`RenderError` unless ffmpeg can decode the start of the audio file ``path``."""
    import imageio_ffmpeg

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"audio file not found: {p}")
    res = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(p), "-map", "0:a:0", "-t", "0.2",
                          "-f", "null", "-"], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        why = " / ".join(ln.strip() for ln in res.stderr.splitlines()[-2:] if ln.strip())
        raise RenderError(f"cannot read the audio file {p}: {why or 'no audio stream'}")


@dataclass(frozen=True)
class Mp4Info:
    """What :func:`probe_mp4` found: decoded ``frames``, their ``duration`` (s) and ``fps``,
    ``width`` / ``height``, whether an ``audio`` stream exists and its ``audio_duration`` (s)."""

    frames: int
    duration: float
    fps: float
    width: int
    height: int
    audio: bool
    audio_duration: float | None


def probe_mp4(path: str | os.PathLike[str]) -> Mp4Info:
    """Decode ``path`` with imageio-ffmpeg's ffmpeg and report its streams (an ffprobe stand-in)."""
    import imageio_ffmpeg

    exe = imageio_ffmpeg.get_ffmpeg_exe()
    res = subprocess.run([exe, "-hide_banner", "-i", str(path)], capture_output=True, text=True, check=False)
    info = res.stderr
    video = re.search(r"Stream #\S+.*Video: .*?(\d{2,5})x(\d{2,5}).*?([\d.]+(?:k)?) (?:fps|tbr)", info)
    if video is None:
        raise RenderError(f"{path}: no video stream found")
    fr = re.search(r"Video:.*?, ([\d.]+) fps", info)
    frames, secs = imageio_ffmpeg.count_frames_and_secs(str(path))
    audio = bool(re.search(r"Stream #\S+.*Audio: ", info))
    audio_secs = None
    if audio:
        res = subprocess.run([exe, "-hide_banner", "-i", str(path), "-map", "0:a", "-f", "null", "-"],
                             capture_output=True, text=True, check=False)
        stamps = re.findall(r"time=(\d+):(\d+):([\d.]+)", res.stderr)
        if stamps:
            h, m, s = stamps[-1]
            audio_secs = int(h) * 3600 + int(m) * 60 + float(s)
    return Mp4Info(frames=int(frames), duration=float(secs), fps=float(fr.group(1)) if fr else float("nan"),
                   width=int(video.group(1)), height=int(video.group(2)), audio=audio, audio_duration=audio_secs)
