"""Export the selected SMPL-X character as FBX (Unreal / Unity / Blender presets) or GLB.

FBX uses the toolkit's FBX exporter settings (:data:`rig.FBX_PRESETS`, :func:`rig.export_fbx`)
and lands as the toolkit's does: the scene's first frame at time 0, and for Unity / Unreal a
``root`` bone on the floor under the pelvis carrying its horizontal motion (root motion).
For the Unity and Unreal presets the character is copied (armature, mesh, actions), the
copy's data is turned Y up ("bake -90 X") and, for Unreal, scaled x100 with its location
keys, and the copy's objects get +90 X: the SMPL-X add-on's recipe, so the root imports
unrotated into the engine. The copy is deleted afterwards; the scene is left as it was.
What is exported is what plays in Blender, including any edits to the keys.

GLB uses Blender's glTF exporter: Y up, skin, shape keys as morph targets, the active
actions sampled at every frame (only those: ``export_anim_single_armature`` is off, else the
exporter merges every armature action in the file into the animation).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import bpy
import numpy as np
from mathutils import Matrix

from . import rig

EXPORT_KINDS: tuple[tuple[str, str, str], ...] = (
    ("FBX_UNREAL", "FBX (Unreal)", "FBX for Unreal Engine: Y up data, +90 X objects, centimetres, armature 'Armature'"),
    ("FBX_UNITY", "FBX (Unity)", "FBX for Unity: Y up data, +90 X objects, metres"),
    ("FBX_BLENDER", "FBX (Blender)", "plain FBX: Z up, metres"),
    ("GLB", "glTF binary (.glb)", "glTF 2.0 binary: skinned mesh, morph targets, animation"),
)


class ExportFailed(RuntimeError):
    """An export that could not be written; the message is for the user."""


def _copy_character(arm: Any, mesh: Any) -> tuple[Any, Any, list[Any]]:
    """Copies of the armature and mesh objects with their own data and actions; also returns
    every new datablock (for deletion)."""
    new: list[Any] = []
    arm2 = arm.copy()
    arm2.data = arm.data.copy()
    new += [arm2, arm2.data]
    if arm.animation_data is not None and arm.animation_data.action is not None:
        act = arm.animation_data.action.copy()
        arm2.animation_data.action = act
        new.append(act)
    mesh2 = None
    if mesh is not None:
        mesh2 = mesh.copy()
        mesh2.data = mesh.data.copy()
        new += [mesh2, mesh2.data]  # the copied shape keys (Key) are freed with the mesh
        mesh2.parent = arm2
        mesh2.matrix_parent_inverse = Matrix.Identity(4)
        key2 = mesh2.data.shape_keys  # the copied Key still plays the original's action: give it its own
        if key2 is not None and key2.animation_data is not None and key2.animation_data.action is not None:
            kact = key2.animation_data.action.copy()
            key2.animation_data.action = kact
            new.append(kact)
        for mod in mesh2.modifiers:
            if mod.type == "ARMATURE":
                mod.object = arm2
    for obj in (arm2, mesh2):
        if obj is not None:
            bpy.context.scene.collection.objects.link(obj)
    return arm2, mesh2, new


def _scale_location_keys(arm: Any, factor: float) -> None:
    """Multiply every pose-bone location F-curve of ``arm``'s action by ``factor``."""
    ad = arm.animation_data
    if ad is None or ad.action is None:
        return
    fcurves = rig.fcurves_for(arm, ad.action)
    for fc in fcurves:
        if fc.data_path.startswith("pose.bones[") and fc.data_path.endswith(".location"):
            for kp in fc.keyframe_points:
                kp.co[1] *= factor
                kp.handle_left[1] *= factor
                kp.handle_right[1] *= factor
            fc.update()


def _actions(*owners: Any) -> list[Any]:
    """The actions of ``owners`` (objects, shape-key blocks; ``None`` skipped)."""
    return [o.animation_data.action for o in owners
            if o is not None and o.animation_data is not None and o.animation_data.action is not None]


def _shift_keys(owner: Any, action: Any, frames: float) -> None:
    """Move every key (and its handles) of ``owner``'s ``action`` by ``frames``."""
    for fc in rig.fcurves_for(owner, action):
        n = len(fc.keyframe_points)
        for prop in ("co", "handle_left", "handle_right"):
            xy = np.empty(2 * n, np.float32)
            fc.keyframe_points.foreach_get(prop, xy)
            xy[0::2] += frames
            fc.keyframe_points.foreach_set(prop, xy)
        fc.update()


