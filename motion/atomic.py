"""Atomic file output: the new file gets its name only when it is complete.

Every writer of the toolkit (formats, exporters, renderers, audio) goes through here, so
an error (bad input, full disk, Ctrl-C, SIGTERM) never leaves a partial file behind and
never clobbers an existing one. On Linux the file is written UNNAMED: ``O_TMPFILE`` in the
destination folder, reached by writers (in this process or a child such as ffmpeg or
Blender) through ``/proc/PID/fd/N``, and linked into the folder on commit. A process killed
at any moment, even by SIGKILL, leaves nothing: the kernel frees an unnamed file with its
last descriptor. Where ``O_TMPFILE`` is missing (other systems, some network file systems)
a hidden ``.NAME.<hex>.part.SUFFIX`` beside the destination is used and renamed instead.

Replacing an existing file: Linux has no call that links an unnamed file over an existing
name (``linkat`` refuses, ``renameat2`` needs a name), so the file is linked under a hidden
``.NAME.<hex>.link.SUFFIX`` and renamed over the destination at once. What can land between
those two system calls (a few microseconds) is narrowed as far as Linux allows:

* catchable signals (SIGTERM, SIGINT, SIGHUP, SIGQUIT, ...) are blocked across the two calls
  and delivered right after the rename: the destination is then complete, nothing is left;
* only SIGKILL or a power cut in those microseconds can leave the ``.link`` name (holding
  the complete new file). The writer holds an ``flock`` on the file from its creation, so
  the next write to the same destination removes every ``.link`` name of it whose lock is
  free (its writer is gone) and leaves those of live writers alone.

Writers given a :class:`PendingFile` path must not rely on its suffix (it has none when
unnamed): they pass the format explicitly (``format="png"``, ``-f mp4``, ...).
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import secrets
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

#: Live pending files by the path handed to writers (nested atomic writes write straight in).
_PENDING: dict[str, PendingFile] = {}
#: Whether ``O_TMPFILE`` may be tried (switched off after the platform refuses it outright).
_TMPFILE_OK: bool = hasattr(os, "O_TMPFILE") and os.path.isdir("/proc/self/fd")


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
    """Create an empty, hidden, unused NAMED file beside ``dest`` and return its path.

    The fallback of :class:`PendingFile` where ``O_TMPFILE`` is unavailable. Same folder,
    so :func:`os.replace` is atomic; same suffix as ``dest`` by default.
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


def _open_unnamed(folder: Path) -> int | None:
    """A descriptor of a new unnamed file in ``folder`` (``O_TMPFILE``), or ``None`` if unsupported."""
    global _TMPFILE_OK
    if not _TMPFILE_OK:
        return None
    try:
        fd = os.open(folder, os.O_TMPFILE | os.O_RDWR | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as exc:
        if exc.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):  # file system / kernel without it
            if exc.errno != errno.EOPNOTSUPP:
                _TMPFILE_OK = False
            return None
        raise
    try:  # "a live writer holds this file" for stale_link_names (released by the kernel at exit)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        pass  # a file system without flock: its .link names are never taken for stale
    if not os.path.exists(f"/proc/{os.getpid()}/fd/{fd}"):  # /proc not mounted: writers cannot reach it
        os.close(fd)
        _TMPFILE_OK = False
        return None
    return fd


#: Signals blocked between linking the hidden name and renaming it over the destination.
_WINDOW_SIGNALS: frozenset[int] = frozenset(
    int(getattr(signal, n)) for n in ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGPIPE", "SIGALRM",
                                      "SIGUSR1", "SIGUSR2", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF")
    if hasattr(signal, n))


