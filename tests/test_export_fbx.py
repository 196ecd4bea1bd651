"""FBX export through Blender (bpy subprocess), checked by re-importing into Blender.

A synthetic 10 s motion (300 frames at 30 fps) with a moving hand, finger, foot and root is
exported with every preset and as GLB; one Blender subprocess re-imports all files and
reports skeleton, timing, shape keys and world joint positions, which must match
``Motion.forward_kinematics()`` within 1 mm. Without bpy these tests skip; the "bpy cannot
be imported" error path is tested for real with an interpreter that cannot import it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from motion.container import Motion
from motion.export import ExportError, export
from motion.export.fbx import BlenderUnavailableError
from motion.types import JOINT_INDEX, JOINT_NAMES, PARENTS

HAS_BPY = importlib.util.find_spec("bpy") is not None
NO_BPY = "bpy (Blender 4.2 as a module) is not installed: pip install 'motion-toolkit[blender]'"
T, FPS = 300, 30.0
FRAMES = (1, 77, 150, 299, 300)  # Blender frames; motion frame = Blender frame - 1
JOINTS = ("pelvis", "right_wrist", "right_index3", "left_ankle", "left_foot", "head")
PRESETS = ("blender", "unity", "unreal")
#: Blender re-import units per preset -> metres (unreal's centimetres are said so in its header,
#: so Blender's importer brings them back in metres).
UNIT = {"blender": 1.0, "unity": 1.0, "unreal": 1.0, "glb": 1.0}

PROBE = r'''
import json, sys
import bpy

def probe(path, frames, joints, keys):
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    if path.endswith(".fbx"):
        bpy.ops.import_scene.fbx(filepath=path)  # default anim_offset 1: time 0 -> frame 1
    else:  # glTF times are seconds: keys land on time * scene fps
        scene.render.fps, scene.render.fps_base = 30, 1.0
        bpy.ops.import_scene.gltf(filepath=path)
    arms = [o for o in scene.objects if o.type == "ARMATURE"]
    mesh = next(o for o in scene.objects if o.type == "MESH")
    arm = arms[0]
    act = arm.animation_data.action
    sk = mesh.data.shape_keys
    out = {"armatures": len(arms), "name": arm.name, "bones": [b.name for b in arm.data.bones],
           "parents": {b.name: b.parent.name if b.parent else None for b in arm.data.bones},
           "fps": scene.render.fps, "fps_base": scene.render.fps_base, "range": list(act.frame_range),
           "shape_keys": [k.name for k in sk.key_blocks] if sk else [], "pos": {}, "keys": {}}
    for f in frames:
        scene.frame_set(f)
        out["pos"][f] = {n: list(arm.matrix_world @ arm.pose.bones[n].head) for n in joints}
        out["keys"][f] = {k: sk.key_blocks[k].value for k in keys if sk and k in sk.key_blocks}
    return out

args = json.loads(sys.argv[1])
print("PROBE" + json.dumps({p: probe(p, f, args["joints"], args["keys"]) for p, f in args["files"]}))
'''


def synthetic_motion(num_frames: int = T, fps: float = FPS, num_expressions: int = 60) -> Motion:
    """Every joint swings a little; the root turns and walks; the right arm waves with a curling index
    finger; the left leg kicks; smile and blink vary."""
    t = np.arange(num_frames)[:, None] / fps
    z = np.zeros_like(t)
    j = np.arange(55)[None, :, None]
    poses = 0.12 * np.sin(2 * np.pi * (0.3 + 0.02 * j) * t[:, :, None] + j + np.array([0.0, 1.3, 2.1]))
    poses[:, JOINT_INDEX["pelvis"]] = np.concatenate([0.2 * np.sin(t), 0.8 * np.sin(0.5 * t), 0.1 * np.cos(t)], 1)
    poses[:, JOINT_INDEX["right_shoulder"]] += np.concatenate([z, z - 0.3, 0.9 * np.sin(2 * t)], 1)
    poses[:, JOINT_INDEX["right_elbow"]] += np.concatenate([z, -0.6 * (1 + np.sin(3 * t)), z], 1)
    poses[:, JOINT_INDEX["right_index2"]] += np.concatenate([z, z, 0.6 * (1 + np.sin(4 * t))], 1)
    poses[:, JOINT_INDEX["left_knee"]] += np.concatenate([0.5 * (1 + np.sin(2 * t)), z, z], 1)
    poses[:, JOINT_INDEX["left_ankle"]] += np.concatenate([0.5 * np.sin(2 * t), z, z], 1)
    trans = np.concatenate([0.3 * np.sin(t), 0.05 * np.cos(3 * t), 0.2 * t], 1)
    expr = np.zeros((num_frames, num_expressions))
    expr[:, 0] = 0.5 * (1 + np.sin(t[:, 0]))  # smile
    if num_expressions > 11:
        expr[:, 11] = (np.sin(5 * t[:, 0]) > 0.9).astype(float)  # blink_left
    return Motion(poses=poses, trans=trans, betas=np.linspace(-1, 1, 10), expression=expr, fps=fps)


def run_probe(files: list[tuple[Path, tuple[int, ...]]], joints: tuple[str, ...], keys: tuple[str, ...],
              tmp: Path) -> dict[str, Any]:
    """Re-import ``files`` in one Blender subprocess; returns the probe per path."""
    script = tmp / "probe.py"
    script.write_text(PROBE)
    args = {"files": [(str(p), list(f)) for p, f in files], "joints": list(joints), "keys": list(keys)}
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(tmp / "blender-home"))
    res = subprocess.run([sys.executable, str(script), json.dumps(args)], capture_output=True, text=True,
                         timeout=300, env=env, cwd=tmp, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    line = next(x for x in res.stdout.splitlines() if x.startswith("PROBE"))
    return json.loads(line[5:])


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from motion.bodymodels import load_body_model

    if not HAS_BPY:
        pytest.skip(NO_BPY)
    tmp = tmp_path_factory.mktemp("fbx")
    model = load_body_model()
    m = synthetic_motion()
    # floor=False: joints compared with forward_kinematics as it is (the floor is tested in test_export_imports)
    files = {p: export(m, tmp / f"{p}.fbx", preset=p, body_model=model, floor=False) for p in PRESETS}
    files["glb"] = export(m, tmp / "clip.glb", body_model=model, floor=False)
    ntsc = export(synthetic_motion(12, 30000 / 1001, 2), tmp / "ntsc.fbx", body_model=model)
    glb_frames = tuple(f - 1 for f in FRAMES)  # glTF keys start at frame 0
    todo = [(files[p], FRAMES) for p in PRESETS] + [(files["glb"], glb_frames), (ntsc, (1,))]
    probe = run_probe(todo, JOINTS, ("smile", "blink_left"), tmp)
    fk = m.forward_kinematics(model).joints.detach().cpu().numpy().astype(np.float64)
    return {"motion": m, "fk": fk, "files": files, "probe": {k: probe[str(v)] for k, v in files.items()},
            "ntsc": probe[str(ntsc)]}


def _blender_to_smplx(p: Any, unit: float) -> np.ndarray:
    """Blender world (Z up) -> SMPL-X (Y up), metres."""
    x, y, z = np.asarray(p, np.float64) / unit
    return np.array([x, z, -y])


@pytest.mark.blender
@pytest.mark.parametrize("preset", PRESETS)
def test_fbx_skeleton_timing_shape_keys(round_trip: dict[str, Any], preset: str) -> None:
    r = round_trip["probe"][preset]
    assert r["armatures"] == 1 and r["name"] == ("Armature" if preset == "unreal" else "SMPLX")
    root = [] if preset == "blender" else ["root"]  # engine presets: a floor-level root bone (root motion)
    assert sorted(r["bones"]) == sorted(JOINT_NAMES + tuple(root))  # no leaf bones
    assert [r["parents"][n] for n in JOINT_NAMES] == (root or [None]) + [JOINT_NAMES[p] for p in PARENTS[1:]]
    assert (r["fps"], r["fps_base"]) == (30, 1.0)
    assert r["range"] == [1.0, float(T)]
    assert r["shape_keys"][0] == "Basis" and len(r["shape_keys"]) == 1 + 50  # default min(50, E)
    assert r["shape_keys"][1:3] == ["smile", "frown"]
    expr = round_trip["motion"].expression
    for f in FRAMES:
        assert r["keys"][str(f)]["smile"] == pytest.approx(expr[f - 1, 0], abs=1e-3)
        assert r["keys"][str(f)]["blink_left"] == pytest.approx(expr[f - 1, 11], abs=1e-3)


@pytest.mark.blender
@pytest.mark.parametrize("preset", (*PRESETS, "glb"))
def test_joint_positions_match_forward_kinematics(round_trip: dict[str, Any], preset: str) -> None:
    r, fk = round_trip["probe"][preset], round_trip["fk"]
    offset = 1 if preset != "glb" else 0
    worst = 0.0
    for f, joints in r["pos"].items():
        for name, p in joints.items():
            err = np.abs(_blender_to_smplx(p, UNIT[preset]) - fk[int(f) - offset, JOINT_INDEX[name]]).max()
            worst = max(worst, err)
    assert worst < 1e-3, f"{preset}: max joint error {worst * 1000:.3f} mm"
    if preset == "glb":
        assert sorted(r["bones"]) == sorted(JOINT_NAMES) and r["range"] == [0.0, float(T - 1)]


@pytest.mark.blender
def test_fractional_fps(round_trip: dict[str, Any]) -> None:
    r = round_trip["ntsc"]
    assert r["fps"] == 30 and r["fps_base"] == pytest.approx(1.001, abs=1e-6)
    assert len(r["shape_keys"]) == 1 + 2


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_bpy_that_cannot_import_gives_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Blender subprocess runs with a ``bpy`` that raises on import (shadowing the real one)."""
    blocker = tmp_path / "blocker" / "bpy"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('libblender is missing (test blocker)')\n")
    monkeypatch.setenv("PYTHONPATH", str(blocker.parent))
    out = tmp_path / "out"
    out.mkdir()
    m = synthetic_motion(4, num_expressions=2)
    with pytest.raises(BlenderUnavailableError, match=r"pip install 'motion-toolkit\[blender\]'") as err:
        export(m, out / "clip.fbx")
    assert isinstance(err.value, ExportError)
    if HAS_BPY:  # the subprocess was reached and reported its import failure
        assert "test blocker" in str(err.value)
    assert _leftovers(out) == []


