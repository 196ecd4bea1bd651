"""The one error type every reader raises for a bad or unsupported motion file."""

from __future__ import annotations

import errno
from pathlib import Path

from motion.errors import MotionError


class MotionFormatError(MotionError, ValueError):
    """A motion file is missing, unreadable, or does not match its format.

    The message always names the file, and the key when one is at fault, with what
    was expected and what was found, e.g.
    ``"beat2 file x.npz: key 'poses' has shape (10, 160); expected (T, 165)"``.

    Attributes:
        path: the file at fault (``None`` when not tied to one file).
        key: the key at fault, if any.
    """

    def __init__(self, message: str, *, path: str | Path | None = None, key: str | None = None) -> None:
        super().__init__(message)
        self.path = None if path is None else Path(path)
        self.key = key


class MotionFileNotFoundError(MotionFormatError, FileNotFoundError):
    """The motion file does not exist (a :class:`MotionFormatError` and a :class:`FileNotFoundError`)."""

    def __init__(self, message: str, *, path: str | Path | None = None, key: str | None = None) -> None:
        MotionFormatError.__init__(self, message, path=path, key=key)
        self.errno, self.strerror = errno.ENOENT, "No such file or directory"
        self.filename = None if path is None else str(path)

    def __str__(self) -> str:
        return str(self.args[0])
