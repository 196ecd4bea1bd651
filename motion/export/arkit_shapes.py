"""The face as ARKit's 52 blendshapes, for FBX / glTF exports with ``arkit=True``.

An ARKit rig (MetaHuman's ARKit mapping, Unity's ARKit face tracking, Ready Player Me, VRM
ARKit avatars) finds its shapes by Apple's names (``eyeBlinkLeft`` ... ``tongueOut``,
:data:`APPLE_BLENDSHAPES`, in the order of Apple's ``ARFaceAnchor.BlendShapeLocation``
documentation). An ``arkit`` export therefore carries, instead of the expression components:

* 52 shape keys / morph targets with those names, each a real vertex displacement
  ``D_a`` ``(V, 3)`` on the body mesh (:func:`arkit_shape_deltas`);
* their animation: the weights of the Live Link Face CSV (:func:`motion.export.arkit.arkit_frames`,
  the FLAME -> ARKit map of :mod:`motion.export.maps` plus the jaw and gaze from the joints),
  in [0, 1];
* a skeleton whose jaw and eye joints stay at rest, because ``jawOpen`` / ``jawLeft`` /
  ``jawRight`` and the eight ``eyeLook*`` shapes carry those rotations (else the jaw would
  open twice). The head, neck and body keep their bones.

Where each shape's geometry comes from:

* joint shapes: linear blend skinning of the rest mesh with one joint turned by the angle that
  the CSV exporter calls 1.0 (``jawOpen`` = jaw pitch 0.35 rad, ``jawLeft`` = yaw 0.12 rad,
  ``eyeLookOutLeft`` = left eye yaw 30 degrees out, up 20, down 25; :data:`JOINT_SHAPES`);
* ``mouthClose``: the lower lip carried back up against a full ``jawOpen`` (the negative of
  that shape around the lower lip), so ``jawOpen = mouthClose = w`` opens the jaw with the lips
  together, as Apple defines it; ``jawForward``: the jaw-skinned vertices 4 mm forward;
  ``tongueOut``: the lower lip pushed 3 mm forward and 1.5 mm down (no tongue in the mesh);
* the other shapes, on the stand-in model with the packaged map: the very target fields that
  map was fitted to (:mod:`motion.export.maps.standin_targets`, fitted by
  :mod:`motion.export.maps.fit_standin_map`; ``M`` fits ``D M ~ B``);
* with any other map or model: the least-squares fit ``D = B M^T (M M^T + lam I)^-1`` of the
  expression basis ``B`` ``(3V, E)`` through the map ``M`` ``(52, E)``, so that applying the
  ARKit weights ``M e`` gives back ``B e`` for every expression in the map's row space.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from motion.export.maps.arkit_map import ARKIT_BLENDSHAPES, ArkitMap, load_arkit_map
from motion.types import JAW, LEFT_EYE, RIGHT_EYE

if TYPE_CHECKING:  # pragma: no cover
    from motion.container import Motion
    from motion.export._rest import RestModel

#: Apple's 52 names (``ARFaceAnchor.BlendShapeLocation``), in the order of Apple's documentation:
#: left eye, right eye, mouth and jaw, eyebrows, cheeks, nose, tongue.
APPLE_BLENDSHAPES: tuple[str, ...] = (
    "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft", "eyeSquintLeft",
    "eyeWideLeft", "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight", "eyeLookOutRight", "eyeLookUpRight",
    "eyeSquintRight", "eyeWideRight", "jawForward", "jawLeft", "jawRight", "jawOpen", "mouthClose", "mouthFunnel",
    "mouthPucker", "mouthLeft", "mouthRight", "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft",
    "mouthFrownRight", "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthPressLeft", "mouthPressRight",
    "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight", "browDownLeft",
    "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight", "cheekPuff", "cheekSquintLeft",
    "cheekSquintRight", "noseSneerLeft", "noseSneerRight", "tongueOut",
)
#: For each Apple name, its index in the Live Link Face order (:data:`ARKIT_BLENDSHAPES`).
LIVE_LINK_INDEX: tuple[int, ...] = tuple(ARKIT_BLENDSHAPES.index(a[0].upper() + a[1:]) for a in APPLE_BLENDSHAPES)

_D = np.pi / 180.0
#: Live Link name -> (joint, axis-angle) whose skinned displacement is that shape at weight 1
#: (the angles :mod:`motion.export.arkit` divides by; left / right = the character's own side).
JOINT_SHAPES: dict[str, tuple[int, tuple[float, float, float]]] = {
    "JawOpen": (JAW, (0.35, 0.0, 0.0)),
    "JawLeft": (JAW, (0.0, 0.12, 0.0)),
    "JawRight": (JAW, (0.0, -0.12, 0.0)),
    "EyeLookOutLeft": (LEFT_EYE, (0.0, 30 * _D, 0.0)),
    "EyeLookInLeft": (LEFT_EYE, (0.0, -30 * _D, 0.0)),
    "EyeLookUpLeft": (LEFT_EYE, (-20 * _D, 0.0, 0.0)),
    "EyeLookDownLeft": (LEFT_EYE, (25 * _D, 0.0, 0.0)),
    "EyeLookOutRight": (RIGHT_EYE, (0.0, -30 * _D, 0.0)),
    "EyeLookInRight": (RIGHT_EYE, (0.0, 30 * _D, 0.0)),
    "EyeLookUpRight": (RIGHT_EYE, (-20 * _D, 0.0, 0.0)),
    "EyeLookDownRight": (RIGHT_EYE, (25 * _D, 0.0, 0.0)),
}
#: Ridge of the least-squares fit, relative to the mean diagonal of ``M M^T``.
RIDGE = 1e-3


def joint_rotation_field(vertices: np.ndarray, weights: np.ndarray, joints: np.ndarray, joint: int,
                         rotvec: np.ndarray | tuple[float, float, float]) -> np.ndarray:
    """``(V, 3)`` displacement of the rest mesh when only ``joint`` (a leaf: jaw, eyes) turns by ``rotvec``.

    Args:
        vertices: ``(V, 3)`` rest vertices. weights: ``(V, J)`` skinning weights.
        joints: ``(J, 3)`` rest joint positions. rotvec: axis-angle ``(3,)`` in the joint's (rest = world) axes.
    """
    from scipy.spatial.transform import Rotation

    rot = Rotation.from_rotvec(np.asarray(rotvec, np.float64)).as_matrix()
    rel = vertices - joints[joint]
    return weights[:, joint : joint + 1] * (rel @ rot.T - rel)


def lower_lip_mask(vertices: np.ndarray, weights: np.ndarray, lower_lip: np.ndarray) -> np.ndarray:
    """``(V,)`` in [0, 1]: jaw-skinned vertices near the lower inner lip (1 within 1.5 cm, 0 beyond 3 cm).

    Args:
        lower_lip: ``(K,)`` vertex ids of the lower inner lip (:func:`motion.bodymodels.flame_landmarks.inner_lip_pairs`).
    """
    centre = vertices[lower_lip].mean(0)
    d = np.linalg.norm(vertices - centre, axis=1)
    t = np.clip((d - 0.015) / 0.015, 0.0, 1.0)
    return weights[:, JAW] * (1.0 - t * t * (3.0 - 2.0 * t))


def mouth_close_row(expr_dirs: np.ndarray, vertices: np.ndarray, weights: np.ndarray, joints: np.ndarray,
                    lip_pairs: np.ndarray) -> np.ndarray:
    """``(E,)`` map row of ``MouthClose``: how far each coefficient shuts the lips, in full jaw openings.

    ``MouthClose`` is "closure of the lips independent of jaw position": the lips together while
    ``JawOpen`` holds the jaw open. A coefficient that brings the inner lips ``g`` metres closer
    (mean over the upper / lower ``lip_pairs``, vertical) weighs ``g / G``, ``G`` = the lip gap a
    full ``JawOpen`` opens; coefficients that part the lips weigh negatively. The exporter caps
    ``MouthClose`` at ``JawOpen`` (closing beyond the jaw's opening is pressing, ``MouthPress``).

    Args:
        expr_dirs: ``(V, 3, E)`` expression basis. vertices, weights, joints: the rest body.
        lip_pairs: ``(K, 2)`` inner-lip vertex ids (upper, lower).
    """
    up, lo = lip_pairs[:, 0], lip_pairs[:, 1]
    gap = (expr_dirs[up, 1, :] - expr_dirs[lo, 1, :]).mean(0)  # (E,) opening per unit coefficient
    jaw, rotvec = JOINT_SHAPES["JawOpen"]
    field = joint_rotation_field(vertices, weights, joints, jaw, rotvec)
    full = float((field[up, 1] - field[lo, 1]).mean())
    if full <= 1e-6:
        raise ValueError("the jaw does not open the lips of this model (no jaw-skinned lower lip)")
    return -gap / full


def geometric_fields(rest: RestModel, lip_pairs: np.ndarray) -> dict[str, np.ndarray]:
    """``(V, 3)`` fields of the shapes that come from the skeleton, not the expression basis:
    :data:`JOINT_SHAPES`, ``MouthClose``, ``JawForward``, ``TongueOut`` (Live Link names)."""
    v, w, j = rest.vertices, rest.weights, rest.joints
    out = {name: joint_rotation_field(v, w, j, joint, rv) for name, (joint, rv) in JOINT_SHAPES.items()}
    lip = lower_lip_mask(v, w, lip_pairs[:, 1])[:, None]
    out["MouthClose"] = -out["JawOpen"] * lip
    out["JawForward"] = w[:, JAW : JAW + 1] * np.array([0.0, 0.0, 0.004])
    out["TongueOut"] = lip * np.array([0.0, -0.0015, 0.003])
    return out


def fitted_fields(expr_dirs: np.ndarray, dense_map: np.ndarray) -> np.ndarray:
    """``(52, V, 3)`` least-squares ARKit fields ``D = B M^T (M M^T + lam I)^-1`` (Live Link order).

    Args:
        expr_dirs: ``(V, 3, E)`` expression basis ``B``. dense_map: ``(52, E)`` map ``M``.
    """
    V, _, E = expr_dirs.shape
    m = dense_map[:, :E]
    mmt = m @ m.T
    lam = RIDGE * max(float(np.trace(mmt)) / len(m), 1e-12)
    b = expr_dirs.reshape(V * 3, E)
    d = np.linalg.solve(mmt + lam * np.eye(len(m)), m @ b.T)  # (52, 3V) = (B M^T (M M^T + lam)^-1)^T
    return d.reshape(len(m), V, 3)


def arkit_shape_deltas(rest: RestModel, model: Any, arkit_map: ArkitMap | None = None,
                       standin: bool = False) -> np.ndarray:
    """``(52, V, 3)`` displacement of every ARKit shape at weight 1, in :data:`APPLE_BLENDSHAPES` order.

    Args:
        rest: the shaped rest body. model: the :mod:`smplx` model (landmarks, models folder).
        arkit_map: the FLAME -> ARKit map; ``None``: the packaged stand-in map.
        standin: ``model`` is the stand-in (then, with the packaged map, its fitted target fields).
    """
    from motion.bodymodels.flame_landmarks import inner_lip_pairs

    pairs = inner_lip_pairs(model)
    fields = np.zeros((len(ARKIT_BLENDSHAPES),) + rest.vertices.shape)
    if standin and arkit_map is None:
        from motion.export.maps.standin_targets import RECIPES, standin_fields

        named, masks, _ = standin_fields(model=model)
        for a, recipe in RECIPES.items():
            fields[ARKIT_BLENDSHAPES.index(a)] = recipe(named, masks)
    else:
        amap = arkit_map if arkit_map is not None else load_arkit_map()
        fields = fitted_fields(rest.expr_dirs, amap.dense(rest.expr_dirs.shape[-1]))
    for name, field in geometric_fields(rest, pairs).items():
        k = ARKIT_BLENDSHAPES.index(name)
        if name in JOINT_SHAPES or name == "MouthClose" or not np.abs(fields[k]).max() > 1e-9:
            fields[k] = field  # the weight of these comes from the joints / the lip gap, not from B
    return fields[list(LIVE_LINK_INDEX)]


@dataclass
class ArkitFace:
    """What an ``arkit`` export writes for the face.

    Attributes:
        names: the 52 Apple names (:data:`APPLE_BLENDSHAPES`).
        deltas: ``(52, V, 3)`` shape displacements (metres, SMPL-X axes, rest pose).
        weights: ``(T, 52)`` animation weights in [0, 1].
        motion: the motion with the jaw and eye joints at rest (the shapes carry them).
    """

    names: tuple[str, ...]
    deltas: np.ndarray
    weights: np.ndarray
    motion: Motion


def arkit_face(motion: Motion, rest: RestModel, model: Any, arkit_map: Any = None, standin: bool = False) -> ArkitFace:
    """The ARKit shapes, their weights and the skeleton motion of an ``arkit`` export.

    Args:
        motion: the animation (``T`` frames). rest, model: the shaped rest body and its model.
        arkit_map: an :class:`ArkitMap`, a map file, or ``None`` (the packaged stand-in map).
        standin: ``model`` is the stand-in.
    """
    from motion.export.arkit import arkit_frames

    amap = arkit_map if isinstance(arkit_map, ArkitMap) or arkit_map is None else load_arkit_map(arkit_map)
    weights = arkit_frames(motion, amap)[:, : len(ARKIT_BLENDSHAPES)][:, list(LIVE_LINK_INDEX)]
    body = motion.copy()
    body.poses[:, [JAW, LEFT_EYE, RIGHT_EYE]] = 0.0
    deltas = arkit_shape_deltas(rest, model, amap, standin)
    return ArkitFace(APPLE_BLENDSHAPES, deltas, weights.astype(np.float32), body)
