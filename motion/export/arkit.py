"""ARKit-52 / Live Link Face CSV export (MetaHuman, Unreal's Live Link Face importer).

The file: the exact 63-column header of :data:`CSV_HEADER` (names matter, not positions),
then one row per frame: ``Timecode`` ``HH:MM:SS:FF.mmm`` at the motion's own rate (FF =
frame within the second, ``.mmm`` = sub-frame in thousandths, always ``.000`` for integer
rates), ``BlendShapeCount`` = 61, 52 blendshape weights in [0, 1], then 9 rotations.

Where each value comes from (``left`` / ``right`` = the character's own side, as the
stand-in's expression names; whether the iPhone app mirrors them is *unverified*):

* ``JawOpen`` = jaw pitch / 0.35 rad; ``JawLeft`` / ``JawRight`` = jaw yaw / 0.12 rad (to the
  character's left / right). ``JawForward``: SMPL-X's jaw has no translation, so only the
  map can drive it (0 with the stand-in map).
* ``EyeLook{Up,Down,In,Out}{Left,Right}`` from each eye joint's gaze: yaw / 30 degrees
  (out = away from the nose), up = -pitch / 20 degrees, down = pitch / 25 degrees.
* every blendshape also gets ``M @ expression`` from a linear map (:mod:`.maps.arkit_map`;
  default the stand-in map, ``arkit_map=`` any ``.csv`` / ``.npz`` with named rows and
  columns); blinks are a direct 1:1 row of the stand-in map. ``MouthClose`` (the stand-in
  map's row: how far the expression shuts the inner lips, in full jaw openings) is capped at
  ``JawOpen``: lips held together while the jaw is open; beyond that it is ``MouthPress``.
  Sums are clipped to [0, 1].
* ``HeadYaw/Pitch/Roll``: the neck-then-head rotation (relative to spine3); ``LeftEye*`` /
  ``RightEye*``: each eye joint (relative to the head). Intrinsic Y-X-Z Euler angles in
  RADIANS (Live Link Face's unit is unverified): yaw + = turn to the character's left,
  pitch + = look down, roll + = tilt the top toward the character's right.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from motion.export.maps.arkit_map import ARKIT_BLENDSHAPES, ArkitMap, load_arkit_map
from motion.export.registry import ExportError, keyword_options, register_exporter
from motion.types import JAW, JOINT_INDEX, LEFT_EYE, RIGHT_EYE

if TYPE_CHECKING:  # pragma: no cover
    from motion.container import Motion

ROTATION_COLUMNS: tuple[str, ...] = ("HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch",
                                     "LeftEyeRoll", "RightEyeYaw", "RightEyePitch", "RightEyeRoll")
#: The Live Link Face CSV header, 63 columns in this order.
CSV_HEADER: tuple[str, ...] = ("Timecode", "BlendShapeCount", *ARKIT_BLENDSHAPES, *ROTATION_COLUMNS)
BLENDSHAPE_COUNT = 61
#: Angles (radians) that give a weight of 1.
JAW_OPEN_FULL = 0.35
JAW_SIDE_FULL = 0.12
EYE_YAW_FULL = math.radians(30.0)
EYE_UP_FULL = math.radians(20.0)
EYE_DOWN_FULL = math.radians(25.0)


def yaw_pitch_roll(rotvec: np.ndarray) -> np.ndarray:
    """``(T, 3)`` axis-angle -> ``(T, 3)`` intrinsic Y-X-Z Euler angles (yaw, pitch, roll), radians.

    ``R = Ry(yaw) @ Rx(pitch) @ Rz(roll)`` in SMPL-X axes (x = the character's left, y up,
    z forward), so the gaze ``R @ (0, 0, 1)`` points left for yaw > 0 and down for pitch > 0.
    """
    from scipy.spatial.transform import Rotation

    return Rotation.from_rotvec(np.asarray(rotvec, np.float64)).as_euler("YXZ")


def joint_curves(motion: Motion) -> dict[str, np.ndarray]:
    """Per-frame ``(T,)`` values of the joint-driven columns (blendshapes unclipped, rotations)."""
    from scipy.spatial.transform import Rotation

    out: dict[str, np.ndarray] = {}
    jaw = yaw_pitch_roll(motion.poses[:, JAW])
    out["JawOpen"] = jaw[:, 1] / JAW_OPEN_FULL
    out["JawLeft"], out["JawRight"] = jaw[:, 0] / JAW_SIDE_FULL, -jaw[:, 0] / JAW_SIDE_FULL
    for side, joint, out_sign in (("Left", LEFT_EYE, 1.0), ("Right", RIGHT_EYE, -1.0)):
        ypr = yaw_pitch_roll(motion.poses[:, joint])
        out[f"EyeLookOut{side}"] = out_sign * ypr[:, 0] / EYE_YAW_FULL
        out[f"EyeLookIn{side}"] = -out_sign * ypr[:, 0] / EYE_YAW_FULL
        out[f"EyeLookUp{side}"] = -ypr[:, 1] / EYE_UP_FULL
        out[f"EyeLookDown{side}"] = ypr[:, 1] / EYE_DOWN_FULL
        for k, axis in enumerate(("Yaw", "Pitch", "Roll")):
            out[f"{side}Eye{axis}"] = ypr[:, k]
    neck = Rotation.from_rotvec(motion.poses[:, JOINT_INDEX["neck"]].astype(np.float64))
    head = Rotation.from_rotvec(motion.poses[:, JOINT_INDEX["head"]].astype(np.float64))
    hyp = yaw_pitch_roll((neck * head).as_rotvec())
    for k, axis in enumerate(("Yaw", "Pitch", "Roll")):
        out[f"Head{axis}"] = hyp[:, k]
    return out


def arkit_frames(motion: Motion, arkit_map: ArkitMap | str | os.PathLike[str] | None = None) -> np.ndarray:
    """``(T, 61)`` values of the CSV's columns 3..63 (52 blendshapes in [0, 1], 9 rotations)."""
    amap = arkit_map if isinstance(arkit_map, ArkitMap) else load_arkit_map(arkit_map)
    assert motion.expression is not None
    shapes = amap.apply(motion.expression)  # (T, 52)
    joints = joint_curves(motion)
    for name, values in joints.items():
        if name in ARKIT_BLENDSHAPES:
            shapes[:, ARKIT_BLENDSHAPES.index(name)] += values
    close, jaw_open = ARKIT_BLENDSHAPES.index("MouthClose"), ARKIT_BLENDSHAPES.index("JawOpen")
    shapes[:, close] = np.minimum(shapes[:, close], shapes[:, jaw_open])  # lips held shut against the jaw
    rot = np.stack([joints[c] for c in ROTATION_COLUMNS], 1)
    return np.concatenate([np.clip(shapes, 0.0, 1.0), rot], 1)


