"""Stand-in body below the head: torso, legs, feet, arms, palms and 3-segment fingers.

Each part is a closed generalised cylinder (:func:`mesh_primitives.sweep`) around the
design skeleton of :mod:`motion.bodymodels.skeleton`; parts overlap at the joints like a
shop mannequin. Left-side parts are built once and mirrored. Every part carries its own
skinning weights ``(N, 55)`` (rigid along each bone, blended across each joint).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import PchipInterpolator

from motion.bodymodels.standin.mesh_primitives import Piece, smoothstep, sweep
from motion.bodymodels.skeleton import FINGER_TIPS, FINGERS, SOLE_Y, joint_positions, mirror_joint_index
from motion.types import JOINT_INDEX, NUM_JOINTS

J = JOINT_INDEX
TORSO_SEG = 48


@dataclass
class BodyPart:
    """A named piece with its skinning weights ``(N, 55)`` and named landmark vertices."""

    name: str
    piece: Piece
    weights: np.ndarray
    marks: dict[str, int]


def chain_weights(s: np.ndarray, knots: list[float], joints: list[int], widths: list[float]) -> np.ndarray:
    """Weights ``(N, 55)`` along a chain: coordinate ``s`` below ``knots[0]`` belongs to
    ``joints[0]``, between ``knots[k-1]`` and ``knots[k]`` to ``joints[k]``; each switch is
    blended over ``knot +- width``."""
    f = [smoothstep(s, k - w, k + w) for k, w in zip(knots, widths)]
    f = [np.ones_like(s)] + f + [np.zeros_like(s)]
    W = np.zeros((len(s), NUM_JOINTS))
    for k, j in enumerate(joints):
        W[:, j] += f[k] - f[k + 1]
    return W


def _frame(tangent: np.ndarray, up: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Section axes e1 (towards ``up``) and e2 with ``e1 x e2 = tangent``."""
    t = tangent / np.linalg.norm(tangent, axis=-1, keepdims=True)
    e1 = up - np.sum(up * t, -1, keepdims=True) * t
    e1 /= np.linalg.norm(e1, axis=-1, keepdims=True)
    return e1, np.cross(t, e1)


def _polyline_sweep(pts: np.ndarray, up: np.ndarray, r1: np.ndarray, r2: np.ndarray, **kw) -> Piece:
    tan = np.gradient(pts, axis=0)
    e1, e2 = _frame(tan, np.broadcast_to(up, pts.shape))
    return sweep(pts, e1, e2, r1, r2, **kw)


