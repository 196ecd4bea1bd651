"""A linear map from expression coefficients to ARKit blendshapes, stored as a named table.

File formats (both carry names, so rows and columns are matched by name, never by position):

* ``.csv``: first row ``arkit,<coef name>,<coef name>,...``; then one row per ARKit
  blendshape: ``<ARKit name>,<weight>,...``. Easy to edit in a spreadsheet.
* ``.npz``: ``matrix`` ``(R, C)``, ``rows`` ``(R,)`` ARKit names, ``cols`` ``(C,)`` names.

Column names are expression coefficient names: ``expression_000`` ... (any model), the
stand-in's semantic names (``smile``, ``blink_left``...) for its first 20, or bare indices
(``0``, ``1``...). Rows must be ARKit blendshape names (:data:`ARKIT_BLENDSHAPES`);
blendshapes without a row get 0 from the map.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from motion.errors import MotionError

#: The 52 ARKit blendshapes in Live Link Face CSV order (columns 3..54 of its header).
ARKIT_BLENDSHAPES: tuple[str, ...] = (
    "EyeBlinkLeft", "EyeLookDownLeft", "EyeLookInLeft", "EyeLookOutLeft", "EyeLookUpLeft", "EyeSquintLeft",
    "EyeWideLeft", "EyeBlinkRight", "EyeLookDownRight", "EyeLookInRight", "EyeLookOutRight", "EyeLookUpRight",
    "EyeSquintRight", "EyeWideRight", "JawForward", "JawRight", "JawLeft", "JawOpen", "MouthClose", "MouthFunnel",
    "MouthPucker", "MouthRight", "MouthLeft", "MouthSmileLeft", "MouthSmileRight", "MouthFrownLeft",
    "MouthFrownRight", "MouthDimpleLeft", "MouthDimpleRight", "MouthStretchLeft", "MouthStretchRight",
    "MouthRollLower", "MouthRollUpper", "MouthShrugLower", "MouthShrugUpper", "MouthPressLeft", "MouthPressRight",
    "MouthLowerDownLeft", "MouthLowerDownRight", "MouthUpperUpLeft", "MouthUpperUpRight", "BrowDownLeft",
    "BrowDownRight", "BrowInnerUp", "BrowOuterUpLeft", "BrowOuterUpRight", "CheekPuff", "CheekSquintLeft",
    "CheekSquintRight", "NoseSneerLeft", "NoseSneerRight", "TongueOut",
)


class ArkitMapError(MotionError, ValueError):
    """A map file is malformed or names something unknown."""


def coefficient_index(name: str) -> int:
    """Expression coefficient index of a column name (``expression_007``, ``smile`` or ``7``)."""
    from motion.bodymodels.names import EXPRESSION_NAMES

    key = name.strip()
    if key.isdigit():
        return int(key)
    if key.startswith("expression_") and key[11:].isdigit():
        return int(key[11:])
    if key in EXPRESSION_NAMES:
        return EXPRESSION_NAMES.index(key)
    raise ArkitMapError(f"unknown expression coefficient column {name!r}: use expression_NNN, an index, "
                        f"or a stand-in name ({', '.join(EXPRESSION_NAMES)})")


@dataclass(frozen=True)
class ArkitMap:
    """``arkit = matrix @ expression``: ``matrix`` ``(R, C)``, ``rows`` ARKit names, ``cols`` names."""

    matrix: np.ndarray
    rows: tuple[str, ...]
    cols: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.matrix.shape != (len(self.rows), len(self.cols)):
            raise ArkitMapError(f"map matrix {self.matrix.shape} does not match {len(self.rows)} rows x "
                                f"{len(self.cols)} columns")
        unknown = [r for r in self.rows if r not in ARKIT_BLENDSHAPES]
        if unknown:
            raise ArkitMapError(f"unknown ARKit blendshape rows {unknown}; known: {', '.join(ARKIT_BLENDSHAPES)}")
        if not np.isfinite(self.matrix).all():
            raise ArkitMapError("map matrix holds NaN or Inf")
        for c in self.cols:
            coefficient_index(c)

    def dense(self, num_coefficients: int) -> np.ndarray:
        """``(52, num_coefficients)`` matrix in :data:`ARKIT_BLENDSHAPES` x coefficient order;
        columns beyond ``num_coefficients`` are dropped (those coefficients are zero)."""
        out = np.zeros((len(ARKIT_BLENDSHAPES), num_coefficients))
        rows = [ARKIT_BLENDSHAPES.index(r) for r in self.rows]
        for c, name in enumerate(self.cols):
            k = coefficient_index(name)
            if k < num_coefficients:
                out[rows, k] += self.matrix[:, c]
        return out

    def apply(self, expression: np.ndarray) -> np.ndarray:
        """ARKit weights ``(T, 52)`` (unclipped) of ``expression`` ``(T, E)``."""
        e = np.asarray(expression, np.float64)
        return e @ self.dense(e.shape[1]).T

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write as ``.csv`` or ``.npz`` (by suffix)."""
        p = Path(path)
        if p.suffix.lower() == ".npz":
            np.savez(p, matrix=self.matrix, rows=np.array(self.rows), cols=np.array(self.cols))
            return p
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["arkit", *self.cols])
        for name, row in zip(self.rows, self.matrix):
            w.writerow([name, *(f"{x:.6g}" for x in row)])
        p.write_text(buf.getvalue(), encoding="utf-8")
        return p


def load_arkit_map(path: str | os.PathLike[str] | None = None) -> ArkitMap:
    """Read a map file (``.csv`` or ``.npz``); ``None`` gives the stand-in map."""
    from motion.export.maps import STANDIN_ARKIT_MAP

    p = Path(path) if path is not None else STANDIN_ARKIT_MAP
    if not p.is_file():
        raise ArkitMapError(f"ARKit map file not found: {p}")
    if p.suffix.lower() == ".npz":
        with np.load(p, allow_pickle=False) as z:
            missing = {"matrix", "rows", "cols"} - set(z.files)
            if missing:
                raise ArkitMapError(f"{p}: npz map lacks {sorted(missing)}")
            return ArkitMap(z["matrix"].astype(np.float64), tuple(map(str, z["rows"])), tuple(map(str, z["cols"])))
    with p.open(newline="", encoding="utf-8") as f:
        table = [r for r in csv.reader(f) if r]
    if len(table) < 2 or len(table[0]) < 2:
        raise ArkitMapError(f"{p}: expected a header row and at least one ARKit row")
    cols = tuple(c.strip() for c in table[0][1:])
    try:
        matrix = np.array([[float(x) for x in r[1:]] for r in table[1:]], np.float64)
    except ValueError as exc:
        raise ArkitMapError(f"{p}: non-numeric weight ({exc})") from None
    if matrix.ndim != 2 or matrix.shape[1] != len(cols):
        raise ArkitMapError(f"{p}: every row needs {len(cols)} weights")
    return ArkitMap(matrix, tuple(r[0].strip() for r in table[1:]), cols)
