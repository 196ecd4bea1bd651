"""Atomic file output: write a temporary file beside the destination, then rename.

Every writer of the toolkit goes through here, so an error (bad input, full disk, Ctrl-C)
never leaves a partial file behind and never clobbers an existing one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(dest: str | os.PathLike[str], suffix: str | None = None, mkdir: bool = False) -> Iterator[Path]:
    """Yield a temporary path in ``dest``'s folder; on success it replaces ``dest``.

    Args:
        dest: the final path.
        suffix: suffix of the temporary file (default: ``dest``'s, so tools that pick a
            container from the suffix, like ffmpeg, see the right one).
        mkdir: create the destination folder if missing (otherwise it must exist).

    On any exception inside the ``with`` block the temporary file is removed and ``dest``
    is left as it was. The file gets ordinary permissions (``0o666 & ~umask``).
    """
    out = Path(dest)
    if mkdir:
        out.parent.mkdir(parents=True, exist_ok=True)
    elif not out.parent.is_dir():
        raise FileNotFoundError(f"output folder does not exist: {out.parent}")
    fd, name = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=suffix if suffix is not None else out.suffix, dir=out.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], None], mkdir: bool = True) -> Path:
    """Write ``path`` by calling ``write(file)`` on a temporary file, then renaming it."""
    p = Path(path)
    with atomic_path(p, suffix=".tmp", mkdir=mkdir) as tmp, open(tmp, "wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())
    return p
