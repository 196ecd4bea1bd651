"""FLINT training loss: FLAME-vertex reconstruction + KL (+ optional parameter MSE).

EMOTE (Danecek et al. 2023, Sec. 3.2) trains FLINT with

    L = w_v * || V(e_hat, jaw_hat) - V(e, jaw) ||^2  +  w_kl * KL(q(z|x) || N(0, I))

with ``w_v = 1e6`` on vertex positions in metres (so the term reads in mm^2) and
``w_kl = 1e-3``. Conventions here:

* the vertex term is the mean over frames, vertices and the 3 coordinates of the squared
  error in m^2, times ``vertex_weight`` (1e6 -> mm^2). Vertices come from
  :class:`~motion.models.face.flame_layer.FlameExpressionLayer`, by default restricted to
  the vertices that expression / jaw can move (the mean is over those, so the number is
  larger than a whole-mesh mean by roughly ``V / V'``);
* KL is summed over latent channels and averaged over batch and latent frames
  (Kingma & Welling 2014, Appendix B: ``-1/2 sum(1 + logvar - mu^2 - exp(logvar))``);
* the optional parameter term is the MSE of the normalised features (expression + jaw),
  weight 0 by default as in FLINT.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from motion.models.face.flame_layer import FlameExpressionLayer
from motion.models.face.flint import FlintOutput, FlintPrior


def kl_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) for ``(B, L, C)`` posteriors: sum over C, mean over B, L."""
    return (-0.5 * (1.0 + logvar - mu.square() - logvar.exp())).sum(-1).mean()


@dataclass
class FlintLossWeights:
    """Weights of the FLINT loss terms (EMOTE: vertex 1e6 on m^2, KL 1e-3)."""

    vertex: float = 1.0e6
    kl: float = 1.0e-3
    param: float = 0.0


class FlintLoss(nn.Module):
    """Loss of one FLINT reconstruction; returns a dict of terms and their weighted ``total``.

    Args:
        face_layer: FLAME expression + jaw -> vertices (m).
        weights: :class:`FlintLossWeights`.
    """

    def __init__(self, face_layer: FlameExpressionLayer, weights: FlintLossWeights | None = None) -> None:
        super().__init__()
        self.face_layer = face_layer
        self.weights = weights or FlintLossWeights()

    def forward(self, flint: FlintPrior, out: FlintOutput, expression: torch.Tensor,
                jaw: torch.Tensor) -> dict[str, torch.Tensor]:
        """Terms for targets expression ``(B, T, E)`` and jaw ``(B, T, 3)`` axis-angle.

        Returns:
            ``{"vertex", "kl", "param", "total"}``; ``vertex`` in m^2 (unweighted MSE).
        """
        E = flint.num_expressions
        v_hat = self.face_layer(out.expression, out.jaw)  # (B, T, V', 3)
        with torch.no_grad():
            v = self.face_layer(expression[..., :E], jaw)
        vertex = (v_hat - v).square().mean()
        kl = kl_standard_normal(out.mu, out.logvar)
        w = self.weights
        terms = {"vertex": vertex, "kl": kl}
        total = w.vertex * vertex + w.kl * kl
        if w.param > 0:
            target = flint.features(expression, jaw)
            pred = flint.features(out.expression, out.jaw)
            terms["param"] = (pred - target).square().mean()
            total = total + w.param * terms["param"]
        terms["total"] = total
        return terms
