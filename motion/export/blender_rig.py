"""The SMPL-X character in Blender: numpy maths plus the ``bpy`` code that builds and keys it.

Shared by the toolkit's FBX exporter (``motion/export/_blender_fbx.py`` loads this file by
path inside Blender) and the Blender add-on (``blender_addon/build.py`` copies it into the
extension as ``motion_speech/rig.py``), so the two build the same armature, mesh, shape keys
and keys with the same FBX settings. Self-contained on purpose: only numpy at module level,
``bpy`` / ``mathutils`` imported inside the functions that need them, and no import from
the add-on package or from the toolkit.

Coordinates: arrays come in SMPL-X space (metres, Y up, the character facing +Z). A
preset's ``y_up_data`` False turns the data to Blender's Z up (``x, y, z -> x, -z, y``)
with unrotated objects; True keeps the data Y up and rotates the objects +90 degrees
about X (the SMPL-X add-on's "bake -90 X, set +90 X" recipe for game engines).
``scale`` multiplies all data (100: centimetres).

Keys: pose bones get quaternion keys ``q_basis = A^-1 q_smplx A``, ``A`` the bone's rest
orientation in SMPL-X axes, so Blender's chain ``P_j = P_parent Rest_parent^-1 Rest_j
basis_j`` reproduces SMPL-X's ``G_j = G_parent [R_j | offset_j]`` exactly for any bone
rest orientation (this rig's, or the SMPL-X add-on's bones that point up); the root bone's
location key is its displacement from its rest head in its rest frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

try:  # the add-on's copy (motion_speech/rig.py) or a by-path load: smplx_names.py lies beside it
    from .smplx_names import JOINT_INDEX, JOINT_NAMES, NUM_JOINTS, PARENTS, STANDIN_EXPRESSION_NAMES
except ImportError:  # the toolkit's motion.export.blender_rig
    from motion.smplx_names import JOINT_INDEX, JOINT_NAMES, NUM_JOINTS, PARENTS, STANDIN_EXPRESSION_NAMES

#: Joints that belong to the face (keyed with "face", left out with "body").
FACE_JOINTS: tuple[int, ...] = (22, 23, 24)
#: Shape key sliders span [-SLIDER, SLIDER]; key values are clipped to it.
SLIDER = 10.0

#: FBX presets (== ``dataclasses.asdict`` of ``motion.export.fbx.PRESETS``). ``root_bone``: a
#: ``root`` bone on the floor under the pelvis (parent of ``pelvis``) that carries the
#: horizontal motion, as Unreal / Unity root motion expects. The unit header always matches
#: the coordinates: metres (``UnitScaleFactor`` 100) or, for ``scale`` 100, centimetres (1).
FBX_PRESETS: dict[str, dict[str, Any]] = {
    "blender": {"name": "blender", "y_up_data": False, "scale": 1.0, "axis_forward": "-Z", "axis_up": "Y",
                "apply_scale_options": "FBX_SCALE_NONE", "armature_name": "SMPLX", "root_bone": False},
    "unity": {"name": "unity", "y_up_data": True, "scale": 1.0, "axis_forward": "-Z", "axis_up": "Y",
              "apply_scale_options": "FBX_SCALE_ALL", "armature_name": "SMPLX", "root_bone": True},
    "unreal": {"name": "unreal", "y_up_data": True, "scale": 100.0, "axis_forward": "-Z", "axis_up": "Y",
               "apply_scale_options": "FBX_SCALE_ALL", "armature_name": "Armature", "root_bone": True},
}
#: Name of the floor-level root bone of the engine presets.
ROOT_BONE = "root"

#: SMPL-X (Y up) -> Blender (Z up): ``x, y, z -> x, -z, y``.
Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])

# --------------------------------------------------------------------------- numpy maths
_TAIL_CHILD: dict[str, str] = {
    "pelvis": "spine1", "spine1": "spine2", "spine2": "spine3", "spine3": "neck", "neck": "head",
    "left_hip": "left_knee", "left_knee": "left_ankle", "left_ankle": "left_foot",
    "left_collar": "left_shoulder", "left_shoulder": "left_elbow", "left_elbow": "left_wrist",
    "left_wrist": "left_middle1",
    **{f"left_{f}{k}": f"left_{f}{k + 1}" for f in ("index", "middle", "pinky", "ring", "thumb") for k in (1, 2)},
}
_TAIL_CHILD.update({k.replace("left_", "right_"): v.replace("left_", "right_") for k, v in list(_TAIL_CHILD.items())})


def bone_tails(joints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bone tails and roll reference axes for rest ``joints`` ``(55, 3)`` (Y up, facing +Z).

    Tails point at the bone's main child joint (pelvis -> spine1, wrist -> middle1, ...) or
    continue the parent bone for leaves (finger tips, feet); the head points up, the jaw
    forward-down, the eyes forward.

    Returns:
        ``tails`` ``(55, 3)`` (at least 5 mm from the head) and ``roll_axes`` ``(55, 3)``:
        unit vectors the bones' Z axes are aligned to (front, or up for bones pointing front).
    """
    j = np.asarray(joints, np.float64)
    neck_len = float(np.linalg.norm(j[JOINT_INDEX["head"]] - j[JOINT_INDEX["neck"]])) or 0.08
    tails = np.zeros_like(j)
    for i, name in enumerate(JOINT_NAMES):
        if name in _TAIL_CHILD:
            tails[i] = j[JOINT_INDEX[_TAIL_CHILD[name]]]
        elif name == "head":
            tails[i] = j[i] + [0.0, 1.5 * neck_len, 0.0]
        elif name == "jaw":
            tails[i] = j[i] + np.array([0.0, -0.5, 1.0]) / np.sqrt(1.25) * neck_len
        elif name.endswith("eye_smplhf"):
            tails[i] = j[i] + [0.0, 0.0, 0.25 * neck_len]
        else:  # finger tips, feet: continue the parent bone
            tails[i] = j[i] + (0.8 if "foot" not in name else 0.5) * (j[i] - j[PARENTS[i]])
        d = tails[i] - j[i]
        if np.linalg.norm(d) < 5e-3:
            tails[i] = j[i] + (d / np.linalg.norm(d) if np.linalg.norm(d) > 0 else np.array([0.0, 1.0, 0.0])) * 5e-3
    dirs = (tails - j) / np.linalg.norm(tails - j, axis=1, keepdims=True)
    front, up = np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0])
    roll = np.where((np.abs(dirs @ front) > 0.9)[:, None], up, front)
    return tails, roll


def qmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product of ``(..., 4)`` WXYZ quaternion arrays."""
    aw, ax, ay, az = np.moveaxis(np.asarray(a, np.float64), -1, 0)
    bw, bx, by, bz = np.moveaxis(np.asarray(b, np.float64), -1, 0)
    return np.stack([aw * bw - ax * bx - ay * by - az * bz, aw * bx + ax * bw + ay * bz - az * by,
                     aw * by - ax * bz + ay * bw + az * bx, aw * bz + ax * by - ay * bx + az * bw], -1)


def qconj(q: np.ndarray) -> np.ndarray:
    """Conjugate (= inverse for unit quaternions) of ``(..., 4)`` WXYZ quaternions."""
    return np.asarray(q, np.float64) * [1.0, -1.0, -1.0, -1.0]


def continuous_signs(q: np.ndarray) -> np.ndarray:
    """Flip signs of ``(T, ..., 4)`` quaternions so consecutive keys lie in one hemisphere."""
    q = np.array(q, np.float64)
    for t in range(1, len(q)):
        q[t][np.sum(q[t] * q[t - 1], -1) < 0] *= -1.0
    return q


def expression_names(n: int, standin: bool = False) -> list[str]:
    """Shape key names ``expression_000`` ...; the stand-in's first 20 get their semantic
    names (``smile``, ``blink_left`` ...), as the toolkit's exporters name them."""
    names = [f"expression_{k:03d}" for k in range(n)]
    if standin:
        names[: len(STANDIN_EXPRESSION_NAMES)] = STANDIN_EXPRESSION_NAMES[:n]
    return names


