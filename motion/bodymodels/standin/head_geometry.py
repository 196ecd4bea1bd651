"""Stand-in head surface: a signed distance field sampled on a (theta, phi) ray grid.

Head-local frame (metres): y up, z forward (the face looks along +z), x to the model's
left, origin near the centre of the skull. Rays leave :data:`RAY_ORIGIN` in direction
``(sin(phi) sin(theta), cos(phi), sin(phi) cos(theta))``; theta = 0 is the front. Every
grid row is a constant ``phi`` and every column a constant ``theta``, so the eye and mouth
openings can be cut along one row each (see :mod:`motion.bodymodels.standin.head_mesh`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RAY_ORIGIN = np.array([0.0, -0.035, -0.012])
EYE_CENTRE = np.array([0.0315, 0.002, 0.058])  # left eye; the right one mirrors x
EYE_RADIUS = 0.0122
LID_THICKNESS = 0.0013
MOUTH_CREASE = np.array([0.0, -0.063, 0.090])  # where the lips meet, on the mid-line
EYE_HALF_WIDTH = 0.0128  # half the eye fissure (corner to corner / 2)
MOUTH_HALF_WIDTH = 0.0245


def _length(v: np.ndarray) -> np.ndarray:
    return np.sqrt(np.sum(v * v, axis=-1))


def _ellipsoid(p: np.ndarray, c, r) -> np.ndarray:
    q = (p - np.asarray(c)) / np.asarray(r)
    k0 = _length(q)
    k1 = _length(q / np.asarray(r))
    return k0 * (k0 - 1.0) / np.maximum(k1, 1e-9)


def _cone(p: np.ndarray, a, b, ra: float, rb: float) -> np.ndarray:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    pa, ba = p - a, b - a
    h = np.clip((pa @ ba) / (ba @ ba), 0.0, 1.0)
    return _length(pa - h[..., None] * ba) - (ra + (rb - ra) * h)


def _smin(a: np.ndarray, b: np.ndarray, k: float) -> np.ndarray:
    h = np.clip(0.5 + 0.5 * (b - a) / k, 0.0, 1.0)
    return b * (1.0 - h) + a * h - k * h * (1.0 - h)


def _smax(a: np.ndarray, b: np.ndarray, k: float) -> np.ndarray:
    return -_smin(-a, -b, k)


def head_sdf(p: np.ndarray) -> np.ndarray:
    """Signed distance (approximate, metres) of points ``(..., 3)`` to the bare head
    (skull, face, nose, ears, closed eyelids, neck; the lips are added later as a
    displacement aligned with the mouth row)."""
    d = _ellipsoid(p, (0, 0.013, -0.014), (0.074, 0.083, 0.094))
    d = _smin(d, _ellipsoid(p, (0, -0.036, 0.020), (0.060, 0.064, 0.064)), 0.03)
    for s in (-1.0, 1.0):
        d = _smin(d, _cone(p, (s * 0.058, -0.042, -0.022), (s * 0.014, -0.099, 0.056), 0.021, 0.016), 0.02)
        d = _smin(d, _ellipsoid(p, (s * 0.040, -0.016, 0.052), (0.026, 0.022, 0.025)), 0.02)
        d = _smin(d, _cone(p, (0.0, 0.029, 0.071), (s * 0.050, 0.028, 0.056), 0.0095, 0.0075), 0.015)
        d = _smin(d, _ellipsoid(p, (s * 0.073, -0.006, -0.010), (0.011, 0.028, 0.018)), 0.008)
    d = _smin(d, _ellipsoid(p, (0, -0.101, 0.062), (0.022, 0.018, 0.019)), 0.012)
    d = _smin(d, _ellipsoid(p, (0, -0.058, 0.056), (0.030, 0.028, 0.030)), 0.015)
    for s in (-1.0, 1.0):
        socket = _ellipsoid(p, (s * EYE_CENTRE[0], EYE_CENTRE[1] + 0.002, EYE_CENTRE[2] + 0.021), (0.017, 0.0125, 0.014))
        d = _smax(d, -socket, 0.008)
        lid = _length(p - EYE_CENTRE * np.array([s, 1.0, 1.0])) - (EYE_RADIUS + LID_THICKNESS)
        d = _smin(d, lid, 0.004)
    d = _smin(d, _cone(p, (0, 0.016, 0.078), (0, -0.024, 0.100), 0.0065, 0.0095), 0.01)
    d = _smin(d, _ellipsoid(p, (0, -0.025, 0.097), (0.011, 0.010, 0.010)), 0.004)
    for s in (-1.0, 1.0):
        d = _smin(d, _ellipsoid(p, (s * 0.0125, -0.027, 0.086), (0.009, 0.0075, 0.009)), 0.006)
    d = _smin(d, _cone(p, (0, -0.05, -0.012), (0, -0.40, -0.012), 0.055, 0.056), 0.03)
    return d


def ray_dirs(theta: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """Unit ray directions ``(..., 3)`` for broadcastable theta, phi (radians)."""
    theta, phi = np.broadcast_arrays(theta, phi)
    return np.stack([np.sin(phi) * np.sin(theta), np.cos(phi), np.sin(phi) * np.cos(theta)], -1)


def cast(dirs: np.ndarray, t_max: float = 0.45, step: float = 0.004, iters: int = 22) -> np.ndarray:
    """Distance along each ray ``(N, 3)`` to the outermost crossing of :func:`head_sdf`."""
    ts = np.arange(t_max, 0.02, -step)
    pts = RAY_ORIGIN + ts[None, :, None] * dirs[:, None, :]
    inside = head_sdf(pts) < 0.0
    first = np.argmax(inside, axis=1)  # first inside sample from the outside
    if not inside[np.arange(len(dirs)), first].all():
        raise RuntimeError("a head ray never entered the surface")
    hi = ts[first] + step  # outside
    lo = ts[first]  # inside
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        out = head_sdf(RAY_ORIGIN + mid[:, None] * dirs) >= 0.0
        hi = np.where(out, mid, hi)
        lo = np.where(out, lo, mid)
    return 0.5 * (lo + hi)


def angles_of(p: np.ndarray) -> tuple[float, float]:
    """(theta, phi) of the ray from :data:`RAY_ORIGIN` through point ``p``."""
    v = np.asarray(p, dtype=np.float64) - RAY_ORIGIN
    return float(np.arctan2(v[0], v[2])), float(np.arccos(v[1] / np.linalg.norm(v)))


@dataclass(frozen=True)
class HeadGrid:
    """Sampling of the head surface: ``theta`` ``(C,)`` columns, ``phi`` ``(R,)`` rows."""

    theta: np.ndarray
    phi: np.ndarray
    eye_row: int
    mouth_row: int


def eye_fissure_point(side: float) -> np.ndarray:
    """Point where the closed lids meet, in front of the pupil (side +1 = left)."""
    e = EYE_CENTRE * np.array([side, 1.0, 1.0])
    ang = np.radians(-5.0)
    return e + (EYE_RADIUS + LID_THICKNESS) * np.array([0.0, np.sin(ang), np.cos(ang)])


def make_grid(n_cols: int = 86, warp: float = 0.68) -> HeadGrid:
    """Columns dense at the face (sine warp), rows dense around the eyes and mouth."""
    u = -1.0 + 2.0 * np.arange(n_cols) / n_cols
    theta = np.pi * (u - warp / np.pi * np.sin(np.pi * u))
    _, phi_e = angles_of(eye_fissure_point(1.0))
    _, phi_m = angles_of(MOUTH_CREASE)
    deg = np.degrees
    knots = [  # (end angle in degrees, rows up to and including it)
        (34.0, 5), (50.0, 4), (deg(phi_e), 9), (deg(phi_e) + 12.0, 6), (deg(phi_m) - 8.0, 6),
        (deg(phi_m), 5), (deg(phi_m) + 10.0, 6), (142.0, 5), (168.0, 6),
    ]
    rows, start = [], 0.0
    for end, n in knots:
        rows.append(np.linspace(start, end, n + 1)[1:])
        start = end
    phi = np.radians(np.concatenate(rows))
    eye_row = 5 + 4 + 9 - 1
    mouth_row = eye_row + 6 + 6 + 5
    assert np.isclose(phi[eye_row], phi_e) and np.isclose(phi[mouth_row], phi_m)
    return HeadGrid(theta=theta, phi=phi, eye_row=eye_row, mouth_row=mouth_row)
