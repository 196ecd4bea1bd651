"""Named face regions (vertex id sets) for metrics: lips (LVE), upper face (FDD), ...

Where they come from, in order:

1. ``<models>/flame/FLAME_masks.pkl`` - the mask file published with FLAME 2020 (a dict
   of vertex-id arrays: ``lips``, ``forehead``, ``eye_region``, ``left_eyeball``, ...).
   The stand-in writes one in the same format (:mod:`motion.bodymodels.standin.masks`).
2. Otherwise derived from the FLAME template and its 51 static landmarks
   (:func:`derive_regions_from_landmarks`): lips = skin inside the outer-lip landmark
   polygon (iBUG 48-59), seen from the front, grown by 3 mm; upper face = front skin above
   the line of the nostril landmarks (iBUG 31-35) up to 1.5 eye-widths above the brows.

SMPL-X ids are FLAME ids mapped through ``<models>/smplx/SMPL-X__FLAME_vertex_ids.npy``.
``upper_face`` is ``forehead`` + ``eye_region`` without the eyeballs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


MASKS_FILE = "FLAME_masks.pkl"
CORRESPONDENCE_FILE = "SMPL-X__FLAME_vertex_ids.npy"


@dataclass(frozen=True)
class FaceRegions:
    """Region name -> vertex ids, on FLAME and (when the correspondence exists) SMPL-X."""

    flame: dict[str, np.ndarray]
    smplx: dict[str, np.ndarray] | None
    source: str  # 'FLAME_masks.pkl' or 'landmarks'

    def ids(self, region: str, model: str = "flame") -> np.ndarray:
        """Vertex ids ``(k,)`` of ``region`` on ``model`` ('flame' or 'smplx')."""
        table = self.flame if model == "flame" else self.smplx
        if table is None:
            raise FileNotFoundError(f"no SMPL-X ids: {CORRESPONDENCE_FILE} is missing from the models folder")
        if region not in table:
            raise KeyError(f"unknown region {region!r}; available: {', '.join(sorted(table))}")
        return table[region]


def _with_upper_face(masks: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = {k: np.asarray(v, dtype=np.int64).ravel() for k, v in masks.items()}
    if "upper_face" not in out:
        eyeballs = np.concatenate([out.get("left_eyeball", np.zeros(0, np.int64)), out.get("right_eyeball", np.zeros(0, np.int64))])
        upper = np.union1d(out.get("forehead", []), out.get("eye_region", []))
        out["upper_face"] = np.setdiff1d(upper, eyeballs).astype(np.int64)
    return out


def _landmark_points(v: np.ndarray, faces: np.ndarray, face_idx: np.ndarray, bary: np.ndarray) -> np.ndarray:
    return np.einsum("lk,lkd->ld", bary, v[faces[face_idx]])


def _inside_polygon(pts: np.ndarray, poly: np.ndarray, grow: float) -> np.ndarray:
    """Points ``(N, 2)`` inside the closed polygon ``(K, 2)`` or within ``grow`` of its edges."""
    a, b = poly, np.roll(poly, -1, axis=0)
    x, y = pts[:, :1], pts[:, 1:]
    crosses = ((a[None, :, 1] > y) != (b[None, :, 1] > y)) & (
        x < (b[None, :, 0] - a[None, :, 0]) * (y - a[None, :, 1]) / (b[None, :, 1] - a[None, :, 1] + 1e-12) + a[None, :, 0])
    inside = crosses.sum(1) % 2 == 1
    ab = b - a
    t = np.clip(np.einsum("nkd,kd->nk", pts[:, None] - a[None], ab) / np.sum(ab * ab, 1), 0.0, 1.0)
    d = np.linalg.norm(pts[:, None] - (a[None] + t[..., None] * ab[None]), axis=2).min(1)
    return inside | (d < grow)


def derive_regions_from_landmarks(v: np.ndarray, faces: np.ndarray, lmk_face_idx: np.ndarray,
                                  lmk_b_coords: np.ndarray) -> dict[str, np.ndarray]:
    """Lips / upper-face vertex ids from a FLAME template ``(V, 3)`` and its 51 static
    landmarks (iBUG 17-67; index ``i`` here is iBUG ``i + 17``)."""
    lm = _landmark_points(v, faces, lmk_face_idx, lmk_b_coords)
    right_eye, left_eye = lm[36 - 17], lm[45 - 17]
    x_ax = left_eye - right_eye
    eye_w = np.linalg.norm(x_ax)
    x_ax /= eye_w
    up = lm[19 - 17 : 27 - 17].mean(0) - lm[48 - 17 : 60 - 17].mean(0)
    up -= (up @ x_ax) * x_ax
    up /= np.linalg.norm(up)
    fwd = np.cross(x_ax, up)
    origin = lm[30 - 17]
    local = (v - origin) @ np.stack([x_ax, up, fwd], 1)
    lml = (lm - origin) @ np.stack([x_ax, up, fwd], 1)
    front = local[:, 2] > lml[48 - 17 : 60 - 17, 2].min() - 0.02
    lip_poly = lml[48 - 17 : 60 - 17, :2]
    lips = _inside_polygon(local[:, :2], lip_poly, 0.003)
    nostril = lml[31 - 17 : 36 - 17, 1].mean()
    brow = lml[17 - 17 : 27 - 17, 1].max()
    upper = (local[:, 1] > nostril) & (local[:, 1] < brow + 1.5 * eye_w) & (np.abs(local[:, 0]) < 0.75 * eye_w)
    upper &= local[:, 2] > lml[:, 2].min() - 0.03
    return {"lips": np.where(lips & front)[0], "upper_face": np.where(upper)[0]}


def face_regions(models_dir: str | Path | None = None) -> FaceRegions:
    """Face regions of the FLAME model in ``models_dir`` (default: resolved as in
    :func:`motion.bodymodels.paths.resolve_models_dir`)."""
    from motion.bodymodels.paths import resolve_models_dir
    from motion.bodymodels.safe_pickle import load_pickle

    root = resolve_models_dir(models_dir)
    flame_dir = root / "flame"
    masks_path = flame_dir / MASKS_FILE
    if masks_path.is_file():
        flame, source = _with_upper_face(load_pickle(masks_path)), MASKS_FILE
    else:
        from motion.bodymodels.sanitize import read_model_file
        from motion.bodymodels.paths import flame_model_file

        model = read_model_file(flame_model_file(root), kind="flame")
        emb = load_pickle(flame_dir / "flame_static_embedding.pkl")
        flame = derive_regions_from_landmarks(model["v_template"], model["f"], np.asarray(emb["lmk_face_idx"], np.int64),
                                              np.asarray(emb["lmk_b_coords"]))
        source = "landmarks"
    corr = root / "smplx" / CORRESPONDENCE_FILE
    smplx = None
    if corr.is_file():
        ids = np.load(corr, allow_pickle=False).astype(np.int64)
        smplx = {k: ids[v] for k, v in flame.items()}
    return FaceRegions(flame=flame, smplx=smplx, source=source)
