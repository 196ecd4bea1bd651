"""Read user model files safely, check them, and write plain copies for ``smplx``.

``smplx`` opens model files with ``pickle.load`` / ``np.load(allow_pickle=True)``, which
run code named in the file. So user files never reach it: they are read here (npz with
``allow_pickle=False``; pickles through :mod:`motion.bodymodels.safe_pickle`), their keys
and shapes are checked, and a copy holding only numeric arrays is written into
``<cache>/sanitized/<content hash>/`` in the layout ``smplx.create`` expects. The
stand-in goes through exactly the same path.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import struct
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from motion.bodymodels.safe_pickle import load_object_npy, load_pickle
from motion.bodymodels.sources import cache_root
from motion.errors import MotionError

#: Bumped when the sanitised layout changes (part of the cache key).
SANITIZE_VERSION = "1"

#: key -> (expected shape with symbols V/F/S bound per file, required)
SMPLX_SPEC: dict[str, tuple[tuple[int | str, ...], bool]] = {
    "v_template": (("V", 3), True), "f": (("F", 3), True), "shapedirs": (("V", 3, "S"), True),
    "posedirs": (("V", 3, 486), True), "J_regressor": ((55, "V"), True), "weights": (("V", 55), True),
    "kintree_table": ((2, 55), True), "hands_componentsl": ((45, 45), True), "hands_componentsr": ((45, 45), True),
    "hands_meanl": ((45,), True), "hands_meanr": ((45,), True), "lmk_faces_idx": ((51,), True),
    "lmk_bary_coords": ((51, 3), True), "dynamic_lmk_faces_idx": ((79, 17), False),
    "dynamic_lmk_bary_coords": ((79, 17, 3), False),
}
FLAME_SPEC: dict[str, tuple[tuple[int | str, ...], bool]] = {
    "v_template": (("V", 3), True), "f": (("F", 3), True), "shapedirs": (("V", 3, "S"), True),
    "posedirs": (("V", 3, 36), True), "J_regressor": ((5, "V"), True), "weights": (("V", 5), True),
    "kintree_table": ((2, 5), True),
}
STATIC_SPEC = {"lmk_face_idx": ((51,), True), "lmk_b_coords": ((51, 3), True)}
DYNAMIC_SPEC = {"lmk_face_idx": ((79, 17), True), "lmk_b_coords": ((79, 17, 3), True)}
SPECS = {"smplx": SMPLX_SPEC, "flame": FLAME_SPEC, "static": STATIC_SPEC, "dynamic": DYNAMIC_SPEC}


class ModelFormatError(MotionError, ValueError):
    """A model file has a missing key, a wrong shape, or unsafe content."""


def _numeric(value: object, path: Path, key: str) -> np.ndarray:
    arr = np.asarray(value) if value is not None else None
    if arr is None or arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ModelFormatError(f"{path}: key {key!r} is not a numeric array (got {type(value).__name__})")
    return arr


def validate(arrays: dict[str, np.ndarray], path: Path, kind: str) -> dict[str, np.ndarray]:
    """Check keys and shapes against ``SPECS[kind]``; returns the known keys only."""
    bound: dict[str, int] = {}
    out: dict[str, np.ndarray] = {}
    for key, (shape, required) in SPECS[kind].items():
        if key not in arrays:
            if required:
                raise ModelFormatError(f"{path}: missing key {key!r} (expected shape {_fmt(shape, bound)})")
            continue
        arr = _numeric(arrays[key], path, key)
        ok = arr.ndim == len(shape)
        for dim, want in zip(arr.shape, shape):
            if isinstance(want, str):
                ok &= bound.setdefault(want, dim) == dim
            else:
                ok &= dim == want
        if not ok:
            raise ModelFormatError(f"{path}: key {key!r} has shape {arr.shape}, expected {_fmt(shape, bound)}")
        out[key] = arr
    return out


def _fmt(shape: tuple[int | str, ...], bound: dict[str, int]) -> str:
    return "(" + ", ".join(f"{d}={bound[d]}" if isinstance(d, str) and d in bound else str(d) for d in shape) + ")"


def read_npz(path: Path, keys: list[str]) -> dict[str, np.ndarray]:
    """Numeric arrays of ``keys`` from an npz, never unpickling. Object arrays under a
    wanted key are rejected; other keys are not read."""
    out: dict[str, np.ndarray] = {}
    if not zipfile.is_zipfile(path):
        raise ModelFormatError(f"model file {path}: not an npz (zip) archive")
    try:
        z = np.load(path, allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - any parse failure is a format error
        raise ModelFormatError(f"{path}: not a readable npz file ({exc})") from None
    with z:
        for key in keys:
            if key not in z.files:
                continue
            try:
                out[key] = z[key]
            except ValueError as exc:
                raise ModelFormatError(
                    f"{path}: key {key!r} holds pickled Python objects, which are never loaded ({exc}). "
                    "Re-save the file with plain numeric arrays.") from None
    return out


def read_model_file(path: str | os.PathLike[str], kind: str) -> dict[str, np.ndarray]:
    """Safely read and validate a model file (``kind``: 'smplx', 'flame', 'static', 'dynamic').

    Raises:
        ModelFormatError: for anything wrong with the file's content (a refused pickle, a
            truncated or empty file, a forged size), naming the file.
    """
    path = Path(path)
    keys = list(SPECS[kind])
    try:
        if path.suffix == ".npz":
            raw: dict = read_npz(path, keys)
        elif path.suffix == ".npy":
            obj = load_object_npy(path)
            raw = obj[()] if isinstance(obj, np.ndarray) and obj.dtype == object else obj
        else:
            raw = load_pickle(path)
    except pickle.UnpicklingError as exc:
        detail = str(exc).removeprefix(f"{path}: ")
        raise ModelFormatError(f"model file {path}: {detail}") from None
    except (EOFError, MemoryError, IndexError, KeyError, TypeError, AttributeError, struct.error) as exc:
        what = "is empty" if path.is_file() and path.stat().st_size == 0 else f"is truncated or corrupt ({type(exc).__name__}: {exc})"
        raise ModelFormatError(f"model file {path} {what}") from None
    if not isinstance(raw, dict):
        raise ModelFormatError(f"{path}: expected a dict of arrays, got {type(raw).__name__}")
    return validate(raw, path, kind)


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write an npz (the ``np.savez`` format): arrays that are almost all zeros are
    deflated (fast), the rest stored. Fixed timestamps make the bytes reproducible."""
    with zipfile.ZipFile(path, "w", allowZip64=True) as zf:
        for key, value in arrays.items():
            arr = np.asanyarray(value)
            sparse = arr.size > 0 and np.count_nonzero(arr) < 0.01 * arr.size
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED if sparse else zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            with zf.open(info, "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, arr, allow_pickle=False)


_DIGESTS: dict[tuple, str] = {}


def _digest(files: list[Path]) -> str:
    """Content hash of ``files`` (memoised per process by path, size and mtime)."""
    key = tuple((str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns) for f in files)
    if key not in _DIGESTS:
        h = hashlib.sha256(SANITIZE_VERSION.encode())
        for f in files:
            h.update(f.name.encode())
            with open(f, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 22), b""):
                    h.update(block)
        _DIGESTS[key] = h.hexdigest()[:20]
    return _DIGESTS[key]


