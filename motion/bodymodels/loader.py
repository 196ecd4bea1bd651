"""Load SMPL-X / FLAME through ``smplx`` (safely) and run forward kinematics.

Both loaders resolve the models folder (argument > ``$MOTION_MODELS_DIR`` > stand-in),
read the user's files safely and hand ``smplx`` a sanitised plain copy
(:mod:`motion.bodymodels.sanitize`). The stand-in takes the identical path. It is
gender-neutral: asking it for 'male' / 'female' gives the neutral model.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from motion.bodymodels import paths
from motion.bodymodels.sanitize import ModelFormatError, sanitized_flame, sanitized_smplx
from motion.types import NUM_BETAS_BEAT2, NUM_EXPRESSIONS

if TYPE_CHECKING:
    import torch

PathLike = str | os.PathLike[str]


def _gender(root: Any, gender: str) -> str:
    return "neutral" if paths.is_standin(root) else gender.lower()


def load_body_model(models_dir: PathLike | None = None, gender: str = "neutral", num_betas: int = NUM_BETAS_BEAT2,
                    num_expressions: int = NUM_EXPRESSIONS, batch_size: int = 1, device: Any = "cpu",
                    layer: bool = False, use_pca: bool = False, flat_hand_mean: bool = False,
                    use_face_contour: bool = False, dtype: Any = None) -> Any:
    """An ``smplx.SMPLX`` (or ``smplx.SMPLXLayer`` when ``layer``) built by ``smplx``.

    Args:
        models_dir: models folder (see :mod:`motion.bodymodels.paths`); None = env / stand-in.
        gender: 'neutral', 'male' or 'female'.
        num_betas, num_expressions: sizes of the shape / expression spaces (<= 300 / 100).
        batch_size: batch of the module's own parameters (not used by the Layer).
        layer: build the ``*Layer`` class (all parameters given per call, rotation matrices).
        flat_hand_mean: smplx's flag; False adds the model's mean hand pose (as BEAT2 does).
    Raises:
        ModelNotFoundError: a needed file is missing. ModelFormatError: bad keys / shapes.
    """
    import smplx
    import torch

    root = paths.resolve_models_dir(models_dir)
    g = _gender(root, gender)
    source = paths.smplx_model_file(root, g)
    folder = sanitized_smplx(source, g)
    if use_face_contour:
        with np.load(folder / "smplx" / f"SMPLX_{g.upper()}.npz") as z:
            if "dynamic_lmk_faces_idx" not in z.files:
                raise ModelFormatError(f"{source}: use_face_contour needs the keys 'dynamic_lmk_faces_idx' (79, 17) "
                                       "and 'dynamic_lmk_bary_coords' (79, 17, 3), which this file lacks")
    kw = dict(model_type="smplx", gender=g, ext="npz", num_betas=num_betas, num_expression_coeffs=num_expressions,
              use_pca=use_pca, flat_hand_mean=flat_hand_mean, use_face_contour=use_face_contour,
              dtype=dtype or torch.float32)
    model = smplx.build_layer(str(folder), **kw) if layer else smplx.create(str(folder), batch_size=batch_size, **kw)
    model.models_dir = str(root)
    return model.to(device)


def load_face_model(models_dir: PathLike | None = None, gender: str = "neutral", num_betas: int = 100,
                    num_expressions: int = NUM_EXPRESSIONS, batch_size: int = 1, device: Any = "cpu",
                    layer: bool = False, use_face_contour: bool = False, dtype: Any = None) -> Any:
    """An ``smplx.FLAME`` (or ``smplx.FLAMELayer``) built by ``smplx``; arguments as
    :func:`load_body_model`. ``use_face_contour`` needs ``flame_dynamic_embedding.npy``."""
    import smplx
    import torch

    root = paths.resolve_models_dir(models_dir)
    g = _gender(root, gender)
    dynamic = paths.flame_dynamic_embedding_file(root) if use_face_contour else None
    folder = sanitized_flame(paths.flame_model_file(root, g), paths.flame_static_embedding_file(root), dynamic, g)
    kw = dict(model_type="flame", gender=g, ext="npz", num_betas=num_betas, num_expression_coeffs=num_expressions,
              use_face_contour=use_face_contour, dtype=dtype or torch.float32)
    model = smplx.build_layer(str(folder), **kw) if layer else smplx.create(str(folder), batch_size=batch_size, **kw)
    model.models_dir = str(root)
    return model.to(device)


@dataclass
class FKOutput:
    """Posed SMPL-X joints ``(T, 55, 3)``, extra keypoints ``(T, K, 3)`` (smplx's 21
    vertex keypoints + face landmarks) and vertices ``(T, V, 3)`` (or None), float32."""

    joints: "torch.Tensor"
    keypoints: "torch.Tensor"
    vertices: "torch.Tensor | None"


@dataclass
class FaceFKOutput:
    """Posed FLAME vertices ``(T, V, 3)``, joints ``(T, 5, 3)``, landmarks ``(T, L, 3)``."""

    vertices: "torch.Tensor"
    joints: "torch.Tensor"
    landmarks: "torch.Tensor"


def _fit(x: "torch.Tensor", n: int) -> "torch.Tensor":
    """Truncate or zero-pad the last dimension to ``n``."""
    import torch.nn.functional as F

    return x[..., :n] if x.shape[-1] >= n else F.pad(x, (0, n - x.shape[-1]))


def _tensor(x: Any, ref: "torch.Tensor") -> "torch.Tensor":
    from motion.rotations import as_tensor

    return as_tensor(x, ref.dtype).to(ref.device)


def _rotmats(aa: "torch.Tensor") -> "torch.Tensor":
    import roma

    return roma.rotvec_to_rotmat(aa)


def forward_kinematics(model: Any, poses: Any, trans: Any = None, betas: Any = None, expression: Any = None,
                       return_vertices: bool = True, batch: int = 128) -> FKOutput:
    """Pose an SMPL-X model frame by frame, ``batch`` frames at a time.

    Args:
        model: from :func:`load_body_model` (``SMPLX`` or ``SMPLXLayer``, ``use_pca=False``).
        poses: ``(T, 55, 3)`` or ``(T, 165)`` axis-angle, SMPL-X joint order.
        trans: ``(T, 3)`` root translation (default zeros).
        betas: ``(B,)`` or ``(T, B)`` shape; truncated / zero-padded to the model's size.
        expression: ``(T, E)`` expression; truncated / zero-padded likewise.
        return_vertices: also return the mesh vertices.
    Returns:
        :class:`FKOutput`; gradients flow to tensor inputs that require them.
    """
    import smplx
    import torch

    ref = model.shapedirs
    aa = _tensor(poses, ref).reshape(-1, 55, 3)
    T = aa.shape[0]
    if getattr(model, "use_pca", False):
        raise ValueError("forward_kinematics needs a model loaded with use_pca=False (full hand poses)")
    trans_t = _tensor(trans, ref).reshape(T, 3) if trans is not None else torch.zeros(T, 3, dtype=ref.dtype, device=ref.device)
    b = _fit(_tensor(betas, ref), model.num_betas) if betas is not None else torch.zeros(model.num_betas, dtype=ref.dtype)
    b = b.expand(T, -1) if b.dim() == 1 else b
    e = torch.zeros(T, model.num_expression_coeffs, dtype=ref.dtype, device=ref.device) if expression is None \
        else _fit(_tensor(expression, ref).reshape(T, -1), model.num_expression_coeffs)
    is_layer = isinstance(model, smplx.SMPLXLayer)
    joints, keys, verts = [], [], []
    for s in range(0, T, batch):
        sl = slice(s, min(T, s + batch))
        p = aa[sl]
        n = p.shape[0]
        if is_layer:  # the Layer does not add the mean hand pose; do it like SMPLX.forward
            p = p + model.pose_mean.view(1, 55, 3)
            p = _rotmats(p)
        kw = dict(global_orient=p[:, 0], body_pose=p[:, 1:22], jaw_pose=p[:, 22], leye_pose=p[:, 23], reye_pose=p[:, 24],
                  left_hand_pose=p[:, 25:40], right_hand_pose=p[:, 40:55])
        if not is_layer:
            kw = {k: v.reshape(n, -1) for k, v in kw.items()}
        out = model(betas=b[sl], expression=e[sl], transl=trans_t[sl], return_verts=return_vertices, **kw)
        joints.append(out.joints[:, :55])
        keys.append(out.joints[:, 55:])
        if return_vertices:
            verts.append(out.vertices)
    return FKOutput(joints=torch.cat(joints), keypoints=torch.cat(keys),
                    vertices=torch.cat(verts) if return_vertices else None)


def flame_forward(model: Any, expression: Any, jaw: Any = None, eyes: Any = None, neck: Any = None,
                  global_orient: Any = None, shape: Any = None, trans: Any = None, batch: int = 256) -> FaceFKOutput:
    """Pose a FLAME model: ``expression`` ``(T, E)``, ``jaw`` ``(T, 3)``, ``eyes`` ``(T, 6)``
    (left then right), ``neck`` / ``global_orient`` ``(T, 3)`` axis-angle, ``shape`` ``(S,)``,
    ``trans`` ``(T, 3)``; missing inputs are zeros."""
    import smplx
    import torch

    ref = model.shapedirs
    e = _tensor(expression, ref)
    T = e.shape[0]
    e = _fit(e, model.num_expression_coeffs)

    def get(x: Any, width: int) -> "torch.Tensor":
        return _tensor(x, ref).reshape(T, width) if x is not None else torch.zeros(T, width, dtype=ref.dtype, device=ref.device)

    jaw_t, eyes_t, neck_t, glob_t, tr = get(jaw, 3), get(eyes, 6), get(neck, 3), get(global_orient, 3), get(trans, 3)
    b = _fit(_tensor(shape, ref), model.num_betas) if shape is not None else torch.zeros(model.num_betas, dtype=ref.dtype)
    is_layer = isinstance(model, smplx.FLAMELayer)
    verts, joints, lms = [], [], []
    n_joints = 5
    for s in range(0, T, batch):
        sl = slice(s, min(T, s + batch))
        n = sl.stop - sl.start
        rot = (lambda x: _rotmats(x).unsqueeze(1)) if is_layer else (lambda x: x)  # noqa: E731
        out = model(betas=b.expand(n, -1), expression=e[sl], jaw_pose=rot(jaw_t[sl]), leye_pose=rot(eyes_t[sl, :3]),
                    reye_pose=rot(eyes_t[sl, 3:]), neck_pose=rot(neck_t[sl]), global_orient=rot(glob_t[sl]), transl=tr[sl])
        verts.append(out.vertices)
        joints.append(out.joints[:, :n_joints])
        lms.append(out.joints[:, n_joints:])
    return FaceFKOutput(vertices=torch.cat(verts), joints=torch.cat(joints), landmarks=torch.cat(lms))


