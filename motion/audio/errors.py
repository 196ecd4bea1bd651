"""Errors raised while loading audio.

Every error is a :class:`ValueError` and :class:`motion.MotionError` subclass (except the standard
:class:`FileNotFoundError` / :class:`IsADirectoryError` for bad paths), and each
message names the file, says what is wrong with it and what to do about it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from motion.errors import MotionError


class AudioError(MotionError, ValueError):
    """Base class for problems with the *content* of an audio file or array."""


class AudioDecodeError(AudioError):
    """The file is not audio that soundfile or ffmpeg can decode."""


class EmptyAudioError(AudioError):
    """The audio holds zero samples."""


class SilentAudioError(AudioError):
    """Every sample is (near) zero; pass ``allow_silent=True`` to accept it."""


class NonFiniteAudioError(AudioError):
    """Some samples are NaN or infinite."""


class SampleRateError(AudioError):
    """A sample rate (declared by a file or passed by the caller) is out of range."""


def check_audio_path(path: str | os.PathLike[str]) -> Path:
    """``path`` as a :class:`Path` if it names a readable regular file; else say what it is.

    Raises:
        FileNotFoundError: nothing is there.
        IsADirectoryError: a folder.
        AudioError: a FIFO, socket or device (``/dev/zero`` would never end; a pipe can be read once).
        PermissionError: the file is not readable.
    """
    p = Path(path).expanduser()
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        raise FileNotFoundError(
            f"audio file not found: {p} (resolved to {p.absolute()}); check the path and the current directory"
        ) from None
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(f"expected an audio file but {p} is a directory (a folder); pass one file inside it (e.g. a .wav)")
    if not stat.S_ISREG(mode):
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
        raise AudioError(f"{p} is {kind}, not an audio file; save the recording to a file and pass that")
    if not os.access(p, os.R_OK):
        raise PermissionError(f"cannot read {p}: permission denied; check its permissions")
    return p


class AudioWarning(UserWarning):
    """The audio loads, but something about it deserves a word (truncated file, no speech)."""
