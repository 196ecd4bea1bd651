"""Child processes that die with the toolkit (ffmpeg, Blender).

A child started with :func:`child_kwargs` gets ``PR_SET_PDEATHSIG = SIGKILL`` (Linux): when
this process dies, even by SIGKILL, the kernel kills the child, so no ffmpeg keeps decoding
into the void. Elsewhere nothing is set (children still see their pipes close).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

#: prctl option that asks for a signal when the parent dies (linux/prctl.h).
PR_SET_PDEATHSIG = 1


def _libc_prctl() -> Callable[..., int] | None:
    """libc's ``prctl``, resolved before any fork (the child must not load libraries)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl  # type: ignore[no-any-return]
    except (OSError, AttributeError):  # pragma: no cover - no libc symbol
        return None


_PRCTL = _libc_prctl()


def die_with_parent(parent: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` that has the child killed when ``parent`` (this process) dies.

    Args:
        parent: this process's pid, read before the fork.

    Returns:
        The function, or ``None`` where the platform has no ``prctl``.
    """
    prctl = _PRCTL
    if prctl is None:
        return None

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl: nobody would kill us
            os._exit(1)

    return preexec


def child_kwargs() -> dict[str, Any]:
    """Keyword arguments for :mod:`subprocess` that tie a child's life to this process."""
    preexec = die_with_parent(os.getpid())
    return {} if preexec is None else {"preexec_fn": preexec}
