"""A fast, differentiable FLAME layer for expression + jaw only (the FLINT training loss).

FLINT (EMOTE, Danecek et al. 2023, Sec. 3.2) is trained with a FLAME-vertex reconstruction
loss. Running ``smplx.FLAME`` for every frame of every batch is wasteful when only the
expression and the jaw change, so this layer precomputes the parts of FLAME's linear blend
skinning (Li et al. 2017, Eq. 1-4) that those two inputs touch. With zero shape, neck,
global and eye rotations, FLAME reduces exactly to::

    v_e   = T + E e                         expression blend shapes       (Eq. 2, B_E)
    j     = J_jaw (T + E e)                 jaw joint, regressed from v_e (Eq. 3)
    v_p   = v_e + P_jaw vec(R(jaw) - I)     jaw pose-corrective blend     (Eq. 2, B_P)
    v     = v_p + w_jaw (R(jaw) - I)(v_p - j)                             (Eq. 4, LBS)

because every other joint's world transform is the identity, so the skinning sum collapses
to the jaw's weight ``w_jaw``. The result equals :func:`motion.bodymodels.flame_forward`
(to float precision) with only ``expression`` and ``jaw`` given; the tests check that.

For speed it can be restricted to a vertex subset (``vertex_ids``, e.g. the vertices that
expression or jaw move at all: :func:`moving_vertices`); the jaw joint is still regressed
from the full mesh through the precomputed linear map.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import roma
import torch
from torch import nn

#: FLAME joint order: global, neck, jaw, left eye, right eye (posedirs rows: 9 per non-root joint).
FLAME_JAW = 2


class FlameExpressionLayer(nn.Module):
    """FLAME vertices from expression ``(..., E)`` and jaw axis-angle ``(..., 3)``.

    Buffers (``V'`` = number of kept vertices; not saved in state dicts):
        template ``(V', 3)``, expr_dirs ``(V', 3, E)``, jaw_posedirs ``(9, V', 3)``,
        jaw_weight ``(V',)``, joint_template ``(3,)``, joint_dirs ``(3, E)``.
    """

    template: torch.Tensor
    expr_dirs: torch.Tensor
    jaw_posedirs: torch.Tensor
    jaw_weight: torch.Tensor
    joint_template: torch.Tensor
    joint_dirs: torch.Tensor

    def __init__(self, template: torch.Tensor, expr_dirs: torch.Tensor, jaw_posedirs: torch.Tensor,
                 jaw_weight: torch.Tensor, joint_template: torch.Tensor, joint_dirs: torch.Tensor) -> None:
        super().__init__()
        # non-persistent: rebuilt from the FLAME file, never written into checkpoints
        for name, value in (("template", template), ("expr_dirs", expr_dirs), ("jaw_posedirs", jaw_posedirs),
                            ("jaw_weight", jaw_weight), ("joint_template", joint_template), ("joint_dirs", joint_dirs)):
            self.register_buffer(name, value.float().contiguous(), persistent=False)

    @property
    def num_expressions(self) -> int:
        return int(self.expr_dirs.shape[-1])

    @property
    def num_vertices(self) -> int:
        return int(self.template.shape[0])

    @classmethod
    def from_flame(cls, model: Any, num_expressions: int = 50,
                   vertex_ids: np.ndarray | torch.Tensor | None = None) -> FlameExpressionLayer:
        """Build from a loaded ``smplx.FLAME`` / ``FLAMELayer`` (:func:`motion.bodymodels.load_face_model`).

        Args:
            model: the FLAME model (its ``num_expression_coeffs`` must be >= ``num_expressions``).
            num_expressions: E, the leading expression coefficients used.
            vertex_ids: keep only these vertices ``(V',)`` (default: all).
        """
        e_max = int(model.expr_dirs.shape[-1])
        if num_expressions > e_max:
            raise ValueError(f"the FLAME model has {e_max} expression coefficients, asked for {num_expressions}")
        template = model.v_template.detach().float()  # (V, 3)
        dirs = model.expr_dirs[..., :num_expressions].detach().float()  # (V, 3, E)
        j_reg = model.J_regressor[FLAME_JAW].detach().float()  # (V,)
        joint_template = j_reg @ template  # (3,)
        joint_dirs = torch.einsum("v,vce->ce", j_reg, dirs)  # (3, E)
        V = template.shape[0]
        rows = slice(9 * (FLAME_JAW - 1), 9 * FLAME_JAW)  # posedirs rows of the jaw (root excluded)
        jaw_posedirs = model.posedirs[rows].detach().float().reshape(9, V, 3)
        weight = model.lbs_weights[:, FLAME_JAW].detach().float()  # (V,)
        if vertex_ids is not None:
            ids = torch.as_tensor(np.asarray(vertex_ids), dtype=torch.long)
            template, dirs, jaw_posedirs, weight = template[ids], dirs[ids], jaw_posedirs[:, ids], weight[ids]
        return cls(template, dirs, jaw_posedirs, weight, joint_template, joint_dirs)

    def forward(self, expression: torch.Tensor, jaw: torch.Tensor) -> torch.Tensor:
        """Vertices ``(..., V', 3)`` in metres (FLAME's head frame, no translation).

        Args:
            expression: ``(..., E)`` expression coefficients.
            jaw: ``(..., 3)`` jaw axis-angle (radians; positive x opens the mouth).
        """
        lead = expression.shape[:-1]
        e = expression.reshape(-1, expression.shape[-1])
        R = roma.rotvec_to_rotmat(jaw.reshape(-1, 3))  # (N, 3, 3)
        N, V = e.shape[0], self.num_vertices
        v = self.template + (e @ self.expr_dirs.reshape(V * 3, -1).T).reshape(N, V, 3)  # B_E, Eq. 2
        j = self.joint_template + e @ self.joint_dirs.T  # (N, 3), Eq. 3
        eye = torch.eye(3, dtype=R.dtype, device=R.device)
        rel = R - eye  # (N, 3, 3)
        v = v + (rel.reshape(N, 9) @ self.jaw_posedirs.reshape(9, V * 3)).reshape(N, V, 3)  # B_P, Eq. 2
        d = v - j[:, None]  # (N, V, 3)
        v = v + self.jaw_weight[None, :, None] * torch.bmm(d, rel.transpose(1, 2))  # LBS, Eq. 4: (R - I)(v - j)
        return v.reshape(*lead, -1, 3)


def moving_vertices(model: Any, num_expressions: int = 50, tol: float = 1e-6) -> np.ndarray:
    """Ids ``(V',)`` of vertices that the first ``num_expressions`` expression components or
    the jaw move by more than ``tol`` metres per unit (the rest never move: e.g. the scalp)."""
    dirs = model.expr_dirs[..., :num_expressions].detach().abs().amax(dim=(1, 2))
    rows = slice(9 * (FLAME_JAW - 1), 9 * FLAME_JAW)
    pose = model.posedirs[rows].detach().reshape(9, -1, 3).abs().amax(dim=(0, 2))
    moving = (dirs > tol) | (pose > tol) | (model.lbs_weights[:, FLAME_JAW].detach() > tol)
    return np.where(moving.cpu().numpy())[0].astype(np.int64)