def _link_name_pattern(dest: Path) -> re.Pattern[str]:
    """The hidden names :meth:`PendingFile.commit` links ``dest``'s new file under."""
    return re.compile(rf"\.{re.escape(dest.stem)}\.[0-9a-f]{{8}}\.link{re.escape(dest.suffix)}")


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold the catchable termination signals (``_WINDOW_SIGNALS``) until the block ends; they
    are delivered then. A no-op where signal masks are unavailable."""
    before: set[int] | None = None  # the mask before (None: signal masks unavailable)
    try:
        before = signal.pthread_sigmask(signal.SIG_BLOCK, _WINDOW_SIGNALS)
    except (AttributeError, OSError, ValueError):  # no signal masks here
        pass
    try:
        yield
    finally:
        if before is not None:
            try:
                signal.pthread_sigmask(signal.SIG_SETMASK, before)
            except (AttributeError, OSError, ValueError):
                pass

def clean_stale_links(dest: str | os.PathLike[str]) -> list[str]:
    """Remove the ``.NAME.<hex>.link.SUFFIX`` names of ``dest`` left by a writer killed (SIGKILL,
    power cut) between linking and renaming; returns the names removed.

    A name is stale when its file's ``flock`` is free: every writer holds it from the file's
    creation until the rename, and the kernel releases it when the writer dies. Names of live
    writers, other patterns and anything not a regular file are left alone.
    """
    out = Path(dest)
    pattern = _link_name_pattern(out)
    removed: list[str] = []
    try:
        names = [n for n in os.listdir(out.parent) if pattern.fullmatch(n)]
    except OSError:
        return removed
    for name in names:
        path = out.parent / name
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            continue
        try:
            st = os.fstat(fd)
            if not (st.st_mode & 0o170000 == 0o100000):  # regular files only
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a live writer: its rename follows within microseconds
            now = os.lstat(path)
            if (now.st_ino, now.st_dev) == (st.st_ino, st.st_dev):  # still the file we checked
                os.unlink(path)
                removed.append(name)
        except OSError:
            continue
        finally:
            os.close(fd)
    return removed


def _link(src: Path, name: str, folder: int) -> None:
    """``linkat(AT_FDCWD, src, folder, name, AT_SYMLINK_FOLLOW)``: name the file ``/proc/PID/fd/N`` points at.

    (``os.link`` without a directory descriptor calls ``link(2)``, which would link the
    ``/proc`` symlink itself and fail with EXDEV.)
    """
    os.link(src, name, dst_dir_fd=folder, follow_symlinks=True)


class PendingFile:
    """A file being written for ``dest``; it appears under ``dest`` only on :meth:`commit`.

    Args:
        dest: the final path (its folder must exist and be writable).
        suffix: suffix of the named fallback temporary file (default ``dest``'s).

    Attributes:
        dest: the final path.
        path: where writers write: ``/proc/PID/fd/N`` (unnamed file) or the hidden named fallback.
    """

    def __init__(self, dest: str | os.PathLike[str], suffix: str | None = None) -> None:
        self.dest = Path(dest)
        self._fd = _open_unnamed(self.dest.parent)
        self.path = Path(f"/proc/{os.getpid()}/fd/{self._fd}") if self._fd is not None else temp_path(dest, suffix)
        _PENDING[str(self.path)] = self

    @property
    def unnamed(self) -> bool:
        """True when the file has no name yet (``O_TMPFILE``): nothing to clean after a kill."""
        return self._fd is not None

    def size(self) -> int:
        """Bytes written so far."""
        return os.fstat(self._fd).st_size if self._fd is not None else self.path.stat().st_size

    def commit(self) -> None:
        """Give the finished file the name ``dest`` (replacing it), mode ``0o666 & ~umask``."""
        mode = 0o666 & ~_umask()
        if self._fd is None:
            os.chmod(self.path, mode)  # writers that replace the temp file may leave 0600
            os.replace(self.path, self.dest)
            self._forget()
            return
        os.fchmod(self._fd, mode)
        clean_stale_links(self.dest)
        folder = os.open(self.dest.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            try:
                _link(self.path, self.dest.name, folder)  # atomic, only where dest is absent
            except FileExistsError:
                self._replace(folder)
        finally:
            os.close(folder)
        self.discard()

    def _replace(self, folder: int) -> None:
        """Link under a hidden name and rename it over the existing ``dest`` (module notes):
        catchable signals wait until both calls are done; a SIGKILL between them leaves the
        hidden ``.link`` name, which the next write to ``dest`` removes (its flock is free)."""
        tmp = self._free_name()
        with _signals_held():
            _link(self.path, tmp.name, folder)
            try:
                os.replace(tmp.name, self.dest.name, src_dir_fd=folder, dst_dir_fd=folder)
            except BaseException:
                os.unlink(tmp.name, dir_fd=folder)
                raise

    def discard(self) -> None:
        """Drop the file (a no-op after :meth:`commit`)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)
        elif str(self.path) in _PENDING:
            self.path.unlink(missing_ok=True)
        self._forget()

    def _forget(self) -> None:
        _PENDING.pop(str(self.path), None)

    def _free_name(self) -> Path:
        for _ in range(100):
            tmp = self.dest.with_name(f".{self.dest.stem}.{secrets.token_hex(4)}.link{self.dest.suffix}")
            if not os.path.lexists(tmp):
                return tmp
        raise FileExistsError(f"cannot find a free temporary name beside {self.dest}")

    def __enter__(self) -> PendingFile:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: object) -> None:
        if ev is None:
            self.commit()
        else:
            self.discard()


