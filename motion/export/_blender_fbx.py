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

Keys: pose bones get quaternion keys ``q_basis = A^-1 q_smplx A`` where ``A`` is the bone's
rest orientation expressed in SMPL-X axes, so Blender's chain
``P_j = P_parent @ Rest_parent^-1 @ Rest_j @ basis_j`` reproduces SMPL-X's
``G_j = G_parent @ [R_j | offset_j]`` exactly; the root bone's location key is its
displacement from the rest head in its rest frame.
"""

from __future__ import annotations

import json
import sys
from typing import Any

NO_BPY_EXIT = 3


def _qmul(a: Any, b: Any) -> Any:
    """Hamilton product of ``(..., 4)`` WXYZ quaternion arrays."""
    import numpy as np

    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack([aw * bw - ax * bx - ay * by - az * bz, aw * bx + ax * bw + ay * bz - az * by,
                     aw * by - ax * bz + ay * bw + az * bx, aw * bz + ax * by - ay * bx + az * bw], -1)


def _conj(q: Any) -> Any:
    return q * [1.0, -1.0, -1.0, -1.0]


def _fcurves(owner: Any, action: Any) -> Any:
    """The F-curve collection to key ``owner`` with ``action`` (Blender 4.2 and layered actions).

    Blender <= 4.3 keys through ``Action.fcurves``; 4.4 introduced slotted / layered actions
    and Blender 5 removed ``Action.fcurves`` (F-curves live in a channelbag of a keyframe
    strip, per slot). Only the 4.2 path is tested (``bpy==4.2.*`` is pinned: bpy 4.5+ wheels
    pin numpy<2); the layered path follows the 4.4+ API documentation.
    """
    import bpy

    owner.animation_data.action = action
    if bpy.app.version < (4, 4, 0):
        return action.fcurves
    from bpy_extras import anim_utils  # Blender >= 4.4: slotted / layered actions

    slot = owner.animation_data.action_slot
    if slot is None:
        slot = action.slots.new(id_type=owner.id_type, name=owner.name)
        owner.animation_data.action_slot = slot
    return anim_utils.action_ensure_channelbag_for_slot(action, slot).fcurves


def _key(fcurves: Any, path: str, index: int, frames: Any, values: Any, group: str) -> None:
    """One F-curve with a LINEAR key per frame (bulk ``foreach_set``)."""
    import numpy as np

    try:
        fc = fcurves.new(data_path=path, index=index, action_group=group)  # Blender <= 4.3: Action.fcurves
    except TypeError:  # channelbag F-curves (layered actions) take no action_group
        fc = fcurves.new(data_path=path, index=index)
    n = len(frames)
    fc.keyframe_points.add(n)
    fc.keyframe_points.foreach_set("co", np.stack([frames, values], 1).astype(np.float32).ravel())
    fc.keyframe_points.foreach_set("interpolation", [1] * n)  # 'LINEAR'
    fc.update()


def build_scene(d: Any, preset: dict[str, Any]) -> tuple[Any, Any]:
    """Armature + skinned mesh + shape keys + keys from the npz ``d``; returns (armature, mesh)."""
    import bpy
    import numpy as np
    from mathutils import Vector

    scale = float(preset["scale"])
    conv = np.eye(3) if preset["y_up_data"] else np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])
    q_conv = np.array([1.0, 0, 0, 0]) if preset["y_up_data"] else np.array([np.sqrt(0.5), np.sqrt(0.5), 0, 0])
    obj_rot = (np.pi / 2, 0.0, 0.0) if preset["y_up_data"] else (0.0, 0.0, 0.0)

    def pts(a: Any) -> Any:
        return (np.asarray(a, np.float64) @ conv.T) * scale

    names = [str(n) for n in d["joint_names"]]
    parents = d["parents"].astype(int)
    scene = bpy.context.scene

    # ---- armature (edit mode: heads, tails toward the child joint, roll from a reference axis)
    arm_data = bpy.data.armatures.new(preset["armature_name"])
    arm = bpy.data.objects.new(preset["armature_name"], arm_data)
    scene.collection.objects.link(arm)
    arm.rotation_mode = "XYZ"
    arm.rotation_euler = obj_rot
    bpy.context.view_layer.objects.active = arm
    arm.select_set(True)
    bpy.ops.object.mode_set(mode="EDIT")
    heads, tails, zref = pts(d["heads"]), pts(d["tails"]), d["roll_axes"] @ conv.T
    for j, name in enumerate(names):
        eb = arm_data.edit_bones.new(name)
        eb.head, eb.tail = Vector(heads[j]), Vector(tails[j])
        eb.align_roll(Vector(zref[j]))
        if parents[j] >= 0:
            eb.parent = arm_data.edit_bones[names[parents[j]]]
            eb.use_connect = False
    bpy.ops.object.mode_set(mode="OBJECT")

    # ---- skinned mesh with one vertex group per joint
    me = bpy.data.meshes.new("SMPLX-mesh")
    verts = pts(d["vertices"])
    me.from_pydata(verts.tolist(), [], d["faces"].astype(int).tolist())
    me.update()
    mesh = bpy.data.objects.new("SMPLX-mesh", me)
    scene.collection.objects.link(mesh)
    mesh.parent = arm  # identity local transform: the mesh shares the armature's object transform
    mod = mesh.modifiers.new("Armature", "ARMATURE")
    mod.object = arm
    groups = [mesh.vertex_groups.new(name=n) for n in names]
    wv, wj, ww = d["w_vertex"].astype(int), d["w_joint"].astype(int), d["w_value"].astype(float)
    for v, j, w in zip(wv.tolist(), wj.tolist(), ww.tolist()):
        groups[j].add([v], w, "REPLACE")

    # ---- expression shape keys (Basis + one per coefficient)
    shape_names = [str(n) for n in d["shape_names"]]
    if shape_names:
        mesh.shape_key_add(name="Basis", from_mix=False)
        for k, sname in enumerate(shape_names):
            sk = mesh.shape_key_add(name=sname, from_mix=False)
            sk.slider_min, sk.slider_max = -10.0, 10.0
            sk.data.foreach_set("co", (verts + pts(d["shape_deltas"][k])).astype(np.float32).ravel())

    # ---- keys: frames 1..T
    quats, root, expr = d["quats"], pts(d["root"]), d["expression"]
    T = quats.shape[0]
    frames = np.arange(1, T + 1, dtype=np.float64)
    bpy.context.view_layer.update()
    rest_q = np.array([list(arm_data.bones[n].matrix_local.to_quaternion()) for n in names])  # (55, 4) WXYZ
    a = _qmul(_conj(q_conv)[None], rest_q)  # bone rest orientation in SMPL-X axes
    basis = _qmul(_qmul(_conj(a)[None], quats), a[None])  # (T, 55, 4)
    for t in range(1, T):  # continuous signs: no long-way-round interpolation between keys
        basis[t][np.sum(basis[t] * basis[t - 1], -1) < 0] *= -1.0
    rest0 = np.array(arm_data.bones[names[0]].matrix_local.to_3x3())
    loc = (root - heads[0]) @ rest0  # rest-frame displacement of the root bone, (T, 3)
    arm.animation_data_create()
    fcs = _fcurves(arm, bpy.data.actions.new("motion"))
    for j, name in enumerate(names):
        pb = arm.pose.bones[name]
        pb.rotation_mode = "QUATERNION"
        for i in range(4):
            _key(fcs, f'pose.bones["{name}"].rotation_quaternion', i, frames, basis[:, j, i], name)
    for i in range(3):
        _key(fcs, f'pose.bones["{names[0]}"].location', i, frames, loc[:, i], names[0])
    if shape_names:
        key = me.shape_keys
        key.animation_data_create()
        kfc = _fcurves(key, bpy.data.actions.new("expression"))
        vals = np.clip(expr, -10.0, 10.0)
        for k, sname in enumerate(shape_names):
            _key(kfc, f'key_blocks["{sname}"].value', 0, frames, vals[:, k], "expression")

    # ---- scene timing: fps (fractional through fps_base), frames 1..T
    fps = float(d["fps"])
    base = max(1, round(fps))
    scene.render.fps, scene.render.fps_base = base, base / fps
    scene.frame_start, scene.frame_end = 1, T
    scene.frame_set(1)
    return arm, mesh


def export_fbx(path: str, arm: Any, mesh: Any, preset: dict[str, Any]) -> None:
    """Select the rig and write it with ``bpy.ops.export_scene.fbx`` (the preset's axes/scale)."""
    import bpy

    bpy.ops.object.select_all(action="DESELECT")
    arm.select_set(True)
    mesh.select_set(True)
    bpy.context.view_layer.objects.active = arm
    res = bpy.ops.export_scene.fbx(
        filepath=path, use_selection=True, object_types={"ARMATURE", "MESH"},
        axis_forward=preset["axis_forward"], axis_up=preset["axis_up"],
        apply_unit_scale=True, apply_scale_options=preset["apply_scale_options"], global_scale=1.0,
        add_leaf_bones=False, primary_bone_axis="Y", secondary_bone_axis="X", use_armature_deform_only=False,
        mesh_smooth_type="FACE", use_mesh_modifiers=False,
        bake_anim=True, bake_anim_use_all_bones=True, bake_anim_use_nla_strips=False,
        bake_anim_use_all_actions=False, bake_anim_force_startend_keying=True, bake_anim_step=1.0,
        bake_anim_simplify_factor=0.0,
    )
    if "FINISHED" not in res:
        raise RuntimeError(f"Blender's FBX exporter returned {res}")


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
