"""glTF 2.0 / GLB export: the SMPL-X body as a skinned mesh with expression morph targets.

What the file holds (Y up, metres: SMPL-X and glTF agree, no axis change):

* nodes ``0..54``: the SMPL-X joints, named :data:`motion.types.JOINT_NAMES`, parented
  per :data:`motion.types.PARENTS`; rest translation = parent-relative rest offset (the
  pelvis node at its rest position), rest rotation = identity. Node 55 holds the mesh.
* one mesh primitive: rest vertices ``v_template + shapedirs @ betas`` (float32, with
  min/max), area-weighted normals, triangles (uint32), ``JOINTS_0`` (uint8) /
  ``WEIGHTS_0`` (float32): the model's 4 largest skinning weights per vertex,
  renormalised to sum 1.
* morph targets: the first ``num_expressions`` expression blendshapes (POSITION deltas,
  stored sparse when that is smaller), names in ``mesh.extras.targetNames``.
* a skin over the 55 joint nodes with inverse bind matrices ``translate(-J_j)``.
* one animation: per joint a rotation channel (unit quaternions, glTF's XYZW order, signs
  made continuous), the pelvis translation ``J_pelvis + trans`` (raised by
  :func:`motion.export.floor.floor_offset` so the lowest vertex stands on ``y = 0``), and the morph weights
  (the motion's expression coefficients). Sampler input = ``frame / fps`` seconds, so
  the frame rate is exact; interpolation LINEAR.

Rotations include the model's mean pose (see :mod:`motion.export._rest`). Not exported:
pose-corrective blendshapes and the joint shift caused by expression blendshapes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from motion.export.registry import keyword_options, register_exporter
from motion.types import JOINT_NAMES, NUM_FACE_EXPRESSIONS_DEFAULT, NUM_JOINTS

if TYPE_CHECKING:  # pragma: no cover
    from motion.container import Motion
    from motion.export._rest import RestModel
    from motion.export.arkit_shapes import ArkitFace

#: Index of the node that holds the skinned mesh.
MESH_NODE: int = NUM_JOINTS


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """``(V, 3)`` unit area-weighted vertex normals (``+Y`` for vertices on no face)."""
    tri = vertices[faces]
    fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    vn = np.zeros_like(vertices)
    for k in range(3):
        np.add.at(vn, faces[:, k], fn)
    norm = np.linalg.norm(vn, axis=1, keepdims=True)
    out = np.divide(vn, norm, out=np.zeros_like(vn), where=norm > 1e-12)
    out[norm[:, 0] <= 1e-12] = (0.0, 1.0, 0.0)
    return out


def top_k_weights(weights: np.ndarray, k: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest skinning weights per vertex, renormalised.

    Args:
        weights: ``(V, J)`` linear-blend-skinning weights.

    Returns:
        ``joints`` ``(V, k)`` uint8 and ``w`` ``(V, k)`` float32 summing to 1 per row.
    """
    idx = np.argsort(-weights, axis=1)[:, :k]
    w = np.take_along_axis(weights, idx, axis=1).clip(min=0.0)
    s = w.sum(axis=1, keepdims=True)
    w = np.where(s > 0, w / np.where(s > 0, s, 1.0), np.eye(1, k))
    idx = np.where(w > 0, idx, 0)
    return idx.astype(np.uint8), w.astype(np.float32)


def continuous_quats(q: np.ndarray) -> np.ndarray:
    """Flip quaternion signs ``(T, ..., 4)`` so consecutive keys lie in one hemisphere."""
    q = q.copy()
    for t in range(1, len(q)):
        flip = np.sum(q[t] * q[t - 1], axis=-1) < 0
        q[t][flip] *= -1.0
    return q


def expression_names(n: int, standin: bool = False) -> list[str]:
    """Morph target names: ``expression_000`` ...; on the stand-in model the first 20 get
    their semantic names (``smile``, ``blink_left`` ...; real models' PCA components have none)."""
    names = [f"expression_{k:03d}" for k in range(n)]
    if standin:
        from motion.bodymodels.names import EXPRESSION_NAMES

        names[: len(EXPRESSION_NAMES)] = EXPRESSION_NAMES[:n]
    return names


def _is_standin(model: Any) -> bool:
    root = getattr(model, "models_dir", None)
    if root is None:
        return False
    from motion.bodymodels.paths import is_standin

    return is_standin(root)


