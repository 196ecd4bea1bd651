"""ARKit target fields of the stand-in head: each ARKit blendshape as a vertex displacement field
built by recipe from the stand-in's named expression basis and a few masks.

Used by the exporter (:func:`motion.export.arkit_shapes.arkit_shape_deltas`, stand-in with the
packaged map) and by the fit of that map (:mod:`motion.export.maps.fit_standin_map`, whose
docstring and ``README.md`` here describe the recipes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Field = np.ndarray  # (V, 3) displacement
#: ARKit name -> how to build its field from the named basis fields and masks.
RECIPES: dict[str, Callable[[dict[str, Field], dict[str, np.ndarray]], Field]] = {}


#: ARKit's 1.0 is "maximum movement"; the stand-in's unit coefficient is not always the most the face
#: does: generated speech drives ``lips_press`` (lip closures) and ``mouth_open`` past 1. These ARKit
#: shapes are that many times the stand-in coefficient's field, so ordinary speech stays under 1.
FULL_SCALE: dict[str, float] = {"MouthPress{}": 1.5, "MouthLowerDown{}": 1.5}


def _sided(name: str, comp: str, mask: str | None = None) -> None:
    k = FULL_SCALE.get(name, 1.0)
    for side, s in (("Left", "L"), ("Right", "R")):
        RECIPES[name.format(side)] = (
            lambda b, m, comp=comp, s=s, mask=mask, k=k: k * b[comp] * (m[s] * (m[mask] if mask else 1.0))[:, None])


for _n, _c, _m in (("MouthSmile{}", "smile", None), ("MouthFrown{}", "frown", None),
                   ("MouthStretch{}", "mouth_stretch", None), ("MouthPress{}", "lips_press", None),
                   ("MouthLowerDown{}", "lower_lip_depress", None), ("MouthUpperUp{}", "upper_lip_raise", None),
                   ("BrowDown{}", "brow_down", None), ("BrowOuterUp{}", "brow_outer_up", None),
                   ("NoseSneer{}", "nose_sneer", None), ("EyeWide{}", "eye_wide", None),
                   ("EyeSquint{}", "cheek_squint", "lid"), ("CheekSquint{}", "cheek_squint", "off_lid"),
                   ("MouthDimple{}", "dimple", None)):
    _sided(_n, _c, _m)
RECIPES.update({
    "EyeBlinkLeft": lambda b, m: b["blink_left"],
    "EyeBlinkRight": lambda b, m: b["blink_right"],
    "MouthFunnel": lambda b, m: b["lip_funnel"],
    "MouthPucker": lambda b, m: b["lip_pucker"],
    "MouthLeft": lambda b, m: b["mouth_left"],
    "MouthRight": lambda b, m: b["mouth_right"],
    "BrowInnerUp": lambda b, m: b["brow_inner_up"],
    "CheekPuff": lambda b, m: b["cheek_puff"],
    "MouthRollUpper": lambda b, m: b["lips_press"] * [0.0, 0.0, 1.6] * m["upper"][:, None],
    "MouthRollLower": lambda b, m: b["lips_press"] * [0.0, 0.0, 1.6] * m["lower"][:, None],
    "MouthShrugUpper": lambda b, m: m["upper_lip"][:, None] * [0.0, 0.0015, 0.002],
    "MouthShrugLower": lambda b, m: b["frown"] * m["chin"][:, None],
})


def standin_fields(models_dir: str | None = None, model: Any = None
                   ) -> tuple[dict[str, Field], dict[str, np.ndarray], np.ndarray]:
    """Named basis fields, masks and the full basis ``(V, 3, E)`` of the stand-in SMPL-X model
    (``model``, else loaded from ``models_dir``)."""
    from motion.bodymodels import face_regions, load_body_model
    from motion.bodymodels.names import EXPRESSION_NAMES

    if model is None:
        model = load_body_model(models_dir)
    else:
        models_dir = getattr(model, "models_dir", models_dir)
    basis = model.expr_dirs.detach().cpu().numpy().astype(np.float64)
    v = model.v_template.detach().cpu().numpy().astype(np.float64)
    fields = {n: basis[:, :, k] for k, n in enumerate(EXPRESSION_NAMES)}
    lips = face_regions(models_dir).ids("lips", "smplx")
    mouth_y = float(np.median(v[lips, 1]))
    lid = ((np.abs(fields["blink_left"]) + np.abs(fields["blink_right"])).sum(1) > 0).astype(float)
    left = 0.5 * (1.0 + np.tanh(v[:, 0] / 0.003))
    in_lips = np.zeros(len(v))
    in_lips[lips] = 1.0
    upper = (v[:, 1] > mouth_y).astype(float)
    corner_z = fields["smile"] * [0.0, 0.0, 1.0] * (np.abs(fields["smile"][:, 0]) > 1e-3 * 0.5)[:, None]
    fields["dimple"] = corner_z
    masks = {"L": left, "R": 1.0 - left, "lid": lid, "off_lid": 1.0 - lid, "upper": upper, "lower": 1.0 - upper,
             "upper_lip": in_lips * upper,
             "chin": ((v[:, 1] < mouth_y - 0.012) & (np.abs(v[:, 0]) < 0.035)).astype(float)}
    return fields, masks, basis
