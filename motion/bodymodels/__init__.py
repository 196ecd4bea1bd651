"""SMPL-X body / FLAME face models: safe loading through ``smplx``, built-in stand-ins, FK.

Nothing heavy is imported here (the CLI ``--help`` path imports this package); the names
below load their module on first use::

    from motion.bodymodels import load_body_model, forward_kinematics
    model = load_body_model()                     # $MOTION_MODELS_DIR or the stand-in
    out = forward_kinematics(model, poses, trans, betas, expression)   # out.joints (T, 55, 3)

Modules: :mod:`.paths` (folder layout, resolution, errors), :mod:`.sources` (download URLs,
cache folder, stand-in marker), :mod:`.loader` (loading, FK), :mod:`.kinematics` (numpy FK of a
fixed skeleton), :mod:`.sanitize` (safe reading, validation), :mod:`.safe_pickle` (restricted
unpickler), :mod:`.names` (expression / shape names), :mod:`.regions` (lip / upper-face vertex
sets), :mod:`.flame_landmarks` (vertices under the iBUG landmarks), :mod:`.skeleton` (the
stand-in's joint positions: FK's default rest pose). The subpackage :mod:`.standin` only
generates the stand-in model files (meshes, blend shapes, skinning, landmarks, masks).
"""

from __future__ import annotations

from motion._lazy import lazy_attributes

_LAZY: dict[str, tuple[str, str]] = {
    "load_body_model": ("motion.bodymodels.loader", "load_body_model"),
    "load_face_model": ("motion.bodymodels.loader", "load_face_model"),
    "forward_kinematics": ("motion.bodymodels.loader", "forward_kinematics"),
    "flame_forward": ("motion.bodymodels.loader", "flame_forward"),
    "FKOutput": ("motion.bodymodels.loader", "FKOutput"),
    "FaceFKOutput": ("motion.bodymodels.loader", "FaceFKOutput"),
    "ModelNotFoundError": ("motion.bodymodels.paths", "ModelNotFoundError"),
    "resolve_models_dir": ("motion.bodymodels.paths", "resolve_models_dir"),
    "ModelFormatError": ("motion.bodymodels.sanitize", "ModelFormatError"),
    "read_model_file": ("motion.bodymodels.sanitize", "read_model_file"),
    "load_pickle": ("motion.bodymodels.safe_pickle", "load_pickle"),
    "standin_models_dir": ("motion.bodymodels.standin", "standin_models_dir"),
    "EXPRESSION_NAMES": ("motion.bodymodels.names", "EXPRESSION_NAMES"),
    "expression_index": ("motion.bodymodels.names", "expression_index"),
    "SHAPE_NAMES": ("motion.bodymodels.names", "SHAPE_NAMES"),
    "shape_index": ("motion.bodymodels.names", "shape_index"),
    "face_regions": ("motion.bodymodels.regions", "face_regions"),
    "FaceRegions": ("motion.bodymodels.regions", "FaceRegions"),
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = lazy_attributes("motion.bodymodels", _LAZY, globals())
