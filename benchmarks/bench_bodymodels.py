"""Benchmark the body models: stand-in generation, loading through smplx, FK, memory.

Usage:
    python benchmarks/bench_bodymodels.py [--frames 300] [--batch 128] [--json]

Everything runs in a fresh temporary cache (``MOTION_CACHE_DIR``), so "cold" numbers
include generating the stand-in and writing the sanitised copy. Prints:

* stand-in generation (build + write every file);
* SMPL-X / FLAME load, cold (sanitise + ``smplx.create``) and warm (cached copy);
* forward kinematics per frame for ``--frames`` random frames (300 betas, 100
  expressions), joints only and joints + vertices, without autograd, module and Layer;
* FLAME forward per frame;
* peak resident memory of the process (``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _timed(fn, repeat: int = 1) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-bodymodels-") as tmp:
        os.environ["MOTION_CACHE_DIR"] = tmp
        os.environ.pop("MOTION_MODELS_DIR", None)
        import numpy as np
        import torch

        from motion.bodymodels import flame_forward, forward_kinematics, load_body_model, load_face_model
        from motion.bodymodels.standin import standin_models_dir, write_standin

        res: dict[str, float] = {}
        res["standin_generate_s"], _ = _timed(lambda: standin_models_dir())
        res["standin_rewrite_s"], _ = _timed(lambda: write_standin(Path(tmp) / "again"))
        res["smplx_load_cold_s"], body = _timed(lambda: load_body_model())
        res["smplx_load_warm_s"], _ = _timed(lambda: load_body_model(), repeat=3)
        res["smplx_layer_load_warm_s"], layer = _timed(lambda: load_body_model(layer=True), repeat=3)
        res["flame_load_cold_s"], face = _timed(lambda: load_face_model())
        res["flame_load_warm_s"], _ = _timed(lambda: load_face_model(), repeat=3)

        rng = np.random.default_rng(0)
        T = args.frames
        poses = (0.3 * rng.standard_normal((T, 55, 3))).astype(np.float32)
        trans = rng.standard_normal((T, 3)).astype(np.float32)
        betas = rng.standard_normal(300).astype(np.float32)
        expr = rng.standard_normal((T, 100)).astype(np.float32)
        with torch.no_grad():
            forward_kinematics(body, poses[:8], trans[:8], betas, expr[:8])  # warm-up
            for name, model in (("module", body), ("layer", layer)):
                for verts in (False, True):
                    t, _ = _timed(lambda: forward_kinematics(model, poses, trans, betas, expr, return_vertices=verts,
                                                             batch=args.batch), repeat=2)
                    res[f"fk_{name}_{'verts' if verts else 'joints'}_ms_per_frame"] = 1e3 * t / T
            t, _ = _timed(lambda: flame_forward(face, expr, jaw=poses[:, 22]), repeat=2)
            res["flame_ms_per_frame"] = 1e3 * t / T
        res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

    if args.json:
        print(json.dumps({k: round(v, 4) for k, v in res.items()}))
    else:
        print(f"frames={T} batch={args.batch} torch_threads={torch.get_num_threads()}")
        for k, v in res.items():
            print(f"  {k:<36} {v:10.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
