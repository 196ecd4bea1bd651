"""Safe loading of pickles that hold a dict of numpy arrays (EMOTE-style ``.pkl`` files).

Unpickling goes through the toolkit's one restricted unpickler,
:mod:`motion.bodymodels.safe_pickle` (numpy arrays, chumpy arrays and scipy sparse
matrices only; any other global such as ``os.system`` is refused). This module adds the
checks a motion file needs: a dict with string keys and numeric or text arrays.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

from motion.bodymodels.safe_pickle import loads
from motion.errors import MotionError


class UnsafePickleError(MotionError, pickle.UnpicklingError):
    """The pickle names a forbidden global, is corrupt, or does not hold a dict of arrays."""


def safe_loads(data: bytes) -> Any:
    """Unpickle ``data`` with the restricted unpickler (``latin1`` for Python 2 pickles)."""
    try:
        return loads(data)
    except pickle.UnpicklingError as exc:
        raise UnsafePickleError(str(exc)) from exc
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