def _add_ground_root(arm2: Any, to_data: Matrix, scale: float) -> None:
    """Give the (copied) armature a :data:`rig.ROOT_BONE` on the floor, parent of the pelvis, keyed
    with the pelvis's horizontal position (root motion, as the toolkit's engine presets).

    The floor is the world's ``z = 0`` (where imports stand); ``to_data`` maps world to the
    armature's data (Y up for the engine presets), so the root's head is the data origin.
    """
    bones = arm2.data.bones
    if rig.ROOT_BONE in bones or bones[rig.JOINT_NAMES[0]].parent is not None:
        return  # a rig with its own root (the SMPL-X add-on's): left as it is
    rot = np.array(to_data.to_3x3().normalized())
    up, front = rot @ [0.0, 0.0, 1.0], rot @ [0.0, -1.0, 0.0]  # the character faces -Y in Blender
    view_layer = bpy.context.view_layer
    view_layer.objects.active = arm2
    bpy.ops.object.mode_set(mode="EDIT")
    eb = arm2.data.edit_bones.new(rig.ROOT_BONE)
    eb.head, eb.tail = (0.0, 0.0, 0.0), tuple(up * 0.2 * scale)
    eb.align_roll(tuple(front))
    arm2.data.edit_bones[rig.JOINT_NAMES[0]].parent = eb
    bpy.ops.object.mode_set(mode="OBJECT")
    act = arm2.animation_data.action if arm2.animation_data is not None else None
    if act is None:
        return
    fcs = rig.fcurves_for(arm2, act)
    path = f'pose.bones["{rig.JOINT_NAMES[0]}"].location'
    curves = [fcs.find(path, index=i) for i in range(3)]
    if any(fc is None for fc in curves):
        return
    n = len(curves[0].keyframe_points)
    co = np.empty((3, 2 * n), np.float32)
    for i, fc in enumerate(curves):
        fc.keyframe_points.foreach_get("co", co[i])
    frames, loc = co[0, 0::2].astype(np.float64), co[:, 1::2].T.astype(np.float64)  # (n,), (n, 3)
    pel, rb = bones[rig.JOINT_NAMES[0]], bones[rig.ROOT_BONE]
    r0 = np.array(pel.matrix_local.to_3x3())
    pos = np.array(pel.head_local) + loc @ r0.T  # pelvis head in armature data, per key
    ground = pos - np.outer(pos @ up, up)
    rloc = (ground - np.array(rb.head_local)) @ np.array(rb.matrix_local.to_3x3())
    arm2.pose.bones[rig.ROOT_BONE].rotation_mode = "QUATERNION"
    for i in range(3):
        rig.key_curve(fcs, f'pose.bones["{rig.ROOT_BONE}"].location', i, frames, rloc[:, i], rig.ROOT_BONE)
        rig.key_curve(fcs, path, i, frames, ((pos - ground - np.array(pel.head_local)) @ r0)[:, i], rig.JOINT_NAMES[0])