def build_gltf(
    motion: Motion,
    rest: RestModel,
    *,
    num_expressions: int | None = None,
    binary: bool = True,
    sparse_morphs: bool | None = None,
    semantic_names: bool = False,
    floor: bool = True,
    arkit: ArkitFace | None = None,
) -> Any:
    """Compose the :class:`pygltflib.GLTF2` of ``motion`` on the body ``rest``.

    Args:
        motion: the animation (``T`` frames, expression ``(T, E)``).
        rest: the shaped rest body (:func:`motion.export._rest.rest_model`).
        num_expressions: morph targets to export; default ``min(50, E)``; capped at the
            model's expression count; motion coefficients beyond ``E`` are zero.
        binary: GLB chunk (True) or embedded data URI (False).
        sparse_morphs: store morph deltas as sparse accessors; ``None`` picks per target
            whichever is smaller.
        semantic_names: name morph targets after the stand-in's expressions.
        floor: raise the root so the lowest vertex over the clip is at ``y = 0``.
        arkit: the face as ARKit's 52 blendshapes (:func:`motion.export.arkit_shapes.arkit_face`):
            its shapes replace the expression morph targets, its weights their animation, and
            its motion (jaw and eyes at rest) ``motion``.
    """
    import pygltflib as gl
    from scipy.spatial.transform import Rotation

    from motion.export._gltf_build import GLTFBuilder

    assert motion.expression is not None
    if arkit is not None:
        motion = arkit.motion
    T, E = motion.num_frames, motion.num_expressions
    n_expr = min(NUM_FACE_EXPRESSIONS_DEFAULT, E) if num_expressions is None else int(num_expressions)
    n_expr = max(0, min(n_expr, rest.expr_dirs.shape[-1]))
    morph_deltas = rest.expr_dirs.transpose(2, 0, 1)[:n_expr]  # (N, V, 3)
    morph_names = expression_names(n_expr, semantic_names)
    if arkit is not None:
        morph_deltas, morph_names, n_expr = arkit.deltas, list(arkit.names), len(arkit.names)
    b = GLTFBuilder()
    g = b.gltf

    # ---- mesh
    verts = rest.vertices.astype(np.float32)
    attrs = gl.Attributes(
        POSITION=b.accessor(verts, target=gl.ARRAY_BUFFER, minmax=True),
        NORMAL=b.accessor(vertex_normals(rest.vertices, rest.faces).astype(np.float32), target=gl.ARRAY_BUFFER),
    )
    j4, w4 = top_k_weights(rest.weights)
    attrs.JOINTS_0 = b.accessor(j4, target=gl.ARRAY_BUFFER)
    attrs.WEIGHTS_0 = b.accessor(w4, target=gl.ARRAY_BUFFER)
    targets = []
    for k in range(n_expr):
        delta = morph_deltas[k].astype(np.float32)
        nnz = int(np.any(delta != 0, axis=1).sum())
        sparse = (nnz * 16 < delta.nbytes) if sparse_morphs is None else sparse_morphs
        acc = b.sparse_accessor(delta) if sparse else b.accessor(delta, target=gl.ARRAY_BUFFER, minmax=True)
        targets.append({"POSITION": acc})
    indices = b.accessor(rest.faces.reshape(-1).astype(np.uint32), target=gl.ELEMENT_ARRAY_BUFFER)
    g.materials.append(gl.Material(
        name="body", doubleSided=False,
        pbrMetallicRoughness=gl.PbrMetallicRoughness(baseColorFactor=[0.7, 0.7, 0.72, 1.0], metallicFactor=0.0,
                                                     roughnessFactor=0.8),
    ))
    prim = gl.Primitive(attributes=attrs, indices=indices, material=0, mode=gl.TRIANGLES)
    mesh = gl.Mesh(name="smplx", primitives=[prim])
    if n_expr:
        prim.targets = targets
        mesh.weights = [0.0] * n_expr
        mesh.extras = {"targetNames": morph_names}
    g.meshes.append(mesh)

    # ---- skeleton and skin
    for j in range(NUM_JOINTS):
        g.nodes.append(gl.Node(name=JOINT_NAMES[j], translation=[float(x) for x in rest.offsets[j]]))
    for j in range(1, NUM_JOINTS):
        g.nodes[int(rest.parents[j])].children.append(j)
    ibm = np.tile(np.eye(4, dtype=np.float32), (NUM_JOINTS, 1, 1))
    ibm[:, :3, 3] = -rest.joints
    g.skins.append(gl.Skin(name="smplx_skeleton", joints=list(range(NUM_JOINTS)), skeleton=0,
                           inverseBindMatrices=b.accessor(ibm)))
    g.nodes.append(gl.Node(name="smplx_body", mesh=0, skin=0))
    g.scenes.append(gl.Scene(name="scene", nodes=[0, MESH_NODE]))
    g.scene = 0

    # ---- animation
    times = (np.arange(T, dtype=np.float64) / motion.fps).astype(np.float32)
    t_acc = b.accessor(times, minmax=True)
    anim = gl.Animation(name="motion", extras={"fps": motion.fps, "frames": T})

    def channel(node: int, path: str, values: np.ndarray) -> None:
        anim.samplers.append(gl.AnimationSampler(input=t_acc, output=b.accessor(values), interpolation="LINEAR"))
        anim.channels.append(gl.AnimationChannel(sampler=len(anim.samplers) - 1,
                                                 target=gl.AnimationChannelTarget(node=node, path=path)))

    aa = motion.poses.astype(np.float64) + rest.pose_mean[None]
    quats = Rotation.from_rotvec(aa.reshape(-1, 3)).as_quat().reshape(T, NUM_JOINTS, 4)  # XYZW
    quats = continuous_quats(quats).astype(np.float32)
    root = motion.trans.astype(np.float64) + rest.joints[0]
    lift = 0.0
    if floor:
        from motion.export.floor import floor_offset

        lift = floor_offset(motion, rest)
        root[:, 1] += lift
    channel(0, "translation", root.astype(np.float32))
    # what a reader needs to give the motion back exactly (motion.data.formats.gltf)
    anim.extras.update({"smplx": {"pelvis_rest": [float(x) for x in rest.joints[0]], "floor_offset": lift,
                                  "pose_mean": [float(x) for x in rest.pose_mean.reshape(-1)],
                                  "betas": [float(x) for x in motion.betas], "gender": motion.gender}})
    for j in range(NUM_JOINTS):
        channel(j, "rotation", np.ascontiguousarray(quats[:, j]))
    if arkit is not None:
        anim.extras["arkit"] = True  # morph weights are ARKit's, not expression coefficients
        channel(MESH_NODE, "weights", np.ascontiguousarray(arkit.weights, np.float32).reshape(-1))
    elif n_expr:
        w = np.zeros((T, n_expr), np.float32)
        m = min(n_expr, E)
        w[:, :m] = motion.expression[:, :m]
        channel(MESH_NODE, "weights", w.reshape(-1))
    g.animations.append(anim)
    return b.finish(binary)


