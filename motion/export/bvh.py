"""BVH export (and a small reader) for the SMPL-X 55-joint skeleton.

Conventions of the written file:

* Hierarchy: the 55 SMPL-X joints named as :data:`motion.types.JOINT_NAMES`, written
  depth-first from ``pelvis`` (children in SMPL-X index order), so the file's joint order
  is NOT the SMPL-X order; readers map by name. Leaf joints get an ``End Site`` that
  continues their bone by half its length.
* Offsets: parent-relative rest offsets of the body model shaped by the motion's betas
  (``J = J_regressor @ (v_template + shapedirs @ betas)``), in ``units`` = ``"cm"``
  (default: what BEAT, CMU and MotionBuilder BVH use; in Blender's BVH importer use
  scale 0.01) or ``"m"``. Axes as SMPL-X: Y up, right-handed, no axis change.
* The root's OFFSET is ``0 0 0`` and its position channels hold the absolute pelvis
  position ``trans + J_pelvis`` (no ambiguity whether a reader adds the offset).
* Rotations: every joint has 3 rotation channels in ``euler_order`` (default ``"ZXY"``,
  i.e. ``Zrotation Xrotation Yrotation``), degrees, meaning ``R = Rz @ Rx @ Ry`` acting
  on column vectors (intrinsic, BVH's usual reading). Angles are derived exactly from the
  axis-angle (+ the model's mean pose) via rotation matrices, then unwrapped over time
  (adding 360 degrees to one angle leaves the rotation unchanged) so curves do not jump.
* ``Frame Time`` is ``repr(1 / fps)`` (round-trips to the exact float) and ``Frames`` = T.
* Not carried (BVH has static offsets): the small per-frame shift of rest joints that
  smplx derives from expression blendshapes; expression itself is not exported.

The reader (:func:`read_bvh`) parses any BVH (hierarchy, offsets, channels, motion) and
:func:`bvh_forward_kinematics` gives joint positions from it in the file's units.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from motion.errors import MotionError
from motion.export.registry import keyword_options, register_exporter
from motion.types import JOINT_NAMES, PARENTS

if TYPE_CHECKING:  # pragma: no cover
    from motion.container import Motion

#: Scale from metres to each supported unit.
UNITS: dict[str, float] = {"m": 1.0, "cm": 100.0, "mm": 1000.0}
EULER_ORDERS: tuple[str, ...] = ("ZXY", "XYZ", "ZYX", "YXZ", "YZX", "XZY")


class BVHError(MotionError, ValueError):
    """A BVH file cannot be parsed."""


def dfs_order(parents: tuple[int, ...] | np.ndarray = PARENTS) -> list[int]:
    """Depth-first joint order from the root, children in index order."""
    children: dict[int, list[int]] = {i: [] for i in range(len(parents))}
    for j, p in enumerate(parents):
        if p >= 0:
            children[int(p)].append(j)
    order: list[int] = []
    stack = [int(np.flatnonzero(np.asarray(parents) < 0)[0])]
    while stack:
        j = stack.pop()
        order.append(j)
        stack.extend(reversed(children[j]))
    return order


def euler_angles(rot: np.ndarray, order: str = "ZXY") -> np.ndarray:
    """``(..., 3, 3)`` matrices -> ``(..., 3)`` intrinsic Euler angles in degrees, in ``order``.

    ``order="ZXY"`` returns ``(z, x, y)`` with ``R = Rz(z) @ Rx(x) @ Ry(y)``.
    """
    from scipy.spatial.transform import Rotation

    flat = rot.reshape(-1, 3, 3)
    ang = Rotation.from_matrix(flat).as_euler(order.upper(), degrees=True)
    return ang.reshape(*rot.shape[:-2], 3)


def write_bvh(
    motion: Motion,
    path: str | Path,
    *,
    units: str = "m",
    euler_order: str = "ZXY",
    precision: int = 6,
    floor: bool = True,
    body_model: Any = None,
    models_dir: str | None = None,
) -> None:
    """Write ``motion`` as a BVH file (see the module docstring for conventions).

    Args:
        motion: the animation (``poses`` ``(T, 55, 3)``, ``trans`` ``(T, 3)``, ``betas``).
        path: destination.
        units: ``"m"`` (default), ``"cm"`` or ``"mm"`` for offsets and positions.
        euler_order: rotation channel order, one of :data:`EULER_ORDERS`.
        precision: decimals of the written numbers.
        floor: raise the root so the lowest vertex over the clip is at ``y = 0``.
        body_model: an :mod:`smplx` SMPL-X model (loaded for the motion when omitted).
        models_dir: models folder used when loading the body model.
    """
    from motion.export._rest import load_model, local_rotations, rest_model

    if units not in UNITS:
        raise ValueError(f"unknown BVH units {units!r}; choose one of {', '.join(UNITS)}")
    order = euler_order.upper()
    if order not in EULER_ORDERS:
        raise ValueError(f"unknown Euler order {euler_order!r}; choose one of {', '.join(EULER_ORDERS)}")
    scale = UNITS[units]
    rest = rest_model(load_model(motion, body_model, models_dir), motion.betas)
    joints_order = dfs_order(rest.parents)

    rot = local_rotations(motion, rest.pose_mean)  # (T, 55, 3, 3)
    ang = euler_angles(rot[:, joints_order], order)  # (T, 55, 3) in file order
    ang = np.unwrap(ang, period=360.0, axis=0)
    root = motion.trans.astype(np.float64) + rest.joints[0]  # (T, 3) metres
    if floor:
        from motion.export.floor import floor_offset

        root[:, 1] += floor_offset(motion, rest)
    root *= scale
    frames = np.concatenate([root, ang.reshape(len(ang), -1)], axis=1)

    with open(path, "w", encoding="ascii", newline="\n") as f:
        _write_hierarchy(f, rest.offsets * scale, rest.parents, order, precision)
        f.write("MOTION\n")
        f.write(f"Frames: {motion.num_frames}\n")
        f.write(f"Frame Time: {1.0 / motion.fps!r}\n")
        np.savetxt(f, frames, fmt=f"%.{precision}f", delimiter=" ")


def _write_hierarchy(f: IO[str], offsets: np.ndarray, parents: np.ndarray, order: str, precision: int) -> None:
    children: dict[int, list[int]] = {i: [] for i in range(len(parents))}
    for j, p in enumerate(parents):
        if p >= 0:
            children[int(p)].append(j)
    rot_channels = " ".join(f"{a}rotation" for a in order)
    num = f"{{:.{precision}f}}"

    def vec(v: np.ndarray) -> str:
        return " ".join(num.format(float(x)) for x in v)

    def emit(j: int, depth: int) -> None:
        ind = "\t" * depth
        is_root = parents[j] < 0
        f.write(f"{ind}{'ROOT' if is_root else 'JOINT'} {JOINT_NAMES[j]}\n{ind}{{\n")
        f.write(f"{ind}\tOFFSET {vec(np.zeros(3) if is_root else offsets[j])}\n")
        if is_root:
            f.write(f"{ind}\tCHANNELS 6 Xposition Yposition Zposition {rot_channels}\n")
        else:
            f.write(f"{ind}\tCHANNELS 3 {rot_channels}\n")
        for c in children[j]:
            emit(c, depth + 1)
        if not children[j]:
            f.write(f"{ind}\tEnd Site\n{ind}\t{{\n{ind}\t\tOFFSET {vec(0.5 * offsets[j])}\n{ind}\t}}\n")
        f.write(f"{ind}}}\n")

    f.write("HIERARCHY\n")
    emit(int(np.flatnonzero(parents < 0)[0]), 0)


# ---------------------------------------------------------------------- reader
@dataclass
class BVHData:
    """A parsed BVH file, joints in file order.

    Attributes:
        names: ``J`` joint names.
        parents: ``(J,)`` parent index per joint (-1 for the root).
        offsets: ``(J, 3)`` OFFSET of each joint (file units).
        channels: per joint, its channel names (e.g. ``["Zrotation", "Xrotation", "Yrotation"]``).
        end_sites: joint index -> ``(3,)`` End Site offset.
        frame_time: seconds per frame.
        frames: ``(T, C)`` motion values, ``C`` = total channel count.
    """

    names: list[str]
    parents: np.ndarray
    offsets: np.ndarray
    channels: list[list[str]]
    frame_time: float
    frames: np.ndarray
    end_sites: dict[int, np.ndarray] = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time

    def channel_slice(self, j: int) -> slice:
        """Columns of :attr:`frames` holding joint ``j``'s channels."""
        start = sum(len(c) for c in self.channels[:j])
        return slice(start, start + len(self.channels[j]))


