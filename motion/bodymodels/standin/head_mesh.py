"""Stand-in head mesh (the FLAME part of the stand-in SMPL-X body), head-local frame.

Built from :mod:`motion.bodymodels.standin.head_geometry`: a ray-grid skin with a pole at the
crown and an open ring deep in the neck, lips added as a displacement around the mouth
row, the eye and mouth openings cut as slits along one grid row each (the slit vertices
are duplicated: one copy for the upper lid/lip, one for the lower), two eyeballs and a
closed mouth cavity. The template has the eyes open and the lips together; the closed
eyelid surface is kept in ``verts_closed`` (the blink blend shape is their difference).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from motion.bodymodels.standin import head_geometry as hg
from motion.bodymodels.standin.mesh_primitives import fan, smoothstep, sweep, uv_sphere, zip_rings

#: Vertex kinds in :attr:`HeadMesh.kind`.
SKIN, EYE_L, EYE_R, MOUTH = 0, 1, 2, 3
#: FLAME's vertex count; the stand-in head is built to exactly this size.
NUM_HEAD_VERTS = 5023
EYE_LATITUDES = (5.0, 10.0, 15.0, 20.0, 25.0, 29.0, 34.0, 42.0, 55.0, 75.0, 100.0, 130.0, 155.0)
EYE_LONGITUDES = 16


@dataclass
class HeadMesh:
    """Head mesh in the head-local frame (see :mod:`head_geometry`)."""

    verts: np.ndarray  # (Vh, 3) template: eyes open, lips together
    verts_closed: np.ndarray  # (Vh, 3) same with both eyes shut
    faces: np.ndarray  # (Fh, 3)
    kind: np.ndarray  # (Vh,) SKIN / EYE_L / EYE_R / MOUTH
    theta: np.ndarray  # (Vh,) grid angles of skin vertices (nan elsewhere)
    phi: np.ndarray  # (Vh,)
    above_mouth: np.ndarray  # (Vh,) bool: skin above the lip line (upper-lip copy included)
    above_eye: np.ndarray  # (Vh,) bool: skin above the eye row (upper-lid copies included)
    mouth_upper: np.ndarray  # (k,) ids of the upper-lip slit copies, by increasing x
    mouth_lower: np.ndarray  # (k,) matching lower-lip copies
    mouth_corners: np.ndarray  # (2,) ids [right (-x), left (+x)]
    lid_upper: dict[str, np.ndarray]  # 'left'/'right' -> upper-lid slit copies, by increasing x
    lid_lower: dict[str, np.ndarray]
    eye_corners: dict[str, np.ndarray]  # 'left'/'right' -> the two corner ids, by increasing x
    pupil: dict[str, int]  # front pole vertex of each eyeball
    nose_tip: int
    ears: dict[str, int]


def _lip_displacement(theta: np.ndarray, phi: np.ndarray, x: np.ndarray, phi_m: float) -> np.ndarray:
    """Outward lip offset (metres) along the ray, as a function of grid position."""
    r_m = np.linalg.norm(hg.MOUTH_CREASE - hg.RAY_ORIGIN)
    u = (phi_m - phi) * r_m * 1e3  # mm above the lip line (negative below)
    ax = np.abs(x) * 1e3
    taper = 1.0 - smoothstep(ax, 13.0, 27.0)
    bow = 1.0 + 0.18 * np.exp(-(((ax - 4.0) / 4.0) ** 2))
    upper = 5.0e-3 * bow * np.exp(-(((u - 3.6) / 3.9) ** 2))
    lower = 5.6e-3 * np.exp(-(((-u - 4.4) / 4.7) ** 2))
    return taper * np.where(u >= 0, upper, lower)


def _open_lids(v: np.ndarray, kind: np.ndarray, above: np.ndarray, slit_beta: np.ndarray) -> np.ndarray:
    """Rotate lid skin about each eye's horizontal axis to open the fissure."""
    out = v.copy()
    for s in (1.0, -1.0):
        e = hg.EYE_CENTRE * np.array([s, 1.0, 1.0])
        w = v - e
        near = (kind == SKIN) & (np.linalg.norm(w, axis=1) < hg.EYE_RADIUS + 0.014) & (w[:, 2] > -0.004)
        dx = np.abs(w[:, 0]) / hg.EYE_HALF_WIDTH
        prof = np.clip(1.0 - dx**2, 0.0, None) ** 0.9
        beta = np.arctan2(w[:, 1], w[:, 2])
        d = beta - slit_beta
        up = prof * 0.60 * np.clip(1.0 - d / 0.95, 0.0, 1.0)
        lo = -prof * 0.20 * np.clip(1.0 + d / 0.60, 0.0, 1.0)
        delta = np.where(near, np.where(above, up, lo), 0.0)
        c, sn = np.cos(delta), np.sin(delta)
        out[:, 1] = np.where(near, e[1] + w[:, 1] * c + w[:, 2] * sn, out[:, 1])
        out[:, 2] = np.where(near, e[2] + w[:, 2] * c - w[:, 1] * sn, out[:, 2])
    return out


