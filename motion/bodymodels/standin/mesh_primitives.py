"""Small mesh building blocks for the stand-in mannequin (numpy only).

Every builder returns a :class:`Piece`: vertices ``(N, 3)``, triangles ``(M, 3)`` with
outward (counter-clockwise seen from outside) winding, and ``axis`` ``(N, 3)``: the
centre-line point each vertex hangs from (the girth blend shape pushes away from it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FloatArray = np.ndarray


@dataclass
class Piece:
    """A mesh fragment with per-vertex centre-line points (float64)."""

    verts: FloatArray  # (N, 3)
    faces: np.ndarray  # (M, 3) int64, local indices
    axis: FloatArray  # (N, 3) centre-line point of each vertex


def zip_rings(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Triangulate the band between two closed rings of possibly different sizes.

    Both rings run in the same angular direction and start at the same angle. With the
    rings counter-clockwise about a tangent pointing from ``a`` to ``b``, the triangles
    face inward (callers flip them). Returns ``(len(a) + len(b), 3)``.
    """
    na, nb = len(a), len(b)
    if na == nb:
        i = np.arange(na)
        j = (i + 1) % na
        return np.concatenate([np.stack([a[i], b[i], b[j]], 1), np.stack([a[i], b[j], a[j]], 1)])
    tris: list[tuple[int, int, int]] = []
    i = j = 0
    while i < na or j < nb:
        # advance whichever ring's next vertex comes first in angle
        if j >= nb or (i < na and (i + 1) / na <= (j + 1) / nb):
            tris.append((a[i % na], b[j % nb], a[(i + 1) % na]))
            i += 1
        else:
            tris.append((a[i % na], b[j % nb], b[(j + 1) % nb]))
            j += 1
    return np.asarray(tris, dtype=np.int64)


def fan(ring: np.ndarray, centre: int) -> np.ndarray:
    """Triangles joining a closed ring to a single pole vertex ``(len(ring), 3)``."""
    n = len(ring)
    i = np.arange(n)
    return np.stack([ring[i], np.full(n, centre), ring[(i + 1) % n]], 1)


def superellipse(n: int, a: FloatArray, b_pos: FloatArray, b_neg: FloatArray, p: float = 2.0) -> tuple[FloatArray, FloatArray]:
    """Section outline coordinates ``(K, n)`` x2 for K sections of half-axes a, b.

    ``b_pos`` is used where ``sin > 0`` and ``b_neg`` elsewhere (front/back asymmetry);
    ``p`` > 2 squares the outline off (hands, feet).
    """
    ang = 2.0 * np.pi * np.arange(n) / n
    c, s = np.cos(ang), np.sin(ang)
    e = 2.0 / p
    cu = np.sign(c) * np.abs(c) ** e
    su = np.sign(s) * np.abs(s) ** e
    b = np.where(s[None, :] > 0, b_pos[:, None], b_neg[:, None])
    return a[:, None] * cu[None, :], b * su[None, :]


