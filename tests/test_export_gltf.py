"""glTF / GLB export: structure (re-read with pygltflib, parsed by trimesh) and skinned FK."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pygltflib as gl
import pytest
from scipy.spatial.transform import Rotation

from helpers import swaying_motion
from motion.container import Motion
from motion.export import export
from motion.export._gltf_build import read_accessor
from motion.types import JOINT_NAMES, PARENTS

T = 20
FPS = 30.0


@pytest.fixture(scope="module")
def glb(tmp_path_factory: pytest.TempPathFactory, body_model: Any) -> tuple[Motion, Path, gl.GLTF2]:
    m = swaying_motion(T)
    path = export(m, tmp_path_factory.mktemp("gltf") / "clip.glb", body_model=body_model, floor=False)
    return m, path, gl.GLTF2().load(str(path))


def _node_fk(g: gl.GLTF2, frame: int) -> np.ndarray:
    """``(55, 3)`` joint positions at ``frame``: the glTF node hierarchy with the animation applied."""
    anim = g.animations[0]
    rot = np.tile(np.eye(3), (len(g.nodes), 1, 1))
    trs = np.array([n.translation or [0.0, 0.0, 0.0] for n in g.nodes], np.float64)
    for ch in anim.channels:
        out = read_accessor(g, anim.samplers[ch.sampler].output)
        if ch.target.path == "rotation":
            rot[ch.target.node] = Rotation.from_quat(out[frame]).as_matrix()  # XYZW
        elif ch.target.path == "translation":
            trs[ch.target.node] = out[frame]
    parent = {c: i for i, n in enumerate(g.nodes) for c in n.children}
    world = np.zeros((len(g.nodes), 4, 4))
    for j in g.skins[0].joints:  # parents come first (joint i's parent index < i)
        local = np.eye(4)
        local[:3, :3], local[:3, 3] = rot[j], trs[j]
        world[j] = world[parent[j]] @ local if j in parent else local
    return world[g.skins[0].joints, :3, 3]


def test_structure(glb: tuple[Motion, Path, gl.GLTF2]) -> None:
    m, _, g = glb
    skin = g.skins[0]
    assert len(skin.joints) == 55
    assert [g.nodes[j].name for j in skin.joints] == list(JOINT_NAMES)
    parent = {c: i for i, n in enumerate(g.nodes) for c in n.children}
    assert [parent.get(j, -1) for j in skin.joints] == list(PARENTS)
    ibm = read_accessor(g, skin.inverseBindMatrices)
    assert ibm.shape == (55, 4, 4)
    prim = g.meshes[0].primitives[0]
    pos_acc = g.accessors[prim.attributes.POSITION]
    assert pos_acc.min is not None and pos_acc.max is not None
    verts = read_accessor(g, prim.attributes.POSITION)
    np.testing.assert_allclose(pos_acc.min, verts.min(0), atol=1e-6)
    assert g.accessors[prim.indices].componentType == gl.UNSIGNED_INT
    w = read_accessor(g, prim.attributes.WEIGHTS_0)
    np.testing.assert_allclose(w.sum(1), 1.0, atol=1e-6)
    assert read_accessor(g, prim.attributes.JOINTS_0).max() < 55
    # morph targets: default min(50, E) = 10, each POSITION with min/max
    assert len(prim.targets) == 10 == len(g.meshes[0].extras["targetNames"])
    assert all(g.accessors[t["POSITION"]].min is not None for t in prim.targets)
    # animation: T keys per sampler at frame / fps, LINEAR
    anim = g.animations[0]
    paths = sorted({(c.target.node, c.target.path) for c in anim.channels})
    assert len([p for p in paths if p[1] == "rotation"]) == 55
    assert (0, "translation") in paths and (55, "weights") in paths
    for s in anim.samplers:
        times = g.accessors[s.input]
        assert s.interpolation == "LINEAR" and times.count == T
        assert times.min == [0.0] and times.max[0] == pytest.approx((T - 1) / FPS, abs=1e-6)
        n_out = g.accessors[s.output].count
        assert n_out in (T, T * 10)
    np.testing.assert_allclose(np.diff(read_accessor(g, anim.samplers[0].input)), 1 / FPS, atol=1e-6)
    weights = next(s for c, s in zip(anim.channels, anim.samplers) if c.target.path == "weights")
    np.testing.assert_allclose(read_accessor(g, weights.output).reshape(T, 10), m.expression, atol=1e-6)


def test_skinned_fk_matches_toolkit(glb: tuple[Motion, Path, gl.GLTF2], body_model: Any) -> None:
    m, _, g = glb
    # zero expression for the reference: glTF morphs cannot move joints (see gltf.py)
    ref = m.replace(expression=np.zeros_like(m.expression)).forward_kinematics(body_model).joints
    ref = np.asarray(ref.detach().cpu().numpy() if hasattr(ref, "detach") else ref, np.float64)
    ibm = read_accessor(g, g.skins[0].inverseBindMatrices).astype(np.float64)
    rest_nodes = np.array([n.translation for n in g.nodes[:55]], np.float64)
    for frame in (0, T // 2, T - 1):
        got = _node_fk(g, frame)
        err = np.abs(got - ref[frame]).max()
        assert err < 1e-3, f"frame {frame}: max joint error {err * 1000:.3f} mm"
    # bind pose: inverse bind matrices undo the rest joint positions accumulated along the tree
    rest = rest_nodes.copy()
    for j in range(1, 55):
        rest[j] += rest[PARENTS[j]]
    np.testing.assert_allclose(-ibm[:, :3, 3], rest, atol=1e-5)


def _skin(g: gl.GLTF2, frame: int | None) -> np.ndarray:
    """``(V, 3)`` our own linear-blend skinning of the file's mesh at ``frame`` (None: bind pose)."""
    prim = g.meshes[0].primitives[0]
    verts = read_accessor(g, prim.attributes.POSITION).astype(np.float64)
    joints4 = read_accessor(g, prim.attributes.JOINTS_0).astype(np.int64)
    w4 = read_accessor(g, prim.attributes.WEIGHTS_0).astype(np.float64)
    ibm = read_accessor(g, g.skins[0].inverseBindMatrices).astype(np.float64)
    rot = np.tile(np.eye(3), (55, 1, 1))
    trs = np.array([n.translation for n in g.nodes[:55]], np.float64)
    if frame is not None:
        anim = g.animations[0]
        for c in anim.channels:
            out = read_accessor(g, anim.samplers[c.sampler].output)
            if c.target.path == "rotation":
                rot[c.target.node] = Rotation.from_quat(out[frame]).as_matrix()
            elif c.target.path == "translation":
                trs[c.target.node] = out[frame]
    world = np.zeros((55, 4, 4))
    for j in range(55):
        local = np.eye(4)
        local[:3, :3], local[:3, 3] = rot[j], trs[j]
        world[j] = world[PARENTS[j]] @ local if j else local
    skin = np.einsum("vk,vkab->vab", w4, (world @ ibm)[joints4])
    return np.einsum("vab,vb->va", skin[:, :3, :3], verts) + skin[:, :3, 3]


