"""Put a motion file on an SMPL-X character in the current scene.

Everything that can fail (reading the motion, the SMPL-X model, shapes) happens before the
scene is touched, so a failed import leaves the scene as it was. Then the character is
built (:func:`rig.build_character`) or an existing SMPL-X rig is reused, keys are written
for all 55 bones (quaternions), the root location (raised so the character stands on the
floor, as in the toolkit's exports), the expression shape keys (jaw and eyes
are bones), the scene's frame rate and range are set, and the audio goes into the
sequencer at frame 1 with the scene's sync mode set to "Sync to Audio", so playback stays
in sync.

Reused rigs: an armature with bones named as the 55 SMPL-X joints, either one made here or
the SMPL-X Blender add-on's (Meshcapade / MPI: same bone names under an extra ``root``
bone, bones pointing up, expression shape keys ``Exp000``...). Keys are computed from each
bone's actual rest orientation, so both are keyed correctly.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bpy
import numpy as np

from . import rig
from .smplx_data import (
    BodyModel,
    MotionData,
    animation_arrays,
    character_arrays,
    floor_offset,
    load_body_model,
    read_motion,
)

#: Custom properties the add-on sets on armatures it builds or keys.
PROP_MODEL, PROP_SOURCE, PROP_AUDIO, PROP_UP = "motion_speech_model", "motion_speech_source", "motion_speech_audio", "motion_speech_up"
#: Name prefix of the sequencer sound strips the add-on adds (replaced on the next import).
STRIP_PREFIX = "speech:"
BLENDER_PRESET = rig.FBX_PRESETS["blender"]


@dataclass
class ImportOptions:
    """How to import.

    Attributes:
        parts: ``both`` / ``body`` (no jaw, eyes, expression) / ``face`` (jaw, eyes, expression only).
        fps: resample to this rate (0: keep the file's).
        up_axis: ``AUTO`` (told from the motion), ``Y`` or ``Z``.
        character: ``AUTO`` (the active SMPL-X rig if there is one, else a new one),
            ``NEW`` or ``ACTIVE``.
        num_shape_keys: expression shape keys of a new character.
        audio: audio file to place (empty: the one the motion records, if any).
        floor: stand the character on the floor: the root is raised by one constant so the
            lowest skinned vertex of the clip is at height 0 (as the toolkit's exports,
            :func:`smplx_data.floor_offset`); the translation is otherwise kept.
    """

    parts: str = "both"
    fps: float = 0.0
    up_axis: str = "AUTO"
    character: str = "AUTO"
    num_shape_keys: int = 50
    audio: str = ""
    floor: bool = True


@dataclass
class ImportResult:
    """What an import did."""

    armature: Any
    mesh: Any
    frames: int
    fps: float
    reused: bool
    audio: Path | None
    warnings: list[str]
    seconds: float


def is_smplx_rig(obj: Any) -> bool:
    """True for an armature that has a bone for each of the 55 SMPL-X joints."""
    if obj is None or obj.type != "ARMATURE":
        return False
    bones = obj.data.bones
    return all(n in bones for n in rig.JOINT_NAMES)


def active_rig(context: Any) -> Any:
    """The active object's SMPL-X armature (the object itself or its parent), or ``None``."""
    obj = context.view_layer.objects.active
    for cand in (obj, getattr(obj, "parent", None)):
        if is_smplx_rig(cand):
            return cand
    return None


def rig_mesh(arm: Any) -> Any:
    """The mesh skinned to ``arm`` (one with shape keys preferred), or ``None``."""
    meshes = [c for c in arm.children if c.type == "MESH"]
    meshes.sort(key=lambda m: m.data.shape_keys is None)
    return meshes[0] if meshes else None


def shape_key_targets(mesh: Any, n: int, standin: bool) -> list[str]:
    """Names of the shape keys that receive expression coefficients ``0..n-1`` on ``mesh``:
    this add-on's (``expression_000`` / stand-in names) or the SMPL-X add-on's ``Exp000``."""
    key = mesh.data.shape_keys if mesh is not None else None
    if key is None:
        return []
    ours = rig.expression_names(n, standin)
    if any(k in key.key_blocks for k in ours[:1] + [f"expression_{0:03d}"]):
        return ours
    if "Exp000" in key.key_blocks:
        return [f"Exp{k:03d}" for k in range(n)]
    return ours


def place_audio(scene: Any, path: Path, start: int = 1) -> str:
    """Put ``path`` in the sequencer at frame ``start`` (replacing the add-on's previous strip)
    and play with audio sync. Returns a warning ('' when none).

    Blender builds without Audaspace (the ``bpy`` module from PyPI) cannot make sound
    strips: the sound is then only loaded as a datablock and a warning is returned.
    """
    sound = bpy.data.sounds.load(str(path), check_existing=True)
    sound.use_fake_user = True  # kept in the .blend even without a strip
    if not bpy.app.build_options.audaspace:
        return (f"this Blender build has no audio support (Audaspace), so no sound strip was added; "
                f"the sound {path.name} is loaded as a datablock")
    se = scene.sequence_editor or scene.sequence_editor_create()
    strips = getattr(se, "strips", None) or se.sequences  # Blender 5 renamed sequences -> strips
    every = getattr(se, "strips_all", None) or se.sequences_all
    for strip in list(strips):
        if strip.name.startswith(STRIP_PREFIX):
            strips.remove(strip)
    used = {s.channel for s in every if s.frame_final_start <= start < s.frame_final_end}
    channel = next(c for c in range(1, 129) if c not in used)
    strips.new_sound(f"{STRIP_PREFIX}{path.stem}", str(path), channel, start)
    scene.sync_mode = "AUDIO_SYNC"
    return ""


def _joints_for(parts: str) -> tuple[list[int], bool, bool]:
    """(bones to key, key the root location, key expressions) for ``parts``."""
    face = list(rig.FACE_JOINTS)
    if parts == "body":
        return [j for j in range(rig.NUM_JOINTS) if j not in face], True, False
    if parts == "face":
        return face, False, True
    return list(range(rig.NUM_JOINTS)), True, True


def prepare(path: str | Path, model_path: str | Path, options: ImportOptions) -> tuple[MotionData, BodyModel]:
    """Read and check everything an import needs (no scene change).

    Raises:
        smplx_data.MotionFileError, smplx_data.ModelFileError, ValueError.
    """
    if options.parts not in ("both", "body", "face"):
        raise ValueError(f"parts must be both, body or face, got {options.parts!r}")
    motion = read_motion(path)
    if options.fps and options.fps > 0:
        motion = motion.resampled(float(options.fps))
    model = load_body_model(model_path)
    return motion, model


def import_motion(context: Any, path: str | Path, model_path: str | Path, options: ImportOptions) -> ImportResult:
    """Import the motion file ``path`` onto an SMPL-X character (see the module docstring).

    Raises:
        smplx_data.MotionFileError, smplx_data.ModelFileError, ValueError: nothing was changed.
    """
    t0 = time.perf_counter()
    motion, model = prepare(path, model_path, options)
    audio_path = Path(options.audio).expanduser() if options.audio else motion.recorded_audio()
    if audio_path is not None and not audio_path.is_file():
        raise ValueError(f"audio file not found: {audio_path}")
    arm = active_rig(context) if options.character in ("AUTO", "ACTIVE") else None
    if options.character == "ACTIVE" and arm is None:
        raise ValueError("the active object is not an SMPL-X armature (55 bones named as the SMPL-X joints)")
    reused = arm is not None
    n_keys = max(0, int(options.num_shape_keys))
    if reused:
        mesh = rig_mesh(arm)
    else:
        d = character_arrays(model, motion.betas, n_keys)
        arm, mesh = rig.build_character(d, BLENDER_PRESET, name="SMPLX", collection=context.collection)
        if mesh.data.shape_keys is not None:
            mesh.data.shape_keys.name = f"{arm.name}-expression"
        arm[PROP_MODEL] = str(model.path)
        if hasattr(mesh.data, "shade_smooth"):
            mesh.data.shade_smooth()
    try:
        stem = Path(path).stem
        up = motion.up_axis if options.up_axis == "AUTO" else options.up_axis
        if up == "Z":
            arm.rotation_mode = "XYZ"
            arm.rotation_euler = (-math.pi / 2, 0.0, 0.0)
            arm[PROP_UP] = "Z"
        elif arm.get(PROP_UP) == "Z":
            arm.rotation_euler = (0.0, 0.0, 0.0)
            arm[PROP_UP] = "Y"
        anim = animation_arrays(motion, model, n_keys)
        joints, key_root, key_face = _joints_for(options.parts)
        if options.floor and key_root:  # on the floor, as the toolkit's exports
            anim["root"][:, 2 if up == "Z" else 1] += floor_offset(model, motion, anim["quats"], anim["root"], up)
        merge = reused and options.parts != "both"
        rig.key_motion(arm, anim["quats"], anim["root"], y_up_data=False, scale=1.0, joints=joints,
                       key_root=key_root, action_name=None if merge else stem)
        if key_face and mesh is not None:
            names = shape_key_targets(mesh, n_keys, model.standin)
            rig.key_expressions(mesh, names, anim["expression"][:, : len(names)],
                                action_name=None if merge else f"{stem}-expression")
        arm[PROP_SOURCE] = str(Path(path).resolve())
        rig.set_scene_timing(context.scene, motion.fps, motion.num_frames)
        warnings: list[str] = []
        if audio_path is not None:
            arm[PROP_AUDIO] = str(audio_path.resolve())
            warn = place_audio(context.scene, audio_path.resolve())
            if warn:
                warnings.append(warn)
    except Exception:
        if not reused:  # leave no half-built character behind
            remove_character(arm, mesh)
        raise
    for obj in context.view_layer.objects:
        obj.select_set(False)
    arm.select_set(True)
    context.view_layer.objects.active = arm
    return ImportResult(armature=arm, mesh=mesh, frames=motion.num_frames, fps=motion.fps, reused=reused,
                        audio=audio_path, warnings=warnings, seconds=time.perf_counter() - t0)


def remove_character(arm: Any, mesh: Any) -> None:
    """Delete an armature and its mesh with their data and actions."""
    ids: list[Any] = []
    for obj in (mesh, arm):
        if obj is None:
            continue
        ad = obj.animation_data
        if ad is not None and ad.action is not None:
            ids.append(ad.action)
        if obj.type == "MESH" and obj.data.shape_keys is not None:
            kad = obj.data.shape_keys.animation_data
            if kad is not None and kad.action is not None:
                ids.append(kad.action)
        ids.append(obj.data)
        ids.append(obj)
    bpy.data.batch_remove(ids)


def snapshot(scene: Any) -> dict[str, Any]:
    """A comparable summary of the scene (objects with their placement and action, actions,
    meshes, timing, strips) for tests and checks."""
    se = scene.sequence_editor

    def placed(o: Any) -> list[Any]:
        ad = o.animation_data
        return [o.name, [round(x, 6) for row in o.matrix_world for x in row],
                ad.action.name if ad is not None and ad.action is not None else None]

    return {
        "objects": sorted(placed(o) for o in bpy.data.objects),
        "actions": sorted(a.name for a in bpy.data.actions),
        "meshes": sorted(m.name for m in bpy.data.meshes),
        "fps": [scene.render.fps, round(scene.render.fps_base, 9)],
        "range": [scene.frame_start, scene.frame_end],
        "strips": sorted(s.name for s in se.sequences_all) if se else [],
    }


def world_joints(arm: Any, names: list[str] | None = None) -> np.ndarray:
    """World positions ``(J, 3)`` of the pose bones' heads at the current frame."""
    names = list(rig.JOINT_NAMES) if names is None else names
    mw = arm.matrix_world
    return np.array([list(mw @ arm.pose.bones[n].head) for n in names])
