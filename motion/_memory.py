"""Giving freed memory back to the system between the phases of a long generation.

glibc serves allocations under its mmap threshold (which grows to 32 MB as large blocks are
freed) from the heap, and a block freed in the middle of the heap stays in the process's
resident memory until ``malloc_trim`` hands its pages back. After the phases of a long
generation (speech features and lip events, body, face) the arrays of the finished phase are
such holes; :func:`trim_heap` returns them, so the peak is what the next phase holds, not that
plus what the last one left. Elsewhere (no glibc) it does nothing.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable


def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return None
    fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
    return fn  # type: ignore[no-any-return]


_TRIM = _malloc_trim()


def trim_heap() -> bool:
    """Return the heap's free pages to the system (glibc ``malloc_trim(0)``); True if any were."""
    return bool(_TRIM(0)) if _TRIM is not None else False
