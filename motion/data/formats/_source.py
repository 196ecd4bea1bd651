"""Validated, lazy access to the arrays of one motion file (``.npz`` or a dict of arrays).

Every reader goes through :class:`ArraySource`, so all of them fail the same way: with a
:class:`~motion.data.formats.errors.MotionFormatError` whose message names the file, the
key, what was expected and what was found. Only the keys a reader asks for are loaded, so
unrelated keys of real files (e.g. AMASS marker data stored as object arrays) do no harm.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from motion.container import Motion, MotionMeta
from motion.data.formats.errors import MotionFileNotFoundError, MotionFormatError
from motion.export.npz._write import META_KEY

#: A shape pattern: ints must match exactly; ``"T"`` is the frame axis (shared by every
#: per-frame key of a file); any other string is a free size (named in messages).
ShapeSpec = Sequence[int | str]

GENDERS: tuple[str, ...] = ("neutral", "male", "female")


def _spec_str(spec: ShapeSpec) -> str:
    inner = ", ".join(str(s) for s in spec)
    return f"({inner},)" if len(spec) == 1 else f"({inner})"


def _shape_matches(shape: tuple[int, ...], spec: ShapeSpec) -> bool:
    return len(shape) == len(spec) and all(isinstance(s, str) or s == n for n, s in zip(shape, spec, strict=True))


class ArraySource:
    """Checked access to the named arrays of one file.

    Args:
        path: the file (used in messages).
        fmt: the format name (used in messages: ``"<fmt> file <path>: ..."``).
        keys: the keys the file holds.
        load: returns the raw value of one key (may raise; see :meth:`raw`).
        close: called by :meth:`close` / on leaving a ``with`` block.
    """

    def __init__(
        self,
        path: str | Path,
        fmt: str,
        keys: Iterable[str],
        load: Callable[[str], Any],
        close: Callable[[], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.fmt = fmt
        self.keys = frozenset(keys)
        self._load = load
        self._close = close
        self.num_frames: int | None = None
        self._frames_key: str | None = None

    # ------------------------------------------------------------------ plumbing
    def __enter__(self) -> ArraySource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the underlying file."""
        if self._close is not None:
            self._close()
            self._close = None

    def error(self, message: str, key: str | None = None) -> MotionFormatError:
        """A :class:`MotionFormatError` about this file (and ``key``)."""
        where = f"key {key!r} " if key is not None else ""
        return MotionFormatError(f"{self.fmt} file {self.path}: {where}{message}", path=self.path, key=key)

    def has(self, key: str) -> bool:
        """Whether the file holds ``key``."""
        return key in self.keys

    def first_of(self, keys: Sequence[str]) -> str | None:
        """The first of ``keys`` that the file holds, or ``None``."""
        return next((k for k in keys if k in self.keys), None)

    def raw(self, key: str) -> np.ndarray:
        """The value of ``key`` as a numpy array, never unpickling Python objects."""
        if key not in self.keys:
            found = ", ".join(sorted(self.keys)) or "none"
            raise self.error(f"is missing; keys found: {found}", key)
        try:
            value = self._load(key)
        except ValueError as exc:
            if "pickle" in str(exc).lower() or "object" in str(exc).lower():
                raise self.error(
                    "holds an object array (pickled Python objects), which is refused for safety; "
                    "expected a numeric or text array",
                    key,
                ) from exc
            raise self.error(f"cannot be read: {exc}", key) from exc
        except _LyingHeaderError as exc:
            raise self.error(str(exc), key) from None
        except MemoryError as exc:
            raise self.error(f"is too large to load ({exc})", key) from None
        except (OSError, EOFError, zipfile.BadZipFile, KeyError, zlib.error) as exc:
            raise self.error(f"cannot be read ({type(exc).__name__}: {exc})", key) from exc
        arr = np.asarray(value)
        if arr.dtype.kind == "O":
            raise self.error("holds Python objects (object array); expected a numeric or text array", key)
        return arr

    # ------------------------------------------------------------------ typed access
    def array(self, key: str, spec: ShapeSpec, *, hint: str = "") -> np.ndarray:
        """A finite float32 array of ``key`` whose shape matches ``spec``.

        ``"T"`` in ``spec`` is the frame axis: the first key read sets the frame count
        and every later per-frame key must agree with it.
        """
        arr = self.raw(key)
        if arr.dtype.kind not in "iuf":
            raise self.error(f"has dtype {arr.dtype}; expected numbers", key)
        if not _shape_matches(arr.shape, spec):
            extra = f" ({hint})" if hint else ""
            raise self.error(f"has shape {arr.shape}; expected {_spec_str(spec)}{extra}", key)
        if "T" in spec:
            frames = int(arr.shape[list(spec).index("T")])
            if frames == 0:
                raise self.error("has 0 frames; expected at least 1", key)
            if self.num_frames is None:
                self.num_frames, self._frames_key = frames, key
            elif frames != self.num_frames:
                raise self.error(
                    f"has {frames} frames; expected {self.num_frames} (the frame count of key {self._frames_key!r})",
                    key,
                )
        bad = ~np.isfinite(arr)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise self.error(f"contains NaN or Inf values (first at index {first}); expected finite numbers", key)
        return arr.astype(np.float32)

    def optional(self, key: str, spec: ShapeSpec, *, hint: str = "") -> np.ndarray | None:
        """:meth:`array` when the key exists, else ``None``."""
        return self.array(key, spec, hint=hint) if self.has(key) else None

    def number(self, key: str) -> float:
        """A single finite number (a 0-d or one-element array)."""
        arr = self.raw(key)
        if arr.dtype.kind not in "iuf" or arr.size != 1:
            raise self.error(f"is {arr.dtype} of shape {arr.shape}; expected a single number", key)
        value = float(arr.reshape(()))
        if not np.isfinite(value):
            raise self.error(f"is {value}; expected a finite number", key)
        return value

    def text(self, key: str, default: str | None = None) -> str:
        """A single string (unicode or bytes array); ``default`` when the key is absent."""
        if not self.has(key):
            if default is None:
                self.raw(key)  # raises "missing"
            assert default is not None
            return default
        arr = self.raw(key)
        if arr.dtype.kind not in "US" or arr.size != 1:
            raise self.error(f"is {arr.dtype} of shape {arr.shape}; expected a single string", key)
        value = arr.reshape(())[()]
        return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)

    def frame_rate(self, keys: Sequence[str], default: float | None) -> float:
        """The file's frame rate from the first of ``keys`` present (``default`` if none)."""
        key = self.first_of(keys)
        if key is None:
            if default is None:
                names = ", ".join(repr(k) for k in keys)
                raise self.error(f"has no frame-rate key; expected one of {names}")
            return float(default)
        fps = self.number(key)
        if fps <= 0:
            raise self.error(f"is {fps:g}; expected a positive frame rate", key)
        return fps

    def gender(self, key: str = "gender") -> str:
        """``neutral`` / ``male`` / ``female`` (case-insensitive; ``neutral`` when absent)."""
        value = self.text(key, default="neutral").strip().lower()
        if value not in GENDERS:
            raise self.error(f"is {value!r}; expected one of {', '.join(GENDERS)}", key)
        return value

    def betas(self, key: str, default_size: int) -> np.ndarray:
        """Shape coefficients ``(B,)`` (a leading axis of size 1 is dropped)."""
        if not self.has(key):
            return np.zeros(default_size, np.float32)
        arr = self.raw(key)
        if arr.ndim == 2 and arr.shape[0] == 1:
            return self.array(key, (1, "B"))[0]
        return self.array(key, ("B",))

    def meta(self) -> MotionMeta:
        """Our metadata from the JSON key ``motion_meta``; else ``MotionMeta(source=<path>)``."""
        if not self.has(META_KEY):
            return MotionMeta(source=str(self.path))
        text = self.text(META_KEY)
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError(f"a JSON {type(data).__name__}, not an object")
            return MotionMeta.from_dict(data)
        except (ValueError, TypeError) as exc:
            raise self.error(f"is not valid motion metadata ({exc}); expected a JSON object", META_KEY) from exc

    def finish(self, motion: Motion, fps: float | None) -> Motion:
        """Resample ``motion`` (built at the file's rate) to ``fps`` (``None`` keeps it)."""
        if fps is None:
            return motion
        if not float(fps) > 0:
            raise self.error(f"cannot be read at fps={fps}; expected a positive frame rate")
        if abs(float(fps) - motion.fps) < 1e-9:
            return motion
        return motion.resample(float(fps))


