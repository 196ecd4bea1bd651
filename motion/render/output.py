"""Checked, atomic output files for the renderers (videos, stills, plots).

Every renderer validates its destination and its motion BEFORE doing any work
(:func:`check_output`, :func:`check_motion`), then writes through :func:`atomic_output`: an
unnamed file in the destination folder (:class:`motion.atomic.PendingFile`) that gets the
destination's name only on success, so no partial file is ever left behind, even by a kill.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from motion.atomic import PendingFile, destination_problem
from motion.errors import MotionError

if TYPE_CHECKING:  # pragma: no cover
    from motion.container import Motion


class RenderError(MotionError, ValueError):
    """Bad input for a renderer: unknown suffix, unwritable destination, non-finite motion."""


def check_output(path: str | os.PathLike[str], suffixes: Sequence[str]) -> Path:
    """``path`` as a :class:`Path`, or :class:`RenderError` saying why it cannot be written.

    Args:
        path: the destination file.
        suffixes: accepted suffixes, lower case with the dot (``(".mp4",)``).
    """
    out = Path(path).expanduser()
    if out.suffix.lower() not in suffixes:
        raise RenderError(f"cannot write {out}: unknown output suffix {out.suffix or '(none)'!r}; "
                          f"expected {', '.join(suffixes)}")
    problem = destination_problem(out)
    if problem:
        raise RenderError(problem)
    return out


def check_motion(motion: Motion, what: str = "motion to render") -> None:
    """:class:`RenderError` naming the first non-finite array of ``motion`` (if any)."""
    try:
        motion.check_finite(what)
    except ValueError as exc:
        raise RenderError(str(exc)) from exc


def commit(pending: PendingFile) -> None:
    """Give the finished ``pending`` file its destination name (it must not be empty)."""
    if not pending.path.is_file() or pending.size() == 0:
        raise RenderError(f"nothing was written for {pending.dest}")
    pending.commit()


@contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a path to write ``path``'s content to (unnamed on Linux: give the format explicitly).

    It becomes ``path`` on success; on any exception (including KeyboardInterrupt) or a kill
    nothing is left and an existing ``path`` is untouched.
    """
    pending = PendingFile(path)
    try:
        yield pending.path
        commit(pending)
    except BaseException:
        pending.discard()
        raise
