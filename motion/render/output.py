"""Checked, atomic output files for the renderers (videos, stills, plots).

Every renderer validates its destination and its motion BEFORE doing any work
(:func:`check_output`, :func:`check_motion`), then writes through :func:`atomic_output`: a
hidden temporary file beside the destination that is renamed over it only on success and
removed on any failure, so no partial file is ever left behind.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from motion.atomic import commit as _commit
from motion.atomic import destination_problem, temp_path

if TYPE_CHECKING:  # pragma: no cover
    from motion.container import Motion


class RenderError(ValueError):
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


def commit(tmp: Path, path: Path) -> None:
    """Move the finished ``tmp`` onto ``path`` (atomic rename)."""
    if not tmp.is_file() or tmp.stat().st_size == 0:
        raise RenderError(f"nothing was written for {path}")
    _commit(tmp, path)


@contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (same suffix); rename it onto ``path`` on success.

    On any exception (including KeyboardInterrupt) the temporary file is removed and an
    existing ``path`` is left untouched.
    """
    tmp = temp_path(path)
    try:
        yield tmp
        commit(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
