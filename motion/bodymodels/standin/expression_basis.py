"""Semantic expression basis of the stand-in FLAME head (and the SMPL-X head).

Coefficient k moves the head vertices by ``k * basis[:, :, k]``. A coefficient of 1 is the
full-strength expression (displacements of a few millimetres up to about 1 cm); the
blink components close the eyelids exactly at 1. The first :data:`NUM_SEMANTIC`
components have names (left = the character's own left, +x):

====  ==================  ======================================================
 idx  name                what it does
====  ==================  ======================================================
   0  smile               lip corners up and back, cheeks up
   1  frown               lip corners down, chin up
   2  lip_pucker          lips forward and narrowed (kiss)
   3  lip_funnel          lips forward and slightly parted (``oo``)
   4  lips_press          lips pressed together and thinned
   5  upper_lip_raise     upper lip up
   6  lower_lip_depress   lower lip down
   7  mouth_stretch       lip corners out to the sides, lips thinned
   8  brow_inner_up       inner brows up (worry, sadness)
   9  brow_outer_up       outer brows up (surprise)
  10  brow_down           brows down and together (anger)
  11  blink_left          left eyelids shut (exactly closed at 1)
  12  blink_right         right eyelids shut (exactly closed at 1)
  13  eye_wide            upper lids further open
  14  cheek_squint        cheeks and lower lids up
  15  nose_sneer          nose wings up (disgust)
  16  cheek_puff          cheeks out
  17  mouth_left          mouth moved to the character's left
  18  mouth_right         mouth moved to the character's right
  19  mouth_open          lips part without the jaw
====  ==================  ======================================================

Components 20-99 are smooth, low-amplitude (< 1 mm) local modes from a fixed seed, so the
full 100-coefficient space is used like a real one. Only the face front moves: skin with
``|theta| >= 72 deg`` (sides, back, ears) and the neck are never displaced.
"""

from __future__ import annotations

import numpy as np

from motion.bodymodels.standin import head_geometry as hg
from motion.bodymodels.standin.head_mesh import SKIN, HeadMesh
from motion.bodymodels.standin.mesh_primitives import smoothstep, vertex_normals
from motion.bodymodels.names import EXPRESSION_NAMES

NUM_SEMANTIC = len(EXPRESSION_NAMES)
NUM_EXPRESSION_COMPONENTS = 100
SEED = 20240611


def _gauss(p: np.ndarray, c, sigma: float) -> np.ndarray:
    d2 = np.sum((p - np.asarray(c)) ** 2, axis=1)
    return np.exp(-0.5 * d2 / sigma**2)[:, None]


def face_mask(head: HeadMesh) -> np.ndarray:
    """``(Vh,)`` weight in [0, 1]: 1 on the face front, exactly 0 off it (compact)."""
    th = np.nan_to_num(np.abs(head.theta), nan=np.pi)
    m = (1.0 - smoothstep(th, np.radians(55.0), np.radians(72.0))) * smoothstep(head.verts[:, 1], -0.14, -0.12)
    return np.where(head.kind == SKIN, m, 0.0)


def _near_lids(head: HeadMesh, side: float) -> np.ndarray:
    return (head.kind == SKIN) & (head.verts[:, 0] * side > 0.005)


