"""Shape blend shapes (betas) of the stand-in SMPL-X body.

The first :data:`NUM_SEMANTIC_BETAS` directions have a meaning, per unit coefficient:

===  =================  ================================================
idx  name               effect of +1
===  =================  ================================================
  0  size               whole body 6 % larger (about the pelvis)
  1  girth              limbs and torso thicker (fat / muscle)
  2  shoulder_width     shoulders and arms 2 cm further out each side
  3  hip_width          hips and legs 1.5 cm further out each side
  4  leg_length         legs 8 % longer (feet lower)
  5  torso_length       torso 6 % longer (head and arms higher)
  6  arm_length         arms and hands 10 % longer
  7  head_size          head 6 % larger
  8  belly              belly 3 cm forward
  9  chest              chest 2 cm deeper
===  =================  ================================================

Directions 10-299 are small (about 2 mm), smooth, local bumps along the surface normal
from a fixed seed, zero outside a few centimetres.
"""

from __future__ import annotations

import numpy as np

from motion.bodymodels.standin.mesh_primitives import smoothstep, vertex_normals
from motion.bodymodels.names import SHAPE_NAMES
from motion.bodymodels.skeleton import HEAD_ORIGIN
from motion.bodymodels.standin.mesh import StandinMesh

NUM_SEMANTIC_BETAS = len(SHAPE_NAMES)
NUM_BETAS = 300
SEED = 7


def build_shape_basis(mesh: StandinMesh) -> np.ndarray:
    """Shape directions ``(V, 3, 300)`` (metres per unit beta) in SMPL-X vertex order."""
    v = mesh.v_template
    V = len(v)
    name = np.asarray(mesh.part_names)[mesh.part]
    is_head = name == "head"
    is_torso = name == "torso"
    is_arm = np.char.find(name.astype(str), "arm") >= 0
    hand = np.isin(np.char.replace(np.char.replace(name.astype(str), "left_", ""), "right_", ""),
                   ["palm", "thumb", "index", "middle", "ring", "pinky"])
    x, y, z = v[:, 0], v[:, 1], v[:, 2]
    ax = np.abs(x)
    sx = np.sign(x)
    B = np.zeros((V, 3, NUM_BETAS))
    B[:, :, 0] = 0.06 * v
    radial = v - mesh.axis
    girth = np.where(is_torso, 0.10, np.where(is_head, 0.02, np.where(hand, 0.03, 0.08)))
    B[:, :, 1] = girth[:, None] * radial
    B[:, 0, 2] = sx * 0.02 * smoothstep(ax, 0.06, 0.17) * smoothstep(y, 0.30, 0.38) * ~is_head
    B[:, 0, 3] = sx * 0.015 * smoothstep(-y, -0.05, 0.08) * smoothstep(ax, 0.03, 0.10)
    B[:, 1, 4] = 0.08 * np.minimum(y + 0.05, 0.0)
    B[:, 1, 5] = 0.06 * np.clip(y, 0.0, 0.5)
    B[:, 0, 6] = np.where(is_arm | hand, sx * 0.10 * np.maximum(ax - 0.18, 0.0), 0.0)
    B[:, :, 7] = np.where(is_head[:, None], 0.06 * (v - HEAD_ORIGIN), 0.0)
    front = smoothstep(z, 0.0, 0.06) * is_torso
    B[:, 2, 8] = 0.03 * front * np.exp(-0.5 * ((y - 0.08) / 0.08) ** 2)
    B[:, 2, 9] = 0.02 * front * np.exp(-0.5 * ((y - 0.30) / 0.06) ** 2)

    rng = np.random.default_rng(SEED)
    normals = vertex_normals(v, mesh.faces)
    for k in range(NUM_SEMANTIC_BETAS, NUM_BETAS):
        c = v[rng.integers(V)]
        sigma = rng.uniform(0.02, 0.05)
        w = np.exp(-0.5 * np.sum((v - c) ** 2, 1) / sigma**2)
        w[w < 1e-3] = 0.0
        B[:, :, k] = (rng.uniform(1.0, 2.5) * 1e-3 * rng.choice([-1.0, 1.0]) * w)[:, None] * normals
    return B
