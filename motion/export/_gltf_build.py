"""A small glTF 2.0 buffer builder and accessor reader on top of :mod:`pygltflib`.

All data go to one buffer: the GLB binary chunk, or a base64 data URI for ``.gltf`` (so
the export stays a single file). Every accessor gets its own 4-byte-aligned buffer view.
Matrices are given and returned row-major ``(n, 4, 4)``; they are stored column-major as
the spec requires.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import pygltflib as gl

_COMPONENT: dict[np.dtype[Any], int] = {
    np.dtype(np.float32): gl.FLOAT,
    np.dtype(np.uint32): gl.UNSIGNED_INT,
    np.dtype(np.uint16): gl.UNSIGNED_SHORT,
    np.dtype(np.uint8): gl.UNSIGNED_BYTE,
}
_DTYPE: dict[int, np.dtype[Any]] = {v: k for k, v in _COMPONENT.items()}
_TYPE: dict[tuple[int, ...], str] = {(): gl.SCALAR, (2,): gl.VEC2, (3,): gl.VEC3, (4,): gl.VEC4, (4, 4): gl.MAT4}
_SHAPE = {v: k for k, v in _TYPE.items()}
DATA_URI = "data:application/octet-stream;base64,"


class GLTFBuilder:
    """Accumulates binary data, buffer views and accessors into a :class:`pygltflib.GLTF2`."""

    def __init__(self, generator: str = "motion-toolkit") -> None:
        self.gltf = gl.GLTF2(asset=gl.Asset(version="2.0", generator=generator))
        self._blob = bytearray()

    def view(self, data: bytes, target: int | None = None) -> int:
        """Append ``data`` (4-byte aligned) as a new buffer view; return its index."""
        self._blob.extend(b"\x00" * (-len(self._blob) % 4))
        self.gltf.bufferViews.append(
            gl.BufferView(buffer=0, byteOffset=len(self._blob), byteLength=len(data), target=target)
        )
        self._blob.extend(data)
        return len(self.gltf.bufferViews) - 1

    def accessor(self, arr: np.ndarray, *, target: int | None = None, minmax: bool = False) -> int:
        """Store ``arr`` ``(n, *elem)`` (float32 / uint8 / uint16 / uint32) as an accessor.

        ``elem`` is ``()``, ``(2,)``, ``(3,)``, ``(4,)`` or ``(4, 4)`` (row-major matrices).
        ``minmax`` adds per-component ``min`` / ``max`` (required for POSITION and for
        animation sampler inputs).
        """
        arr = np.ascontiguousarray(arr)
        acc_type = _TYPE[arr.shape[1:]]
        stored = arr.transpose(0, 2, 1) if acc_type == gl.MAT4 else arr
        view = self.view(np.ascontiguousarray(stored).tobytes(), target)
        acc = gl.Accessor(
            bufferView=view,
            componentType=_COMPONENT[arr.dtype],
            count=int(arr.shape[0]),
            type=acc_type,
        )
        if minmax:
            flat = stored.reshape(arr.shape[0], -1)
            acc.min = [_num(x) for x in flat.min(axis=0)]
            acc.max = [_num(x) for x in flat.max(axis=0)]
        self.gltf.accessors.append(acc)
        return len(self.gltf.accessors) - 1

    def sparse_accessor(self, arr: np.ndarray) -> int:
        """``(n, 3)`` float32 mostly-zero rows (morph deltas) as a sparse accessor with min/max."""
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        rows = np.flatnonzero(np.any(arr != 0, axis=1)).astype(np.uint32)
        acc = gl.Accessor(
            byteOffset=None,  # no bufferView: the base is all zeros
            componentType=gl.FLOAT,
            count=int(arr.shape[0]),
            type=_TYPE[arr.shape[1:]],
            min=[_num(x) for x in arr.min(axis=0)],
            max=[_num(x) for x in arr.max(axis=0)],
        )
        if len(rows):
            acc.sparse = gl.Sparse(
                count=len(rows),
                indices=gl.AccessorSparseIndices(bufferView=self.view(rows.tobytes()), componentType=gl.UNSIGNED_INT),
                values=gl.AccessorSparseValues(bufferView=self.view(arr[rows].tobytes())),
            )
        self.gltf.accessors.append(acc)
        return len(self.gltf.accessors) - 1

    def finish(self, binary: bool) -> gl.GLTF2:
        """Attach the buffer (GLB chunk when ``binary``, else a data URI) and return the glTF."""
        self._blob.extend(b"\x00" * (-len(self._blob) % 4))
        data = bytes(self._blob)
        buf = gl.Buffer(byteLength=len(data))
        if binary:
            self.gltf.set_binary_blob(data)
        else:
            buf.uri = DATA_URI + base64.b64encode(data).decode("ascii")
        self.gltf.buffers = [buf]
        return self.gltf


def _num(x: Any) -> float | int:
    return int(x) if np.issubdtype(type(x), np.integer) else float(x)


def _buffer_bytes(gltf: gl.GLTF2, index: int) -> bytes:
    uri = gltf.buffers[index].uri
    if uri is None:
        blob = gltf.binary_blob()
        if blob is None:
            raise ValueError("glTF buffer has no uri and the file has no binary chunk")
        return bytes(blob)
    if uri.startswith("data:"):
        return base64.b64decode(uri.split(",", 1)[1])
    raise ValueError(f"external glTF buffers are not supported here (uri {uri[:40]!r})")


def _view_array(gltf: gl.GLTF2, view_index: int, dtype: np.dtype[Any], count: int, offset: int = 0) -> np.ndarray:
    view = gltf.bufferViews[view_index]
    data = _buffer_bytes(gltf, view.buffer)
    start = (view.byteOffset or 0) + offset
    if view.byteStride:
        raise ValueError("strided buffer views are not supported by this reader")
    return np.frombuffer(data, dtype=dtype, count=count, offset=start)


def read_accessor(gltf: gl.GLTF2, index: int) -> np.ndarray:
    """Decode accessor ``index`` to numpy ``(count, *elem)`` (sparse substitution applied).

    MAT4 accessors come back row-major ``(count, 4, 4)``.
    """
    acc = gltf.accessors[index]
    dtype = _DTYPE[acc.componentType]
    shape = _SHAPE[acc.type]
    n = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if acc.bufferView is None:
        out = np.zeros(acc.count * n, dtype)
    else:
        out = _view_array(gltf, acc.bufferView, dtype, acc.count * n, acc.byteOffset or 0).copy()
    out = out.reshape((acc.count, *shape))
    if acc.sparse is not None:
        sp = acc.sparse
        idx = _view_array(gltf, sp.indices.bufferView, _DTYPE[sp.indices.componentType], sp.count,
                          sp.indices.byteOffset or 0)
        vals = _view_array(gltf, sp.values.bufferView, dtype, sp.count * n, sp.values.byteOffset or 0)
        out[idx.astype(np.int64)] = vals.reshape((sp.count, *shape))
    if acc.type == gl.MAT4:
        out = out.transpose(0, 2, 1)
    return out
