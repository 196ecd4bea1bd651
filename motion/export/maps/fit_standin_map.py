"""Fit the stand-in expression -> ARKit map: ``python -m motion.export.maps.fit_standin_map [OUT]``.

Method (see ``README.md`` beside this file for the figures):

1. ARKit targets. Each ARKit blendshape ``a`` gets a vertex displacement field ``d_a`` on the
   stand-in SMPL-X head, synthesised from the stand-in's semantic expression basis by name:
   ``MouthSmileLeft = smile x L`` (``L``/``R`` = smooth left/right half masks, 6 mm wide
   blend at x = 0), ``BrowInnerUp = brow_inner_up``, ``EyeSquintLeft = cheek_squint`` on the
   eyelids x ``L``, ``CheekSquintLeft = cheek_squint`` off the eyelids x ``L`` ... (recipes in
   :data:`motion.export.maps.standin_targets.RECIPES`). Four ARKit shapes have no stand-in
   counterpart and get a hand-made field: ``MouthDimple*`` (smile's lip-corner motion,
   backwards only), ``MouthRoll*`` (the back-motion of lips_press, upper / lower lip),
   ``MouthShrugUpper`` (upper lip up and forward), ``MouthShrugLower`` (frown's chin part).
   ``MouthPress*`` and ``MouthLowerDown*`` are 1.5 x their coefficient's field
   (:data:`~motion.export.maps.standin_targets.FULL_SCALE`: generated speech drives
   ``lips_press`` and ``mouth_open`` past 1, and ARKit's 1 is the most a face does).
   ``MouthClose``, ``TongueOut``, the jaw and the eye-look shapes are not fitted: the
   exporter drives jaw and gaze from the joints.
2. Non-negative least squares, FLAME -> ARKit: for every expression coefficient ``k`` (all
   100, incl. the unnamed local modes 20-99) find ARKit weights ``m_k >= 0`` minimising
   ``||D m_k - B_k||^2 + lam ||m_k||^2`` (``D`` = targets as columns, ``B_k`` = the
   coefficient's displacement field, ``lam`` = 1e-6 x mean diagonal of ``D^T D``). ARKit
   weights are non-negative, so a positive coefficient never borrows a negative shape
   (plain least squares writes ``mouth_open`` as funnel minus pucker). The map
   is ``M = [m_0 ... m_99]`` (52 x 100), so ``arkit = clip(M @ expression, 0, 1)``.
3. ``EyeBlinkLeft/Right`` rows are set to the blink coefficients exactly (direct map).
4. ``MouthClose`` ("lips closed independent of the jaw") is geometric: each coefficient's
   closing of the inner-lip gap in units of the gap a full ``JawOpen`` opens
   (:func:`close_row`; signed: lip-parting coefficients weigh negatively). The exporter caps it
   at ``JawOpen``, so it is the jaw opening that the lips hold shut.

Residuals ``||D m_k - B_k|| / ||B_k||`` are printed per coefficient.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from motion.export.maps.arkit_map import ARKIT_BLENDSHAPES, ArkitMap
from motion.export.maps.standin_targets import RECIPES, standin_fields


def close_row(models_dir: str | None = None) -> np.ndarray:
    """``(E,)`` the ``MouthClose`` row: lip closing per coefficient in full jaw openings
    (:func:`motion.export.arkit_shapes.mouth_close_row`, on the unshaped stand-in)."""
    from motion.bodymodels import load_body_model
    from motion.export._rest import rest_model
    from motion.export.arkit_shapes import mouth_close_row
    from motion.bodymodels.flame_landmarks import inner_lip_pairs

    model = load_body_model(models_dir)
    rest = rest_model(model, np.zeros(0))
    return mouth_close_row(rest.expr_dirs, rest.vertices, rest.weights, rest.joints, inner_lip_pairs(model))


def fit_map(models_dir: str | None = None, lam: float = 1e-6) -> tuple[ArkitMap, np.ndarray]:
    """Fit the map (see the module docstring); returns it and the residuals ``(E,)``."""
    fields, masks, basis = standin_fields(models_dir)
    V, _, E = basis.shape
    moving = np.abs(basis).reshape(V, -1).max(1) > 0
    names = [a for a in ARKIT_BLENDSHAPES if a in RECIPES]
    D = np.stack([RECIPES[a](fields, masks)[moving].ravel() for a in names], 1)  # (3Vf, A)
    B = basis[moving].reshape(-1, E)  # (3Vf, E)
    from scipy.optimize import nnls

    reg = np.sqrt(lam * np.sum(D * D) / len(names))
    aug = np.concatenate([D, reg * np.eye(len(names))])
    pad = np.zeros(len(names))
    fit = np.stack([nnls(aug, np.concatenate([B[:, k], pad]), maxiter=50 * len(names))[0] for k in range(E)], 1)
    resid = np.linalg.norm(D @ fit - B, axis=0) / np.maximum(np.linalg.norm(B, axis=0), 1e-12)
    full = np.zeros((len(ARKIT_BLENDSHAPES), E))
    full[[ARKIT_BLENDSHAPES.index(a) for a in names]] = fit
    from motion.bodymodels.names import EXPRESSION_NAMES, expression_index

    for side in ("left", "right"):  # blinks: direct
        row = ARKIT_BLENDSHAPES.index(f"EyeBlink{side.title()}")
        full[row] = 0.0
        full[row, expression_index(f"blink_{side}")] = 1.0
    full[ARKIT_BLENDSHAPES.index("MouthClose")] = close_row(models_dir)
    full[np.abs(full) < 1e-6] = 0.0
    cols = tuple(EXPRESSION_NAMES[k] if k < len(EXPRESSION_NAMES) else f"expression_{k:03d}" for k in range(E))
    return ArkitMap(full, ARKIT_BLENDSHAPES, cols), resid


def main(argv: list[str]) -> int:
    """Fit, print residuals, write the CSV (default: the packaged stand-in map)."""
    from motion.bodymodels.names import EXPRESSION_NAMES
    from motion.export.maps import STANDIN_ARKIT_MAP

    out = Path(argv[1]) if len(argv) > 1 else STANDIN_ARKIT_MAP
    amap, resid = fit_map()
    n = len(EXPRESSION_NAMES)
    print("relative residual ||D m_k - B_k|| / ||B_k|| per named coefficient:")
    for k, name in enumerate(EXPRESSION_NAMES):
        top = np.argsort(-np.abs(amap.matrix[:, k]))[:3]
        desc = ", ".join(f"{amap.rows[i]} {amap.matrix[i, k]:+.2f}" for i in top if abs(amap.matrix[i, k]) > 0.05)
        print(f"  {name:18s} {resid[k]:.3f}   {desc}")
    print(f"unnamed local modes {n}-{len(resid) - 1}: residual median {np.median(resid[n:]):.3f}, "
          f"max {resid[n:].max():.3f}")
    print(f"wrote {amap.save(out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
