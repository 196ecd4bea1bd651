"""Generate the stand-in SMPL-X and FLAME models, in the genuine file formats.

The stand-in is a smooth 1.69 m mannequin with a face (nose, lips, eyelids over real
eyeballs, brows, cheeks, ears) built with the real SMPL-X vertex count (10475) and vertex
order for smplx's keypoints, whose head is a 5023-vertex FLAME head. Files (the layout of
:mod:`motion.bodymodels.paths`)::

    <dir>/STANDIN.txt                          marker + description
    <dir>/smplx/SMPLX_NEUTRAL.npz              every key of the real file
    <dir>/smplx/SMPL-X__FLAME_vertex_ids.npy   (5023,) SMPL-X id of each FLAME vertex
    <dir>/flame/FLAME_NEUTRAL.pkl              plain pickle (protocol 2) of a dict of arrays
    <dir>/flame/flame_static_embedding.pkl     {lmk_face_idx (51,), lmk_b_coords (51, 3)}
    <dir>/flame/flame_dynamic_embedding.npy    0-d object array of {lmk_face_idx (79, 17), ...}
    <dir>/flame/FLAME_masks.pkl                region name -> FLAME vertex ids

The stand-in is gender-neutral (only ``*_NEUTRAL`` files). Generation is deterministic
(fixed seeds) and takes a few seconds; it is cached in ``<cache>/standin/<version>/``,
where the version changes with :data:`STANDIN_VERSION` and with the generator's source.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import tempfile
from pathlib import Path

import numpy as np

from motion.bodymodels import sources
from motion.bodymodels.sanitize import publish_dir, write_npz
from motion.types import JOINT_INDEX, PARENTS

STANDIN_VERSION = "1"
#: The generator's source files, relative to ``motion/bodymodels/`` (the version hashes them).
_GENERATOR_MODULES = ("standin/mesh_primitives", "standin/head_geometry", "standin/head_mesh", "standin/body_mesh",
                      "skeleton", "standin/skinning", "standin/mesh", "standin/expression_basis",
                      "standin/shape_basis", "standin/landmarks", "standin/masks", "regions", "standin/hands",
                      "names", "standin/generator")
FLAME_FROM_SMPLX = (JOINT_INDEX["neck"], JOINT_INDEX["head"], JOINT_INDEX["jaw"],
                    JOINT_INDEX["left_eye_smplhf"], JOINT_INDEX["right_eye_smplhf"])


def standin_version() -> str:
    """``<STANDIN_VERSION>-<hash of the generator source>``."""
    h = hashlib.sha256()
    here = Path(__file__).resolve().parents[1]  # motion/bodymodels
    for name in _GENERATOR_MODULES:
        h.update((here / f"{name}.py").read_bytes())
    return f"{STANDIN_VERSION}-{h.hexdigest()[:10]}"


def build_standin_files() -> dict[str, object]:
    """All stand-in file contents, keyed by relative path (arrays / dicts of arrays)."""
    from motion.bodymodels.standin.expression_basis import build_expression_basis, face_mask
    from motion.bodymodels.standin.hands import hand_components, hand_mean
    from motion.bodymodels.standin.landmarks import head_embeddings
    from motion.bodymodels.standin.masks import standin_masks
    from motion.bodymodels.standin.shape_basis import build_shape_basis
    from motion.bodymodels.standin.mesh import build_standin_mesh

    m = build_standin_mesh()
    head = m.head
    hid = m.head_ids
    V = len(m.v_template)
    expr = build_expression_basis(head)
    shapedirs = np.zeros((V, 3, 400), dtype=np.float32)
    shapedirs[:, :, :300] = build_shape_basis(m)
    shapedirs[hid, :, 300:] = expr
    emb = head_embeddings(head)
    face_offset = len(m.faces) - len(head.faces)
    hands_l, hands_r = hand_components()
    mean_l, mean_r = hand_mean()
    smplx = {
        "v_template": m.v_template.astype(np.float64), "f": m.faces.astype(np.uint32), "shapedirs": shapedirs,
        "posedirs": np.zeros((V, 3, 486), dtype=np.float32), "J_regressor": m.J_regressor,
        "weights": m.weights, "kintree_table": np.stack([np.asarray(PARENTS), np.arange(len(PARENTS))]).astype(np.int64),
        "hands_componentsl": hands_l, "hands_componentsr": hands_r, "hands_meanl": mean_l, "hands_meanr": mean_r,
        "lmk_faces_idx": emb["lmk_face_idx"] + face_offset, "lmk_bary_coords": emb["lmk_b_coords"],
        "dynamic_lmk_faces_idx": emb["dyn_face_idx"] + face_offset, "dynamic_lmk_bary_coords": emb["dyn_b_coords"],
    }
    # FLAME: the same head, expressed relative to the SMPL-X head joint
    regs = m.J_regressor[list(FLAME_FROM_SMPLX)]
    assert np.allclose(np.delete(regs, hid, axis=1), 0.0), "FLAME joints must come from head vertices"
    origin = m.J_regressor[JOINT_INDEX["head"]] @ m.v_template
    flame_shape = shapedirs[hid, :, :300] - np.einsum("v,vdk->dk", m.J_regressor[JOINT_INDEX["head"]], shapedirs[:, :, :300])
    w = m.weights[hid]
    fw = np.zeros((len(hid), 5))
    for k, j in enumerate(FLAME_FROM_SMPLX[1:], start=1):
        fw[:, k] = w[:, j]
    fw[:, 0] = 1.0 - fw[:, 1:].sum(1)  # neck, spine3 (everything below the head) -> global
    flame = {
        "v_template": m.v_template[hid] - origin, "f": head.faces.astype(np.uint32),
        "shapedirs": np.concatenate([flame_shape, expr], axis=2).astype(np.float32),
        "posedirs": np.zeros((len(hid), 3, 36), dtype=np.float32), "J_regressor": regs[:, hid], "weights": fw,
        "kintree_table": np.array([[-1, 0, 1, 1, 1], [0, 1, 2, 3, 4]], dtype=np.int64),
    }
    return {
        "smplx/SMPLX_NEUTRAL.npz": smplx,
        "smplx/SMPL-X__FLAME_vertex_ids.npy": hid.astype(np.int64),
        "flame/FLAME_NEUTRAL.pkl": flame,
        "flame/flame_static_embedding.pkl": {"lmk_face_idx": emb["lmk_face_idx"], "lmk_b_coords": emb["lmk_b_coords"]},
        "flame/flame_dynamic_embedding.npy": {"lmk_face_idx": emb["dyn_face_idx"], "lmk_b_coords": emb["dyn_b_coords"]},
        "flame/FLAME_masks.pkl": standin_masks(head, face_mask(head)),
    }


def write_standin(folder: str | os.PathLike[str]) -> Path:
    """Write the stand-in model files into ``folder`` (created; existing files replaced)."""
    root = Path(folder)
    for rel, content in build_standin_files().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith(".npz"):
            write_npz(path, content)  # type: ignore[arg-type]
        elif rel.endswith(".npy"):
            obj = content if isinstance(content, np.ndarray) else np.array(content, dtype=object)
            np.save(path, obj, allow_pickle=obj.dtype == object)
        else:
            with open(path, "wb") as fh:
                pickle.dump(content, fh, protocol=2)
    (root / sources.STANDIN_MARKER).write_text(
        f"motion stand-in body models, version {standin_version()}\n"
        "Generated by motion.bodymodels.standin: a mannequin in the real SMPL-X / FLAME file formats.\n"
        f"Not the real models: get those from {sources.SMPLX_URL} and {sources.FLAME_URL}.\n"
    )
    return root


def standin_models_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The stand-in models folder, generated (atomically) on first use; folders of other
    generator versions are removed.

    Args:
        cache_dir: cache root (default :func:`motion.bodymodels.sources.cache_root`); the
            folder is ``<cache_dir>/standin/<version>``.
    """
    base = (Path(cache_dir) if cache_dir is not None else sources.cache_root()) / "standin"
    final = base / standin_version()
    if sources.is_standin(final):
        return final
    base.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=base))
    try:
        write_standin(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    publish_dir(tmp, final)
    for old in base.iterdir():  # stand-ins of other generator versions
        if old != final and sources.is_standin(old):
            shutil.rmtree(old, ignore_errors=True)
    return final