def read_bvh(path: str | Path) -> BVHData:
    """Parse a BVH file.

    Raises:
        BVHError: on a malformed file (message names the file and what was expected).
    """
    p = Path(path)
    tokens = p.read_text(encoding="utf-8", errors="replace").split()
    pos = 0

    def fail(msg: str) -> BVHError:
        return BVHError(f"BVH file {p}: {msg} (at token {pos})")

    def take(what: str) -> str:
        nonlocal pos
        if pos >= len(tokens):
            raise fail(f"unexpected end of file; expected {what}")
        pos += 1
        return tokens[pos - 1]

    def expect(literal: str) -> None:
        tok = take(repr(literal))
        if tok.upper() != literal.upper():
            raise fail(f"expected {literal!r}, found {tok!r}")

    def floats(n: int) -> np.ndarray:
        try:
            return np.array([float(take("number")) for _ in range(n)])
        except ValueError as exc:
            raise fail(f"expected {n} numbers ({exc})") from exc

    names: list[str] = []
    parents: list[int] = []
    offsets: list[np.ndarray] = []
    channels: list[list[str]] = []
    end_sites: dict[int, np.ndarray] = {}

    def joint(parent: int) -> None:
        j = len(names)
        names.append(take("joint name"))
        parents.append(parent)
        expect("{")
        offsets.append(np.zeros(3))
        channels.append([])
        while True:
            tok = take("OFFSET, CHANNELS, JOINT, End Site or }")
            key = tok.upper()
            if key == "OFFSET":
                offsets[j] = floats(3)
            elif key == "CHANNELS":
                try:
                    n = int(take("channel count"))
                except ValueError as exc:
                    raise fail("channel count is not an integer") from exc
                channels[j] = [take("channel name") for _ in range(n)]
            elif key == "JOINT":
                joint(j)
            elif key == "END":
                expect("Site")
                expect("{")
                expect("OFFSET")
                end_sites[j] = floats(3)
                expect("}")
            elif key == "}":
                return
            else:
                raise fail(f"unexpected {tok!r} in joint {names[j]!r}")

    expect("HIERARCHY")
    expect("ROOT")
    joint(-1)
    expect("MOTION")
    expect("Frames:")
    try:
        num_frames = int(take("frame count"))
        expect("Frame")
        expect("Time:")
        frame_time = float(take("frame time"))
    except ValueError as exc:
        raise fail(f"bad Frames / Frame Time header ({exc})") from exc
    width = sum(len(c) for c in channels)
    values = tokens[pos:]
    if len(values) != num_frames * width:
        raise fail(f"motion has {len(values)} values; expected Frames {num_frames} x {width} channels")
    try:
        frames = np.array(values, dtype=np.float64).reshape(num_frames, width)
    except ValueError as exc:
        raise fail(f"motion data is not numeric ({exc})") from exc
    return BVHData(names, np.array(parents), np.array(offsets), channels, frame_time, frames, end_sites)


