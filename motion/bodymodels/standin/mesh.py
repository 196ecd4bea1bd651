"""Assemble the stand-in mannequin: body parts + head, real SMPL-X vertex count and order.

The parts are concatenated ("natural" order), then permuted so that the vertex ids smplx
uses for its extra keypoints (``smplx.vertex_ids.vertex_ids['smplx']``: nose, eyes, ears,
finger tips, toes, heels) hold the matching vertex of the mannequin; all other vertices
keep their natural order in the remaining slots.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from motion.bodymodels.standin.body_mesh import build_body
from motion.bodymodels.standin.head_mesh import NUM_HEAD_VERTS, HeadMesh, build_head
from motion.bodymodels.skeleton import HEAD_ORIGIN, joint_positions
from motion.bodymodels.standin.skinning import head_masks, head_weights, joint_candidates, joint_regressor

#: Vertex count of the real SMPL-X mesh, which the stand-in matches.
NUM_SMPLX_VERTS = 10475
#: smplx's keypoint vertex ids (``smplx.vertex_ids.vertex_ids['smplx']``, copied so that
#: generating the stand-in needs no smplx import).
SMPLX_KEYPOINT_IDS: dict[str, int] = {
    "nose": 9120, "reye": 9929, "leye": 9448, "rear": 616, "lear": 6,
    "rthumb": 8079, "rindex": 7669, "rmiddle": 7794, "rring": 7905, "rpinky": 8022,
    "lthumb": 5361, "lindex": 4933, "lmiddle": 5058, "lring": 5169, "lpinky": 5286,
    "LBigToe": 5770, "LSmallToe": 5780, "LHeel": 8846, "RBigToe": 8463, "RSmallToe": 8474, "RHeel": 8635,
}


@dataclass
class StandinMesh:
    """The assembled mannequin in final (SMPL-X) vertex order."""

    v_template: np.ndarray  # (V, 3) body frame
    faces: np.ndarray  # (F, 3)
    weights: np.ndarray  # (V, 55)
    J_regressor: np.ndarray  # (55, V)
    part: np.ndarray  # (V,) index into part_names
    part_names: list[str]
    axis: np.ndarray  # (V, 3) centre-line point of each vertex (girth direction)
    head_ids: np.ndarray  # (5023,) SMPL-X id of each head vertex, in head (FLAME) order
    head: HeadMesh  # the head in its local frame, head (FLAME) order
    keypoints: dict[str, int]  # smplx keypoint name -> vertex id (== SMPLX_KEYPOINT_IDS)


def _keypoints_natural(parts, offsets: dict[str, int], head: HeadMesh, head_off: int) -> dict[str, int]:
    by = {p.name: p for p in parts}
    kp = {"nose": head_off + head.nose_tip, "leye": head_off + head.pupil["left"], "reye": head_off + head.pupil["right"],
          "lear": head_off + head.ears["left"], "rear": head_off + head.ears["right"]}
    for s, S in (("l", "left"), ("r", "right")):
        for f in ("thumb", "index", "middle", "ring", "pinky"):
            kp[s + f] = offsets[f"{S}_{f}"] + by[f"{S}_{f}"].marks["tip"]
        U = s.upper()
        foot = by[f"{S}_foot"]
        kp[f"{U}BigToe"] = offsets[f"{S}_foot"] + foot.marks["big_toe"]
        kp[f"{U}SmallToe"] = offsets[f"{S}_foot"] + foot.marks["small_toe"]
        kp[f"{U}Heel"] = offsets[f"{S}_foot"] + foot.marks["heel"]
    return kp


def build_standin_mesh() -> StandinMesh:
    """Build the whole mannequin (deterministic; about a second)."""
    head = build_head()
    parts = build_body(NUM_SMPLX_VERTS - NUM_HEAD_VERTS)
    names = [p.name for p in parts] + ["head"]
    sizes = [len(p.piece.verts) for p in parts] + [NUM_HEAD_VERTS]
    starts = np.concatenate([[0], np.cumsum(sizes)])
    offsets = {n: int(o) for n, o in zip(names, starts)}
    head_off = offsets["head"]
    verts = np.concatenate([p.piece.verts for p in parts] + [head.verts + HEAD_ORIGIN])
    faces = np.concatenate([p.piece.faces + offsets[p.name] for p in parts] + [head.faces + head_off])
    weights = np.concatenate([p.weights for p in parts] + [head_weights(head)])
    axis = np.concatenate([p.piece.axis for p in parts] + [np.broadcast_to(HEAD_ORIGIN, head.verts.shape)])
    part = np.repeat(np.arange(len(names)), sizes)
    n = len(verts)
    assert n == NUM_SMPLX_VERTS, n

    joints = joint_positions()
    masks = head_masks(head, head_off, n)
    reg = joint_regressor(verts, joint_candidates(verts, part, names, masks, joints), joints)

    kp = _keypoints_natural(parts, offsets, head, head_off)
    new_to_nat = np.full(n, -1)
    for key, nat in kp.items():
        new_to_nat[SMPLX_KEYPOINT_IDS[key]] = nat
    rest = np.setdiff1d(np.arange(n), list(kp.values()))
    new_to_nat[new_to_nat < 0] = rest
    nat_to_new = np.empty(n, dtype=np.int64)
    nat_to_new[new_to_nat] = np.arange(n)

    weights = weights / weights.sum(1, keepdims=True)
    return StandinMesh(
        v_template=verts[new_to_nat], faces=nat_to_new[faces], weights=weights[new_to_nat],
        J_regressor=reg[:, new_to_nat], part=part[new_to_nat], part_names=names, axis=axis[new_to_nat],
        head_ids=nat_to_new[head_off + np.arange(NUM_HEAD_VERTS)], head=head,
        keypoints={k: int(nat_to_new[v]) for k, v in kp.items()},
    )
