"""Blender side of ``tests/test_export_imports.py``: import files with default settings and measure.

Run as ``python import_probe.py '<json>'`` in a subprocess (``bpy`` is never imported by
the test process). JSON: ``{"files": [path, ...], "frames": K, "render": folder or null}``.
Prints one line ``PROBE{...}``: per path, what Blender's own importer (FBX, glTF, BVH; every
option at its default) made of it, in Blender's world (Z up, metres):

* ``min_z`` / ``height``: lowest world z and z extent of the evaluated (skinned) mesh, per
  frame of the first ``K`` frames of the action (BVH: bone heads and tails, no mesh);
* ``smooth``: share of polygons shaded smooth; ``first_key``: first key frame of the
  armature's action; ``frame_start`` / ``fps``: the scene after import; ``bones``;
* ``shape_keys`` (names, Basis left out), ``shape_curves`` (animated shape-key F-curves) and
  ``shape_values`` (every shape key's value per probed frame).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import bpy


def _import(path: str) -> None:
    if path.endswith(".fbx"):
        bpy.ops.import_scene.fbx(filepath=path)
    elif path.endswith((".glb", ".gltf")):
        bpy.ops.import_scene.gltf(filepath=path)
    elif path.endswith(".bvh"):
        bpy.ops.import_anim.bvh(filepath=path)
    else:
        raise ValueError(path)


def _points(arm: Any, mesh: Any) -> list[Any]:
    if mesh is not None:
        dg = bpy.context.evaluated_depsgraph_get()
        ev = mesh.evaluated_get(dg)
        mw = ev.matrix_world
        return [mw @ v.co for v in ev.data.vertices]
    mw = arm.matrix_world
    return [mw @ p for pb in arm.pose.bones for p in (pb.head, pb.tail)]


def probe(path: str, frames: int, render: str | None) -> dict[str, Any]:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    _import(path)
    arm = next(o for o in scene.objects if o.type == "ARMATURE")
    mesh = next((o for o in scene.objects if o.type == "MESH"), None)
    act = arm.animation_data.action
    first = int(round(act.frame_range[0]))
    out: dict[str, Any] = {"first_key": act.frame_range[0], "frame_start": scene.frame_start,
                           "fps": scene.render.fps / scene.render.fps_base, "bones": [b.name for b in arm.data.bones],
                           "smooth": (sum(p.use_smooth for p in mesh.data.polygons) / len(mesh.data.polygons))
                           if mesh is not None else None, "min_z": [], "height": []}
    key = mesh.data.shape_keys if mesh is not None else None
    out["shape_keys"] = [k.name for k in key.key_blocks[1:]] if key is not None else []
    kad = key.animation_data if key is not None else None
    out["shape_curves"] = len(kad.action.fcurves) if kad is not None and kad.action is not None else 0
    out["shape_values"] = []
    for f in range(first, first + frames):
        scene.frame_set(f)
        zs = [p.z for p in _points(arm, mesh)]
        out["min_z"].append(min(zs))
        out["height"].append(max(zs) - min(zs))
        out["shape_values"].append([k.value for k in key.key_blocks[1:]] if key is not None else [])
    if render:
        scene.frame_set(first)
        _render(path, render, arm, mesh)
    return out


def _render(path: str, folder: str, arm: Any, mesh: Any) -> None:
    """A small Workbench still of the import on a floor grid (front-left view)."""
    import math
    from pathlib import Path

    from mathutils import Vector

    scene = bpy.context.scene
    bpy.ops.mesh.primitive_plane_add(size=3.0, location=(0.0, 0.0, 0.0))
    cam_data = bpy.data.cameras.new("cam")
    cam = bpy.data.objects.new("cam", cam_data)
    scene.collection.objects.link(cam)
    pts = _points(arm, mesh)
    centre = sum(pts, Vector()) / len(pts)
    cam.location = centre + Vector((1.4, -2.6, 0.3))
    cam.rotation_euler = (Vector((0, 0, 0)) + (centre - cam.location)).to_track_quat("-Z", "Y").to_euler()
    cam_data.lens = 40
    scene.camera = cam
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.display.shading.light = "STUDIO"
    scene.display.shading.show_shadows = True
    scene.render.resolution_x, scene.render.resolution_y = 240, 320
    scene.render.film_transparent = False
    if mesh is None:  # armatures do not render: a small ball on every joint (BVH)
        for pb in arm.pose.bones:
            bpy.ops.mesh.primitive_uv_sphere_add(radius=0.025, segments=12, ring_count=6,
                                                 location=arm.matrix_world @ pb.head)
    scene.render.image_settings.file_format = "PNG"
    scene.render.filepath = str(Path(folder) / (Path(path).name.replace(".", "_") + ".png"))
    del math
    bpy.ops.render.render(write_still=True)


def main(argv: list[str]) -> int:
    args = json.loads(argv[1])
    res = {p: probe(p, int(args["frames"]), args.get("render")) for p in args["files"]}
    print("PROBE" + json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
