"""Every export opened by tools the toolkit did not write (issue 15's "must show").

* Blender 4.2's own FBX, glTF and BVH importers (``bpy`` in a subprocess, every option at its
  default; ``tests/import_probe.py``): the imported character stands on the floor (lowest
  vertex within 2 cm of z = 0), is 1.5-2.0 m tall, is shaded smooth and starts on the first
  frame, for the FBX presets blender / unity / unreal, GLB, glTF and BVH.
* The Khronos glTF validator (npm ``gltf-validator``; skipped where node or the package is
  missing: ``npm install --prefix .cache/gltf-validator gltf-validator``): 0 errors, 0 warnings.
* AMASS: Z up with both frame-rate keys, standing on z = 0 through ``smplx`` itself.
* BVH and GLB read back through :func:`motion.read_motion` within 1e-4 rad.

The motion is tiny (6 frames) and, like generated motion, has its pelvis near the origin.
``MOTION_RENDER_IMPORTS=DIR`` also renders each import to ``DIR/<name>.png`` (README pictures).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from motion.container import Motion
from motion.export import export
from motion.types import JOINT_INDEX

HAS_BPY = importlib.util.find_spec("bpy") is not None
HERE = Path(__file__).parent
T, FPS = 6, 30.0
EXPORTS = {"blender.fbx": {"preset": "blender"}, "unity.fbx": {"preset": "unity"},
           "unreal.fbx": {"preset": "unreal"}, "clip.glb": {}, "clip.gltf": {}, "clip.bvh": {},
           "arkit_unreal.fbx": {"preset": "unreal", "arkit": True}, "arkit.glb": {"arkit": True}}
FLOOR_TOL = 0.02  # metres
HEIGHT = (1.5, 2.0)  # metres
ROT_TOL = 1e-4  # radians


def standing_motion(num_frames: int = T, fps: float = FPS, num_expressions: int = 20) -> Motion:
    """A few frames of talking-like motion with the pelvis near the origin, as generated motion has it."""
    t = np.arange(num_frames)[:, None] / fps
    j = np.arange(55)[None, :, None]
    poses = 0.08 * np.sin(2 * np.pi * (0.5 + 0.03 * j) * t[:, :, None] + j + np.array([0.0, 1.3, 2.1]))
    poses[:, JOINT_INDEX["pelvis"]] = np.concatenate([0.05 * np.sin(t), 0.3 + 0.2 * t, 0.02 * np.cos(t)], 1)
    poses[:, JOINT_INDEX["right_elbow"], 1] -= 0.8
    poses[:, JOINT_INDEX["left_shoulder"], 2] -= 1.0
    poses[:, JOINT_INDEX["right_shoulder"], 2] += 1.0
    trans = np.concatenate([0.1 * t, 0.01 * np.sin(4 * t), 0.05 * t], 1)
    expr = np.zeros((num_frames, num_expressions))
    expr[:, 0] = 0.5 * (1 + np.sin(3 * t[:, 0]))
    return Motion(poses=poses, trans=trans, betas=np.linspace(-0.5, 0.5, 10), expression=expr, fps=fps)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, body_model: Any) -> dict[str, Any]:
    """The motion and its exports (FBX only where bpy is installed)."""
    tmp = tmp_path_factory.mktemp("imports")
    m = standing_motion()
    files = {name: export(m, tmp / name, body_model=body_model, **opts)
             for name, opts in EXPORTS.items() if HAS_BPY or not name.endswith(".fbx")}
    return {"motion": m, "files": files, "tmp": tmp}


@pytest.fixture(scope="module")
def imported(exported: dict[str, Any]) -> dict[str, Any]:
    """What Blender's importers make of every export (one bpy subprocess)."""
    if not HAS_BPY:
        pytest.skip("bpy (Blender 4.2 as a module) is not installed: pip install 'motion-toolkit[blender]'")
    tmp = exported["tmp"]
    args = {"files": [str(p) for p in exported["files"].values()], "frames": 3,
            "render": os.environ.get("MOTION_RENDER_IMPORTS") or None}
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(tmp / "blender-home"))
    res = subprocess.run([sys.executable, str(HERE / "import_probe.py"), json.dumps(args)], capture_output=True,
                         text=True, timeout=300, env=env, cwd=tmp, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    probe = json.loads(next(x for x in res.stdout.splitlines() if x.startswith("PROBE"))[5:])
    return {name: probe[str(path)] for name, path in exported["files"].items()}


@pytest.mark.blender
@pytest.mark.parametrize("name", list(EXPORTS))
def test_blender_import_stands_on_the_floor_human_sized(imported: dict[str, Any], name: str) -> None:
    r = imported[name]
    low = min(r["min_z"])
    assert abs(low) < FLOOR_TOL, f"{name}: lowest point {low * 100:.1f} cm from the floor"
    assert all(HEIGHT[0] < h < HEIGHT[1] for h in r["height"]), f"{name}: heights {r['height']}"


@pytest.mark.blender
@pytest.mark.parametrize("name", [n for n in EXPORTS if not n.endswith(".bvh")])
def test_blender_import_is_smooth_shaded(imported: dict[str, Any], name: str) -> None:
    assert imported[name]["smooth"] == 1.0


@pytest.mark.blender
@pytest.mark.parametrize("name", list(EXPORTS))
def test_blender_import_starts_on_the_first_frame(imported: dict[str, Any], exported: dict[str, Any],
                                                  name: str) -> None:
    r = imported[name]
    if name.endswith((".glb", ".gltf")):  # Blender's glTF importer puts time 0 on frame 0, whatever the file
        import pygltflib as gl

        from motion.export._gltf_build import read_accessor

        g = gl.GLTF2().load(str(exported["files"][name]))
        assert read_accessor(g, g.animations[0].samplers[0].input)[0] == 0.0
        assert r["first_key"] == 0.0
    else:
        assert r["first_key"] == r["frame_start"] == 1


@pytest.mark.blender
def test_engine_presets_have_a_floor_level_root(imported: dict[str, Any]) -> None:
    assert "root" not in imported["blender.fbx"]["bones"]
    for name in ("unity.fbx", "unreal.fbx", "arkit_unreal.fbx"):
        assert imported[name]["bones"][0] == "root" and len(imported[name]["bones"]) == 56


def _validator() -> tuple[str, str] | None:
    """(node, NODE_PATH) for the Khronos glTF validator, or None."""
    node = shutil.which("node")
    root = Path(os.environ.get("GLTF_VALIDATOR_NODE_PATH", HERE.parent / ".cache/gltf-validator/node_modules"))
    if node is None or not (root / "gltf-validator").is_dir():
        return None
    return node, str(root)


@pytest.mark.blender
@pytest.mark.parametrize("name", ["arkit_unreal.fbx", "arkit.glb"])
def test_arkit_exports_import_with_apples_52_shapes(imported: dict[str, Any], exported: dict[str, Any],
                                                   body_model: Any, name: str) -> None:
    """ARKit rigs retarget by name: Blender's importers find exactly Apple's 52 shapes, in Apple's order,
    animated with the exporter's weights in [0, 1]; the jaw and eyes are in the shapes, not the bones."""
    from motion.export._rest import rest_model
    from motion.export.arkit_shapes import APPLE_BLENDSHAPES, arkit_face

    r, m = imported[name], exported["motion"]
    assert r["shape_keys"] == list(APPLE_BLENDSHAPES) and len(r["shape_keys"]) == 52
    assert r["shape_keys"][:2] == ["eyeBlinkLeft", "eyeLookDownLeft"] and r["shape_keys"][-1] == "tongueOut"
    values = np.array(r["shape_values"])  # (frames, 52)
    assert r["shape_curves"] == 52 and values.min() >= 0.0 and values.max() <= 1.0
    face = arkit_face(m, rest_model(body_model, m.betas), body_model, None, True)
    # the probe steps scene frames; Blender's glTF importer keeps the scene's 24 fps (keys at time x 24)
    x = np.arange(len(values)) * m.fps / r["fps"]
    expected = np.stack([np.interp(x, np.arange(m.num_frames), face.weights[:, k]) for k in range(52)], 1)
    np.testing.assert_allclose(values, expected, atol=1e-5)
    moving = np.ptp(values, axis=0) > 1e-3
    assert all(moving[APPLE_BLENDSHAPES.index(n)] for n in ("mouthSmileLeft", "jawRight", "eyeLookInLeft"))
    assert np.abs(face.motion.poses[:, [22, 23, 24]]).max() == 0.0 and np.abs(m.poses[:, 22]).max() > 0.0


@pytest.mark.parametrize("name", ["clip.glb", "clip.gltf", "arkit.glb"])
def test_khronos_validator_reports_nothing(exported: dict[str, Any], name: str) -> None:
    found = _validator()
    if found is None:
        pytest.skip("node + gltf-validator missing: npm install --prefix .cache/gltf-validator gltf-validator")
    node, node_path = found
    res = subprocess.run([node, str(HERE / "gltf_validate.js"), str(exported["files"][name])], capture_output=True,
                         text=True, timeout=120, env=dict(os.environ, NODE_PATH=node_path), check=False)
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert (report["errors"], report["warnings"]) == (0, 0), report["messages"]


def test_amass_is_z_up_on_the_floor(tmp_path: Path, body_model: Any) -> None:
    from motion.data.formats.amass import is_z_up, read_amass

    m = standing_motion()
    path = export(m, tmp_path / "clip.npz", format="amass", body_model=body_model)
    with np.load(path) as f:
        assert float(f["mocap_framerate"]) == float(f["mocap_frame_rate"]) == FPS
        assert is_z_up(f["root_orient"])
    stored = read_amass(path, fps=None, up="file")  # as AMASS loaders see it: smplx on the file's values
    verts = stored.forward_kinematics(body_model, vertices=True).vertices.detach().cpu().numpy()
    assert abs(verts[..., 2].min()) < FLOOR_TOL
    assert all(HEIGHT[0] < np.ptp(v[:, 2]) < HEIGHT[1] for v in verts)
    back = read_amass(path, fps=None)  # turned back to Y up: the same rotations
    _assert_same_rotations(back, m)


def _assert_same_rotations(a: Motion, b: Motion) -> None:
    from scipy.spatial.transform import Rotation

    ra, rb = (Rotation.from_rotvec(x.poses.reshape(-1, 3).astype(np.float64)) for x in (a, b))
    err = (ra.inv() * rb).magnitude()
    assert err.max() < ROT_TOL, f"max rotation error {err.max():.2e} rad"


@pytest.mark.parametrize("name", ["clip.bvh", "clip.glb", "clip.gltf"])
def test_read_motion_round_trip(exported: dict[str, Any], body_model: Any, name: str) -> None:
    from motion.data.formats import read_motion

    m = exported["motion"]
    opts = {"body_model": body_model} if name.endswith(".bvh") else {}
    r = read_motion(exported["files"][name], **opts)
    assert (r.num_frames, r.fps) == (m.num_frames, m.fps)
    _assert_same_rotations(r, m)
    if not name.endswith(".bvh"):  # glTF keeps what BVH cannot: betas, expression, the exact translation
        np.testing.assert_allclose(r.trans, m.trans, atol=1e-5)
        np.testing.assert_allclose(r.expression, m.expression, atol=1e-6)
