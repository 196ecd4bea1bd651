"""Skinning weights of the stand-in head and the joint regressor of the whole mannequin.

Head weights: eyeballs follow the eye joints; skin below the lip line (and the chin, down
to under the chin) follows the jaw, blending out towards the ears; the rest follows the
head joint, with the neck blending into the neck and spine3 joints.

Joint regressor: every joint is a convex combination of a few vertices around it (a ring
of the limb it sits in, or skin around the skull for the head/jaw joints), fitted so that
``J_regressor @ v_template`` reproduces the design skeleton exactly. Head, jaw and eye
joints only use vertices that no expression moves, so expressions never shift joints.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import nnls

from motion.bodymodels.standin.body_mesh import chain_weights
from motion.bodymodels.standin.expression_basis import face_mask
from motion.bodymodels.standin.head_mesh import EYE_L, EYE_R, MOUTH, SKIN, HeadMesh
from motion.bodymodels.standin.mesh_primitives import smoothstep
from motion.types import JOINT_INDEX, NUM_JOINTS

J = JOINT_INDEX


def jaw_weight(head: HeadMesh) -> np.ndarray:
    """Per-vertex jaw weight ``(Vh,)`` of the head skin and mouth cavity."""
    v, th, ph = head.verts_closed, np.abs(head.theta), head.phi
    phi_m = float(head.phi[head.mouth_upper[0]])
    corner = float(np.max(np.abs(head.theta[head.mouth_upper])))
    delta = np.radians(0.5) + np.radians(12.0) * smoothstep(th, corner, corner + np.radians(30.0))
    low = smoothstep(ph, phi_m - delta, phi_m + delta)
    low[head.mouth_upper] = 0.0
    low[head.mouth_lower] = 1.0
    front = 1.0 - smoothstep(th, np.radians(52.0), np.radians(82.0))
    not_neck = smoothstep(v[:, 1], -0.150, -0.118)
    w = np.where(head.kind == SKIN, low * front * not_neck, 0.0)
    bag = head.kind == MOUTH
    cy = float(np.mean(v[bag, 1]))
    w[bag] = 1.0 - smoothstep(v[bag, 1], cy - 0.004, cy + 0.004)
    return np.nan_to_num(w)


def head_weights(head: HeadMesh) -> np.ndarray:
    """Skinning weights ``(Vh, 55)`` of the head vertices (SMPL-X joint columns)."""
    v = head.verts_closed
    W = chain_weights(-v[:, 1], [0.075, 0.19], [J["head"], J["neck"], J["spine3"]], [0.025, 0.03])
    jaw = jaw_weight(head)
    W *= (1.0 - jaw)[:, None]
    W[:, J["jaw"]] += jaw
    for kind, name in ((EYE_L, "left_eye_smplhf"), (EYE_R, "right_eye_smplhf")):
        m = head.kind == kind
        W[m] = 0.0
        W[m, J[name]] = 1.0
    return W


def fit_convex(points: np.ndarray, target: np.ndarray, mu: float = 1e-3) -> np.ndarray:
    """Convex weights ``(k,)`` with ``weights @ points == target`` (points ``(k, 3)``),
    kept close to uniform. Raises if the target lies outside the points' hull."""
    k = len(points)
    rho = 10.0
    A = np.concatenate([points.T, rho * np.ones((1, k)), mu * np.eye(k)])
    b = np.concatenate([target, [rho], np.full(k, mu / k)])
    w = nnls(A, b)[0]
    w = w / w.sum()
    err = np.linalg.norm(w @ points - target)
    if err > 2e-4:
        raise RuntimeError(f"joint target {target} is outside its {k} candidate vertices (error {err:.2e} m)")
    w[w < 1e-6] = 0.0
    return w / w.sum()


def joint_candidates(verts: np.ndarray, part: np.ndarray, names: list[str], head: dict[str, np.ndarray],
                     joints: np.ndarray) -> list[np.ndarray]:
    """Candidate vertex ids for each of the 55 joints.

    Args:
        verts: ``(V, 3)`` template (body frame).
        part: ``(V,)`` part index into ``names`` ('torso', 'left_leg', ..., 'head').
        head: boolean masks ``(V,)``: 'skin', 'left_eye', 'right_eye', 'quiet' (head skin no
            expression moves).
        joints: ``(55, 3)`` design joint positions.
    """
    pid = {n: i for i, n in enumerate(names)}

    def near(pname: str, axis: int, centre: float, half: float) -> np.ndarray:
        return (part == pid[pname]) & (np.abs(verts[:, axis] - centre) < half)

    out: list[np.ndarray] = [np.zeros(0, dtype=np.int64)] * NUM_JOINTS
    for name, j in JOINT_INDEX.items():
        p = joints[j]
        side = "left" if name.startswith("left") else "right"
        if name in ("pelvis", "spine1", "spine2", "spine3"):
            m = near("torso", 1, p[1], 0.03)
        elif name.endswith(("_hip", "_knee", "_ankle")):
            m = near(f"{side}_leg", 1, p[1], 0.075)
        elif name.endswith("_foot"):
            m = near(f"{side}_foot", 2, p[2], 0.05)
        elif name.endswith("_collar"):
            m = near("torso", 0, p[0], 0.035) & (verts[:, 1] > 0.38) & (verts[:, 1] < 0.49)
        elif name.endswith(("_shoulder", "_elbow", "_wrist")):
            m = near(f"{side}_arm", 0, p[0], 0.045)
        elif name == "neck":
            m = head["quiet"] & (np.abs(verts[:, 1] - p[1]) < 0.02)
        elif name in ("head", "jaw"):
            m = head["quiet"] & (np.abs(verts[:, 1] - p[1]) < 0.015)
        elif name.endswith("_eye_smplhf"):
            m = head[f"{side}_eye"]
        else:  # finger joints: the rings of that finger next to the joint
            finger = name.split("_")[1].rstrip("123")
            m = near(f"{side}_{finger}", 0, p[0], 0.012)
        out[j] = np.where(m)[0]
    return out


def joint_regressor(verts: np.ndarray, candidates: list[np.ndarray], joints: np.ndarray) -> np.ndarray:
    """Dense ``(55, V)`` regressor reproducing ``joints`` ``(55, 3)`` from ``verts``."""
    R = np.zeros((len(joints), len(verts)))
    for j, cand in enumerate(candidates):
        if len(cand) < 4:
            raise RuntimeError(f"joint {j} has only {len(cand)} candidate vertices")
        R[j, cand] = fit_convex(verts[cand], joints[j])
    return R


def head_masks(head: HeadMesh, offset: int, n_total: int) -> dict[str, np.ndarray]:
    """Masks over all ``n_total`` vertices for the head vertices starting at ``offset``."""
    def full(m: np.ndarray) -> np.ndarray:
        out = np.zeros(n_total, dtype=bool)
        out[offset:offset + len(m)] = m
        return out

    skin = head.kind == SKIN
    quiet = skin & (face_mask(head) == 0.0)  # no expression moves these
    return {"skin": full(skin), "left_eye": full(head.kind == EYE_L), "right_eye": full(head.kind == EYE_R),
            "quiet": full(quiet), "head": full(np.ones(len(head.kind), dtype=bool))}