def export_fbx(arm: Any, mesh: Any, path: str | Path, preset_name: str) -> Path:
    """Write the character as FBX with one of :data:`rig.FBX_PRESETS`.

    As the toolkit's FBX: the scene's first frame is written at time 0 (Blender's importer
    puts it on frame 1), and the engine presets get a floor-level ``root`` bone under the pelvis.

    Raises:
        ExportFailed: unknown preset, or Blender's exporter failed.
    """
    if preset_name not in rig.FBX_PRESETS:
        raise ExportFailed(f"unknown FBX preset {preset_name!r}; choose one of {', '.join(rig.FBX_PRESETS)}")
    preset = rig.FBX_PRESETS[preset_name]
    path = Path(path)
    scene = bpy.context.scene
    frame, frame_range = scene.frame_current, (scene.frame_start, scene.frame_end)
    selected = [o for o in bpy.context.view_layer.objects if o.select_get()]
    active = bpy.context.view_layer.objects.active
    arm2, mesh2, new = _copy_character(arm, mesh)
    renamed: tuple[Any, str] | None = None
    try:
        # data: the original world placement, then Z up -> Y up (-90 X) and the preset's scale
        scale = float(preset["scale"])
        to_data = Matrix.Scale(scale, 4)
        if preset["y_up_data"]:
            to_data = Matrix.Rotation(-math.pi / 2, 4, "X") @ to_data
        arm2.data.transform(to_data @ arm.matrix_world)
        if mesh2 is not None:
            mesh2.data.transform(to_data @ mesh.matrix_world, shape_keys=True)
        arm2.matrix_world = Matrix.Rotation(math.pi / 2, 4, "X") if preset["y_up_data"] else Matrix.Identity(4)
        if mesh2 is not None:
            mesh2.matrix_world = arm2.matrix_world.copy()
        if scale != 1.0:
            _scale_location_keys(arm2, scale)
        if preset.get("root_bone"):
            _add_ground_root(arm2, to_data, scale)
        # Blender's FBX exporter writes frame f at time f / fps: the scene's first frame goes to 0
        start = frame_range[0]
        for owner in (arm2, mesh2.data.shape_keys if mesh2 is not None else None):
            for act in _actions(owner):
                _shift_keys(owner, act, -float(start))
        scene.frame_start, scene.frame_end = 0, frame_range[1] - start
        want = str(preset["armature_name"])
        if want in bpy.data.objects and bpy.data.objects[want] is not arm2:
            other = bpy.data.objects[want]
            renamed = (other, other.name)
            other.name = f"{want}.motion_speech_tmp"
        arm2.name = want
        bpy.context.view_layer.update()
        path.parent.mkdir(parents=True, exist_ok=True)
        rig.export_fbx(str(path), arm2, mesh2 if mesh2 is not None else arm2, preset)
    except (RuntimeError, ValueError, OSError) as exc:
        raise ExportFailed(f"FBX export failed: {exc}") from exc
    finally:
        bpy.data.batch_remove(new)
        scene.frame_start, scene.frame_end = frame_range
        if renamed is not None:
            renamed[0].name = renamed[1]
        _restore_selection(selected, active)
        scene.frame_set(frame)
    return path


def export_glb(arm: Any, mesh: Any, path: str | Path) -> Path:
    """Write the character as binary glTF (``.glb``).

    Raises:
        ExportFailed: Blender's glTF exporter failed.
    """
    path = Path(path)
    selected = [o for o in bpy.context.view_layer.objects if o.select_get()]
    active = bpy.context.view_layer.objects.active
    frame = bpy.context.scene.frame_current
    placed = [(o, o.matrix_basis.copy()) for o in (arm, mesh) if o is not None]
    try:
        bpy.ops.object.select_all(action="DESELECT")
        arm.select_set(True)
        if mesh is not None:
            mesh.select_set(True)
        bpy.context.view_layer.objects.active = arm
        path.parent.mkdir(parents=True, exist_ok=True)
        res = bpy.ops.export_scene.gltf(
            filepath=str(path), export_format="GLB", use_selection=True, export_yup=True, export_apply=False,
            export_animations=True, export_animation_mode="ACTIVE_ACTIONS", export_force_sampling=True,
            export_optimize_animation_size=False, export_frame_range=True, export_skins=True,
            export_def_bones=False, export_morph=True, export_morph_animation=True,
            # the scene's first frame at time 0, as the toolkit's own GLB (glTF keys are seconds)
            export_anim_slide_to_zero=True,
            # default True: with one armature, every armature action in the file is merged in
            export_anim_single_armature=False,
        )
        if "FINISHED" not in res:
            raise ExportFailed(f"Blender's glTF exporter returned {res}")
    except (RuntimeError, ValueError, OSError) as exc:
        raise ExportFailed(f"GLB export failed: {exc}") from exc
    finally:  # the glTF exporter samples by setting frames and actions: put everything back
        for obj, basis in placed:
            obj.matrix_basis = basis
        _restore_selection(selected, active)
        bpy.context.scene.frame_set(frame)
    return path


def export_character(arm: Any, mesh: Any, path: str | Path, kind: str) -> Path:
    """Export with one of :data:`EXPORT_KINDS` (``FBX_UNREAL`` / ``FBX_UNITY`` / ``FBX_BLENDER`` / ``GLB``)."""
    if kind == "GLB":
        return export_glb(arm, mesh, path)
    if kind.startswith("FBX_"):
        return export_fbx(arm, mesh, path, kind[4:].lower())
    raise ExportFailed(f"unknown export kind {kind!r}")


def suffix_for(kind: str) -> str:
    """The file suffix of an export kind."""
    return ".glb" if kind == "GLB" else ".fbx"


def _restore_selection(selected: list[Any], active: Any) -> None:
    for obj in bpy.context.view_layer.objects:
        obj.select_set(obj in selected)
    bpy.context.view_layer.objects.active = active