def data_axes(y_up_data: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(conv (3, 3), q_conv (4,))``: SMPL-X -> armature data axes as a matrix and a WXYZ quaternion."""
    if y_up_data:
        return np.eye(3), np.array([1.0, 0.0, 0.0, 0.0])
    return Z_UP.copy(), np.array([np.sqrt(0.5), np.sqrt(0.5), 0.0, 0.0])


# --------------------------------------------------------------------------- bpy: build
def build_character(d: Mapping[str, Any], preset: Mapping[str, Any], *, name: str | None = None,
                    collection: Any = None) -> tuple[Any, Any]:
    """Armature + skinned mesh + expression shape keys (no animation) from rig arrays.

    Args:
        d: ``joint_names`` (55,), ``parents`` (55,), ``heads``/``tails``/``roll_axes``
            (55, 3), ``vertices`` (V, 3), ``faces`` (F, 3), sparse skin weights
            ``w_vertex``/``w_joint``/``w_value`` (K,), ``shape_names`` (N,),
            ``shape_deltas`` (N, V, 3); SMPL-X space, metres.
        preset: ``y_up_data``, ``scale``, ``armature_name`` (see the module docstring).
        name: armature object name (default ``preset["armature_name"]``); the mesh is
            ``<name>-mesh`` (``SMPLX-mesh`` for the default name).
        collection: where to link the objects (default: the scene's master collection).

    Returns:
        ``(armature object, mesh object)``; the mesh is parented to the armature with an
        identity local transform and an Armature modifier.
    """
    import bpy
    from mathutils import Vector

    scale = float(preset["scale"])
    conv, _ = data_axes(bool(preset["y_up_data"]))
    obj_rot = (np.pi / 2, 0.0, 0.0) if preset["y_up_data"] else (0.0, 0.0, 0.0)

    def pts(a: Any) -> np.ndarray:
        return (np.asarray(a, np.float64) @ conv.T) * scale

    names = [str(n) for n in d["joint_names"]]
    parents = np.asarray(d["parents"]).astype(int)
    arm_name = name or str(preset["armature_name"])
    mesh_name = "SMPLX-mesh" if arm_name == "SMPLX" else f"{arm_name}-mesh"
    scene = bpy.context.scene
    coll = collection if collection is not None else scene.collection

    # ---- armature (edit mode: heads, tails toward the child joint, roll from a reference axis)
    arm_data = bpy.data.armatures.new(arm_name)
    arm = bpy.data.objects.new(arm_name, arm_data)
    coll.objects.link(arm)
    arm.rotation_mode = "XYZ"
    arm.rotation_euler = obj_rot
    view_layer = bpy.context.view_layer
    prev_active = view_layer.objects.active
    if prev_active is not None and prev_active.mode != "OBJECT":
        bpy.ops.object.mode_set(mode="OBJECT")
    view_layer.objects.active = arm
    arm.select_set(True)
    bpy.ops.object.mode_set(mode="EDIT")
    heads, tails, zref = pts(d["heads"]), pts(d["tails"]), np.asarray(d["roll_axes"]) @ conv.T
    root_eb = None
    if preset.get("root_bone"):  # on the floor at the origin, pointing up, facing front
        root_eb = arm_data.edit_bones.new(ROOT_BONE)
        root_eb.head, root_eb.tail = Vector(pts([0.0, 0.0, 0.0])), Vector(pts([0.0, 0.2, 0.0]))
        root_eb.align_roll(Vector(np.array([0.0, 0.0, 1.0]) @ conv.T))
    for j, bname in enumerate(names):
        eb = arm_data.edit_bones.new(bname)
        eb.head, eb.tail = Vector(heads[j]), Vector(tails[j])
        eb.align_roll(Vector(zref[j]))
        if parents[j] >= 0:
            eb.parent = arm_data.edit_bones[names[parents[j]]]
            eb.use_connect = False
        elif root_eb is not None:
            eb.parent = root_eb
            eb.use_connect = False
    bpy.ops.object.mode_set(mode="OBJECT")

    # ---- skinned mesh with one vertex group per joint
    me = bpy.data.meshes.new(mesh_name)
    verts = pts(d["vertices"])
    me.from_pydata(verts.tolist(), [], np.asarray(d["faces"]).astype(int).tolist())
    me.polygons.foreach_set("use_smooth", np.ones(len(me.polygons), bool))  # smooth shading, smooth FBX normals
    me.update()
    mesh = bpy.data.objects.new(mesh_name, me)
    coll.objects.link(mesh)
    mesh.parent = arm  # identity local transform: the mesh shares the armature's object transform
    mod = mesh.modifiers.new("Armature", "ARMATURE")
    mod.object = arm
    groups = [mesh.vertex_groups.new(name=n) for n in names]
    wv = np.asarray(d["w_vertex"]).astype(int)
    wj = np.asarray(d["w_joint"]).astype(int)
    ww = np.asarray(d["w_value"]).astype(float)
    for v, j, w in zip(wv.tolist(), wj.tolist(), ww.tolist()):
        groups[j].add([v], w, "REPLACE")

    # ---- expression shape keys (Basis + one per coefficient)
    shape_names = [str(n) for n in d["shape_names"]]
    if shape_names:
        mesh.shape_key_add(name="Basis", from_mix=False)
        deltas = np.asarray(d["shape_deltas"])
        for k, sname in enumerate(shape_names):
            sk = mesh.shape_key_add(name=sname, from_mix=False)
            sk.slider_min, sk.slider_max = -SLIDER, SLIDER
            sk.data.foreach_set("co", (verts + pts(deltas[k])).astype(np.float32).ravel())
    arm.select_set(False)
    return arm, mesh


# --------------------------------------------------------------------------- bpy: keys
def fcurves_for(owner: Any, action: Any) -> Any:
    """Assign ``action`` to ``owner`` and return the F-curve collection to key it with.

    Blender <= 4.3 keys through ``Action.fcurves``; 4.4 introduced slotted / layered actions
    and Blender 5 removed ``Action.fcurves`` (F-curves live in a channelbag of a keyframe
    strip, per slot). Only the 4.2 path is tested (``bpy==4.2.*`` is pinned: bpy 4.5+ wheels
    pin numpy<2); the layered path follows the 4.4+ API documentation.
    """
    import bpy

    if owner.animation_data is None:
        owner.animation_data_create()
    owner.animation_data.action = action
    if bpy.app.version < (4, 4, 0):
        return action.fcurves
    from bpy_extras import anim_utils  # Blender >= 4.4: slotted / layered actions

    slot = owner.animation_data.action_slot
    if slot is None:
        slot = action.slots.new(id_type=owner.id_type, name=owner.name)
        owner.animation_data.action_slot = slot
    return anim_utils.action_ensure_channelbag_for_slot(action, slot).fcurves


def key_curve(fcurves: Any, path: str, index: int, frames: np.ndarray, values: np.ndarray, group: str) -> Any:
    """One F-curve with a LINEAR key per frame (bulk ``foreach_set``); an existing F-curve of
    the same path and index is replaced."""
    old = fcurves.find(path, index=index)
    if old is not None:
        fcurves.remove(old)
    try:
        fc = fcurves.new(data_path=path, index=index, action_group=group)  # Blender <= 4.3: Action.fcurves
    except TypeError:  # channelbag F-curves (layered actions) take no action_group
        fc = fcurves.new(data_path=path, index=index)
    n = len(frames)
    fc.keyframe_points.add(n)
    fc.keyframe_points.foreach_set("co", np.stack([frames, values], 1).astype(np.float32).ravel())
    fc.keyframe_points.foreach_set("interpolation", [1] * n)  # 'LINEAR'
    fc.update()
    return fc


def _action(owner: Any, action_name: str | None, default: str) -> Any:
    """A new action named ``action_name``, or (``None``) the owner's current one / a new ``default``."""
    import bpy

    if action_name is None and owner.animation_data is not None and owner.animation_data.action is not None:
        return owner.animation_data.action
    return bpy.data.actions.new(action_name or default)


def key_motion(arm: Any, quats: np.ndarray, root: np.ndarray, *, y_up_data: bool = False, scale: float = 1.0,
               start: int = 1, joints: Iterable[int] | None = None, key_root: bool = True,
               action_name: str | None = "motion", ground_root: bool = False) -> Any:
    """Key the armature's SMPL-X bones: a quaternion per bone per frame and the root location.

    Args:
        arm: armature object with bones named :data:`JOINT_NAMES` (this module's rig, or
            the SMPL-X Blender add-on's), in any rest orientation.
        quats: ``(T, 55, 4)`` SMPL-X local rotations, WXYZ (mean pose included).
        root: ``(T, 3)`` pelvis position in SMPL-X space (``J_pelvis + trans``), metres.
        y_up_data, scale: how the armature data relates to SMPL-X space (see module docstring).
        start: frame of the first key (frames ``start .. start + T - 1``).
        joints: indices of the bones to key (default all 55).
        key_root: key the pelvis location.
        action_name: name of a new action; ``None`` keys into the armature's current action
            (replacing only the F-curves written here) or a new ``motion`` action.
        ground_root: also key the :data:`ROOT_BONE` (parent of the pelvis, rest head at the
            origin) with the pelvis's horizontal position, so it stays on the floor under the
            pelvis (root motion); the pelvis keys are then relative to it.

    Returns:
        The action.
    """
    conv, q_conv = data_axes(y_up_data)
    names = list(JOINT_NAMES)
    joints = list(range(NUM_JOINTS)) if joints is None else list(joints)
    quats = np.asarray(quats, np.float64)
    T = quats.shape[0]
    frames = np.arange(start, start + T, dtype=np.float64)
    bones = arm.data.bones
    rest_q = np.array([list(bones[n].matrix_local.to_quaternion()) for n in names])  # (55, 4) WXYZ
    a = qmul(qconj(q_conv)[None], rest_q)  # bone rest orientation in SMPL-X axes
    basis = continuous_signs(qmul(qmul(qconj(a)[None], quats), a[None]))  # (T, 55, 4)
    action = _action(arm, action_name, "motion")
    fcs = fcurves_for(arm, action)
    for j in joints:
        name = names[j]
        pb = arm.pose.bones[name]
        pb.rotation_mode = "QUATERNION"
        for i in range(4):
            key_curve(fcs, f'pose.bones["{name}"].rotation_quaternion', i, frames, basis[:, j, i], name)
    if key_root:
        pelvis = bones[names[0]]
        rest0 = np.array(pelvis.matrix_local.to_3x3())
        root_data = (np.asarray(root, np.float64) @ conv.T) * scale
        if ground_root:  # the root bone follows the pelvis on the floor; its rest head is the origin
            ground = np.asarray(root, np.float64) * [1.0, 0.0, 1.0]
            ground_data = (ground @ conv.T) * scale
            rb = bones[ROOT_BONE]
            arm.pose.bones[ROOT_BONE].rotation_mode = "QUATERNION"
            rloc = (ground_data - np.array(rb.head_local)) @ np.array(rb.matrix_local.to_3x3())
            for i in range(3):
                key_curve(fcs, f'pose.bones["{ROOT_BONE}"].location', i, frames, rloc[:, i], ROOT_BONE)
            root_data = root_data - ground_data
        loc = (root_data - np.array(pelvis.head_local)) @ rest0  # rest-frame displacement, (T, 3)
        for i in range(3):
            key_curve(fcs, f'pose.bones["{names[0]}"].location', i, frames, loc[:, i], names[0])
    return action


def key_expressions(mesh: Any, names: Sequence[str], values: np.ndarray, *, start: int = 1,
                    action_name: str | None = "expression") -> Any:
    """Key shape key values ``values`` ``(T, N)`` on the shape keys ``names`` of ``mesh``
    (names the mesh lacks are skipped; values clipped to the sliders' range).

    Returns:
        The action, or ``None`` when the mesh has no shape keys.
    """
    key = mesh.data.shape_keys
    if key is None or not len(names):
        return None
    values = np.clip(np.asarray(values, np.float64), -SLIDER, SLIDER)
    frames = np.arange(start, start + values.shape[0], dtype=np.float64)
    action = _action(key, action_name, "expression")
    kfc = fcurves_for(key, action)
    for k, sname in enumerate(names):
        if sname in key.key_blocks:
            key_curve(kfc, f'key_blocks["{sname}"].value', 0, frames, values[:, k], "expression")
    return action


def set_scene_timing(scene: Any, fps: float, num_frames: int, start: int = 1) -> None:
    """Scene rate ``fps`` (fractional rates through ``fps_base``) and frames ``start .. start + T - 1``."""
    base = max(1, round(float(fps)))
    scene.render.fps, scene.render.fps_base = base, base / float(fps)
    scene.frame_start, scene.frame_end = start, start + int(num_frames) - 1
    scene.frame_set(start)


# --------------------------------------------------------------------------- bpy: export
def export_fbx(path: str, arm: Any, mesh: Any, preset: Mapping[str, Any]) -> None:
    """Select the rig and write it with ``bpy.ops.export_scene.fbx`` (the preset's axes / scale)."""
    import bpy

    bpy.ops.object.select_all(action="DESELECT")
    arm.select_set(True)
    mesh.select_set(True)
    bpy.context.view_layer.objects.active = arm
    units = bpy.context.scene.unit_settings
    saved = (units.system, units.scale_length)
    if float(preset["scale"]) != 1.0:  # data in 1/scale metres: say so in the header (UnitScaleFactor)
        units.system, units.scale_length = "METRIC", 1.0 / float(preset["scale"])
    try:
        res = _fbx_operator(path, preset)
    finally:
        units.system, units.scale_length = saved
    if "FINISHED" not in res:
        raise RuntimeError(f"Blender's FBX exporter returned {res}")


def _fbx_operator(path: str, preset: Mapping[str, Any]) -> Any:
    """``bpy.ops.export_scene.fbx`` on the selection with the toolkit's settings."""
    import bpy

    return bpy.ops.export_scene.fbx(
        filepath=path, use_selection=True, object_types={"ARMATURE", "MESH"},
        axis_forward=preset["axis_forward"], axis_up=preset["axis_up"],
        apply_unit_scale=True, apply_scale_options=preset["apply_scale_options"], global_scale=1.0,
        add_leaf_bones=False, primary_bone_axis="Y", secondary_bone_axis="X", use_armature_deform_only=False,
        mesh_smooth_type="FACE", use_mesh_modifiers=False,
        bake_anim=True, bake_anim_use_all_bones=True, bake_anim_use_nla_strips=False,
        bake_anim_use_all_actions=False, bake_anim_force_startend_keying=True, bake_anim_step=1.0,
        bake_anim_simplify_factor=0.0,
    )