def build_head() -> HeadMesh:
    """Build the stand-in head (deterministic, exactly :data:`NUM_HEAD_VERTS` vertices)."""
    grid = hg.make_grid()
    C, R = len(grid.theta), len(grid.phi)
    th, ph = np.meshgrid(grid.theta, grid.phi)  # (R, C)
    dirs = hg.ray_dirs(th, ph).reshape(-1, 3)
    t = hg.cast(dirs)
    skin = hg.RAY_ORIGIN + t[:, None] * dirs
    skin += _lip_displacement(th.ravel(), ph.ravel(), skin[:, 0], grid.phi[grid.mouth_row])[:, None] * dirs
    top = hg.RAY_ORIGIN + hg.cast(np.array([[0.0, 1.0, 0.0]]))[0] * np.array([0.0, 1.0, 0.0])
    idx = np.arange(R * C).reshape(R, C)
    pole = R * C
    verts = [skin, top[None]]
    theta = [th.ravel(), [np.nan]]
    phi = [ph.ravel(), [0.0]]
    n = R * C + 1

    # slits: duplicate the interior vertices of the eye row / mouth row
    lower_idx = idx.copy()  # index table used by the band below each slit row
    slit: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    corners: dict[str, np.ndarray] = {}
    for name, row, centre_x, half in (
        ("left", grid.eye_row, hg.EYE_CENTRE[0], hg.EYE_HALF_WIDTH),
        ("right", grid.eye_row, -hg.EYE_CENTRE[0], hg.EYE_HALF_WIDTH),
        ("mouth", grid.mouth_row, 0.0, hg.MOUTH_HALF_WIDTH),
    ):
        xs = skin[idx[row], 0]
        front = np.abs(grid.theta) < np.pi / 2
        cols = np.where(front & (np.abs(xs - centre_x) < half))[0]
        cols = cols[np.argsort(xs[cols])]
        dup = np.arange(n, n + len(cols))
        verts.append(skin[idx[row, cols]])
        theta.append(grid.theta[cols])
        phi.append(np.full(len(cols), grid.phi[row]))
        lower_idx[row, cols] = dup
        slit[name] = (idx[row, cols], dup)
        lo_c = cols[0] - 1 if xs[cols[0] - 1] < xs[cols[0]] else cols[0] + 1
        hi_c = cols[-1] + 1 if xs[(cols[-1] + 1) % C] > xs[cols[-1]] else cols[-1] - 1
        corners[name] = idx[row, [lo_c % C, hi_c % C]]
        n += len(cols)

    faces = [fan(idx[0], pole)[:, ::-1]]
    for r in range(R - 1):
        below = lower_idx if r in (grid.eye_row, grid.mouth_row) else idx
        faces.append(zip_rings(below[r], idx[r + 1]))
    skin_v = np.concatenate(verts)
    n_skin = len(skin_v)
    kind = [np.zeros(n_skin, dtype=np.int64)]
    theta_a = np.concatenate([np.asarray(a, dtype=np.float64) for a in theta])
    phi_a = np.concatenate([np.asarray(a, dtype=np.float64) for a in phi])

    # eyeballs (front pole = pupil centre) and the mouth cavity, which absorbs the budget
    parts = [skin_v]
    pupils: dict[str, int] = {}
    for name, s, k in (("left", 1.0, EYE_L), ("right", -1.0, EYE_R)):
        ball = uv_sphere(hg.EYE_CENTRE * np.array([s, 1.0, 1.0]), hg.EYE_RADIUS, np.array(EYE_LATITUDES), EYE_LONGITUDES)
        faces.append(ball.faces + n)
        pupils[name] = n
        parts.append(ball.verts)
        kind.append(np.full(len(ball.verts), k))
        n += len(ball.verts)
    budget = NUM_HEAD_VERTS - n
    zs = np.linspace(-1.0, 1.0, 9)[1:-1]
    ring_n = 12
    extra = budget - len(zs) * ring_n - 2
    if extra < 0 or 0 < extra < 3:
        raise RuntimeError(f"head vertex budget off by {extra}")
    ext_a = extra // 2 if extra >= 6 else 0
    ext_b = extra - ext_a
    cz = np.array([0.0, -0.062, 0.054])
    prof = np.sqrt(1.0 - zs**2)
    bag = sweep(
        cz + zs[:, None] * np.array([0.0, 0.0, 0.021]), np.tile([1.0, 0, 0], (len(zs), 1)), np.tile([0, 1.0, 0], (len(zs), 1)),
        0.035 * prof, 0.020 * prof, n_seg=ring_n, p=3.0, cap_rings=0, cap_start=0.3, cap_end=0.3, extra_start=ext_a, extra_end=ext_b,
    )
    faces.append(bag.faces + n)
    parts.append(bag.verts)
    kind.append(np.full(len(bag.verts), MOUTH))
    n += len(bag.verts)
    assert n == NUM_HEAD_VERTS, n

    v = np.concatenate(parts)
    kind_a = np.concatenate(kind)
    pad = np.full(n - n_skin, np.nan)
    theta_a, phi_a = np.concatenate([theta_a, pad]), np.concatenate([phi_a, pad])
    above_mouth = (kind_a == SKIN) & (phi_a < grid.phi[grid.mouth_row] - 1e-9)
    above_eye = (kind_a == SKIN) & (phi_a < grid.phi[grid.eye_row] - 1e-9)
    for name in ("left", "right", "mouth"):
        up_ids = slit[name][0]
        (above_mouth if name == "mouth" else above_eye)[up_ids] = True
    above_mouth[pole] = above_eye[pole] = True

    # beta of the slit row at the same grid column, for every skin vertex
    col_theta = np.where(kind_a == SKIN, theta_a, 0.0)
    slit_beta = np.zeros(n)
    for s in (1.0, -1.0):
        e = hg.EYE_CENTRE * np.array([s, 1.0, 1.0])
        row_pts = skin[idx[grid.eye_row]] - e
        b_row = np.arctan2(row_pts[:, 1], row_pts[:, 2])
        side = (v[:, 0] * s) > 0
        slit_beta = np.where(side, np.interp(col_theta, grid.theta, b_row), slit_beta)
    v_open = _open_lids(v, kind_a, above_eye, slit_beta)

    nose_region = (kind_a == SKIN) & (np.abs(v[:, 0]) < 0.004) & (v[:, 1] > -0.04) & (v[:, 1] < 0.0)
    nose_tip = int(np.where(nose_region)[0][np.argmax(v[nose_region, 2])])
    ears = {}
    for name, s in (("left", 1.0), ("right", -1.0)):
        reg = (kind_a == SKIN) & (np.abs(v[:, 1] + 0.004) < 0.02) & (np.abs(v[:, 2] + 0.012) < 0.012)
        ears[name] = int(np.where(reg)[0][np.argmax(s * v[reg, 0])])

    return HeadMesh(
        verts=v_open, verts_closed=v, faces=np.concatenate(faces).astype(np.int64), kind=kind_a,
        theta=theta_a, phi=phi_a, above_mouth=above_mouth, above_eye=above_eye,
        mouth_upper=slit["mouth"][0], mouth_lower=slit["mouth"][1], mouth_corners=corners["mouth"],
        lid_upper={k: slit[k][0] for k in ("left", "right")}, lid_lower={k: slit[k][1] for k in ("left", "right")},
        eye_corners={k: corners[k] for k in ("left", "right")}, pupil=pupils, nose_tip=nose_tip, ears=ears,
    )
