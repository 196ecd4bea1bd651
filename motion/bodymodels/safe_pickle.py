"""A restricted unpickler for SMPL / SMPL-X / FLAME model pickles.

Real model pickles were written by Python 2 with chumpy arrays (``chumpy.ch.Ch`` and
friends) and scipy sparse matrices. chumpy does not work on Python 3.11 and a plain
``pickle.load`` runs whatever a file names. This unpickler resolves only:

* numpy array reconstruction (``numpy[._]core.multiarray._reconstruct`` / ``scalar``,
  ``numpy[._]core.numeric._frombuffer``, ``numpy.ndarray``, ``numpy.dtype``), the
  ``copy_reg._reconstructor`` / ``object`` pair that old protocols use to rebuild objects,
  ``set`` / ``frozenset`` (inside chumpy states) and ``_codecs.encode`` (how Python 3
  writes array bytes at protocol 2);
* ``collections.OrderedDict`` (dicts of parameters written by some tools);
* scipy sparse csc / csr matrices -> dense numpy arrays;
* chumpy classes -> a placeholder keeping the array in the pickled state's ``'x'`` (and a
  few reorderings / arithmetic ops over such arrays), turned into numpy after loading.

Anything else raises :class:`pickle.UnpicklingError` naming the forbidden global.
"""

from __future__ import annotations

import codecs
import copyreg
import io
import os
import pickle
from typing import Any

import numpy as np

_NUMPY = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
}
_BUILTINS = {"object": object, "set": set, "frozenset": frozenset}  # chumpy states hold sets
_SPARSE_MODULES = ("scipy.sparse._csc", "scipy.sparse.csc", "scipy.sparse._csr", "scipy.sparse.csr",
                   "scipy.sparse.compressed", "scipy.sparse._compressed")
_SPARSE_NAMES = ("csc_matrix", "csr_matrix", "csc_array", "csr_array")
#: Largest sparse matrix made dense (values): SMPL-X's J_regressor is 55 x 10475 (576k).
MAX_DENSE_CELLS = 50_000_000


class _SparsePlaceholder:
    """Collects a pickled scipy csc/csr matrix's state; :meth:`dense` rebuilds it."""

    fmt = "csc"

    def __setstate__(self, state: dict) -> None:
        self.state = state

    def dense(self) -> np.ndarray:
        import scipy.sparse as sp

        s = self.state
        shape = tuple(int(n) for n in s.get("_shape", s.get("shape")))
        cells = int(np.prod(shape, dtype=object)) if shape else 0
        if len(shape) != 2 or min(shape) < 0 or cells > MAX_DENSE_CELLS:
            raise pickle.UnpicklingError(
                f"a sparse matrix of shape {shape} is refused: dense it would hold {cells} values, more than "
                f"any SMPL-X / FLAME model needs ({MAX_DENSE_CELLS}); the file is corrupt or forged")
        maker = sp.csc_matrix if self.fmt == "csc" else sp.csr_matrix
        return np.asarray(maker((s["data"], s["indices"], s["indptr"]), shape=shape).toarray())


class _CscPlaceholder(_SparsePlaceholder):
    fmt = "csc"


class _CsrPlaceholder(_SparsePlaceholder):
    fmt = "csr"


class ChumpyPlaceholder:
    """Stands in for any chumpy object; keeps its pickled state (value in ``'x'``)."""

    kind = "Ch"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.state: dict = {}

    def __setstate__(self, state: Any) -> None:
        self.state = state if isinstance(state, dict) else {"x": state}

    def value(self) -> np.ndarray | None:
        """The numpy value, or None for chumpy expressions this loader cannot evaluate."""
        s = {k: _resolve(v) for k, v in self.state.items()}
        if s.get("x") is not None:
            return np.asarray(s["x"])
        a, b = s.get("a"), s.get("b")
        if self.kind == "transpose" and a is not None:
            return np.transpose(a, s.get("axes"))
        if self.kind == "Reshape" and a is not None:
            return np.reshape(a, s["newshape"], order=s.get("order", "C"))
        if self.kind == "Select" and a is not None:
            out = np.asarray(a).ravel()[np.asarray(s["idxs"]).ravel()]
            return out.reshape(s["preferred_shape"]) if s.get("preferred_shape") is not None else out
        ops = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply}
        if self.kind in ops and a is not None and b is not None:
            return ops[self.kind](a, b)
        return None


