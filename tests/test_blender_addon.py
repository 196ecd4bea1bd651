"""The Blender extension ``blender_addon/motion_speech``: build, install, import, generate, export.

One Blender subprocess (``bpy`` 4.2 as a module, ``BLENDER_USER_RESOURCES`` in a temp folder)
installs the extension from the zip built by Blender's own builder and runs every scenario
(:data:`SCENARIO`), reporting JSON that the tests below check against the toolkit:

* registration: the sidebar panels, operators and preferences exist headless;
* import of a corpus clip (BEAT2): 55 bones, one key per frame on every F-curve, shape-key
  animation equal to the clip's expression, scene fps / range, the audio placed (a sequencer
  strip where Blender has audio; the PyPI ``bpy`` has none and says so), joint positions
  within 1 mm of ``Motion.forward_kinematics()``; the same motion as AMASS, Z-up AMASS and
  AMUSE lands on the same joints; a "face" import reuses the rig and keeps its body keys;
* generate with the real toolkit (``motion generate``): imports the result when the toolkit
  can generate, else a clear error and an unchanged scene; a bad audio file, a missing one and
  a missing toolkit executable give clear errors and leave the scene unchanged; a stand-in
  toolkit (a script speaking the same command line) exercises the success path;
* FBX (Unreal, Unity) and GLB export, re-imported into Blender onto the same joints;
* import time of a 60 s animation, and a small Workbench still rendered headless.

The numpy-only modules (motion files, SMPL-X model, toolkit runner) are also tested directly
in this process against the toolkit's own exporter arrays.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
ADDON_SRC = ROOT / "blender_addon"


def _load_build() -> Any:
    spec = importlib.util.spec_from_file_location("motion_speech_build", ADDON_SRC / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The add-on as the zip holds it: motion_speech/ with the toolkit modules it shares copied in.
_STAGE = Path(tempfile.mkdtemp(prefix="motion_speech_test_"))
atexit.register(shutil.rmtree, _STAGE, True)
ADDON_PKG = _load_build().stage(_STAGE)
sys.path.insert(0, str(_STAGE))
from motion_speech import rig, smplx_data, toolkit  # numpy-only modules, no bpy
from motion_speech import resample as addon_resample

HAS_BPY = importlib.util.find_spec("bpy") is not None
NO_BPY = "bpy (Blender 4.2 as a module) is not installed: pip install 'motion-toolkit[blender]'"
pytestmark = pytest.mark.blender
JOINTS = ("pelvis", "right_wrist", "right_index3", "left_ankle", "left_foot", "head")
MOTION_EXE = Path(sys.executable).with_name("motion")
#: How long a wait on the add-on's job may take before the test fails (generous: a loaded machine).
WAIT_S = 60.0


def _wait_for(condition: Any, what: str, timeout: float = WAIT_S) -> None:
    """Poll ``condition()`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.01)

SCENARIO = r'''
import importlib, json, sys, time
from pathlib import Path
import bpy

args = json.loads(sys.argv[1])
ADDON = "bl_ext.user_default.motion_speech"
JOINTS = args["joints"]
out = {}


def run_op(op, **kw):
    try:
        return {"result": sorted(op(**kw)), "error": ""}
    except RuntimeError as exc:  # an operator that reports ERROR raises here
        return {"result": ["CANCELLED"], "error": str(exc)}


def deselect():
    bpy.context.view_layer.update()
    for o in bpy.context.view_layer.objects:
        if o is not None:
            o.select_set(False)
    bpy.context.view_layer.objects.active = None


def joints_at(arm, frames):
    res = {}
    for f in frames:
        bpy.context.scene.frame_set(f)
        res[f] = importer.world_joints(arm, JOINTS).tolist()
    return res


def describe(arm, frames):
    scene = bpy.context.scene
    mesh = importer.rig_mesh(arm)
    act = arm.animation_data.action
    key = mesh.data.shape_keys
    kact = key.animation_data.action if key and key.animation_data else None
    values = {}
    for f in frames:
        scene.frame_set(f)
        values[f] = {k.name: k.value for k in key.key_blocks[1:4]} if key else {}
    se = scene.sequence_editor
    return {
        "name": arm.name, "bones": len(arm.data.bones), "bone_names": [b.name for b in arm.data.bones],
        "fcurves": len(act.fcurves), "keys_per_curve": sorted({len(fc.keyframe_points) for fc in act.fcurves}),
        "rotation_curves": sum(fc.data_path.endswith("rotation_quaternion") for fc in act.fcurves),
        "location_curves": sum(fc.data_path.endswith(".location") for fc in act.fcurves),
        "shape_keys": [k.name for k in key.key_blocks] if key else [],
        "shape_curves": len(kact.fcurves) if kact else 0,
        "shape_keys_per_curve": sorted({len(fc.keyframe_points) for fc in kact.fcurves}) if kact else [],
        "shape_values": values,
        "fps": [scene.render.fps, scene.render.fps_base], "range": [scene.frame_start, scene.frame_end],
        "strips": [[s.name, s.type, s.frame_start] for s in se.sequences_all] if se else [],
        "sync_mode": scene.sync_mode, "audaspace": bool(bpy.app.build_options.audaspace),
        "sounds": [bpy.path.abspath(s.filepath) for s in bpy.data.sounds],
        "audio_prop": arm.get("motion_speech_audio", ""), "rotation": list(arm.rotation_euler),
        "joints": joints_at(arm, frames), "min_z": lowest(mesh, frames),
    }


def lowest(mesh, frames):
    """Lowest world z of the skinned mesh at each frame."""
    res = {}
    for f in frames:
        bpy.context.scene.frame_set(f)
        ev = mesh.evaluated_get(bpy.context.evaluated_depsgraph_get())
        mw = ev.matrix_world
        res[f] = min((mw @ v.co).z for v in ev.data.vertices)
    return res


def reimport(path):
    """Import an exported file next to the original, probe it, delete what was imported."""
    names_before = set(bpy.data.objects.keys())
    fps = (bpy.context.scene.render.fps, bpy.context.scene.render.fps_base)
    if path.endswith(".glb"):  # glTF keys are seconds: frame = time * scene fps
        bpy.ops.import_scene.gltf(filepath=path)
    else:  # default settings: time 0 lands on frame 1
        bpy.ops.import_scene.fbx(filepath=path)
    bpy.context.scene.render.fps, bpy.context.scene.render.fps_base = fps
    new = [bpy.data.objects[n] for n in set(bpy.data.objects.keys()) - names_before]
    imp = next(o for o in new if o.type == "ARMATURE")
    meshes = [o for o in new if o.type == "MESH" and o.data.shape_keys is not None]
    r = {"imported_name": imp.name, "imported_bones": len(imp.data.bones),
         "bone_names": [b.name for b in imp.data.bones],
         "imported_range": list(imp.animation_data.action.frame_range),
         # a GLB starts at time 0 (frame 0 on import); FBX's time 0 lands on frame 1
         "joints": ({f: v for f, v in zip(frames, joints_at(imp, [f - 1 for f in frames]).values())}
                    if path.endswith(".glb") else joints_at(imp, frames)),
         "shape_keys": len(meshes[0].data.shape_keys.key_blocks) if meshes else 0}
    if "root" in imp.pose.bones:  # world head of the root bone, and of the pelvis, per frame
        r["root"] = {}
        for f in frames:
            bpy.context.scene.frame_set(f)
            mw = imp.matrix_world
            r["root"][f] = [list(mw @ imp.pose.bones[n].head) for n in ("root", "pelvis")]
    bpy.data.batch_remove(new)
    bpy.context.view_layer.update()
    return r


# ---- install + enable from the built zip
frames = args["frames"]
bpy.ops.wm.read_factory_settings(use_empty=True)
t0 = time.perf_counter()
res = bpy.ops.extensions.package_install_files(filepath=args["zip"], repo="user_default", enable_on_install=True)
out["install"] = {
    "result": sorted(res), "seconds": time.perf_counter() - t0,
    "enabled": ADDON in bpy.context.preferences.addons,
    "panels": [hasattr(bpy.types, n) for n in ("VIEW3D_PT_motion_speech", "VIEW3D_PT_motion_speech_files")],
    "operators": [hasattr(bpy.ops.motion_speech, n) for n in
                  ("generate", "cancel", "import_motion", "export", "check_toolkit")],
    "panel_category": getattr(bpy.types, "VIEW3D_PT_motion_speech").bl_category,
    "installed_in": str(Path(importlib.import_module(ADDON).__file__).parent),
}
importer = importlib.import_module(ADDON + ".importer")
prefs = bpy.context.preferences.addons[ADDON].preferences
state = bpy.context.window_manager.motion_speech
settings = bpy.context.scene.motion_speech
prefs.toolkit_path = args["toolkit"]
prefs.output_dir = str(Path(args["tmp"]) / "jobs")
out["check"] = run_op(bpy.ops.motion_speech.check_toolkit)
out["check"]["report"] = state.toolkit_report

# ---- import a corpus clip onto a new character
t0 = time.perf_counter()
out["import"] = run_op(bpy.ops.motion_speech.import_motion, filepath=args["clip"])
out["import"]["seconds"] = time.perf_counter() - t0
arm = bpy.context.view_layer.objects.active
out["import"].update(describe(arm, frames))
out["objects_after_import"] = len(bpy.data.objects)

# ---- export FBX (Unreal, Unity) and GLB, then re-import each next to the original
out["export"] = {}
for kind, name in (("FBX_UNREAL", "clip_unreal.fbx"), ("FBX_UNITY", "clip_unity.fbx"), ("GLB", "clip.glb")):
    deselect()
    arm.select_set(True)
    bpy.context.view_layer.objects.active = arm
    before = importer.snapshot(bpy.context.scene)
    path = str(Path(args["tmp"]) / name)
    t0 = time.perf_counter()
    r = run_op(bpy.ops.motion_speech.export, filepath=path, kind=kind)
    r["seconds"] = time.perf_counter() - t0
    r["unchanged"] = importer.snapshot(bpy.context.scene) == before
    r["exists"] = Path(path).is_file()
    r.update(reimport(path))
    out["export"][kind] = r

# ---- reuse: a face-only import onto the selected rig keeps its body keys
deselect()
arm.select_set(True)
bpy.context.view_layer.objects.active = arm
n_objects = len(bpy.data.objects)
settings.parts = "face"
r = run_op(bpy.ops.motion_speech.import_motion, filepath=args["clip2"])
settings.parts = "both"
act = arm.animation_data.action
r["objects_added"] = len(bpy.data.objects) - n_objects
r["pelvis_keys"] = len(act.fcurves.find('pose.bones["pelvis"].rotation_quaternion', index=0).keyframe_points)
r["jaw_keys"] = len(act.fcurves.find('pose.bones["jaw"].rotation_quaternion', index=0).keyframe_points)
r["range"] = [bpy.context.scene.frame_start, bpy.context.scene.frame_end]
out["reuse_face"] = r

# ---- other flavours of the same motion, each on a new character
out["flavours"] = {}
for flavour, path in args["flavours"].items():
    deselect()
    r = run_op(bpy.ops.motion_speech.import_motion, filepath=path)
    if not r["error"]:
        r.update(describe(bpy.context.view_layer.objects.active, frames))
    out["flavours"][flavour] = r
# the Z-up capture's rig (object turned -90 X) exported for Unity lands on the same joints
zrig = bpy.data.objects[out["flavours"]["amass_z_up"]["name"]]
deselect()
zrig.select_set(True)
bpy.context.view_layer.objects.active = zrig
path = str(Path(args["tmp"]) / "clip_z_unity.fbx")
r = run_op(bpy.ops.motion_speech.export, filepath=path, kind="FBX_UNITY")
r.update(reimport(path))
out["export"]["z_up_unity"] = r

# ---- generate: the real toolkit, then failure cases; the scene must not change on failure
out["generate"] = {}
cases = [("real", args["toolkit"], args["wav"]), ("bad_audio", args["toolkit"], args["bad_wav"]),
         ("missing_audio", args["toolkit"], args["missing_wav"]), ("missing_env", args["missing_exe"], args["wav"]),
         ("no_weights", args["toolkit"], args["wav"]), ("bad_curve", args["toolkit"], args["wav"]),
         ("missing_curve", args["toolkit"], args["wav"])]
curves = {"bad_curve": "0:sad, 2:furious", "missing_curve": str(Path(args["tmp"]) / "no_keys.csv")}
for case, exe, audio in cases:
    deselect()
    prefs.toolkit_path = exe
    prefs.weights_dir = args["missing_weights"] if case == "no_weights" else ""
    settings.audio = audio
    settings.emotion, settings.seed = "happy", 3
    settings.emotion_curve = curves.get(case, "")
    before = importer.snapshot(bpy.context.scene)
    t0 = time.perf_counter()
    r = run_op(bpy.ops.motion_speech.generate)
    r["seconds"] = time.perf_counter() - t0
    r["last_error"] = state.last_error
    r["unchanged"] = importer.snapshot(bpy.context.scene) == before
    r["running"] = state.running
    if case == "real" and r["result"] == ["FINISHED"]:
        import numpy as np

        r["last_output"] = state.last_output
        with np.load(state.last_output) as z:
            r["npz_frames"] = int(z["poses"].shape[0])
            r["npz_expression_std"] = float(z["expressions"].std()) if "expressions" in z else 0.0
        r.update(describe(bpy.context.view_layer.objects.active, [1, 10]))
    out["generate"][case] = r
prefs.weights_dir, settings.emotion_curve = "", ""

# ---- generate: success path with a stand-in toolkit speaking the same command line
deselect()
prefs.toolkit_path = args["fake_exe"]
settings.audio = args["wav"]
settings.emotion, settings.intensity, settings.style_mode, settings.speaker = "angry", 2.5, "SPEAKER", "3"
settings.seed, settings.steps = 7, 12
n_objects = len(bpy.data.objects)
r = run_op(bpy.ops.motion_speech.generate)
r["objects_added"] = len(bpy.data.objects) - n_objects
r["last_output"] = state.last_output
r["progress"] = state.progress
active = bpy.context.view_layer.objects.active
r["audio_prop"] = active.get("motion_speech_audio", "") if active else ""
r["frames"] = [bpy.context.scene.frame_start, bpy.context.scene.frame_end]
out["generate"]["stand_in"] = r

# ---- generate with an emotion curve (stand-in toolkit, its own job folder): passed as --emotion
deselect()
prefs.output_dir = str(Path(args["tmp"]) / "jobs_curve")
settings.emotion_curve = " 0:neutral, 1.5:angry@2.5 "
r = run_op(bpy.ops.motion_speech.generate)
r["last_output"] = state.last_output
out["generate"]["stand_in_curve"] = r
prefs.output_dir = str(Path(args["tmp"]) / "jobs")
settings.emotion_curve = ""

# ---- the panels draw (a layout stand-in that checks every property and operator name)
import types


class FakeLayout:
    use_property_split = use_property_decorate = enabled = True

    def __init__(self, log):
        self.log = log

    def column(self, **kw):
        return self

    row = box = column

    def label(self, **kw):
        self.log.append(("label", kw.get("text", "")))

    def progress(self, **kw):
        self.log.append(("progress", kw.get("factor")))

    def separator(self, **kw):
        pass

    def prop(self, data, name, **kw):
        assert name in data.bl_rna.properties.keys(), f"no property {name!r}"
        self.log.append(("prop", name))

    def operator(self, idname, **kw):
        cat, op = idname.split(".")
        assert hasattr(getattr(bpy.ops, cat), op), f"no operator {idname}"
        self.log.append(("operator", idname))


out["draw"] = {}
for tag, running in (("idle", False), ("running", True)):
    log = []
    state.running, state.progress, state.status = running, 0.4, "sampling: 40%"
    state.last_error = "" if running else "motion generate failed (exit 1): no trained body weights found"
    settings.style_mode = "SPEAKER"
    for cls in (bpy.types.VIEW3D_PT_motion_speech, bpy.types.VIEW3D_PT_motion_speech_files):
        cls.draw(types.SimpleNamespace(layout=FakeLayout(log)), bpy.context)
    out["draw"][tag] = log
state.running, state.last_error, settings.style_mode = False, "", "AUDIO"
log = []
type(prefs).draw(types.SimpleNamespace(layout=FakeLayout(log), bl_rna=prefs.bl_rna), bpy.context)
out["draw"]["prefs"] = log

# ---- the modal operator's controller: progress while running, then the Cancel button
ops = importlib.import_module(ADDON + ".ops")
import os
os.environ["FAKE_DELAY"] = "0.3"
deselect()
prefs.toolkit_path = args["fake_exe"]
before = importer.snapshot(bpy.context.scene)
gen = ops.Generation.start(bpy.context)
seen, deadline, timed_out = [], time.monotonic() + 120.0, False  # the stand-in needs 3 s uncancelled
while not gen.tick(bpy.context):
    if state.progress > 0:
        seen.append(state.progress)
    if len(seen) >= 3:
        pid = gen.job.proc.pid
        state.cancel_requested = True  # what the panel's Cancel button does
    if time.monotonic() > deadline:
        timed_out = True
        gen.job.cancel()
        break
    time.sleep(0.05)
result, reports = gen.finish(bpy.context)
try:
    os.kill(pid, 0)
    alive = True
except ProcessLookupError:
    alive = False
out["controller"] = {"progress": seen, "result": sorted(result), "reports": reports, "alive": alive,
                     "timed_out": timed_out, "running": state.running,
                     "unchanged": importer.snapshot(bpy.context.scene) == before}
os.environ["FAKE_DELAY"] = "0"

# ---- a rig built like the SMPL-X add-on's: an extra 'root' bone, bones pointing up (+Z)
# with roll 0 at the rest joints, expression shape keys Exp000...
sd = importlib.import_module(ADDON + ".smplx_data")
rig = importlib.import_module(ADDON + ".rig")
model = sd.load_body_model(state.model_path)
_, J = sd.rest_shape(model, sd.read_motion(args["clip"]).betas)
deselect()
adata = bpy.data.armatures.new("SMPLX-neutral")
aobj = bpy.data.objects.new("SMPLX-neutral", adata)
bpy.context.scene.collection.objects.link(aobj)
bpy.context.view_layer.objects.active = aobj
bpy.ops.object.mode_set(mode="EDIT")
root = adata.edit_bones.new("root")
root.head, root.tail = (0.0, 0.0, 0.0), (0.0, 0.0, 0.1)
for i, name in enumerate(rig.JOINT_NAMES):
    eb = adata.edit_bones.new(name)
    x, y, z = J[i]
    eb.head, eb.tail = (x, -z, y), (x, -z, y + 0.1)
    eb.roll = 0.0
    eb.parent = adata.edit_bones["root" if i == 0 else rig.JOINT_NAMES[rig.PARENTS[i]]]
bpy.ops.object.mode_set(mode="OBJECT")
me = bpy.data.meshes.new("SMPLX-mesh-neutral")
me.from_pydata([(0, 0, 0), (0.1, 0, 0), (0, 0.1, 0)], [], [(0, 1, 2)])
mobj = bpy.data.objects.new("SMPLX-mesh-neutral", me)
bpy.context.scene.collection.objects.link(mobj)
mobj.parent = aobj
mobj.shape_key_add(name="Basis")
for k in range(10):
    mobj.shape_key_add(name=f"Exp{k:03d}")
deselect()
aobj.select_set(True)
bpy.context.view_layer.objects.active = aobj
prefs.toolkit_path = args["toolkit"]
n_objects = len(bpy.data.objects)
r = run_op(bpy.ops.motion_speech.import_motion, filepath=args["clip"])
r["objects_added"] = len(bpy.data.objects) - n_objects
r["joints"] = joints_at(aobj, frames)
kact = me.shape_keys.animation_data.action
r["exp_curves"] = sorted(fc.data_path for fc in kact.fcurves)
r["exp_values"] = {f: [fc.evaluate(f) for fc in kact.fcurves if fc.data_path == 'key_blocks["Exp002"].value'][0]
                   for f in frames}
out["smplx_addon_rig"] = r

# ---- a 60 s animation
deselect()
t0 = time.perf_counter()
r = run_op(bpy.ops.motion_speech.import_motion, filepath=args["long"])
r["seconds"] = time.perf_counter() - t0
arm_long = bpy.context.view_layer.objects.active
r["keys_per_curve"] = sorted({len(fc.keyframe_points) for fc in arm_long.animation_data.action.fcurves})
r["range"] = [bpy.context.scene.frame_start, bpy.context.scene.frame_end]
out["long"] = r

# ---- a small Workbench still of the first character mid-animation
spec = importlib.util.spec_from_file_location("render_still", args["render_script"])
still = importlib.util.module_from_spec(spec)
spec.loader.exec_module(still)
for o in list(bpy.data.objects):
    if o.type in ("ARMATURE", "MESH") and o not in (arm, importer.rig_mesh(arm)):
        bpy.data.objects.remove(o)
scene = bpy.context.scene
scene.frame_set(frames[1])
t0 = time.perf_counter()
still.stage(scene, importer.rig_mesh(arm))
still.render_views(scene, arm, importer.rig_mesh(arm), args["still"], (120, 160))
out["still"] = {"seconds": time.perf_counter() - t0}
print("RESULT" + json.dumps(out), flush=True)
# bpy 4.2.23 (the PyPI module) crashes in its exit handler after any glTF export, even of a
# bare monkey; leave without running it.
import os
os._exit(0)
'''

FAKE_TOOLKIT = '''#!{python}
"""A stand-in for the `motion` command: same command line, canned output."""
import json, os, shutil, sys, time
argv = sys.argv[1:]
with open({log!r}, "a") as f:
    f.write(json.dumps(argv) + "\\n")
if argv[:1] == ["--version"]:
    print("motion 0.0-stand-in")
elif argv[:1] == ["models"]:
    print("Models folder: stand-in\\n  SMPL-X neutral   {model}")
elif argv[:1] == ["generate"] and "--help" in argv:
    print("usage: motion generate AUDIO [--emotion E] [--intensity I] [--style S] [--seed N] [--steps K] "
          "[--fps F] [--parts {{both,body,face}}] -o OUT")
elif argv[:1] == ["generate"]:
    out = argv[argv.index("-o") + 1]
    delay = float(os.environ.get("FAKE_DELAY", "0"))
    for k in range(1, 11):
        sys.stderr.write("\\rsampling: %3d%%|%s%s| %d/10" % (10 * k, "#" * k, " " * (10 - k), k))
        sys.stderr.flush()
        time.sleep(delay)
    shutil.copy({clip!r}, out)
else:
    sys.exit(2)
'''


def _skip_without_bpy() -> None:
    if not HAS_BPY:
        pytest.skip(NO_BPY)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny corpus; the shortest clip, another clip, and their audio."""
    from motion.synthetic.corpus.generate import generate_corpus

    root = tmp_path_factory.mktemp("addon_corpus") / "corpus"
    generate_corpus(root, size="tiny", progress=False, workers=1)
    clips = sorted((root / "beat_english_v2.0.0" / "smplxflame_30").glob("*.npz"))
    clips.sort(key=lambda p: p.stat().st_size)
    clip, clip2 = clips[len(clips) // 2], clips[0]
    wav = root / "beat_english_v2.0.0" / "wave16k" / f"{clip.stem}.wav"
    return {"clip": clip, "clip2": clip2, "wav": wav, "short_wav": root / "beat_english_v2.0.0" / "wave16k" / f"{clip2.stem}.wav"}


@pytest.fixture(scope="module")
def standin_model() -> Path:
    """The stand-in SMPL-X .npz the toolkit uses (as the add-on finds it: `motion models`)."""
    return toolkit.model_file(str(MOTION_EXE))


def _fake_toolkit(folder: Path, clip: Path, model: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    exe, log = folder / "motion", folder / "calls.jsonl"
    exe.write_text(FAKE_TOOLKIT.format(python=sys.executable, log=str(log), model=str(model), clip=str(clip)))
    exe.chmod(0o755)
    return exe, log


def _flavours(clip: Path, tmp: Path) -> dict[str, str]:
    """The corpus clip as AMASS (Y up, as the toolkit writes it), AMASS Z up (a capture's
    axes: the whole body turned +90 degrees about X) and AMUSE."""
    from scipy.spatial.transform import Rotation

    from motion.bodymodels import load_body_model
    from motion.data.formats import read_motion
    from motion.export.npz import write_npz
    from motion.export._rest import rest_model

    m = read_motion(clip)
    j0 = rest_model(load_body_model(), m.betas).joints[0]
    out = {"amass": write_npz(m, tmp / "clip_amass.npz", format="amass", pelvis=j0),  # Z up, exact turn
           "amuse": write_npz(m, tmp / "clip_amuse.npz", format="amuse")}
    rx = Rotation.from_euler("x", 90, degrees=True)
    z = m.copy()
    z.poses[:, 0] = (rx * Rotation.from_rotvec(m.poses[:, 0])).as_rotvec()
    z.trans[:] = rx.apply(m.trans + j0) - j0
    out["amass_z_up"] = write_npz(z, tmp / "clip_amass_z.npz", format="amass", z_up=False)  # turned already
    return {k: str(v) for k, v in out.items()}


def _long_clip(clip: Path, path: Path, seconds: float = 60.0) -> Path:
    from motion.container import Motion
    from motion.data.formats import read_motion
    from motion.export.npz import write_npz

    m = read_motion(clip)
    reps = int(np.ceil(seconds * m.fps / m.num_frames))
    n = round(seconds * m.fps)
    long = Motion(poses=np.tile(m.poses, (reps, 1, 1))[:n], trans=np.tile(m.trans, (reps, 1))[:n], betas=m.betas,
                  expression=np.tile(m.expression, (reps, 1))[:n], fps=m.fps)
    return write_npz(long, path, format="beat2")


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory, corpus: dict[str, Path], standin_model: Path) -> dict[str, Any]:
    """Build the zip, run :data:`SCENARIO` in one Blender subprocess; returns its JSON and inputs."""
    _skip_without_bpy()
    build = _load_build()
    tmp = tmp_path_factory.mktemp("addon")
    t0 = time.perf_counter()
    zip_path = build.build(tmp / "dist")
    build_s = time.perf_counter() - t0
    bad_wav = tmp / "bad.wav"
    bad_wav.write_text("this is not audio\n")
    fake_exe, fake_log = _fake_toolkit(tmp / "fake", corpus["clip2"], standin_model)
    frames = [1, 20, 40]
    args = {
        "zip": str(zip_path), "toolkit": str(MOTION_EXE), "clip": str(corpus["clip"]), "clip2": str(corpus["clip2"]),
        "wav": str(corpus["short_wav"]), "bad_wav": str(bad_wav), "missing_wav": str(tmp / "missing.wav"),
        "missing_weights": str(tmp / "no-such-weights"),
        "missing_exe": str(tmp / "no_such_env" / "bin" / "motion"), "fake_exe": str(fake_exe),
        "flavours": _flavours(corpus["clip"], tmp), "long": str(_long_clip(corpus["clip"], tmp / "long.npz")),
        "joints": list(JOINTS), "frames": frames, "tmp": str(tmp), "still": str(tmp / "still.png"),
        "render_script": str(ADDON_SRC / "tools" / "render_still.py"),
    }
    script = tmp / "scenario.py"
    script.write_text(SCENARIO)
    (tmp / "args.json").write_text(json.dumps(args, indent=1))  # rerun by hand: python scenario.py "$(cat args.json)"
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(tmp / "blender-home"))
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, str(script), json.dumps(args)], capture_output=True, text=True,
                         timeout=600, env=env, cwd=tmp, check=False)
    assert res.returncode == 0, (res.stdout[-3000:], res.stderr[-3000:])
    line = next(x for x in res.stdout.splitlines() if x.startswith("RESULT"))
    out = json.loads(line[6:])
    out["_build_s"], out["_blender_s"] = build_s, time.perf_counter() - t0
    calls = [json.loads(x) for x in fake_log.read_text().splitlines()] if fake_log.is_file() else []
    return {"out": out, "args": args, "tmp": tmp, "zip": zip_path, "fake_calls": calls, "stdout": res.stdout}


def _to_smplx(p: Any, unit: float = 1.0) -> np.ndarray:
    """Blender world (Z up) -> SMPL-X (Y up), metres."""
    x, y, z = np.asarray(p, np.float64).T / unit
    return np.stack([x, z, -y], -1)


def _fk(clip: Path) -> np.ndarray:
    from motion.data.formats import read_motion

    return read_motion(clip).forward_kinematics().joints.detach().cpu().numpy().astype(np.float64)


def _worst(joints: dict[str, list[list[float]]], ref: dict[str, list[list[float]]], unit: float = 1.0) -> float:
    return max(float(np.abs(np.asarray(joints[f]) / unit - np.asarray(ref[f])).max()) for f in ref)


# --------------------------------------------------------------------------- build + install
def test_extension_builds_installs_and_registers(scenario: dict[str, Any]) -> None:
    import zipfile

    names = zipfile.ZipFile(scenario["zip"]).namelist()
    assert "blender_manifest.toml" in names and "__init__.py" in names and "rig.py" in names
    assert not any("__pycache__" in n for n in names)
    inst = scenario["out"]["install"]
    assert inst["result"] == ["FINISHED"] and inst["enabled"]
    assert all(inst["panels"]) and all(inst["operators"]) and inst["panel_category"] == "Motion"
    assert Path(inst["installed_in"]).is_relative_to(scenario["tmp"] / "blender-home")
    check = scenario["out"]["check"]
    assert check["result"] == ["FINISHED"] and check["report"].startswith("motion ")
    assert "SMPLX_NEUTRAL.npz" in check["report"]


def test_manifest_fields() -> None:
    import tomllib

    m = tomllib.loads((ADDON_SRC / "motion_speech" / "blender_manifest.toml").read_text())
    for key in ("schema_version", "id", "version", "name", "tagline", "maintainer", "license"):
        assert m[key]
    assert m["type"] == "add-on" and m["blender_version_min"] == "4.2.0" and m["id"] == "motion_speech"
    assert set(m["permissions"]) == {"files"}


# --------------------------------------------------------------------------- import
def test_import_keys_every_bone_frame_and_shape_key(scenario: dict[str, Any], corpus: dict[str, Path]) -> None:
    from motion.data.formats import read_motion

    r = scenario["out"]["import"]
    m = read_motion(corpus["clip"])
    assert r["result"] == ["FINISHED"], r["error"]
    assert r["bones"] == 55 and sorted(r["bone_names"]) == sorted(rig.JOINT_NAMES)
    assert r["keys_per_curve"] == [m.num_frames] and r["shape_keys_per_curve"] == [m.num_frames]
    assert r["rotation_curves"] == 55 * 4 and r["location_curves"] == 3
    assert r["shape_keys"][:4] == ["Basis", "smile", "frown", "lip_pucker"] and r["shape_curves"] == 50
    assert r["fps"] == [30, 1.0] and r["range"] == [1, m.num_frames]
    for f, vals in r["shape_values"].items():
        assert vals["smile"] == pytest.approx(m.expression[int(f) - 1, 0], abs=1e-4)
        assert vals["lip_pucker"] == pytest.approx(m.expression[int(f) - 1, 2], abs=1e-4)


def test_import_places_the_clip_audio(scenario: dict[str, Any], corpus: dict[str, Path]) -> None:
    r = scenario["out"]["import"]
    assert r["audio_prop"] == str(corpus["wav"].resolve())
    assert str(corpus["wav"].resolve()) in r["sounds"]
    if r["audaspace"]:
        assert [s[1:] for s in r["strips"]] == [["SOUND", 1.0]] and r["sync_mode"] == "AUDIO_SYNC"
    else:  # the PyPI bpy has no audio: the strip cannot exist, and the add-on says so
        assert r["strips"] == [] and "no audio support" in scenario["stdout"]


def _floor(clip: Path) -> float:
    """The toolkit's own floor offset of ``clip`` (``motion.export.floor``)."""
    from motion.bodymodels import load_body_model
    from motion.data.formats import read_motion
    from motion.export._rest import rest_model
    from motion.export.floor import floor_offset

    m = read_motion(clip)
    return floor_offset(m, rest_model(load_body_model(), m.betas))


def test_import_matches_forward_kinematics(scenario: dict[str, Any], corpus: dict[str, Path]) -> None:
    fk = _fk(corpus["clip"])
    fk[..., 1] += _floor(corpus["clip"])  # raised onto the floor, as the toolkit's exports
    idx = [rig.JOINT_INDEX[n] for n in JOINTS]
    ref = {f: fk[int(f) - 1, idx] for f in scenario["out"]["import"]["joints"]}
    got = {f: _to_smplx(v) for f, v in scenario["out"]["import"]["joints"].items()}
    worst = max(float(np.abs(got[f] - ref[f]).max()) for f in ref)
    assert worst < 1e-3, f"max joint error {worst * 1000:.3f} mm"


def test_import_stands_on_the_floor(scenario: dict[str, Any], corpus: dict[str, Path]) -> None:
    """The lowest skinned vertex is at z = 0 (the toolkit's floor logic); before, the feet stood ~1 m under it."""
    low = scenario["out"]["import"]["min_z"]
    assert min(low.values()) > -1e-3 and min(low.values()) < 0.02, low
    assert 0.5 < _floor(corpus["clip"]) < 1.5
    for flavour in ("amass", "amass_z_up", "amuse"):  # Z-up captures stand on the floor too
        r = scenario["out"]["flavours"][flavour]
        assert min(r["min_z"].values()) == pytest.approx(min(low.values()), abs=1e-4), flavour


def test_floor_offset_is_the_toolkits(corpus: dict[str, Path], standin_model: Path) -> None:
    """The add-on's numpy floor offset equals ``motion.export.floor.floor_offset`` (Y up and Z up)."""
    bm = smplx_data.load_body_model(standin_model)
    motion = smplx_data.read_motion(corpus["clip"])
    a = smplx_data.animation_arrays(motion, bm, 0)
    ref = _floor(corpus["clip"])
    assert smplx_data.floor_offset(bm, motion, a["quats"], a["root"]) == pytest.approx(ref, abs=1e-6)
    turn = np.array([np.sqrt(0.5), np.sqrt(0.5), 0.0, 0.0])  # +90 degrees about X: the body lies Z up
    quats = a["quats"].copy()
    quats[:, 0] = rig.qmul(turn[None], quats[:, 0])
    root = a["root"] @ smplx_data.quat_to_matrix(turn).T  # every point turned about the origin
    assert smplx_data.floor_offset(bm, motion, quats, root, "Z") == pytest.approx(ref, abs=1e-6)


@pytest.mark.parametrize("flavour", ("amass", "amass_z_up", "amuse"))
def test_other_flavours_land_on_the_same_joints(scenario: dict[str, Any], flavour: str) -> None:
    r = scenario["out"]["flavours"][flavour]
    base = scenario["out"]["import"]
    assert r["result"] == ["FINISHED"], r["error"]
    assert r["bones"] == 55 and r["keys_per_curve"] == base["keys_per_curve"] and r["fps"] == base["fps"]
    assert _worst(r["joints"], base["joints"]) < 1e-4
    assert (r["rotation"][0] == pytest.approx(-np.pi / 2)) == flavour.startswith("amass")  # AMASS is Z up
    if flavour == "amuse":  # no expressions in AMUSE files: keyed at zero
        assert all(v == 0.0 for vals in r["shape_values"].values() for v in vals.values())


def test_face_import_reuses_the_rig_and_keeps_body_keys(scenario: dict[str, Any], corpus: dict[str, Path]) -> None:
    from motion.data.formats import read_motion

    r = scenario["out"]["reuse_face"]
    assert r["result"] == ["FINISHED"] and r["objects_added"] == 0
    n1, n2 = read_motion(corpus["clip"]).num_frames, read_motion(corpus["clip2"]).num_frames
    assert r["pelvis_keys"] == n1 and r["jaw_keys"] == n2 and r["range"] == [1, n2]


def test_import_60s_animation_time(scenario: dict[str, Any]) -> None:
    r = scenario["out"]["long"]
    assert r["result"] == ["FINISHED"] and r["keys_per_curve"] == [1800] and r["range"] == [1, 1800]
    print(f"\nimport of a 60 s animation (1800 frames at 30 fps): {r['seconds']:.2f} s")  # a figure, not a test


# --------------------------------------------------------------------------- generate
def test_generate_with_the_real_toolkit(scenario: dict[str, Any]) -> None:
    """Generate runs the real `motion generate` (shipped weights) and imports the result."""
    r = scenario["out"]["generate"]["real"]
    assert not r["running"]
    assert r["result"] == ["FINISHED"], r["error"] or r["last_error"]
    assert not r["unchanged"] and not r["error"]
    T = r["npz_frames"]
    assert T > 30 and r["range"] == [1, T] and r["fps"] == [30, 1.0]
    assert r["bones"] == 55 and r["keys_per_curve"] == [T]
    assert r["rotation_curves"] == 55 * 4 and r["location_curves"] == 3
    assert r["shape_curves"] > 0 and r["shape_keys_per_curve"] == [T]  # the face is animated
    assert r["npz_expression_std"] > 0.0
    assert r["shape_values"]["1"] != r["shape_values"]["10"]
    if r["audaspace"]:  # PyPI bpy is built without audio: the strip is checked where it can be
        assert any(s[1] == "SOUND" for s in r["strips"])
    assert r["audio_prop"] == str(Path(scenario["args"]["wav"]).resolve())
    print(f"\nGenerate (real toolkit, {T} frames): {r['seconds']:.1f} s")


def test_generate_without_weights_reports_the_toolkit_message(scenario: dict[str, Any]) -> None:
    r = scenario["out"]["generate"]["no_weights"]
    assert r["result"] == ["CANCELLED"] and r["unchanged"] and not r["running"]
    assert "motion generate failed" in r["error"] and r["last_error"] in r["error"]
    assert "MOTION_WEIGHTS_DIR" in r["last_error"] and "is not a folder" in r["last_error"]


@pytest.mark.parametrize("case,message", [("bad_audio", "motion generate failed"),
                                          ("bad_curve", "key '2:furious': unknown emotion 'furious'"),
                                          ("missing_curve", "emotion-curve file not found"),
                                          ("missing_audio", "audio file not found"),
                                          ("missing_env", "toolkit executable not found")])
def test_generate_failures_are_reported_and_change_nothing(scenario: dict[str, Any], case: str, message: str) -> None:
    r = scenario["out"]["generate"][case]
    assert r["result"] == ["CANCELLED"] and message in r["error"] and message in r["last_error"]
    assert r["unchanged"] and not r["running"]
    if case == "missing_env":
        assert "Preferences" in r["error"]


def test_generate_success_path_imports_and_passes_the_controls(scenario: dict[str, Any], corpus: dict[str, Path]) -> None:
    r = scenario["out"]["generate"]["stand_in"]
    assert r["result"] == ["FINISHED"], r["error"]
    assert r["objects_added"] == 2 and r["progress"] == 1.0
    out = Path(r["last_output"])
    assert out.name == "motion.npz" and out.is_file()
    assert out.parent.parent == scenario["tmp"] / "jobs"  # the preferences' output folder, not the add-on's
    assert not out.is_relative_to(scenario["tmp"] / "blender-home")
    real = Path(scenario["out"]["generate"]["real"]["last_output"]).parent.name  # the real toolkit's run
    assert sorted(p.name for p in (scenario["tmp"] / "jobs").iterdir()) == sorted([out.parent.name, real])  # failed runs cleaned up
    assert r["audio_prop"] == str(Path(scenario["args"]["wav"]).resolve())
    gen = next(c for c in scenario["fake_calls"] if c[:1] == ["generate"] and "--help" not in c)
    assert gen[1] == scenario["args"]["wav"]
    flags = dict(zip(gen[2::2], gen[3::2]))
    assert flags == {"--emotion": "angry", "--intensity": "2.5", "--seed": "7", "--style": "3", "--steps": "12",
                     "-o": str(out)}


def test_generate_passes_the_emotion_curve_instead_of_emotion_and_intensity(scenario: dict[str, Any]) -> None:
    r = scenario["out"]["generate"]["stand_in_curve"]
    assert r["result"] == ["FINISHED"], r["error"]
    out = Path(r["last_output"])
    assert out.parent.parent == scenario["tmp"] / "jobs_curve" and out.is_file()
    gen = [c for c in scenario["fake_calls"] if c[:1] == ["generate"] and "-o" in c and c[c.index("-o") + 1] == str(out)]
    assert len(gen) == 1
    flags = dict(zip(gen[0][2::2], gen[0][3::2]))
    assert flags == {"--emotion": "0:neutral, 1.5:angry@2.5", "--seed": "7", "--style": "3", "--steps": "12",
                     "-o": str(out)}  # no --intensity: the curve's keys hold it


# --------------------------------------------------------------------------- export
def _gltf_world_joints(path: Path, names: tuple[str, ...], samples: list[int]) -> tuple[dict[int, np.ndarray], Any]:
    """World positions (glTF Y up) of the named joint nodes at animation samples, from the
    file itself (node TRS, animation channels, parents), plus the parsed file."""
    import pygltflib
    from scipy.spatial.transform import Rotation

    g = pygltflib.GLTF2().load(str(path))
    blob = g.binary_blob()

    def accessor(i: int) -> np.ndarray:
        a = g.accessors[i]
        bv = g.bufferViews[a.bufferView]
        n = {"SCALAR": 1, "VEC3": 3, "VEC4": 4}[a.type]
        return np.frombuffer(blob, np.float32, a.count * n, (bv.byteOffset or 0) + (a.byteOffset or 0)).reshape(a.count, n)

    parent = {c: i for i, n in enumerate(g.nodes) for c in (n.children or [])}
    anim = {(c.target.node, c.target.path): accessor(g.animations[0].samplers[c.sampler].output)
            for c in g.animations[0].channels}
    out = {}
    for k in samples:
        def world(i: int, k: int = k) -> np.ndarray:
            n = g.nodes[i]
            t = anim.get((i, "translation"), np.array([n.translation or [0.0, 0.0, 0.0]] * (k + 1)))[k]
            q = anim.get((i, "rotation"), np.array([n.rotation or [0.0, 0.0, 0.0, 1.0]] * (k + 1)))[k]
            m = np.eye(4)
            m[:3, :3], m[:3, 3] = Rotation.from_quat(q).as_matrix(), t
            return world(parent[i], k) @ m if i in parent else m
        index = {n.name: i for i, n in enumerate(g.nodes)}
        out[k] = np.array([world(index[n])[:3, 3] for n in names])
    return out, g


@pytest.mark.parametrize("kind,unit,name", [("FBX_UNREAL", 1.0, "Armature"), ("FBX_UNITY", 1.0, "SMPLX")])
def test_fbx_export_reimports_onto_the_same_joints(scenario: dict[str, Any], kind: str, unit: float, name: str) -> None:
    r = scenario["out"]["export"][kind]
    assert r["result"] == ["FINISHED"], r["error"]
    assert r["exists"] and r["unchanged"] and r["imported_bones"] == 56 and r["shape_keys"] == 51
    # first key at time 0: Blender's importer (default settings) puts it on frame 1, as the toolkit's FBX
    assert r["imported_name"].split(".")[0] == name and r["imported_range"][0] == 1.0
    worst = _worst(r["joints"], scenario["out"]["import"]["joints"], unit)
    assert worst < 1e-3, f"{kind}: max joint error {worst * 1000:.3f} mm"
    # a root bone on the floor (z = 0) under the pelvis, following it (root motion)
    assert r["bone_names"][0] == "root"
    for f, (root, pelvis) in r["root"].items():
        assert abs(root[2]) < 1e-4 and np.allclose(root[:2], pelvis[:2], atol=1e-4), (f, root, pelvis)


def test_fbx_export_of_a_z_up_capture(scenario: dict[str, Any]) -> None:
    r = scenario["out"]["export"]["z_up_unity"]
    assert r["result"] == ["FINISHED"], r["error"]
    worst = _worst(r["joints"], scenario["out"]["import"]["joints"])
    assert worst < 1e-3, f"max joint error {worst * 1000:.3f} mm"


def test_glb_export_holds_the_same_joints(scenario: dict[str, Any]) -> None:
    r = scenario["out"]["export"]["GLB"]
    assert r["result"] == ["FINISHED"], r["error"]
    assert r["exists"] and r["unchanged"] and r["imported_bones"] == 55 and r["shape_keys"] == 51
    base = scenario["out"]["import"]["joints"]
    assert r["imported_range"][0] == 0.0  # the first key at time 0, as the toolkit's own GLB
    worst = _worst(r["joints"], base)  # re-imported into Blender
    assert worst < 1e-3, f"GLB re-imported: max joint error {worst * 1000:.3f} mm"
    got, g = _gltf_world_joints(Path(scenario["args"]["tmp"]) / "clip.glb", JOINTS, [int(f) - 1 for f in base])
    worst = max(float(np.abs(got[int(f) - 1] - _to_smplx(v)).max()) for f, v in base.items())
    assert worst < 1e-3, f"GLB: max joint error {worst * 1000:.3f} mm"
    assert len(g.skins[0].joints) == 55 and len(g.meshes[0].primitives[0].targets) == 50


def test_panels_draw_every_control(scenario: dict[str, Any]) -> None:
    d = scenario["out"]["draw"]
    props = {x[1] for x in d["idle"] if x[0] == "prop"}
    assert {"audio", "emotion", "intensity", "emotion_curve", "style_mode", "speaker", "seed", "steps", "parts",
            "use_file_fps", "fps", "export_kind"} <= props
    ops_idle = {x[1] for x in d["idle"] if x[0] == "operator"}
    assert {"motion_speech.generate", "motion_speech.import_motion", "motion_speech.export"} <= ops_idle
    assert "no trained body weights found" in " ".join(x[1] for x in d["idle"] if x[0] == "label")  # wrapped
    assert ["progress", pytest.approx(0.4)] in d["running"] and ["operator", "motion_speech.cancel"] in d["running"]
    assert {"toolkit_path", "smplx_model", "weights_dir", "output_dir"} <= {x[1] for x in d["prefs"] if x[0] == "prop"}
    assert ["operator", "motion_speech.check_toolkit"] in d["prefs"]


def test_modal_controller_shows_progress_and_cancel_kills(scenario: dict[str, Any]) -> None:
    c = scenario["out"]["controller"]
    assert not c["timed_out"], "the modal controller did not finish within 120 s of starting (Cancel pressed)"
    assert len(c["progress"]) >= 3 and c["progress"] == sorted(c["progress"]) and 0 < c["progress"][0] < 1
    assert c["result"] == ["CANCELLED"] and c["reports"][0][0] == "WARNING" and "cancelled" in c["reports"][0][1]
    assert not c["alive"] and not c["running"] and c["unchanged"]
    assert max(c["progress"]) < 1.0  # cancelled before the stand-in reached its end (10 steps of 0.3 s)


def test_import_onto_a_smplx_addon_style_rig(scenario: dict[str, Any], corpus: dict[str, Path]) -> None:
    from motion.data.formats import read_motion

    r = scenario["out"]["smplx_addon_rig"]
    assert r["result"] == ["FINISHED"], r["error"]
    assert r["objects_added"] == 0
    worst = _worst(r["joints"], scenario["out"]["import"]["joints"])
    assert worst < 1e-4, f"max joint error {worst * 1000:.3f} mm"
    assert r["exp_curves"] == [f'key_blocks["Exp{k:03d}"].value' for k in range(10)]
    expr = read_motion(corpus["clip"]).expression
    for f, v in r["exp_values"].items():
        assert v == pytest.approx(expr[int(f) - 1, 2], abs=1e-4)


def test_still_renders_headless(scenario: dict[str, Any]) -> None:
    still = Path(scenario["args"]["still"])
    assert still.is_file() and still.stat().st_size > 2000


# --------------------------------------------------------------------------- numpy side, no Blender
def test_shared_constants_match_the_toolkit() -> None:
    from motion.bodymodels.names import EXPRESSION_NAMES
    from motion.export.fbx import PRESETS
    from motion.types import JOINT_NAMES, PARENTS

    assert rig.JOINT_NAMES == JOINT_NAMES and rig.PARENTS == PARENTS
    assert rig.STANDIN_EXPRESSION_NAMES == EXPRESSION_NAMES
    assert rig.FBX_PRESETS == {k: asdict(v) for k, v in PRESETS.items()}
    assert toolkit.EMOTIONS == __import__("motion.types", fromlist=["EMOTIONS"]).EMOTIONS


def test_rig_arrays_match_the_fbx_exporter(corpus: dict[str, Path], standin_model: Path) -> None:
    """The add-on's numpy preparation equals the toolkit exporter's (same skeleton, skin, keys)."""
    from motion.bodymodels import load_body_model
    from motion.data.formats import read_motion
    from motion.export._rest import rest_model
    from motion.export.fbx import bone_tails, prepare_rig

    m = read_motion(corpus["clip"])
    model = load_body_model()
    ref = prepare_rig(m, rest_model(model, m.betas), None, True, floor=False)
    bm = smplx_data.load_body_model(standin_model)
    motion = smplx_data.read_motion(corpus["clip"])
    d = smplx_data.character_arrays(bm, motion.betas, 50)
    a = smplx_data.animation_arrays(motion, bm, 50)
    assert motion.flavour == "beat2" and motion.up_axis == "Y" and motion.fps == 30.0
    np.testing.assert_allclose(d["heads"], ref["heads"], atol=1e-5)
    np.testing.assert_allclose(d["tails"], ref["tails"], atol=1e-5)
    np.testing.assert_array_equal(d["roll_axes"], ref["roll_axes"])
    np.testing.assert_allclose(d["vertices"], ref["vertices"], atol=1e-5)
    np.testing.assert_array_equal(d["faces"], ref["faces"])
    np.testing.assert_array_equal(d["w_vertex"], ref["w_vertex"])
    np.testing.assert_allclose(d["w_value"], ref["w_value"], atol=1e-6)
    np.testing.assert_allclose(d["shape_deltas"], ref["shape_deltas"], atol=1e-6)
    assert list(d["shape_names"]) == list(ref["shape_names"])
    np.testing.assert_allclose(np.abs(np.sum(a["quats"] * ref["quats"], -1)), 1.0, atol=1e-6)
    np.testing.assert_allclose(a["root"], ref["root"], atol=1e-5)
    np.testing.assert_allclose(a["expression"], ref["expression"], atol=1e-6)
    joints = np.random.default_rng(0).normal(size=(55, 3))
    for x, y in zip(rig.bone_tails(joints), bone_tails(joints)):
        np.testing.assert_array_equal(x, y)


def test_motion_files_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(smplx_data.MotionFileError, match="not found"):
        smplx_data.read_motion(tmp_path / "nope.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(smplx_data.MotionFileError, match="not a readable .npz"):
        smplx_data.read_motion(tmp_path / "text.npz")
    np.savez(tmp_path / "keys.npz", foo=np.zeros(3))
    with pytest.raises(smplx_data.MotionFileError, match="fit no known flavour"):
        smplx_data.read_motion(tmp_path / "keys.npz")
    np.savez(tmp_path / "shape.npz", poses=np.zeros((4, 160)), trans=np.zeros((4, 3)))
    with pytest.raises(smplx_data.MotionFileError, match=r"expected \('T', 165\)"):
        smplx_data.read_motion(tmp_path / "shape.npz")
    np.savez(tmp_path / "nan.npz", poses=np.full((4, 165), np.nan), trans=np.zeros((4, 3)))
    with pytest.raises(smplx_data.MotionFileError, match="NaN"):
        smplx_data.read_motion(tmp_path / "nan.npz")
    np.savez(tmp_path / "obj.npz", poses=np.zeros((4, 165)), trans=np.zeros((4, 3)),
             mocap_frame_rate=np.array({"a": 1}, dtype=object))
    with pytest.raises(smplx_data.MotionFileError, match="Python objects"):
        smplx_data.read_motion(tmp_path / "obj.npz")
    np.savez(tmp_path / "amass.npz", poses=np.zeros((4, 165)), trans=np.zeros((4, 3)), surface_model_type="smplx")
    with pytest.raises(smplx_data.MotionFileError, match="no frame rate"):
        smplx_data.read_motion(tmp_path / "amass.npz")


def test_amass_rates_split_keys_and_resampling(tmp_path: Path) -> None:
    T = 121
    np.savez(tmp_path / "old.npz", root_orient=np.zeros((T, 3)), pose_body=np.zeros((T, 63)), trans=np.zeros((T, 3)),
             mocap_framerate=np.array(120.0), betas=np.zeros(16))
    m = smplx_data.read_motion(tmp_path / "old.npz")
    assert (m.flavour, m.fps, m.num_frames) == ("amass", 120.0, T)
    r = m.resampled(30.0)
    assert r.num_frames == 30 and r.fps == 30.0  # round(121 * 30 / 120): the duration kept
    poses = np.zeros((2, 1, 3))
    poses[1, 0] = [0.0, np.pi / 2, 0.0]
    mid = addon_resample.resample_rotvecs(poses, 1.0, 2.0)[1, 0]
    np.testing.assert_allclose(mid, [0.0, np.pi / 4, 0.0], atol=1e-9)


# --------------------------------------------------------------------------- shared with the toolkit
def test_shared_modules_are_the_toolkits_copied_at_build_time() -> None:
    """The add-on's rig, resampling, floor and SMPL-X names are the toolkit's files, copied in by build.py; the
    source holds no copy of its own, and the toolkit does not import the add-on."""
    build = _load_build()
    assert set(build.SHARED) == {"rig.py", "resample.py", "floor.py", "smplx_names.py"}
    for name, src in build.SHARED.items():
        assert not (ADDON_SRC / "motion_speech" / name).exists(), f"{name}: a copy by hand in the add-on source"
        assert (ADDON_PKG / name).read_bytes() == src.read_bytes()
    imports_addon = re.compile(r"^\s*(from|import)\s+(blender_addon|motion_speech)\b|[\"']motion_speech[\"']\s*/", re.M)
    for path in (ROOT / "motion").rglob("*.py"):
        assert not imports_addon.search(path.read_text()), f"{path} reaches into the add-on"


def test_addon_resamples_as_the_toolkit(corpus: dict[str, Path]) -> None:
    """One frame convention: a 90-frame clip from 30 to 60 fps is 180 frames in both (the
    duration kept), with the same poses, translation and expression; and back to 30 fps."""
    from motion.container import Motion
    from motion.data.formats import read_motion

    m = read_motion(corpus["clip"])
    ours = Motion.concatenate([m, m.slice(0, max(1, 90 - m.num_frames))]).slice(0, 90)  # a 90-frame clip
    assert ours.fps == 30.0 and ours.num_frames == 90
    clip = corpus["clip"].parent / "clip90.npz"
    np.savez(clip, poses=ours.poses.reshape(90, -1), trans=ours.trans, betas=ours.betas,
             expressions=ours.expression, mocap_frame_rate=np.array(30.0))
    theirs = smplx_data.read_motion(clip)
    for fps, frames in ((60.0, 180), (24.0, 72), (30.0, 90)):
        a, b = ours.resample(fps), theirs.resampled(fps)
        assert a.num_frames == b.num_frames == frames and b.fps == fps
        np.testing.assert_allclose(b.poses, a.poses, atol=2e-6)
        np.testing.assert_allclose(b.trans, a.trans, atol=1e-6)
        np.testing.assert_allclose(b.expression, a.expression, atol=1e-6)
        # the same arrays in: the same numbers out (one implementation)
        np.testing.assert_array_equal(addon_resample.resample_rotvecs(ours.poses, 30.0, fps), a.poses)
        np.testing.assert_array_equal(addon_resample.resample_linear(ours.trans, 30.0, fps), a.trans)
    back = theirs.resampled(60.0).resampled(30.0)
    assert back.num_frames == 90
    np.testing.assert_allclose(back.poses, theirs.poses, atol=1e-6)


# --------------------------------------------------------------------------- toolkit runner, no Blender
def test_progress_parsing_and_options() -> None:
    assert toolkit.parse_progress("sampling:  45%|####      | 9/20 [00:01<00:01]") == pytest.approx(0.45)
    assert toolkit.parse_progress("step 3/12") == pytest.approx(0.25)
    assert toolkit.parse_progress("PROGRESS 0.7\n") == pytest.approx(0.7)
    assert toolkit.parse_progress("loading model") is None
    opts = toolkit.help_options("usage: motion generate AUDIO [--fps F] [--parts {both,body,face}] -o OUT")
    req = toolkit.GenerateRequest(audio="a.wav", emotion="sad", intensity=1.0, seed=3, parts="face", fps=24.0)
    args = toolkit.generate_args(req, Path("out.npz"), opts)
    assert args[:2] == ["generate", "a.wav"] and ["--parts", "face"] == args[args.index("--parts"):][:2]
    assert ["--fps", "24"] == args[args.index("--fps"):][:2] and args[-2:] == ["-o", "out.npz"]
    assert "--fps" not in toolkit.generate_args(req, Path("o.npz"), set())  # not offered: not passed
    assert toolkit.toolkit_command(str(sys.executable))[1:] == ["-m", "motion"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", "")
        with pytest.raises(toolkit.ToolkitError, match="not set"):
            toolkit.toolkit_command("")


def test_emotion_curve_requests(tmp_path: Path) -> None:
    wav = tmp_path / "a.wav"
    wav.write_bytes(b"RIFF")
    req = toolkit.GenerateRequest(audio=str(wav), emotion="sad", intensity=1.0, emotion_curve="0:sad@3, 4:happy")
    req.validate()
    args = toolkit.generate_args(req, Path("out.npz"), set())
    assert args[2:4] == ["--emotion", "0:sad@3, 4:happy"] and "--intensity" not in args and args.count("--emotion") == 1
    keys = tmp_path / "keys.json"
    with pytest.raises(toolkit.ToolkitError, match="emotion-curve file not found"):
        toolkit.GenerateRequest(audio=str(wav), emotion_curve=str(keys)).validate()
    keys.write_text("[]")
    toolkit.GenerateRequest(audio=str(wav), emotion_curve=str(keys)).validate()  # its content: the toolkit checks
    with pytest.raises(toolkit.ToolkitError, match="keys are TIME:LABEL"):
        toolkit.GenerateRequest(audio=str(wav), emotion_curve="sad then happy").validate()
    plain = toolkit.generate_args(toolkit.GenerateRequest(audio=str(wav), emotion="sad", emotion_curve="  "),
                                  Path("o.npz"), set())
    assert plain[2:6] == ["--emotion", "sad", "--intensity", "2"]  # an empty curve: the label as before


def test_job_reports_progress_and_cancel_kills_the_process(tmp_path: Path, corpus: dict[str, Path]) -> None:
    exe, _ = _fake_toolkit(tmp_path / "fake", corpus["clip2"], tmp_path / "model.npz")
    req = toolkit.GenerateRequest(audio=str(corpus["short_wav"]))
    env = dict(toolkit.toolkit_env(), FAKE_DELAY="0.02")
    job = toolkit.GenerateJob(str(exe), req, tmp_path / "job1", env=env)
    job.start()
    seen: list[float] = []

    def done() -> bool:
        if job.poll().done:
            return True
        if job.state.progress is not None:
            seen.append(job.state.progress)
        return False

    _wait_for(done, "the stand-in toolkit to finish (10 steps of 0.02 s)")
    assert job.state.ok and job.state.output == tmp_path / "job1" / "motion.npz" and job.output.is_file()
    assert seen == sorted(seen) and seen and seen[-1] >= 0.5
    slow = toolkit.GenerateJob(str(exe), req, tmp_path / "job2", env=dict(env, FAKE_DELAY="1.0"))
    slow.start()

    def generating() -> bool:
        assert not slow.poll().done, "the slow stand-in ended before it was cancelled"
        return slow.stage == "generate" and slow.state.progress is not None

    _wait_for(generating, "the slow stand-in to report progress")
    pid = slow.proc.pid if slow.proc else -1
    cancelled: list[Any] = []
    returned = threading.Event()
    threading.Thread(target=lambda: (cancelled.append(slow.cancel()), returned.set()), daemon=True).start()
    assert returned.wait(WAIT_S), f"GenerateJob.cancel() did not return within {WAIT_S:g} s"
    state = cancelled[0]
    assert state.done and not state.ok and state.error == "cancelled"
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not slow.output.exists()  # killed mid-way: uncancelled, it writes it after 10 steps of 1 s
