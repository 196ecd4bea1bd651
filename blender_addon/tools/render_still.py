"""Render a still of a motion imported by the add-on, headless with Workbench.

Run with a Python that has ``bpy`` (Blender 4.2 as a module), outside the toolkit's process::

    BLENDER_USER_RESOURCES=$(mktemp -d) python blender_addon/tools/render_still.py \
        '{"zip": "motion_speech-0.1.0.zip", "motion": "clip.npz", "out": "still.png",
          "toolkit": ".venv/bin/motion", "frame": null, "size": [600, 800]}'

Installs and enables the extension from ``zip``, imports ``motion`` with the add-on's
Import operator (the SMPL-X model comes from the toolkit's ``motion models``, or ``model``),
renders frame ``frame`` (default: the middle) twice with Workbench: the full body from the
front-left and a close-up of the face, side by side in one PNG.
Prints ``STILL <json>`` with the frame and timings.
"""

from __future__ import annotations

import json
import math
import sys
import time
from typing import Any

import bpy
import numpy as np
from mathutils import Vector

ADDON = "bl_ext.user_default.motion_speech"


def evaluated_bounds(obj: Any) -> tuple[np.ndarray, np.ndarray]:
    """World-space min / max corners of ``obj``'s evaluated (posed, shape-keyed) mesh."""
    dg = bpy.context.evaluated_depsgraph_get()
    ev = obj.evaluated_get(dg)
    me = ev.to_mesh()
    co = np.empty(len(me.vertices) * 3, np.float32)
    me.vertices.foreach_get("co", co)
    ev.to_mesh_clear()
    co = co.reshape(-1, 3) @ np.array(obj.matrix_world.to_3x3()).T + np.array(obj.matrix_world.translation)
    return co.min(0), co.max(0)


def stage(scene: Any, mesh: Any) -> None:
    """Workbench settings (studio light, shadows, cavity), a light background and a floor."""
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.render.resolution_percentage = 100
    scene.render.film_transparent = False
    scene.view_settings.view_transform = "Standard"
    scene.view_settings.exposure = 0.8
    shading = scene.display.shading
    shading.light = "STUDIO"
    shading.studio_light = "Default"
    shading.color_type = "OBJECT"
    shading.show_cavity = True
    shading.cavity_type = "WORLD"
    shading.show_shadows = True
    scene.display.shadow_focus = 0.3
    scene.display.light_direction = (0.3, 0.6, 0.75)
    world = scene.world or bpy.data.worlds.new("World")
    scene.world = world
    world.color = (0.5, 0.52, 0.56)
    mesh.color = (0.92, 0.74, 0.62, 1.0)
    lo, hi = evaluated_bounds(mesh)
    centre = (lo + hi) / 2
    floor_me = bpy.data.meshes.new("floor")
    s = 8.0
    floor_me.from_pydata([(-s, -s, 0), (s, -s, 0), (s, s, 0), (-s, s, 0)], [], [(0, 1, 2, 3)])
    floor = bpy.data.objects.new("floor", floor_me)
    floor.location = (centre[0], centre[1], lo[2])
    floor.color = (0.8, 0.8, 0.82, 1.0)
    scene.collection.objects.link(floor)


def aim_camera(scene: Any, target: Vector, extent: tuple[float, float], size: tuple[int, int], yaw_deg: float,
               lens: float = 50.0, rise: float = 0.1) -> Any:
    """A camera looking at ``target`` from the character's front (-Y), turned ``yaw_deg`` to its
    left, far enough to frame ``extent`` (height, width in metres) in an image of ``size``."""
    cam = bpy.data.objects.new("camera", bpy.data.cameras.new("camera"))
    scene.collection.objects.link(cam)
    cam.data.lens = lens
    cam.data.sensor_fit = "AUTO"  # the 36 mm sensor spans the larger image side
    w, h = size
    half = math.atan(cam.data.sensor_width / 2 / cam.data.lens)
    half_v = half if h >= w else math.atan(math.tan(half) * h / w)
    half_h = half if w >= h else math.atan(math.tan(half) * w / h)
    height, width = extent
    dist = max(1.15 * height / 2 / math.tan(half_v), 1.15 * width / 2 / math.tan(half_h)) + 0.5 * width
    yaw = math.radians(yaw_deg)
    eye = target + Vector((-math.sin(yaw) * dist, -math.cos(yaw) * dist, rise * height))
    cam.location = eye
    cam.rotation_euler = (target - eye).to_track_quat("-Z", "Y").to_euler()
    return cam


def render_views(scene: Any, arm: Any, mesh: Any, out: str, size: tuple[int, int]) -> None:
    """Render the full body and a face close-up side by side into ``out`` (PNG, width 2 x size[0])."""
    import os
    import tempfile

    lo, hi = evaluated_bounds(mesh)
    centre = (lo + hi) / 2
    body_target = Vector((float(centre[0]), float(centre[1]), float(lo[2] + 0.5 * (hi[2] - lo[2]))))
    head = arm.matrix_world @ arm.pose.bones["head"].head
    views = [aim_camera(scene, body_target, (float(hi[2] - lo[2]), float(max(hi[0] - lo[0], hi[1] - lo[1]))),
                        size, 25.0),
             aim_camera(scene, head + Vector((0.0, 0.0, 0.03)), (0.24, 0.24), size, 12.0, lens=85.0, rise=0.05)]
    scene.render.resolution_x, scene.render.resolution_y = size
    pixels = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, cam in enumerate(views):
            scene.camera = cam
            scene.render.filepath = os.path.join(tmp, f"view{k}.png")
            bpy.ops.render.render(write_still=True)
            img = bpy.data.images.load(scene.render.filepath)
            px = np.empty(size[0] * size[1] * 4, np.float32)
            img.pixels.foreach_get(px)
            pixels.append(px.reshape(size[1], size[0], 4))
            bpy.data.images.remove(img)
    both = np.concatenate(pixels, axis=1)
    both[:, size[0] - 1 : size[0] + 1, :3] = 1.0  # a thin white divider
    img = bpy.data.images.new("still", 2 * size[0], size[1], alpha=False)
    img.pixels.foreach_set(both.ravel())
    settings = scene.render.image_settings
    settings.file_format, settings.color_mode, settings.compression = "PNG", "RGB", 100
    exposure, scene.view_settings.exposure = scene.view_settings.exposure, 0.0  # already applied
    img.save_render(out, scene=scene)
    scene.view_settings.exposure = exposure


def main(args: dict[str, Any]) -> dict[str, Any]:
    """Install the add-on, import, stage, render; returns timings and the frame."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.extensions.package_install_files(filepath=args["zip"], repo="user_default", enable_on_install=True)
    prefs = bpy.context.preferences.addons[ADDON].preferences
    prefs.toolkit_path = args.get("toolkit") or ""
    prefs.smplx_model = args.get("model") or ""
    t0 = time.perf_counter()
    bpy.ops.motion_speech.import_motion(filepath=args["motion"])
    t_import = time.perf_counter() - t0
    scene = bpy.context.scene
    arm = bpy.context.view_layer.objects.active
    mesh = next(c for c in arm.children if c.type == "MESH")
    frame = args.get("frame") or (scene.frame_start + scene.frame_end) // 2
    scene.frame_set(int(frame))
    stage(scene, mesh)
    t0 = time.perf_counter()
    render_views(scene, arm, mesh, args["out"], tuple(args.get("size") or (600, 800)))
    return {"frame": int(frame), "import_s": t_import, "render_s": time.perf_counter() - t0, "out": args["out"]}


if __name__ == "__main__":
    print("STILL " + json.dumps(main(json.loads(sys.argv[1]))))
