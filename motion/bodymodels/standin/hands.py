"""Hand pose space of the stand-in: PCA-style components and a relaxed mean pose.

Per hand, 15 joints x 3 axis-angle values in SMPL-X order (index, middle, pinky, ring,
thumb; 3 joints each). In the T-pose the palms face down and the fingers point along
+x (left) / -x (right), so curling a finger is a rotation about -z (left) / +z (right).
The components are orthonormal rows: 0 = curl every finger (fist), 1 = spread, 2 = thumb
across the palm, 3 = index point (others curl); the rest complete an orthonormal basis.
"""

from __future__ import annotations

import numpy as np

_CURL = np.array([0.0, 0.0, -1.0])  # left fingers
_THUMB_CURL = np.array([0.68, 0.0, -0.73])  # left thumb, towards the palm
_SPREAD = np.array([0.0, 1.0, 0.0])
_FINGER_ORDER = ("index", "middle", "pinky", "ring", "thumb")


def _left(per_joint: dict[str, list[np.ndarray]]) -> np.ndarray:
    return np.concatenate([np.concatenate(per_joint[f]) for f in _FINGER_ORDER])


def _mirror(left: np.ndarray) -> np.ndarray:
    """Left-hand pose values -> the mirror-image right-hand values (x -> -x reflection)."""
    return (left.reshape(-1, 15, 3) * np.array([1.0, -1.0, -1.0])).reshape(left.shape)


def hand_mean() -> tuple[np.ndarray, np.ndarray]:
    """Relaxed hand pose ``(45,)`` for the left and right hands."""
    fingers = {f: [0.15 * _CURL, 0.25 * _CURL, 0.15 * _CURL] for f in _FINGER_ORDER[:4]}
    fingers["thumb"] = [0.05 * _THUMB_CURL, 0.15 * _THUMB_CURL, 0.1 * _THUMB_CURL]
    left = _left(fingers)
    return left, _mirror(left)


def hand_components() -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal components ``(45, 45)`` (rows) for the left and right hands."""
    fist = _left({**{f: [_CURL, 1.4 * _CURL, _CURL] for f in _FINGER_ORDER[:4]},
                  "thumb": [0.3 * _THUMB_CURL, _THUMB_CURL, _THUMB_CURL]})
    spread = _left({"index": [_SPREAD, 0 * _SPREAD, 0 * _SPREAD], "middle": [0.3 * _SPREAD, 0 * _SPREAD, 0 * _SPREAD],
                    "pinky": [-_SPREAD, 0 * _SPREAD, 0 * _SPREAD], "ring": [-0.5 * _SPREAD, 0 * _SPREAD, 0 * _SPREAD],
                    "thumb": [0.5 * _SPREAD, 0 * _SPREAD, 0 * _SPREAD]})
    thumb = np.zeros(45)
    thumb[36:45] = np.concatenate([_THUMB_CURL * 1.2, _THUMB_CURL, 0.6 * _THUMB_CURL])
    point = _left({"index": [0 * _CURL] * 3, **{f: [_CURL, 1.4 * _CURL, _CURL] for f in ("middle", "pinky", "ring")},
                   "thumb": [0.3 * _THUMB_CURL, _THUMB_CURL, 0.5 * _THUMB_CURL]})
    seed = np.random.default_rng(11).standard_normal((41, 45))
    q, r = np.linalg.qr(np.concatenate([fist[None], spread[None], thumb[None], point[None], seed]).T)
    left = (q * np.sign(np.diag(r))[None]).T  # rows keep the sign of the semantic directions
    return left, np.stack([_mirror(row) for row in left])