def sweep(
    centres: FloatArray,
    e1: FloatArray,
    e2: FloatArray,
    a: FloatArray,
    b_pos: FloatArray,
    b_neg: FloatArray | None = None,
    n_seg: int = 16,
    p: float = 2.0,
    cap_start: float | None = 1.0,
    cap_end: float | None = 1.0,
    cap_rings: int = 3,
    extra_start: int = 0,
    extra_end: int = 0,
) -> Piece:
    """Generalised cylinder through section centres, with rounded (or open) ends.

    Args:
        centres: ``(K, 3)`` section centres along the centre line.
        e1, e2: ``(K, 3)`` unit section axes; the tangent is ``e1 x e2`` (outward normals
            need ``e1, e2, tangent`` right-handed).
        a, b_pos, b_neg: ``(K,)`` half-axes along e1 and along +e2 / -e2.
        n_seg: vertices per ring.
        p: superellipse exponent of the outline.
        cap_start, cap_end: dome height as a fraction of the end radius, or None to leave
            that end open (hidden inside another part).
        cap_rings: extra shrinking rings per dome.
        extra_start, extra_end: size of an optional small inner ring placed just before
            the pole (0 = none, else >= 3); used to hit an exact vertex budget.
    """
    b_neg = b_pos if b_neg is None else b_neg
    tang = np.cross(e1, e2)
    tang /= np.linalg.norm(tang, axis=1, keepdims=True)
    r_end = np.maximum(a, np.maximum(b_pos, b_neg))
    last = len(centres) - 1

    # rings: (source section, radius scale, offset along the tangent)
    dome = [0.5 * np.pi * i / (cap_rings + 1) for i in range(1, cap_rings + 1)]
    start = [(0, np.cos(g), -r_end[0] * cap_start * np.sin(g)) for g in dome[::-1]] if cap_start is not None else []
    end = [(last, np.cos(g), r_end[last] * cap_end * np.sin(g)) for g in dome] if cap_end is not None else []
    spec = start + [(k, 1.0, 0.0) for k in range(len(centres))] + end
    k = np.array([sp[0] for sp in spec])
    f = np.array([sp[1] for sp in spec])
    off = np.array([sp[2] for sp in spec])
    xu, xv = superellipse(n_seg, a[k] * f, b_pos[k] * f, b_neg[k] * f, p)
    c = centres[k] + off[:, None] * tang[k]
    verts = [(c[:, None] + xu[..., None] * e1[k][:, None] + xv[..., None] * e2[k][:, None]).reshape(-1, 3)]
    axis = [np.repeat(centres[k], n_seg, axis=0)]
    rings = [np.arange(r * n_seg, (r + 1) * n_seg) for r in range(len(spec))]
    faces = [zip_rings(rings[r], rings[r + 1]) for r in range(len(spec) - 1)]
    n = len(verts[0])

    for ring, kk, sign, height, extra in ((rings[0], 0, -1.0, cap_start, extra_start),
                                          (rings[-1], last, 1.0, cap_end, extra_end)):
        if height is None:
            continue
        tip = centres[kk] + sign * tang[kk] * r_end[kk] * height
        inner = ring
        if extra:  # a small ring just inside the pole absorbs a vertex budget
            ang = 2.0 * np.pi * (np.arange(extra) + 0.5) / extra
            rr = 0.35 * r_end[kk] * (np.cos(dome[-1]) if dome else 1.0)
            pts = tip - sign * tang[kk] * 0.02 * r_end[kk] + rr * (np.cos(ang)[:, None] * e1[kk] + np.sin(ang)[:, None] * e2[kk])
            inner = np.arange(n, n + extra)
            verts.append(pts)
            faces.append(zip_rings(ring, inner) if sign > 0 else zip_rings(inner, ring))
            n += extra
        verts.append(tip[None])
        faces.append(fan(inner, n) if sign > 0 else fan(inner, n)[:, ::-1])
        n += 1
        axis.append(np.repeat(centres[kk][None], extra + 1, axis=0))
    faces_out = np.concatenate(faces).astype(np.int64)[:, ::-1]  # ring order runs inward-facing
    return Piece(np.concatenate(verts), np.ascontiguousarray(faces_out), np.concatenate(axis))


def uv_sphere(centre: FloatArray, radius: float, lat_deg: FloatArray, n_lon: int) -> Piece:
    """Sphere with its poles on the +z / -z axis and rings at the given latitudes.

    ``lat_deg`` are polar angles from +z in degrees (strictly between 0 and 180), so the
    +z pole (vertex 0) can be placed exactly (e.g. a pupil centre).
    """
    pol = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lon = 2.0 * np.pi * np.arange(n_lon) / n_lon
    ring_pts = np.stack(
        [np.sin(pol)[:, None] * np.cos(lon)[None], np.sin(pol)[:, None] * np.sin(lon)[None], np.repeat(np.cos(pol)[:, None], n_lon, 1)],
        -1,
    ).reshape(-1, 3)
    verts = np.concatenate([[[0, 0, 1.0]], ring_pts, [[0, 0, -1.0]]]) * radius + centre
    R = len(pol)
    rings = [1 + np.arange(r * n_lon, (r + 1) * n_lon) for r in range(R)]
    last = len(verts) - 1
    faces = [fan(rings[0], 0)[:, ::-1]]
    faces += [zip_rings(rings[r + 1], rings[r]) for r in range(R - 1)]
    faces.append(fan(rings[-1], last))
    axis = np.repeat(np.asarray(centre, dtype=np.float64)[None], len(verts), 0)
    faces_out = np.ascontiguousarray(np.concatenate(faces).astype(np.int64)[:, ::-1])
    return Piece(verts, faces_out, axis)


def signed_volume(verts: FloatArray, faces: np.ndarray) -> float:
    """Signed volume of a closed triangle mesh (positive when normals point outward)."""
    a, b, c = verts[faces[:, 0]], verts[faces[:, 1]], verts[faces[:, 2]]
    return float(np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6.0)


def vertex_normals(verts: FloatArray, faces: np.ndarray) -> FloatArray:
    """Area-weighted unit vertex normals ``(N, 3)``."""
    fn = np.cross(verts[faces[:, 1]] - verts[faces[:, 0]], verts[faces[:, 2]] - verts[faces[:, 0]])
    n = np.zeros_like(verts)
    for k in range(3):
        np.add.at(n, faces[:, k], fn)
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)


def smoothstep(x: FloatArray, lo: float, hi: float) -> FloatArray:
    """Hermite step from 0 (x <= lo) to 1 (x >= hi)."""
    s = np.clip((np.asarray(x, dtype=np.float64) - lo) / (hi - lo), 0.0, 1.0)
    return s * s * (3.0 - 2.0 * s)
