"""The base of the toolkit's exceptions: :class:`MotionError`.

Every error the toolkit raises on purpose derives from it, and also keeps the built-in type it
had before (``ValueError`` for bad input, ``FileNotFoundError`` for missing files,
``RuntimeError`` for a missing tool), so both of these work::

    try:
        m = motion.generate("speech.wav")
    except motion.MotionError as exc:       # anything the toolkit diagnosed
        print(exc)

    except FileNotFoundError: ...           # as before

This module imports nothing.
"""

from __future__ import annotations


class MotionError(Exception):
    """Base class of the toolkit's exceptions (see the module notes)."""


class MotionWarning(UserWarning):
    """Base class of the toolkit's warnings: the work goes on, but a control could not be honoured
    as asked (the CLI prints them as one line)."""