def timecode(frame: int, fps: float, start_s: float = 0.0) -> str:
    """``HH:MM:SS:FF.mmm`` of ``frame`` at ``fps``, starting at ``start_s`` seconds.

    Integer rates count frames exactly (``FF`` in ``0..fps-1``, ``.000``); other rates
    (29.97...) split the wall-clock time into seconds, frames and thousandths of a frame.
    """
    nominal = round(fps)
    if abs(fps - nominal) < 1e-9 and nominal > 0:
        n = frame + round(start_s * fps)
        sec, ff, sub = n // nominal, n % nominal, 0
    else:
        t = start_s + frame / fps
        sec = math.floor(t + 1e-9)
        pos = max(0.0, (t - sec) * fps)
        ff = math.floor(pos + 1e-6)
        sub = min(999, round((pos - ff) * 1000))
    return f"{sec // 3600 % 24:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}:{ff:02d}.{sub:03d}"


def write_arkit_csv(
    motion: Motion,
    path: str | Path,
    *,
    arkit_map: ArkitMap | str | os.PathLike[str] | None = None,
    start_s: float = 0.0,
    body_model: Any = None,
    models_dir: str | None = None,
) -> None:
    """Write ``motion`` as a Live Link Face CSV (see the module docstring).

    Args:
        motion: the animation (``T`` rows at ``motion.fps``).
        path: destination ``.csv``.
        arkit_map: expression -> ARKit map (an :class:`ArkitMap` or a ``.csv`` / ``.npz``
            path); default the stand-in map.
        start_s: timecode of the first frame, seconds.
        body_model, models_dir: accepted and ignored (no mesh is needed).
    """
    del body_model, models_dir
    try:
        values = arkit_frames(motion, arkit_map)
    except ValueError as exc:  # ArkitMapError and friends
        raise ExportError(f"cannot export ARKit CSV: {exc}") from exc
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(CSV_HEADER)
        for i, row in enumerate(values):
            w.writerow([timecode(i, motion.fps, start_s), BLENDSHAPE_COUNT, *(f"{x:.6f}" for x in row)])


def _export(motion: Motion, path: Path, **opts: Any) -> None:
    write_arkit_csv(motion, path, **opts)


register_exporter("arkit", (".csv",), _export, "ARKit-52 / Live Link Face CSV (MetaHuman): blendshapes, head "
                  "and eye rotations", options=keyword_options(write_arkit_csv))
