"""Errors raised while loading audio.

Every error is a :class:`ValueError` subclass (except the standard
:class:`FileNotFoundError` / :class:`IsADirectoryError` for bad paths), and each
message names the file, says what is wrong with it and what to do about it.
"""

from __future__ import annotations


class AudioError(ValueError):
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