def test_missing_bpy_is_detected_before_any_work(tmp_path: Path) -> None:
    """In a process where ``bpy`` cannot be found, export fails fast and writes nothing."""
    code = f"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "bpy" or name.startswith("bpy."):
            raise ImportError("blocked by the test")
        return None
sys.meta_path.insert(0, Block())
import numpy as np
from motion.container import Motion
from motion.export import export
from motion.export.fbx import BlenderUnavailableError
try:
    export(Motion.zeros(3, num_expressions=2), {str(tmp_path / 'clip.fbx')!r})
except BlenderUnavailableError as exc:
    print("ERROR", exc)
print("BODY MODEL LOADED" if "smplx" in sys.modules else "NO BODY MODEL")
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "ERROR FBX export needs Blender's Python module bpy" in res.stdout
    assert "pip install 'motion-toolkit[blender]'" in res.stdout and "NO BODY MODEL" in res.stdout
    assert _leftovers(tmp_path) == []


def test_bad_preset_and_destination(tmp_path: Path) -> None:
    m = synthetic_motion(4, num_expressions=2)
    with pytest.raises(ExportError, match="unknown FBX preset 'maya'"):
        export(m, tmp_path / "a.fbx", preset="maya")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ExportError, match="not a folder"):
        export(m, blocker / "a.fbx")
    m.poses[2, 3, 0] = np.nan
    with pytest.raises(ExportError, match="NaN"):
        export(m, tmp_path / "b.fbx")
    assert _leftovers(tmp_path) == ["file"]