def bvh_local_transforms(data: BVHData) -> tuple[np.ndarray, np.ndarray]:
    """Local rotations and translations of every joint at every frame.

    Rotation channels compose in their listed order (``Z X Y`` -> ``Rz @ Rx @ Ry``);
    position channels replace the OFFSET (the common reading of root positions).

    Returns:
        ``rot`` ``(T, J, 3, 3)`` and ``trans`` ``(T, J, 3)`` in file units.
    """
    from scipy.spatial.transform import Rotation

    T, J = data.num_frames, len(data.names)
    rot = np.tile(np.eye(3), (T, J, 1, 1))
    trans = np.tile(data.offsets[None], (T, 1, 1))
    for j, chans in enumerate(data.channels):
        vals = data.frames[:, data.channel_slice(j)]
        r_axes = "".join(c[0].upper() for c in chans if c.lower().endswith("rotation"))
        r_cols = [i for i, c in enumerate(chans) if c.lower().endswith("rotation")]
        if r_axes:
            rot[:, j] = Rotation.from_euler(r_axes, vals[:, r_cols], degrees=True).as_matrix()
        for i, c in enumerate(chans):
            if c.lower().endswith("position"):
                trans[:, j, "XYZ".index(c[0].upper())] = vals[:, i]
    return rot, trans


def bvh_forward_kinematics(data: BVHData) -> np.ndarray:
    """``(T, J, 3)`` world joint positions (file units, file joint order)."""
    rot, trans = bvh_local_transforms(data)
    T, J = rot.shape[:2]
    g_rot = np.empty_like(rot)
    pos = np.empty((T, J, 3))
    for j in range(J):
        p = int(data.parents[j])
        if p < 0:
            g_rot[:, j], pos[:, j] = rot[:, j], trans[:, j]
        else:
            g_rot[:, j] = g_rot[:, p] @ rot[:, j]
            pos[:, j] = pos[:, p] + np.einsum("tab,tb->ta", g_rot[:, p], trans[:, j])
    return pos


def _export(motion: Motion, path: Path, **opts: Any) -> None:
    write_bvh(motion, path, **opts)


register_exporter(
    "bvh", (".bvh",), _export, "BVH skeleton animation (SMPL-X 55 joints, Euler channels)",
    options=keyword_options(write_bvh),
)