def _chumpy_class(name: str) -> type:
    return type(f"Chumpy_{name}", (ChumpyPlaceholder,), {"kind": name})


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that only resolves the globals listed in the module docstring."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _NUMPY:
            import importlib

            try:
                return getattr(importlib.import_module(module), name)
            except (ImportError, AttributeError):  # numpy 1 <-> 2 module rename
                alt = module.replace("numpy._core", "numpy.core") if "_core" in module else module.replace("numpy.core", "numpy._core")
                return getattr(importlib.import_module(alt), name)
        if (module, name) == ("collections", "OrderedDict"):
            import collections

            return collections.OrderedDict
        if (module, name) in (("copy_reg", "_reconstructor"), ("copyreg", "_reconstructor")):
            return copyreg._reconstructor
        if module in ("__builtin__", "builtins") and name in _BUILTINS:
            return _BUILTINS[name]
        if (module, name) == ("_codecs", "encode"):  # how Python 3 writes bytes at protocol 2
            return codecs.encode
        if module in _SPARSE_MODULES and name in _SPARSE_NAMES:
            return _CscPlaceholder if name.startswith("csc") else _CsrPlaceholder
        if module == "chumpy" or module.startswith("chumpy."):
            return _chumpy_class(name)
        raise pickle.UnpicklingError(f"refusing to unpickle forbidden global {module}.{name} (only numpy arrays are allowed)")


def _resolve(obj: Any) -> Any:
    """Replace placeholders by numpy arrays, recursively through dicts / lists / tuples."""
    if isinstance(obj, ChumpyPlaceholder):
        return obj.value()
    if isinstance(obj, _SparsePlaceholder):
        return obj.dense()
    if isinstance(obj, dict):
        return {k: _resolve(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_resolve(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_resolve(v) for v in obj)
    if isinstance(obj, np.ndarray) and obj.dtype == object:
        out = np.empty(obj.shape, dtype=object)
        for idx in np.ndindex(obj.shape):
            out[idx] = _resolve(obj[idx])
        return out
    return obj


def loads(data: bytes) -> Any:
    """Unpickle ``data`` with the restrictions above (``encoding='latin1'``)."""
    return _resolve(RestrictedUnpickler(io.BytesIO(data), encoding="latin1").load())


def load_pickle(path: str | os.PathLike[str]) -> Any:
    """Load a model pickle file safely; errors name the file."""
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        return loads(data)
    except pickle.UnpicklingError as exc:
        raise pickle.UnpicklingError(f"{path}: {exc}") from None


def load_object_npy(path: str | os.PathLike[str]) -> Any:
    """Load a ``.npy`` file that holds a pickled object array (e.g. FLAME's
    ``flame_dynamic_embedding.npy``) through the restricted unpickler."""
    from numpy.lib import format as npformat

    with open(path, "rb") as fh:
        version = npformat.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = npformat.read_array_header_1_0(fh)
        else:
            shape, _, dtype = npformat.read_array_header_2_0(fh)
        if not dtype.hasobject:
            fh.seek(0)
            return np.load(fh, allow_pickle=False)
        try:
            arr = _resolve(RestrictedUnpickler(fh, encoding="latin1").load())
        except pickle.UnpicklingError as exc:
            raise pickle.UnpicklingError(f"{path}: {exc}") from None
    return arr.reshape(shape) if isinstance(arr, np.ndarray) else arr