def publish_dir(tmp: Path, final: Path) -> None:
    """Atomically move the finished folder ``tmp`` to ``final`` (first writer wins)."""
    try:
        os.rename(tmp, final)
    except OSError:  # another process published the same content first
        shutil.rmtree(tmp, ignore_errors=True)
        if not final.is_dir():
            raise


def _cached(final: Path, files: dict[str, str]) -> bool:
    """True when the cache entry ``final`` holds every file of ``files`` (name -> kind) and each
    still reads as plain arrays through the safe readers. ``smplx`` opens these files with
    ``pickle`` / ``allow_pickle=True``, and a cache may be shared or tampered with, so an
    entry is checked on every use; a bad one is removed (and written again from the user's file)."""
    if not all((final / name).is_file() for name in files):
        return False
    try:
        for name, kind in files.items():
            read_model_file(final / name, kind)
    except (ModelFormatError, pickle.UnpicklingError, OSError, ValueError, EOFError):
        shutil.rmtree(final, ignore_errors=True)
        return False
    return True


def sanitized_smplx(model_file: Path, gender: str, cache: Path | None = None) -> Path:
    """Folder ``D`` with ``D/smplx/SMPLX_<GENDER>.npz``: a plain copy of ``model_file``."""
    final = (cache or cache_root()) / "sanitized" / f"smplx-{gender.lower()}-{_digest([model_file])}"
    target = final / "smplx" / f"SMPLX_{gender.upper()}.npz"
    if _cached(final, {f"smplx/{target.name}": "smplx"}):
        return final
    arrays = read_model_file(model_file, "smplx")
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=final.parent))
    (tmp / "smplx").mkdir()
    write_npz(tmp / "smplx" / target.name, arrays)
    publish_dir(tmp, final)
    return final


def sanitized_flame(model_file: Path, static_file: Path, dynamic_file: Path | None, gender: str,
                    cache: Path | None = None) -> Path:
    """Folder ``D`` with ``D/flame/FLAME_<GENDER>.npz`` and the landmark embeddings."""
    files = [model_file, static_file] + ([dynamic_file] if dynamic_file else [])
    final = (cache or cache_root()) / "sanitized" / f"flame-{gender.lower()}-{_digest(files)}"
    entry = {f"flame/FLAME_{gender.upper()}.npz": "flame", "flame/flame_static_embedding.pkl": "static"}
    if dynamic_file:
        entry["flame/flame_dynamic_embedding.npy"] = "dynamic"
    if _cached(final, entry):
        return final
    arrays = read_model_file(model_file, "flame")
    static = read_model_file(static_file, "static")
    dynamic = read_model_file(dynamic_file, "dynamic") if dynamic_file else None
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=final.parent))
    out = tmp / "flame"
    out.mkdir()
    write_npz(out / f"FLAME_{gender.upper()}.npz", arrays)
    with open(out / "flame_static_embedding.pkl", "wb") as fh:  # our own plain arrays
        pickle.dump(static, fh, protocol=2)
    if dynamic is not None:
        np.save(out / "flame_dynamic_embedding.npy", np.array(dynamic, dtype=object), allow_pickle=True)
    publish_dir(tmp, final)
    return final