def build_expression_basis(head: HeadMesh) -> np.ndarray:
    """Expression basis ``(Vh, 3, 100)`` (metres per unit coefficient), head order."""
    p = head.verts
    n = len(p)
    mask = face_mask(head)[:, None]
    phi_m = float(head.phi[head.mouth_upper[0]])
    r_m = np.linalg.norm(hg.MOUTH_CREASE - hg.RAY_ORIGIN)
    u = np.nan_to_num((phi_m - head.phi) * r_m)  # metres above the lip line
    ax = np.abs(p[:, 0])
    above = head.above_mouth
    ul = (above * (1.0 - smoothstep(u, 0.008, 0.014)) * (1.0 - smoothstep(ax, 0.020, 0.030)))[:, None]
    ll = (~above * (1.0 - smoothstep(-u, 0.009, 0.016)) * (1.0 - smoothstep(ax, 0.019, 0.028)))[:, None]
    lips = ul + ll
    crn = {s: p[head.mouth_corners[1 if s > 0 else 0]] for s in (1.0, -1.0)}
    closed_minus_open = head.verts_closed - head.verts
    lid_up = (head.above_eye & (np.linalg.norm(closed_minus_open, axis=1) > 0))[:, None]
    lid_lo = (~head.above_eye & (np.linalg.norm(closed_minus_open, axis=1) > 0))[:, None]
    mc = hg.MOUTH_CREASE
    brow_y, brow_z = 0.030, 0.080

    def both(f) -> np.ndarray:
        return f(1.0) + f(-1.0)

    comps: dict[str, np.ndarray] = {
        "smile": both(lambda s: _gauss(p, crn[s], 0.011) * [s * 0.003, 0.005, -0.003]
                      + _gauss(p, (s * 0.038, -0.028, 0.076), 0.015) * [0.0, 0.003, 0.0015]),
        "frown": both(lambda s: _gauss(p, crn[s], 0.011) * [s * 0.001, -0.0048, -0.0005])
        + _gauss(p, (0.0, -0.098, 0.082), 0.012) * [0.0, 0.0015, 0.001],
        "lip_pucker": lips * np.stack([-0.35 * p[:, 0], np.zeros(n), np.full(n, 0.0065)], 1),
        "lip_funnel": lips * np.stack([-0.25 * p[:, 0], np.zeros(n), np.full(n, 0.0045)], 1)
        + ul * [0.0, 0.0025, 0.0] + ll * [0.0, -0.0035, 0.0],
        "lips_press": lips * np.stack([np.zeros(n), -0.35 * u, np.full(n, -0.0018)], 1),
        "upper_lip_raise": (above * (1.0 - smoothstep(u, 0.012, 0.02)) * (1.0 - smoothstep(ax, 0.022, 0.032)))[:, None]
        * [0.0, 0.0042, 0.001],
        "lower_lip_depress": ll * [0.0, -0.0045, 0.001],
        "mouth_stretch": both(lambda s: _gauss(p, crn[s], 0.012) * [s * 0.0045, -0.001, -0.002])
        + lips * np.stack([np.zeros(n), -0.2 * u, np.zeros(n)], 1),
        "brow_inner_up": both(lambda s: _gauss(p, (s * 0.016, brow_y, brow_z), 0.012) * [0.0, 0.006, 0.0]
                              + _gauss(p, (s * 0.014, 0.052, 0.08), 0.015) * [0.0, 0.003, 0.0]),
        "brow_outer_up": both(lambda s: _gauss(p, (s * 0.045, brow_y - 0.002, 0.070), 0.013) * [0.0, 0.006, 0.0]),
        "brow_down": both(lambda s: _gauss(p, (s * 0.028, brow_y, brow_z), 0.016) * [-s * 0.0015, -0.0045, -0.0008]
                          + _gauss(p, (s * 0.012, brow_y, 0.084), 0.01) * [-s * 0.002, -0.002, 0.0]),
        "blink_left": closed_minus_open * _near_lids(head, 1.0)[:, None],
        "blink_right": closed_minus_open * _near_lids(head, -1.0)[:, None],
        "eye_wide": -0.35 * closed_minus_open * lid_up,
        "cheek_squint": both(lambda s: _gauss(p, (s * 0.036, -0.018, 0.078), 0.014) * [0.0, 0.003, 0.001])
        + 0.45 * closed_minus_open * lid_lo,
        "nose_sneer": both(lambda s: _gauss(p, (s * 0.0125, -0.027, 0.09), 0.008) * [0.0, 0.003, 0.0])
        + _gauss(p, (0.0, 0.012, 0.086), 0.01) * [0.0, -0.001, 0.0] + ul * [0.0, 0.0015, 0.0],
        "cheek_puff": both(lambda s: _gauss(p, (s * 0.038, -0.058, 0.07), 0.016) * [s * 0.005, 0.0, 0.002]),
        "mouth_left": _gauss(p, mc, 0.016) * [0.005, 0.0, -0.0005],
        "mouth_right": _gauss(p, mc, 0.016) * [-0.005, 0.0, -0.0005],
        "mouth_open": ul * [0.0, 0.0025, 0.0] + ll * [0.0, -0.006, -0.0005],
    }
    # the lids lie where the mask is 1, so blinks stay exact (the lids meet at coefficient 1)
    assert (mask[np.linalg.norm(closed_minus_open, axis=1) > 0] == 1.0).all()
    basis = np.zeros((n, 3, NUM_EXPRESSION_COMPONENTS))
    for k, name in enumerate(EXPRESSION_NAMES):
        basis[:, :, k] = comps[name] * mask

    rng = np.random.default_rng(SEED)
    normals = vertex_normals(p, head.faces)
    face = np.where(mask[:, 0] > 0.99)[0]
    for k in range(NUM_SEMANTIC, NUM_EXPRESSION_COMPONENTS):
        centre = p[face[rng.integers(len(face))]]
        sigma = rng.uniform(0.008, 0.016)
        amp = rng.uniform(0.4e-3, 0.9e-3) * rng.choice([-1.0, 1.0])
        basis[:, :, k] = _gauss(p, centre, sigma) * normals * amp * mask
    return basis
