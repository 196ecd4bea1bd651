"""ARKit-52 / Live Link Face CSV: exact header, timecodes, mapped blendshapes, map files."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from motion.bodymodels.names import expression_index
from motion.container import Motion
from motion.export import ExportError, export
from motion.export.arkit import CSV_HEADER, timecode
from motion.export.maps.arkit_map import ARKIT_BLENDSHAPES, ArkitMap, ArkitMapError, load_arkit_map
from motion.types import JAW, JOINT_INDEX, LEFT_EYE

#: formats.md, verbatim.
HEADER = (
    "Timecode,BlendShapeCount,EyeBlinkLeft,EyeLookDownLeft,EyeLookInLeft,EyeLookOutLeft,EyeLookUpLeft,"
    "EyeSquintLeft,EyeWideLeft,EyeBlinkRight,EyeLookDownRight,EyeLookInRight,EyeLookOutRight,EyeLookUpRight,"
    "EyeSquintRight,EyeWideRight,JawForward,JawRight,JawLeft,JawOpen,MouthClose,MouthFunnel,MouthPucker,MouthRight,"
    "MouthLeft,MouthSmileLeft,MouthSmileRight,MouthFrownLeft,MouthFrownRight,MouthDimpleLeft,MouthDimpleRight,"
    "MouthStretchLeft,MouthStretchRight,MouthRollLower,MouthRollUpper,MouthShrugLower,MouthShrugUpper,"
    "MouthPressLeft,MouthPressRight,MouthLowerDownLeft,MouthLowerDownRight,MouthUpperUpLeft,MouthUpperUpRight,"
    "BrowDownLeft,BrowDownRight,BrowInnerUp,BrowOuterUpLeft,BrowOuterUpRight,CheekPuff,CheekSquintLeft,"
    "CheekSquintRight,NoseSneerLeft,NoseSneerRight,TongueOut,HeadYaw,HeadPitch,HeadRoll,LeftEyeYaw,LeftEyePitch,"
    "LeftEyeRoll,RightEyeYaw,RightEyePitch,RightEyeRoll"
).split(",")
T = 75  # 2.5 s at 30 fps


def scripted_motion(num_frames: int = T, fps: float = 30.0) -> Motion:
    """Frames 0-19 neutral; 20-39 smile; 40-49 left blink; 50-59 jaw open; 60-: head turned left,
    eyes looking down."""
    m = Motion.zeros(num_frames, fps=fps, num_expressions=100)
    m.expression[20:40, expression_index("smile")] = 1.0
    m.expression[40:50, expression_index("blink_left")] = 1.0
    m.poses[50:60, JAW] = (0.3, 0.0, 0.0)
    m.poses[60:, JOINT_INDEX["head"]] = (0.0, 0.4, 0.0)
    m.poses[60:, LEFT_EYE] = (0.2, 0.0, 0.0)
    return m


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], list[dict[str, str]]]:
    path = export(scripted_motion(), tmp_path_factory.mktemp("arkit") / "face.csv")
    return read_csv(path)


def test_header_rows_and_timecodes(exported: tuple[list[str], list[dict[str, str]]]) -> None:
    header, rows = exported
    assert header == HEADER == list(CSV_HEADER) and len(header) == 63
    assert len(rows) == T
    assert all(r["BlendShapeCount"] == "61" for r in rows)
    assert [r["Timecode"] for r in rows[:2]] == ["00:00:00:00.000", "00:00:00:01.000"]
    assert rows[29]["Timecode"] == "00:00:00:29.000" and rows[30]["Timecode"] == "00:00:01:00.000"
    assert rows[-1]["Timecode"] == "00:00:02:14.000"
    values = np.array([[float(r[c]) for c in HEADER[2:54]] for r in rows])
    assert values.min() >= 0.0 and values.max() <= 1.0


def _col(rows: list[dict[str, str]], name: str, frames: slice) -> np.ndarray:
    return np.array([float(r[name]) for r in rows[frames]])


def test_mapped_values(exported: tuple[list[str], list[dict[str, str]]]) -> None:
    _, rows = exported
    neutral = np.array([[float(r[c]) for c in HEADER[2:]] for r in rows[:20]])
    assert np.abs(neutral).max() < 1e-6
    for side in ("Left", "Right"):  # smile -> both smile shapes high, frown not
        assert _col(rows, f"MouthSmile{side}", slice(20, 40)).min() > 0.9
        assert _col(rows, f"MouthFrown{side}", slice(20, 40)).max() < 0.05
    assert _col(rows, "EyeBlinkLeft", slice(40, 50)).min() > 0.99
    assert _col(rows, "EyeBlinkRight", slice(40, 50)).max() < 0.01
    jaw = _col(rows, "JawOpen", slice(50, 60))
    assert jaw.min() > 0.8 and _col(rows, "JawOpen", slice(0, 50)).max() < 1e-6
    assert _col(rows, "HeadYaw", slice(60, None)) == pytest.approx(0.4, abs=1e-5)  # radians, + = left
    assert _col(rows, "LeftEyePitch", slice(60, None)) == pytest.approx(0.2, abs=1e-5)  # + = down
    assert _col(rows, "EyeLookDownLeft", slice(60, None)).min() > 0.4
    assert _col(rows, "EyeLookUpLeft", slice(60, None)).max() == 0.0


def test_timecode_rates() -> None:
    assert timecode(0, 30) == "00:00:00:00.000"
    assert timecode(3600 * 30 + 61 * 30 + 7, 30) == "01:01:01:07.000"
    assert timecode(59, 60) == "00:00:00:59.000"
    assert timecode(30, 29.97) == "00:00:01:00.030"  # 1.001 s: second 1, 0.03 of a frame in
    assert timecode(29, 29.97) == "00:00:00:29.000"
    assert timecode(0, 25, start_s=10.0) == "00:00:10:00.000"


def test_custom_map_csv_and_npz(tmp_path: Path) -> None:
    m = scripted_motion()
    amap = ArkitMap(np.array([[0.5, 0.0], [0.0, 2.0]]), ("TongueOut", "CheekPuff"), ("smile", "expression_011"))
    for suffix in (".csv", ".npz"):
        path = amap.save(tmp_path / f"map{suffix}")
        back = load_arkit_map(path)
        assert (back.rows, back.cols) == (amap.rows, amap.cols) and np.allclose(back.matrix, amap.matrix)
        out = export(m, tmp_path / f"custom{suffix}.csv", arkit_map=path)
        _, rows = read_csv(out)
        assert _col(rows, "TongueOut", slice(20, 40)) == pytest.approx(0.5)
        assert _col(rows, "CheekPuff", slice(40, 50)) == pytest.approx(1.0)  # 2.0 clipped
        assert _col(rows, "MouthSmileLeft", slice(20, 40)).max() == 0.0  # not in this map
        assert _col(rows, "JawOpen", slice(50, 60)).min() > 0.8  # joints still drive the jaw


def test_bad_map_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("arkit,smile\nMouthGrin,1.0\n")
    with pytest.raises(ExportError, match="unknown ARKit blendshape rows.*MouthGrin"):
        export(scripted_motion(), tmp_path / "a.csv", arkit_map=bad)
    bad.write_text("arkit,grin\nMouthSmileLeft,1.0\n")
    with pytest.raises(ArkitMapError, match="unknown expression coefficient column 'grin'"):
        load_arkit_map(bad)
    with pytest.raises(ExportError, match="not found"):
        export(scripted_motion(), tmp_path / "b.csv", arkit_map=tmp_path / "missing.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


def test_packaged_standin_map() -> None:
    amap = load_arkit_map()
    assert amap.rows == ARKIT_BLENDSHAPES and len(amap.cols) == 100
    dense = amap.dense(100)
    assert dense[ARKIT_BLENDSHAPES.index("EyeBlinkLeft")].tolist() == np.eye(100)[expression_index("blink_left")].tolist()
    assert dense[ARKIT_BLENDSHAPES.index("JawOpen")].max() == 0.0  # jaw comes from the joint
    close = ARKIT_BLENDSHAPES.index("MouthClose")
    assert (np.delete(dense, close, 0) >= 0).all()  # non-negative least squares
    # MouthClose is geometric and signed: lip-parting coefficients weigh against it
    assert dense[close, expression_index("mouth_open")] < -0.2 and dense[close, expression_index("smile")] == 0.0
