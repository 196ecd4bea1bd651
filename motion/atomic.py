"""Atomic file output: write a temporary file beside the destination, then rename.

Every writer of the toolkit (formats, exporters, renderers, audio) goes through here, so
an error (bad input, full disk, Ctrl-C) never leaves a partial file behind and never
clobbers an existing one.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


def _umask() -> int:
    """The process umask, read without changing it (Linux), else the common ``0o022``."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def destination_problem(path: str | os.PathLike[str], overwrite: bool = True) -> str | None:
    """Why ``path`` cannot be written (one sentence), or ``None`` when it can."""
    out = Path(path)
    parent = out.parent
    if not parent.exists():
        return f"cannot write {out}: folder {parent} does not exist"
    if not parent.is_dir():
        return f"cannot write {out}: {parent} is not a folder"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot write {out}: folder {parent} is not writable"
    if out.is_dir():
        return f"cannot write {out}: it is a folder"
    if out.exists() and not overwrite:
        return f"cannot write {out}: file exists (pass overwrite=True to replace it)"
    if out.is_file() and not (out.stat().st_mode & 0o222 and os.access(out, os.W_OK)):  # mode bits: root too
        return f"cannot write {out}: the file is write-protected (make it writable or choose another name)"
    return None


def temp_path(dest: str | os.PathLike[str], suffix: str | None = None) -> Path:
    """Create an empty, hidden, unused file beside ``dest`` and return its path.

    Same folder, so :func:`os.replace` is atomic; same suffix as ``dest`` by default, so
    tools that choose a container from the suffix (ffmpeg) or append one (``np.savez``)
    behave as for the real name.
    """
    out = Path(dest)
    sfx = out.suffix if suffix is None else suffix
    for _ in range(100):
        tmp = out.with_name(f".{out.stem}.{secrets.token_hex(4)}.part{sfx}")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(f"cannot find a free temporary name beside {out}")


def commit(tmp: str | os.PathLike[str], dest: str | os.PathLike[str]) -> None:
    """Move the finished ``tmp`` onto ``dest`` with ordinary permissions (``0o666 & ~umask``)."""
    os.chmod(tmp, 0o666 & ~_umask())  # writers that replace the temp file may leave 0600
    os.replace(tmp, dest)


@contextmanager
def atomic_path(dest: str | os.PathLike[str], suffix: str | None = None, mkdir: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; on success it replaces ``dest``.

    Args:
        dest: the final path.
        suffix: suffix of the temporary file (default: ``dest``'s).
        mkdir: create the destination folder if missing (otherwise it must exist).

    On any exception inside the ``with`` block (KeyboardInterrupt included) the temporary
    file is removed and ``dest`` is left as it was.
    """
    out = Path(dest)
    if mkdir:
        out.parent.mkdir(parents=True, exist_ok=True)
    elif not out.parent.is_dir():
        raise FileNotFoundError(f"output folder does not exist: {out.parent}")
    tmp = temp_path(out, suffix)
    try:
        yield tmp
        commit(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], None], mkdir: bool = True) -> Path:
    """Write ``path`` by calling ``write(file)`` on a temporary file, then renaming it."""
    p = Path(path)
    with atomic_path(p, suffix=".tmp", mkdir=mkdir) as tmp:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
    return p