def test_lbs_matches_smplx_transforms(glb: tuple[Motion, Path, gl.GLTF2], body_model: Any) -> None:
    """Skinning the file's mesh at a frame == smplx's own rigid transforms applied with the
    same (top-4) weights; at the bind pose it returns the rest mesh."""
    import torch
    from smplx.lbs import batch_rigid_transform

    m, _, g = glb
    prim = g.meshes[0].primitives[0]
    verts = read_accessor(g, prim.attributes.POSITION).astype(np.float64)
    np.testing.assert_allclose(_skin(g, None), verts, atol=1e-6)
    frame = T - 1
    joints = body_model.J_regressor.double().numpy() @ verts  # rest joints regressed from the mesh
    mean = body_model.pose_mean.double().numpy().reshape(55, 3)
    rot = Rotation.from_rotvec(m.poses[frame].astype(np.float64) + mean).as_matrix()
    _, rel = batch_rigid_transform(torch.from_numpy(rot)[None], torch.from_numpy(joints)[None],
                                   body_model.parents, dtype=torch.float64)
    rel = rel[0].numpy()
    j4 = read_accessor(g, prim.attributes.JOINTS_0).astype(np.int64)
    w4 = read_accessor(g, prim.attributes.WEIGHTS_0).astype(np.float64)
    a = np.einsum("vk,vkab->vab", w4, rel[j4])
    ref = np.einsum("vab,vb->va", a[:, :3, :3], verts) + a[:, :3, 3] + m.trans[frame]
    err = np.abs(_skin(g, frame) - ref).max()
    assert err < 1e-4, f"max vertex error {err * 1000:.3f} mm"


def test_trimesh_parses_glb_and_gltf(glb: tuple[Motion, Path, gl.GLTF2], body_model: Any, tmp_path: Path) -> None:
    import trimesh

    m, path, g = glb
    n_verts = g.accessors[g.meshes[0].primitives[0].attributes.POSITION].count
    gltf_path = export(m, tmp_path / "clip.gltf", body_model=body_model, num_expressions=3, sparse_morphs=True,
                       floor=False)
    for p in (path, gltf_path):
        scene = trimesh.load(str(p))
        geoms = list(scene.geometry.values()) if isinstance(scene, trimesh.Scene) else [scene]
        assert len(geoms) == 1 and len(geoms[0].vertices) == n_verts
    g2 = gl.GLTF2().load(str(tmp_path / "clip.gltf"))
    targets = g2.meshes[0].primitives[0].targets
    assert g2.buffers[0].uri.startswith("data:") and len(targets) == 3
    expr_dirs = body_model.expr_dirs.detach().cpu().numpy()
    for k, t in enumerate(targets):  # sparse morph deltas decode to the model's blendshapes
        assert g2.accessors[t["POSITION"]].sparse is not None
        np.testing.assert_allclose(read_accessor(g2, t["POSITION"]), expr_dirs[:, :, k], atol=1e-7)
    np.testing.assert_allclose(_node_fk(g2, 5), _node_fk(g, 5), atol=1e-6)