def _torso(budget: int) -> BodyPart:
    """Torso from the neck base down to the crotch; its ring count absorbs ``budget``."""
    y = np.array([0.505, 0.48, 0.45, 0.41, 0.36, 0.30, 0.23, 0.16, 0.10, 0.05, 0.0, -0.04, -0.08, -0.11])
    a = np.array([0.045, 0.085, 0.145, 0.170, 0.168, 0.160, 0.148, 0.138, 0.142, 0.155, 0.168, 0.178, 0.172, 0.140])
    bf = np.array([0.035, 0.058, 0.075, 0.092, 0.105, 0.105, 0.096, 0.090, 0.092, 0.094, 0.092, 0.088, 0.080, 0.068])
    bb = np.array([0.040, 0.066, 0.080, 0.088, 0.092, 0.090, 0.084, 0.080, 0.082, 0.092, 0.104, 0.110, 0.100, 0.078])
    zc = np.array([-0.010, -0.012, -0.014, -0.012, -0.008, -0.006, -0.008, -0.010, -0.010, -0.012, -0.012, -0.014, -0.012, -0.010])
    n_rings = (budget - 2) // TORSO_SEG - 6  # 3 dome rings per end
    extra = budget - 2 - (n_rings + 6) * TORSO_SEG
    if 0 < extra < 6:  # too few for two inner cap rings: take one body ring back
        n_rings, extra = n_rings - 1, extra + TORSO_SEG
    s = np.linspace(0.0, 1.0, n_rings)
    u = np.concatenate([[0.0], np.cumsum(np.abs(np.diff(y)))]) / np.abs(y[-1] - y[0])
    ys = PchipInterpolator(u, y)(s)
    f = lambda v: PchipInterpolator(u, v)(s)  # noqa: E731
    centres = np.stack([np.zeros(n_rings), ys, f(zc)], 1)
    e1 = np.tile([1.0, 0.0, 0.0], (n_rings, 1))
    e2 = np.tile([0.0, 0.0, 1.0], (n_rings, 1))
    p = sweep(centres, e1, e2, f(a), f(bf), f(bb), n_seg=TORSO_SEG, cap_start=0.35, cap_end=0.45,
              extra_start=extra // 2 if extra else 0, extra_end=extra - extra // 2 if extra else 0)
    v = p.verts
    ax, yy = np.abs(v[:, 0]), v[:, 1]
    W = chain_weights(yy, [0.11, 0.24, 0.30], [J["pelvis"], J["spine1"], J["spine2"], J["spine3"]], [0.05, 0.04, 0.03])
    side = v[:, 0] >= 0
    collar = smoothstep(ax, 0.05, 0.12) * smoothstep(yy, 0.33, 0.42)
    shoulder = 0.35 * smoothstep(ax, 0.14, 0.19) * smoothstep(yy, 0.36, 0.43)
    hip = 0.6 * smoothstep(-yy, 0.03, 0.10) * smoothstep(ax, 0.02, 0.09)
    for mask, left, right in ((collar, "left_collar", "right_collar"), (shoulder, "left_shoulder", "right_shoulder"),
                              (hip, "left_hip", "right_hip")):
        W *= (1.0 - mask)[:, None]
        W[side, J[left]] += mask[side]
        W[~side, J[right]] += mask[~side]
    return BodyPart("torso", p, W, {})


def _leg() -> BodyPart:
    y = np.array([0.03, -0.02, -0.08, -0.15, -0.25, -0.35, -0.43, -0.49, -0.55, -0.62, -0.70, -0.78, -0.86, -0.885])
    x = np.interp(y, [-0.86, -0.49, -0.08], [0.100, 0.095, 0.085])
    z = np.interp(y, [-0.86, -0.62, -0.49, -0.08], [-0.022, -0.006, 0.008, 0.0])
    a = np.array([0.074, 0.080, 0.084, 0.082, 0.076, 0.066, 0.056, 0.050, 0.049, 0.050, 0.044, 0.036, 0.031, 0.030])
    bf = np.array([0.085, 0.088, 0.090, 0.086, 0.078, 0.068, 0.058, 0.054, 0.046, 0.042, 0.037, 0.032, 0.030, 0.029])
    bb = np.array([0.090, 0.098, 0.100, 0.090, 0.078, 0.066, 0.056, 0.048, 0.056, 0.060, 0.050, 0.037, 0.033, 0.030])
    pts = np.stack([x, y, z], 1)
    e1 = np.tile([1.0, 0.0, 0.0], (len(y), 1))
    e2 = np.tile([0.0, 0.0, 1.0], (len(y), 1))
    p = sweep(pts, e1, e2, a, bf, bb, n_seg=28, cap_start=0.5, cap_end=0.6)
    W = chain_weights(-p.verts[:, 1], [0.06, 0.49, 0.86],
                      [J["pelvis"], J["left_hip"], J["left_knee"], J["left_ankle"]], [0.06, 0.05, 0.03])
    return BodyPart("leg", p, W, {})


def _foot() -> BodyPart:
    z = np.array([-0.060, -0.040, 0.0, 0.05, 0.10, 0.14, 0.168])
    a = np.array([0.030, 0.034, 0.037, 0.041, 0.045, 0.044, 0.038])
    up = np.array([0.048, 0.056, 0.052, 0.036, 0.022, 0.017, 0.013])
    dn = np.array([0.026, 0.027, 0.026, 0.024, 0.020, 0.016, 0.012])
    x = np.interp(z, [-0.06, 0.168], [0.100, 0.112])
    pts = np.stack([x, SOLE_Y + dn, z], 1)
    e1 = np.tile([1.0, 0.0, 0.0], (len(z), 1))
    e2 = np.tile([0.0, 1.0, 0.0], (len(z), 1))
    p = sweep(pts, e1, e2, a, up, dn, n_seg=20, p=2.5, cap_start=0.6, cap_end=0.7)
    v = p.verts
    W = chain_weights(v[:, 2], [0.085], [J["left_ankle"], J["left_foot"]], [0.03])
    toe = np.where(v[:, 2] > 0.15)[0]
    low = np.where(v[:, 1] < SOLE_Y + 0.012)[0]
    marks = {
        "big_toe": int(toe[np.argmax(v[toe, 2] - 0.6 * (v[toe, 0] - 0.112) - 0.3 * (v[toe, 1] - SOLE_Y))]),
        "small_toe": int(toe[np.argmax(v[toe, 2] + 0.9 * (v[toe, 0] - 0.112) - 0.3 * (v[toe, 1] - SOLE_Y))]),
        "heel": int(low[np.argmin(v[low, 2])]),
    }
    return BodyPart("foot", p, W, marks)


def _arm() -> BodyPart:
    x = np.array([0.11, 0.15, 0.18, 0.22, 0.28, 0.34, 0.40, 0.44, 0.48, 0.54, 0.60, 0.66, 0.69])
    a = np.array([0.050, 0.056, 0.055, 0.050, 0.046, 0.043, 0.039, 0.035, 0.038, 0.037, 0.031, 0.025, 0.022])
    b = np.array([0.050, 0.056, 0.055, 0.048, 0.044, 0.041, 0.037, 0.035, 0.040, 0.039, 0.034, 0.030, 0.028])
    pts = np.stack([x, np.full_like(x, 0.44), np.interp(x, [0.18, 0.44, 0.69], [-0.015, -0.020, -0.012])], 1)
    p = _polyline_sweep(pts, np.array([0.0, 1.0, 0.0]), a, b, n_seg=24, cap_start=0.6, cap_end=0.4)
    W = chain_weights(p.verts[:, 0], [0.18, 0.44, 0.69],
                      [J["left_collar"], J["left_shoulder"], J["left_elbow"], J["left_wrist"]], [0.05, 0.04, 0.02])
    return BodyPart("arm", p, W, {})


def _palm() -> BodyPart:
    x = np.array([0.672, 0.70, 0.73, 0.76, 0.782])
    a = np.array([0.019, 0.017, 0.016, 0.0145, 0.013])
    b = np.array([0.030, 0.037, 0.041, 0.043, 0.042])
    pts = np.stack([x, np.full_like(x, 0.438), np.full_like(x, -0.002)], 1)
    p = _polyline_sweep(pts, np.array([0.0, 1.0, 0.0]), a, b, n_seg=20, p=3.0, cap_start=0.6, cap_end=0.45)
    v = p.verts
    jp = joint_positions()
    W = np.zeros((len(v), NUM_JOINTS))
    W[:, J["left_wrist"]] = 1.0
    f = smoothstep(v[:, 0], 0.765, 0.79)
    near = np.argmin(np.abs(v[:, 2:3] - jp[[J[f"left_{n}1"] for n in FINGERS[:4]], 2][None]), axis=1)
    for k, n in enumerate(FINGERS[:4]):
        m = near == k
        W[m, J["left_wrist"]] -= f[m]
        W[m, J[f"left_{n}1"]] += f[m]
    th = smoothstep(v[:, 2], 0.015, 0.035) * (1.0 - smoothstep(v[:, 0], 0.72, 0.75))
    W *= (1.0 - th)[:, None]
    W[:, J["left_thumb1"]] += th
    return BodyPart("palm", p, W, {})


def _finger(name: str) -> BodyPart:
    jp = joint_positions()
    js = [J[f"left_{name}{k}"] for k in (1, 2, 3)]
    knots = jp[js]
    tip = np.asarray(FINGER_TIPS[name])
    d0 = knots[1] - knots[0]
    d0 /= np.linalg.norm(d0)
    thumb = name == "thumb"
    r = {"index": 0.0092, "middle": 0.0095, "ring": 0.0089, "pinky": 0.0079, "thumb": 0.0115}[name]
    start = knots[0] - (0.006 if thumb else 0.014) * d0
    pts = [start, knots[0], 0.5 * (knots[0] + knots[1]), knots[1], 0.5 * (knots[1] + knots[2]), knots[2]]
    end_dir = (tip - knots[2]) / np.linalg.norm(tip - knots[2])
    r_tip = 0.78 * r
    pts.append(tip - r_tip * end_dir)
    pts = np.asarray(pts)
    radii = r * np.array([1.05, 1.0, 0.95, 0.92, 0.86, 0.82, 0.78])
    up = np.array([0.35, 1.0, 0.0]) if thumb else np.array([0.0, 1.0, 0.0])
    p = _polyline_sweep(pts, up, radii * (0.92 if not thumb else 0.9), radii, n_seg=12, cap_start=0.8, cap_end=1.0, cap_rings=2)
    s = (p.verts - knots[0]) @ d0
    s1 = (knots[1] - knots[0]) @ d0
    s2 = (knots[2] - knots[0]) @ d0
    W = chain_weights(s, [0.0 if not thumb else -0.01, s1, s2], [J["left_wrist"]] + js, [0.006, 0.005, 0.004])
    return BodyPart(name, p, W, {"tip": len(p.verts) - 1})


def _mirror(part: BodyPart) -> BodyPart:
    v = part.piece.verts * np.array([-1.0, 1.0, 1.0])
    ax = part.piece.axis * np.array([-1.0, 1.0, 1.0])
    piece = Piece(v, np.ascontiguousarray(part.piece.faces[:, ::-1]), ax)
    W = np.zeros_like(part.weights)
    W[:, mirror_joint_index()] = part.weights
    return BodyPart(part.name, piece, W, part.marks)


def build_body(num_verts: int) -> list[BodyPart]:
    """All body parts (sides prefixed ``left_`` / ``right_``) with exactly ``num_verts``
    vertices in total; the torso absorbs the remainder."""
    left = [_leg(), _foot(), _arm(), _palm()] + [_finger(n) for n in FINGERS]
    parts: list[BodyPart] = []
    for part in left:
        parts.append(BodyPart("left_" + part.name, part.piece, part.weights, part.marks))
        m = _mirror(part)
        parts.append(BodyPart("right_" + part.name, m.piece, m.weights, m.marks))
    used = sum(len(p.piece.verts) for p in parts)
    parts.insert(0, _torso(num_verts - used))
    assert sum(len(p.piece.verts) for p in parts) == num_verts
    return parts
