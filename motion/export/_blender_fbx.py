"""Blender side of the FBX exporter: run as ``python _blender_fbx.py '<json args>'``.

This script runs in a SUBPROCESS started by :mod:`motion.export.fbx` (``bpy`` is only ever
imported here, never in the toolkit's own process). It reads the rig and animation that
the parent prepared (an ``.npz``, see :func:`motion.export.fbx.prepare_rig`), builds an
armature + skinned mesh + expression shape keys + keyframes in an empty Blender scene and
writes the FBX with Blender's own exporter.

JSON arguments: ``data`` (npz path), ``out`` (FBX path), ``preset`` (a dict of
:class:`motion.export.fbx.FBXPreset` fields), ``save_blend`` (optional .blend path).

Exit status: 0 ok, 3 ``bpy`` cannot be imported (message on stderr starts with
``MOTION_NO_BPY``), 1 any other failure (traceback on stderr).

Coordinates: the npz holds SMPL-X coordinates (metres, Y up, the character facing +Z).
``preset["y_up_data"]`` False: the data is turned to Blender's Z up (``x, y, z -> x, -z, y``),
objects unrotated. True: the data stays Y up and the objects get a +90 degree X rotation,
which is what the SMPL-X add-on's "rotate -90 X, apply, rotate +90 X" produces.
``preset["scale"]`` multiplies all data (100: centimetres, the add-on's Unreal export).

The armature, mesh, shape keys, keys and FBX settings come from the module shared with the
Blender add-on, :mod:`motion.export.blender_rig` (loaded by path: numpy + bpy only; the add-on
gets a copy of it at build time).

Keys: pose bones get quaternion keys ``q_basis = A^-1 q_smplx A`` where ``A`` is the bone's
rest orientation expressed in SMPL-X axes, so Blender's chain
``P_j = P_parent @ Rest_parent^-1 @ Rest_j @ basis_j`` reproduces SMPL-X's
``G_j = G_parent @ [R_j | offset_j]`` exactly; the root bone's location key is its
displacement from the rest head in its rest frame.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

NO_BPY_EXIT = 3
#: The rig module shared with the Blender add-on (numpy + bpy only, no toolkit imports).
RIG_FILE = Path(__file__).resolve().with_name("blender_rig.py")


def load_rig() -> Any:
    """Load :data:`RIG_FILE` by path (the add-on package itself is not importable here), as the
    add-on holds it: a package ``motion_speech_rig`` whose ``rig`` finds ``smplx_names`` beside it."""
    import importlib.util
    import types

    names = RIG_FILE.parent.parent / "smplx_names.py"
    if not (RIG_FILE.is_file() and names.is_file()):
        raise FileNotFoundError(f"the shared rig modules {RIG_FILE} / {names} are missing")
    package = types.ModuleType("motion_speech_rig")
    package.__path__ = []  # a package of the two files loaded below
    sys.modules[package.__name__] = package
    module = None
    for name, path in (("smplx_names", names), ("rig", RIG_FILE)):
        spec = importlib.util.spec_from_file_location(f"{package.__name__}.{name}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return module


def build_scene(d: Any, preset: dict[str, Any]) -> tuple[Any, Any]:
    """Armature + skinned mesh + shape keys + keys from the npz ``d``; returns (armature, mesh)."""
    import bpy

    rig = load_rig()
    arm, mesh = rig.build_character(d, preset)
    bpy.context.view_layer.objects.active = arm
    arm.select_set(True)
    T = d["quats"].shape[0]
    # frames 0..T-1: Blender's FBX exporter writes frame f at time f / fps, so the first key is at 0
    rig.key_motion(arm, d["quats"], d["root"], y_up_data=bool(preset["y_up_data"]), scale=float(preset["scale"]),
                   action_name="motion", start=0, ground_root=bool(preset.get("root_bone")))
    rig.key_expressions(mesh, [str(n) for n in d["shape_names"]], d["expression"], action_name="expression",
                        start=0)
    rig.set_scene_timing(bpy.context.scene, float(d["fps"]), T, start=0)
    return arm, mesh


def export_fbx(path: str, arm: Any, mesh: Any, preset: dict[str, Any]) -> None:
    """Select the rig and write it with ``bpy.ops.export_scene.fbx`` (the preset's axes/scale)."""
    load_rig().export_fbx(path, arm, mesh, preset)


def main(argv: list[str]) -> int:
    """Entry point; see the module docstring for arguments and exit codes."""
    args = json.loads(argv[1])
    try:
        import bpy
    except ImportError as exc:
        print(f"MOTION_NO_BPY: cannot import bpy ({exc})", file=sys.stderr)
        return NO_BPY_EXIT
    import numpy as np

    bpy.ops.wm.read_factory_settings(use_empty=True)
    with np.load(args["data"], allow_pickle=False) as z:
        d = {k: z[k] for k in z.files}
    arm, mesh = build_scene(d, args["preset"])
    if args.get("save_blend"):
        bpy.ops.wm.save_as_mainfile(filepath=args["save_blend"])
    export_fbx(args["out"], arm, mesh, args["preset"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
