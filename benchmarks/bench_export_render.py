"""Benchmark exporters and the offscreen renderer on a 10 s motion (300 frames at 30 fps).

Usage:
    python benchmarks/bench_export_render.py [--seconds 10] [--size 640x480] [--render-frames 90] [--json]

Prints:

* export wall time per format (BEAT2 npz, BVH, GLB, FBX through a Blender subprocess with
  each preset, ARKit CSV), the body model already loaded (FBX: includes starting Blender);
* offscreen rendering speed in frames/s at ``--size``: the draw alone (mesh already posed)
  and the whole video pipeline (pose + draw + H.264 encode) on ``--render-frames`` frames;
* file sizes.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from motion.container import Motion

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def bench_motion(seconds: float, fps: float = 30.0) -> Motion:
    """A smooth, busy motion: every joint swings, the root walks, the face talks."""
    import numpy as np

    from motion.container import Motion

    T = round(seconds * fps)
    t = np.arange(T)[:, None] / fps
    j = np.arange(55)[None, :, None]
    poses = 0.15 * np.sin(2 * np.pi * (0.3 + 0.02 * j) * t[:, :, None] + j + np.array([0.0, 1.3, 2.1]))
    trans = np.concatenate([0.2 * np.sin(t), 0.02 * np.cos(3 * t), 0.1 * t], 1)
    expr = 0.5 * np.sin(2 * np.pi * 0.7 * t + np.arange(100)[None])
    return Motion(poses=poses, trans=trans, betas=np.zeros(10), expression=expr, fps=fps)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--size", default="640x480")
    ap.add_argument("--render-frames", type=int, default=90, help="frames rendered for the speed figures")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = ap.parse_args()
    os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
    w, h = (int(x) for x in args.size.split("x"))

    import numpy as np

    from motion.bodymodels import load_body_model
    from motion.export import export

    m = bench_motion(args.seconds)
    model = load_body_model()
    m.forward_kinematics(model)  # warm up torch / smplx
    res: dict[str, object] = {"frames": m.num_frames, "fps": m.fps, "size": f"{w}x{h}"}
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        jobs = [("npz (beat2)", "clip.npz", {}), ("bvh", "clip.bvh", {}), ("glb", "clip.glb", {}),
                ("arkit csv", "clip.csv", {})]
        if importlib.util.find_spec("bpy") is not None:
            jobs += [(f"fbx ({p})", f"clip_{p}.fbx", {"preset": p}) for p in ("blender", "unity", "unreal")]
        else:
            res["fbx"] = "skipped: bpy is not installed"
        for name, fname, opts in jobs:
            if not fname.endswith((".npz", ".csv")):
                opts = {**opts, "body_model": model}
            t = time.perf_counter()
            path = export(m, Path(tmp) / fname, **opts)
            res[f"export {name} s"] = round(time.perf_counter() - t, 3)
            res[f"export {name} MB"] = round(path.stat().st_size / 1e6, 2)

        from motion.render.colors import body_colors
        from motion.render.scene import MeshRenderer
        from motion.render.video import camera_for_motion, posed_vertices, render_video

        n = min(args.render_frames, m.num_frames)
        short = m.slice(0, n)
        t = time.perf_counter()
        verts = np.concatenate(list(posed_vertices(short, model)))
        res["pose (FK + vertices) frames/s"] = round(n / (time.perf_counter() - t), 1)
        cam = camera_for_motion(short, model, "full_body", w / h)
        with MeshRenderer(np.asarray(model.faces, np.int64), cam, (w, h), body_colors(model)) as draw:
            draw(verts[0])
            t = time.perf_counter()
            for v in verts:
                draw(v)
            res[f"draw {w}x{h} frames/s"] = round(n / (time.perf_counter() - t), 1)
        t = time.perf_counter()
        render_video(short, Path(tmp) / "clip.mp4", size=(w, h), body_model=model, progress=False)
        res[f"video {w}x{h} frames/s (pose+draw+encode)"] = round(n / (time.perf_counter() - t), 1)
    if args.json:
        print(json.dumps(res))
    else:
        width = max(len(k) for k in res)
        for k, v in res.items():
            print(f"{k:<{width}}  {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