def is_pending(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is the writer's path of a live :class:`PendingFile` of this process."""
    return str(path) in _PENDING


def commit(tmp: str | os.PathLike[str], dest: str | os.PathLike[str]) -> None:
    """Move the finished ``tmp`` (a :class:`PendingFile` path or a named file) onto ``dest``."""
    pending = _PENDING.get(str(tmp))
    if pending is not None:
        pending.dest = Path(dest)
        pending.commit()
        return
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, dest)


@contextmanager
def atomic_path(dest: str | os.PathLike[str], suffix: str | None = None, mkdir: bool = False) -> Iterator[Path]:
    """Yield a path to write ``dest``'s content to; on success it becomes ``dest``.

    Args:
        dest: the final path.
        suffix: suffix of the named fallback temporary file (default: ``dest``'s).
        mkdir: create the destination folder if missing (otherwise it must exist).

    On any exception inside the ``with`` block (KeyboardInterrupt included) the file is
    dropped and ``dest`` is left as it was. A ``dest`` that is itself a pending file's path
    (a writer nested in another atomic write) is yielded as it is: the outer write commits.
    """
    if is_pending(dest):
        yield Path(dest)
        return
    out = Path(dest)
    if mkdir:
        out.parent.mkdir(parents=True, exist_ok=True)
    elif not out.parent.is_dir():
        raise FileNotFoundError(f"output folder does not exist: {out.parent}")
    with PendingFile(out, suffix) as pending:
        yield pending.path


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], None], mkdir: bool = True) -> Path:
    """Write ``path`` by calling ``write(file)`` on a pending file, then committing it."""
    p = Path(path)
    with atomic_path(p, suffix=".tmp", mkdir=mkdir) as tmp:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
    return p


@contextmanager
def atomic_folder(dest: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an empty hidden folder beside ``dest`` to fill; on success it becomes ``dest``.

    An existing folder at ``dest`` is replaced as a whole: renamed aside, the new folder renamed
    in (catchable signals wait until both renames are done), then the old one removed. On any
    exception inside the ``with`` block the new folder is removed and ``dest`` left as it was.
    Parents of ``dest`` are created.
    """
    import shutil

    out = Path(dest)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"cannot write the folder {out}: a file has that name")
    out.parent.mkdir(parents=True, exist_ok=True)
    tag = secrets.token_hex(4)
    tmp, old = out.with_name(f".{out.name}.{tag}.part"), out.with_name(f".{out.name}.{tag}.old")
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    os.chmod(tmp, 0o777 & ~_umask())
    with _signals_held():
        replaced = out.is_dir()
        if replaced:
            os.rename(out, old)
        try:
            os.rename(tmp, out)
        except BaseException:
            if replaced:
                os.rename(old, out)
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    if replaced:
        shutil.rmtree(old, ignore_errors=True)
