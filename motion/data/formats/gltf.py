"""Read a glTF / GLB written by :mod:`motion.export.gltf` back into a Motion.

The file's animation gives per-joint rotation quaternions (nodes named as the SMPL-X
joints), the pelvis translation and the morph weights (expression). The exporter stores
in the animation's ``extras.smplx`` what glTF has no place for: the rest pelvis joint, the
floor offset it added, the body model's mean pose (added to every rotation) and the
betas, so ``read_gltf_motion`` gives the exported motion back exactly (float32): poses
within 1e-6 rad for rotations under 180 degrees, trans, expression up to the exported
count, fps from ``extras.fps``. A glTF from elsewhere with SMPL-X joint names reads too,
with zero mean pose, zero pelvis and the frame rate from the key times.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from motion.container import Motion
from motion.data.formats.errors import MotionFormatError
from motion.types import JOINT_NAMES, NUM_JOINTS

NAME = "gltf"


def read_gltf_motion(path: str | Path, *, fps: float | None = None) -> Motion:
    """Read the first animation of a ``.glb`` / ``.gltf`` of the SMPL-X skeleton.

    Args:
        path: the file.
        fps: resample to this rate (slerp); ``None`` keeps the file's rate.

    Raises:
        MotionFormatError: unreadable file, no animation, or joints missing.
    """
    import pygltflib as gl
    from scipy.spatial.transform import Rotation

    from motion.export._gltf_build import read_accessor

    p = Path(path)
    try:
        g = gl.GLTF2().load(str(p))
    except Exception as exc:  # pygltflib raises many kinds on a bad file
        raise MotionFormatError(f"{NAME} file {p}: cannot be read as glTF ({exc})", path=p) from exc
    if g is None or not g.animations:
        raise MotionFormatError(f"{NAME} file {p}: has no animation", path=p)
    node_of = {n.name: i for i, n in enumerate(g.nodes)}
    missing = [n for n in JOINT_NAMES if n not in node_of]
    if missing:
        raise MotionFormatError(f"{NAME} file {p}: not an SMPL-X skeleton; nodes missing: {', '.join(missing[:5])}",
                                path=p)
    anim = g.animations[0]
    extras = anim.extras or {}
    info = extras.get("smplx", {})
    tracks: dict[tuple[int, str], np.ndarray] = {}
    times = None
    for ch in anim.channels:
        sampler = anim.samplers[ch.sampler]
        if times is None:
            times = read_accessor(g, sampler.input).astype(np.float64)
        tracks[(ch.target.node, ch.target.path)] = read_accessor(g, sampler.output)
    assert times is not None
    T = len(times)
    rate = float(extras.get("fps") or (1.0 / np.median(np.diff(times)) if T > 1 else 30.0))
    quats = np.tile([0.0, 0.0, 0.0, 1.0], (T, NUM_JOINTS, 1))
    for j, name in enumerate(JOINT_NAMES):
        q = tracks.get((node_of[name], "rotation"))
        if q is not None:
            quats[:, j] = q.reshape(T, 4)
    pose_mean = np.asarray(info.get("pose_mean", np.zeros(NUM_JOINTS * 3)), np.float64).reshape(NUM_JOINTS, 3)
    poses = Rotation.from_quat(quats.reshape(-1, 4)).as_rotvec().reshape(T, NUM_JOINTS, 3) - pose_mean[None]
    root = tracks.get((node_of["pelvis"], "translation"))
    if root is None:
        root = np.tile(np.asarray(g.nodes[node_of["pelvis"]].translation or [0.0, 0.0, 0.0]), (T, 1))
    trans = root.reshape(T, 3).astype(np.float64) - np.asarray(info.get("pelvis_rest", [0.0, 0.0, 0.0]))
    trans[:, 1] -= float(info.get("floor_offset", 0.0))
    weights = next((v for (node, path_), v in tracks.items() if path_ == "weights"), None)
    expression = None if weights is None else weights.reshape(T, -1).astype(np.float32)
    if extras.get("arkit"):  # an arkit export: the morph weights are ARKit's 52, not expression coefficients
        expression = None
    betas = np.asarray(info.get("betas", np.zeros(10)), np.float32)
    motion = Motion(poses=poses.astype(np.float32), trans=trans.astype(np.float32), betas=betas,
                    expression=expression, fps=rate, gender=str(info.get("gender", "neutral")))
    if fps is None or abs(float(fps) - motion.fps) < 1e-9:
        return motion
    return motion.resample(float(fps))
