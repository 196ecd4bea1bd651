"""Shared writer plumbing of the npz flavours: finite checks, resampling on the way out, atomic file writes."""

from __future__ import annotations

import json
import pickle
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from motion.atomic import atomic_write, is_pending
from motion.container import Motion, MotionMeta

#: The key of the toolkit's JSON metadata (:class:`~motion.container.MotionMeta`) in every file it writes.
META_KEY = "motion_meta"


def prepare(motion: Motion, fps: float | None, fmt: str) -> Motion:
    """Refuse non-finite motions and resample to ``fps`` (``None`` keeps the motion's rate).

    Raises:
        ValueError: when the motion holds NaN/Inf or ``fps`` is not positive.
    """
    motion.check_finite(f"cannot write {fmt}")
    if fps is None or abs(float(fps) - motion.fps) < 1e-9:
        return motion
    if not float(fps) > 0:
        raise ValueError(f"cannot write {fmt} at fps={fps}; expected a positive frame rate")
    return motion.resample(float(fps))


def fit_width(a: np.ndarray, size: int) -> np.ndarray:
    """Pad with zeros or truncate the last axis of ``a`` to ``size``."""
    out = np.zeros(a.shape[:-1] + (size,), np.float32)
    n = min(size, a.shape[-1])
    out[..., :n] = a[..., :n]
    return out


def text(value: str) -> np.ndarray:
    """A 0-d unicode array (``np.str_``), loadable with ``allow_pickle=False``."""
    return np.array(str(value), dtype=np.str_)


def meta_entry(meta: MotionMeta) -> dict[str, np.ndarray]:
    """``{"motion_meta": <JSON string>}`` for ``meta``.

    Raises:
        ValueError: when ``meta.extra`` is not JSON-serialisable.
    """
    try:
        payload = json.dumps(meta.to_dict(), sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"motion metadata is not JSON-serialisable: {exc}") from exc
    return {META_KEY: text(payload)}


def npz_path(path: str | Path) -> Path:
    """``path`` with ``.npz`` appended when it has another suffix (what ``np.savez`` would do).

    An exporter's pending file (``/proc/PID/fd/N``, :mod:`motion.atomic`) is kept as it is.
    """
    p = Path(path)
    return p if p.suffix.lower() == ".npz" or is_pending(p) else p.with_name(p.name + ".npz")


def _check_arrays(arrays: Mapping[str, np.ndarray]) -> None:
    for key, value in arrays.items():
        if np.asarray(value).dtype.kind == "O":  # pragma: no cover - guards our own writers
            raise TypeError(f"refusing to write object array for key {key!r}")


def save_npz(path: str | Path, arrays: Mapping[str, np.ndarray], *, compress: bool = False) -> Path:
    """Atomically write ``arrays`` as an ``.npz`` (``.npz`` appended if missing)."""
    _check_arrays(arrays)
    save = np.savez_compressed if compress else np.savez
    # Saving into an open file object keeps numpy from appending ".npz" to the temp name.
    return atomic_write(npz_path(path), lambda f: save(f, **arrays))  # type: ignore[arg-type]


def save_pickle(path: str | Path, arrays: Mapping[str, np.ndarray]) -> Path:
    """Atomically write a plain dict of numpy arrays as a pickle (protocol 4)."""
    _check_arrays(arrays)
    data = {k: np.asarray(v) for k, v in arrays.items()}
    return atomic_write(path, lambda f: pickle.dump(data, f, protocol=4))
