"""Where numba caches librosa's compiled kernels, chosen before numba is imported.

librosa compiles its kernels with ``numba.jit(cache=True)``. numba writes that cache beside
librosa's sources, else in ``$XDG_CACHE_HOME/numba`` (``~/.cache/numba``); a service user
with a read-only install and an unwritable HOME has neither, and every call fails with
"cannot cache function". Then :func:`configure` points ``NUMBA_CACHE_DIR`` at a private
folder: ``$MOTION_CACHE_DIR/numba-UID`` (``~/.cache/motion/...``), else ``TMPDIR/motion-numba-UID``.
The folder must belong to this user and be closed to others: numba's cache index is a
pickle, so a folder others can write to would let them run code in this process.

Nothing changes where numba's own choices work, or where ``NUMBA_CACHE_DIR`` is set.
"""

from __future__ import annotations

import importlib.util
import os
import stat
import sys
from collections.abc import Mapping
from pathlib import Path

ENV = "NUMBA_CACHE_DIR"


def _usable(folder: Path) -> bool:
    """Whether ``folder`` (or the nearest existing folder above it, where it would be made) is writable."""
    p = folder
    while not p.exists():
        if p.parent == p:
            return False
        p = p.parent
    return p.is_dir() and os.access(p, os.W_OK | os.X_OK)


def _private(folder: Path) -> bool:
    """Make ``folder`` (mode 0700) if missing; True if it is this user's and closed to others."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = folder.lstat()
    except OSError:
        return False
    uid = os.geteuid() if hasattr(os, "geteuid") else st.st_uid
    return (stat.S_ISDIR(st.st_mode) and st.st_uid == uid and not st.st_mode & 0o022
            and os.access(folder, os.W_OK | os.X_OK))


def _numba_defaults_work(environ: Mapping[str, str]) -> bool:
    """Whether numba's own cache places (beside librosa, or the user's cache folder) are writable."""
    spec = importlib.util.find_spec("librosa")
    if spec is not None and spec.origin:
        package = Path(spec.origin).parent
        if _usable(package / "__pycache__"):
            return True
    xdg = environ.get("XDG_CACHE_HOME") or str(Path(environ.get("HOME") or "~").expanduser() / ".cache")
    return _usable(Path(xdg) / "numba")


def choose(environ: Mapping[str, str] | None = None) -> Path | None:
    """The folder to give numba, or ``None`` where nothing needs to change."""
    env = os.environ if environ is None else environ
    if env.get(ENV) or "numba" in sys.modules or _numba_defaults_work(env):
        return None
    uid = os.geteuid() if hasattr(os, "geteuid") else 0
    candidates = []
    if env.get("MOTION_CACHE_DIR"):
        candidates.append(Path(env["MOTION_CACHE_DIR"]).expanduser() / f"numba-{uid}")
    home = env.get("HOME")
    if home:
        candidates.append(Path(home).expanduser() / ".cache" / "motion" / f"numba-{uid}")
    import tempfile

    candidates.append(Path(tempfile.gettempdir()) / f"motion-numba-{uid}")
    return next((c for c in candidates if _private(c)), None)


def configure() -> Path | None:
    """Set ``NUMBA_CACHE_DIR`` when numba's defaults cannot cache; returns the folder set (if any)."""
    folder = choose()
    if folder is not None:
        os.environ[ENV] = str(folder)
    return folder