def _check_file(path: Path, fmt: str) -> None:
    if not path.exists():
        raise MotionFileNotFoundError(f"{fmt} file {path}: file not found", path=path)
    if not path.is_file():
        raise MotionFormatError(f"{fmt} file {path}: not a regular file", path=path)


def open_npz(path: str | Path, fmt: str) -> ArraySource:
    """Open an ``.npz`` archive with ``allow_pickle=False``."""
    p = Path(path)
    _check_file(p, fmt)
    if not zipfile.is_zipfile(p):
        raise MotionFormatError(f"{fmt} file {p}: not an .npz (zip) archive", path=p)
    try:
        npz = np.load(p, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise MotionFormatError(f"{fmt} file {p}: cannot be opened as .npz ({exc})", path=p) from exc
    if not isinstance(npz, np.lib.npyio.NpzFile):  # pragma: no cover - zip checked above
        raise MotionFormatError(f"{fmt} file {p}: not an .npz archive", path=p)
    return ArraySource(p, fmt, npz.files, _checked_member_loader(npz), npz.close)


class _LyingHeaderError(Exception):
    """An ``.npy`` member's header claims more data than the archive stores for it."""


def _checked_member_loader(npz: np.lib.npyio.NpzFile) -> Callable[[str], Any]:
    """``npz[key]``, after checking that the member's header does not claim more bytes than it
    holds (a forged header asking for 10^9 frames would otherwise allocate hundreds of GB)."""

    def load(key: str) -> Any:
        name = key if key in npz.zip.namelist() else f"{key}.npy"
        try:
            info = npz.zip.getinfo(name)
        except KeyError:
            return npz[key]
        with npz.zip.open(name) as f:
            try:
                version = np.lib.format.read_magic(f)
                read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                shape, _, dtype = read(f)
            except (ValueError, UnicodeDecodeError):
                return npz[key]  # not an .npy member: numpy says why
            header = f.tell()
        if dtype.hasobject:
            return npz[key]  # refused by allow_pickle=False with numpy's message
        claimed = int(np.prod(shape, dtype=object)) * dtype.itemsize
        stored = info.file_size - header
        if claimed > stored:
            raise _LyingHeaderError(
                f"has a header that claims shape {tuple(shape)} of {dtype} ({_size(claimed)}) but the file holds "
                f"{_size(max(stored, 0))} for it: the file is corrupt or forged")
        return npz[key]

    return load


def _size(n: int) -> str:
    """``n`` bytes in a readable unit."""
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return f"{n} bytes"  # pragma: no cover


def from_mapping(path: str | Path, fmt: str, data: Mapping[str, Any]) -> ArraySource:
    """Wrap an already-loaded dict of arrays (e.g. from a restricted unpickler)."""
    return ArraySource(path, fmt, data.keys(), data.__getitem__)


def open_any(path: str | Path, fmt: str, *, pickle_ok: bool = False) -> ArraySource:
    """:func:`open_npz`, or for ``.pkl`` / ``.pickle`` (when ``pickle_ok``) the restricted unpickler."""
    p = Path(path)
    if pickle_ok and p.suffix.lower() in (".pkl", ".pickle"):
        from motion.data.formats.safe_pickle import UnsafePickleError, load_array_dict

        _check_file(p, fmt)
        try:
            data = load_array_dict(p)
        except UnsafePickleError as exc:
            raise MotionFormatError(f"{fmt} file {p}: {exc}", path=p) from exc
        return from_mapping(p, fmt, data)
    return open_npz(p, fmt)
