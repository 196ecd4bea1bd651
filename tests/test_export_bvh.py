"""BVH export: skeleton layout, header, and a round trip through our reader + FK."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from helpers import swaying_motion
from motion.container import Motion
from motion.export import export
from motion.export.bvh import (
    BVHError,
    bvh_forward_kinematics,
    bvh_local_transforms,
    read_bvh,
)
from motion.types import JOINT_INDEX, JOINT_NAMES, PARENTS

T = 24
FPS = 30.0


@pytest.fixture(scope="module")
def motion_and_fk(body_model: Any) -> tuple[Motion, np.ndarray]:
    """The motion and its toolkit FK joints ``(T, 55, 3)``.

    The reference FK uses zero expression: smplx regresses joints after adding expression
    blendshapes, a small shift a static BVH skeleton cannot carry (documented in bvh.py).
    """
    m = swaying_motion(T)
    joints = m.replace(expression=np.zeros_like(m.expression)).forward_kinematics(body_model).joints
    return m, np.asarray(joints.detach().cpu().numpy() if hasattr(joints, "detach") else joints, np.float64)


def _by_name(data_names: list[str], values: np.ndarray) -> np.ndarray:
    """Reorder the joint axis (axis 1) of ``values`` from file order to SMPL-X order."""
    order = [data_names.index(n) for n in JOINT_NAMES]
    return values[:, order]


def test_hierarchy_and_header(tmp_path: Path, body_model: Any, motion_and_fk: tuple[Motion, np.ndarray]) -> None:
    m, _ = motion_and_fk
    data = read_bvh(export(m, tmp_path / "a.bvh", body_model=body_model))
    assert sorted(data.names) == sorted(JOINT_NAMES) and len(data.names) == 55
    for j, name in enumerate(data.names):  # same tree as SMPL-X, parents written before children
        p = int(data.parents[j])
        assert p < j
        expected = PARENTS[JOINT_INDEX[name]]
        assert (p < 0 and expected < 0) or data.names[p] == JOINT_NAMES[expected]
    assert data.channels[0] == ["Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation", "Yrotation"]
    assert all(c == ["Zrotation", "Xrotation", "Yrotation"] for c in data.channels[1:])
    assert data.num_frames == T and data.frames.shape == (T, 6 + 54 * 3)
    assert data.frame_time == 1.0 / FPS  # exact
    assert np.allclose(data.offsets[0], 0.0)
    leaves = {n for n in JOINT_NAMES if JOINT_INDEX[n] not in PARENTS}
    assert {data.names[j] for j in data.end_sites} == leaves


@pytest.mark.parametrize("order,units,scale", [("ZXY", "cm", 100.0), ("XYZ", "m", 1.0)])
def test_round_trip_fk(
    tmp_path: Path, body_model: Any, motion_and_fk: tuple[Motion, np.ndarray], order: str, units: str, scale: float
) -> None:
    m, fk = motion_and_fk
    path = export(m, tmp_path / "a.bvh", body_model=body_model, euler_order=order, units=units, floor=False)
    data = read_bvh(path)
    assert data.channels[1] == [f"{a}rotation" for a in order]
    pos = _by_name(data.names, bvh_forward_kinematics(data)) / scale
    err = np.abs(pos - fk).max()
    assert err < 1e-3, f"max joint error {err * 1000:.3f} mm"


def test_euler_curves_are_continuous(tmp_path: Path, body_model: Any) -> None:
    m = swaying_motion(40)
    m.poses[:, JOINT_INDEX["left_ankle"], 1] = np.linspace(-3.0, 3.0, 40)  # crosses +-180 degrees
    data = read_bvh(export(m, tmp_path / "spin.bvh", body_model=body_model))
    assert np.abs(np.diff(data.frames[:, 6:], axis=0)).max() < 30.0
    rot, _ = bvh_local_transforms(data)
    from scipy.spatial.transform import Rotation

    want = Rotation.from_rotvec(m.poses[:, JOINT_INDEX["left_ankle"]].astype(np.float64)).as_matrix()
    got = _by_name(data.names, rot)[:, JOINT_INDEX["left_ankle"]]
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_bad_options_and_bad_file(tmp_path: Path, body_model: Any) -> None:
    m = swaying_motion(4)
    with pytest.raises(ValueError, match="Euler order"):
        export(m, tmp_path / "a.bvh", body_model=body_model, euler_order="ZZY")
    with pytest.raises(ValueError, match="units"):
        export(m, tmp_path / "a.bvh", body_model=body_model, units="inch")
    assert list(tmp_path.iterdir()) == []
    good = export(m, tmp_path / "a.bvh", body_model=body_model).read_text()
    bad = tmp_path / "bad.bvh"
    bad.write_text(good[: len(good) - 40])
    with pytest.raises(BVHError, match="expected Frames 4"):
        read_bvh(bad)
    bad.write_text(good.replace("Frame Time:", "Frame Tim:"))
    with pytest.raises(BVHError, match="Time:"):
        read_bvh(bad)
