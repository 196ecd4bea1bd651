"""A restricted unpickler for pickles that hold only numpy arrays (EMOTE-style ``.pkl`` files).

Plain ``pickle.load`` runs arbitrary code named by the file. This unpickler resolves only
the few globals numpy needs to rebuild arrays, dtypes and scalars (for numpy 1.x and 2.x
module names); any other global (``os.system``, ``builtins.eval``, a class of some
package...) is refused with :class:`UnsafePickleError`.

Used by :mod:`motion.data.formats.flame_params`; written here because no shared restricted
unpickler (``motion.bodymodels.safe_pickle``) existed when the formats were built.
"""

from __future__ import annotations

import importlib
import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np

#: (module, name) pairs the unpickler may resolve; ``numpy.core`` is numpy 1.x's name
#: of numpy 2.x's ``numpy._core``.
_ALLOWED: frozenset[tuple[str, str]] = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy._core.numeric", "_frombuffer"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),
        ("_codecs", "encode"),  # bytes of protocol-2 pickles written by Python 3
        ("collections", "OrderedDict"),
    }
)


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle names a global outside the numpy-only allow-list, or holds no dict of arrays."""


def _resolve(module: str, name: str) -> Any:
    """Import ``module.name``, mapping ``numpy.core`` <-> ``numpy._core`` across numpy versions."""
    candidates = [module]
    if module.startswith("numpy.core."):
        candidates.insert(0, "numpy._core." + module[len("numpy.core."):])
    elif module.startswith("numpy._core."):
        candidates.append("numpy.core." + module[len("numpy._core."):])
    for mod in candidates:
        try:
            return getattr(importlib.import_module(mod), name)
        except (ImportError, AttributeError):
            continue
    raise UnsafePickleError(f"cannot resolve allowed global {module}.{name}")


class NumpyUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` that only resolves numpy array-reconstruction globals."""

    def find_class(self, module: str, name: str) -> Any:  # noqa: D102 - pickle API
        if (module, name) not in _ALLOWED:
            raise UnsafePickleError(
                f"refusing to unpickle global {module}.{name}: only numpy arrays are allowed"
            )
        return _resolve(module, name)


def safe_loads(data: bytes) -> Any:
    """Unpickle ``data`` with :class:`NumpyUnpickler` (``latin1`` for Python 2 pickles)."""
    try:
        return NumpyUnpickler(io.BytesIO(data), encoding="latin1").load()
    except UnsafePickleError:
        raise
    except Exception as exc:  # corrupt or truncated pickles raise many types
        raise UnsafePickleError(f"not a readable pickle ({type(exc).__name__}: {exc})") from exc


def load_array_dict(path: str | Path) -> dict[str, np.ndarray]:
    """Load a pickle holding a dict ``{str: array | number | str}`` as numpy arrays.

    Raises:
        UnsafePickleError: on a disallowed global, a corrupt pickle, a top level that is
            not a dict, a non-string key, or an object-dtype value.
    """
    obj = safe_loads(Path(path).read_bytes())
    if not isinstance(obj, dict):
        raise UnsafePickleError(f"holds a {type(obj).__name__}; expected a dict of arrays")
    out: dict[str, np.ndarray] = {}
    for key, value in obj.items():
        if not isinstance(key, str):
            raise UnsafePickleError(f"has a non-string key {key!r}; expected a dict with string keys")
        try:
            arr = np.asarray(value)
        except ValueError as exc:  # ragged lists
            raise UnsafePickleError(f"key {key!r} is not an array ({exc})") from exc
        if arr.dtype.kind == "O":
            raise UnsafePickleError(f"key {key!r} holds Python objects; expected a numeric or text array")
        out[key] = arr
    return out
