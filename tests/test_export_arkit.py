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


# --------------------------------------------------------------------------- generated speech
SPEECH = Path(__file__).parent / "data" / "real" / "mfa_acoustic_corpus.wav"


@pytest.fixture(scope="module")
def smiling_speech() -> Motion:
    """A happy, speaking face generated with the shipped weights (real speech, lips shut on p/b/m)."""
    import motion

    return motion.generate(str(SPEECH), emotion="happy", intensity=3.0, seed=0,
                           options=motion.GenerationOptions(steps=2))


def test_csv_of_generated_speech_smiles_closes_and_does_not_saturate(smiling_speech: Motion, tmp_path: Path) -> None:
    """Issue 15: smile and close were always 0 in the Live Link CSV, MouthPress sat at exactly 1.0."""
    _, rows = read_csv(export(smiling_speech, tmp_path / "face.csv"))
    col = {c: np.array([float(r[c]) for r in rows]) for c in HEADER[2:54]}
    for side in ("Left", "Right"):
        assert col[f"MouthSmile{side}"].mean() > 0.1  # the happy face smiles
        assert col[f"MouthPress{side}"].max() < 0.95  # pressed lips, never pinned at 1
        assert (col[f"MouthPress{side}"] > 0.05).any()
    close = col["MouthClose"]
    assert (close > 0.005).sum() >= 3  # lips shut against an open jaw at the closures (4 frames measured)
    assert (close <= col["JawOpen"] + 1e-6).all()  # never more than the jaw opens
    saturated = [c for c, v in col.items() if (v >= 0.999).mean() > 0.01 and not c.startswith("EyeBlink")]
    assert saturated == []  # only blinks reach 1 in ordinary speech


def test_arkit_shapes_reproduce_the_flame_face(smiling_speech: Motion) -> None:
    """Applying the ARKit weights to the ARKit shapes gives back the face (expression + jaw + gaze)."""
    from motion.bodymodels import load_body_model
    from motion.export._rest import rest_model
    from motion.export.arkit_shapes import APPLE_BLENDSHAPES, arkit_face, joint_rotation_field

    m, model = smiling_speech, load_body_model()
    rest = rest_model(model, m.betas)
    face = arkit_face(m, rest, model, None, True)
    assert face.names == APPLE_BLENDSHAPES and face.deltas.shape == (52, len(rest.vertices), 3)
    assert (np.abs(face.deltas).reshape(52, -1).max(1) > 1e-3).all()  # every shape moves the mesh (> 1 mm)
    assert face.weights.min() >= 0.0 and face.weights.max() <= 1.0
    head = np.flatnonzero(np.abs(rest.expr_dirs).reshape(len(rest.vertices), -1).max(1) > 0)
    err, size = [], []
    for t in range(0, m.num_frames, 7):
        target = rest.expr_dirs[head] @ m.expression[t]
        for j in (JAW, LEFT_EYE, LEFT_EYE + 1):
            target = target + joint_rotation_field(rest.vertices, rest.weights, rest.joints, j, m.poses[t, j])[head]
        got = np.einsum("kvc,k->vc", face.deltas[:, head], face.weights[t])
        err.append(np.linalg.norm(got - target, axis=1).mean())
        size.append(np.linalg.norm(target, axis=1).mean())
    assert np.mean(err) < 0.2 * np.mean(size), (np.mean(err), np.mean(size))  # measured 0.12 on a happy clip
    # any other map: the least-squares fit B M^T (M M^T + lam)^-1, as good on this face
    fitted = arkit_face(m, rest, model, load_arkit_map(), False)
    got = np.einsum("kvc,k->vc", fitted.deltas[:, head], fitted.weights[0])
    ref = np.einsum("kvc,k->vc", face.deltas[:, head], face.weights[0])
    assert np.linalg.norm(got - ref, axis=1).mean() < 0.5 * np.linalg.norm(ref, axis=1).mean()


def test_arkit_glb_names_and_weights(smiling_speech: Motion, tmp_path: Path) -> None:
    import pygltflib as gl

    from motion.data.formats import read_motion
    from motion.export._gltf_build import read_accessor
    from motion.export.arkit_shapes import APPLE_BLENDSHAPES

    path = export(smiling_speech, tmp_path / "face.glb", arkit=True)
    g = gl.GLTF2().load(str(path))
    assert g.meshes[0].extras["targetNames"] == list(APPLE_BLENDSHAPES)
    assert len(g.meshes[0].primitives[0].targets) == 52
    ch = next(c for c in g.animations[0].channels if c.target.path == "weights")
    w = read_accessor(g, g.animations[0].samplers[ch.sampler].output).reshape(smiling_speech.num_frames, 52)
    assert w.min() >= 0.0 and w.max() <= 1.0 and w[:, APPLE_BLENDSHAPES.index("mouthSmileLeft")].mean() > 0.1
    back = read_motion(path)  # ARKit weights are not expression coefficients: not read back as such
    assert back.expression.size == 0 or np.abs(back.expression).max() == 0.0
    with pytest.raises(ExportError, match="no option 'arkit'"):
        export(smiling_speech, tmp_path / "face.bvh", arkit=True)