def write_gltf(
    motion: Motion,
    path: str | Path,
    *,
    num_expressions: int | None = None,
    sparse_morphs: bool | None = None,
    floor: bool = True,
    arkit: bool = False,
    arkit_map: Any = None,
    body_model: Any = None,
    models_dir: str | None = None,
) -> None:
    """Write ``motion`` as ``.gltf`` (JSON, data embedded as a base64 URI), else GLB.

    Args:
        motion: the animation.
        path: destination; a ``.gltf`` suffix gives JSON, any other GLB.
        num_expressions, sparse_morphs, floor: see :func:`build_gltf`.
        arkit: the face as ARKit's 52 named blendshapes (:mod:`motion.export.arkit_shapes`)
            instead of the expression components; ``num_expressions`` is then ignored.
        arkit_map: the FLAME -> ARKit map for ``arkit`` (an :class:`~motion.export.maps.arkit_map.ArkitMap`
            or a ``.csv`` / ``.npz`` file; default the stand-in map).
        body_model: an :mod:`smplx` SMPL-X model (loaded for the motion when omitted).
        models_dir: models folder used when loading the body model.
    """
    _write_gltf(motion, path, Path(path).suffix.lower() != ".gltf", num_expressions=num_expressions,
                sparse_morphs=sparse_morphs, floor=floor, arkit=arkit, arkit_map=arkit_map, body_model=body_model,
                models_dir=models_dir)


def _write_gltf(motion: Motion, path: str | Path, is_glb: bool, *, num_expressions: int | None = None,
                sparse_morphs: bool | None = None, floor: bool = True, arkit: bool = False, arkit_map: Any = None,
                body_model: Any = None, models_dir: str | None = None) -> None:
    """:func:`write_gltf` with the container given (GLB or JSON), not taken from the suffix."""
    from motion.export._rest import load_model, rest_model

    p = Path(path)
    model = load_model(motion, body_model, models_dir)
    rest = rest_model(model, motion.betas)
    face = None
    if arkit:
        from motion.export.arkit_shapes import arkit_face

        face = arkit_face(motion, rest, model, arkit_map, _is_standin(model))
    gltf = build_gltf(motion, rest, num_expressions=num_expressions, binary=is_glb, sparse_morphs=sparse_morphs,
                      semantic_names=_is_standin(model), floor=floor, arkit=face)
    if is_glb:
        gltf.save_binary(str(p))
    else:
        gltf.save_json(str(p))


def _export_glb(motion: Motion, path: Path, **opts: Any) -> None:
    _write_gltf(motion, path, True, **opts)  # the exporter's pending path has no suffix


def _export_gltf(motion: Motion, path: Path, **opts: Any) -> None:
    _write_gltf(motion, path, False, **opts)


_OPTIONS = keyword_options(write_gltf)
register_exporter("glb", (".glb",), _export_glb, "binary glTF 2.0: skinned SMPL-X mesh, morph targets, animation",
                  options=_OPTIONS)
register_exporter("gltf", (".gltf",), _export_gltf, "glTF 2.0 JSON (data embedded): as glb", options=_OPTIONS)
