"""Face decoder losses: vertex reconstruction (stage 1) and perceptual / exchange terms (stage 2).

EMOTE (Danecek et al. 2023, Sec. 3.4). Stage 1 (all on FLAME vertices, metres, so a weight
of 1e6 reads in mm^2, as FLINT's loss)::

    vertex      mean || V(pred) - V(gt) ||^2                 over the vertices expression / jaw move
    lip_vertex  the same over the lip region                 (heavier lips: FaceFormer / EMOTE practice)
    velocity    mean || dV(pred)/dt - dV(gt)/dt ||^2         (per frame; against jitter)
    param       MSE of the prior's normalised expression + jaw features (optional)
    lip_closure mean over frames whose ground-truth lip gap g* is under 2 mm (closed lips:
                p / b / m) of relu(g - g*)^2, g the gap between the inner-lip centres;
                on the exchanged output too (stage 2), so no emotion opens a closure

Stage 2 adds the perceptual networks (:mod:`motion.models.face.perceptual`, frozen):

    lip_perceptual      MSE(lip(pred), lip(gt)) of the lip network's per-frame features
    emotion_perceptual  MSE(emo(pred), emo(gt)) of the emotion network's clip features

and the content-emotion exchange: the batch's (emotion, intensity) labels are permuted and
the same audio decoded again (``pred_x``); the lips must stay those of the audio and the
face must carry the new emotion::

    exchange_lip         MSE(lip(pred_x), lip(gt))                        lip-reading consistency
    exchange_lip_vertex  mean || V_lips(pred_x) - sg(V_lips(pred)) ||^2   lips of the unswapped output
    exchange_emotion     CE(emo(pred_x), new emotion label)               (known labels only)

EMOTE weighs its lip-reading term 2.5e-5 and its emotion term 1.5e-6 against its own
feature scales; here the networks' features are layer-normed (~1), so the config defaults
are of order 1 (see ``configs/face/face_decoder_exchange.yaml``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch
import torch.nn.functional as F
from torch import nn

from motion.metrics.face import CLOSED_LIP_GAP
from motion.models.face.flint import FlintPrior
from motion.models.face.perceptual import perceptual_vertex_set
from motion.models.face.vertices import FaceVertexSets

#: Vertex-set names used by :class:`FaceDecoderLoss`.
LOSS_SET, LIPS_SET, LIP_READER_SET, FACE_EMOTION_SET = "loss", "lips", "lip_reader", "face_emotion"
CLOSURE_SET = "lip_centres"


@dataclass
class FaceDecoderLossWeights:
    """Weights of the face decoder's loss terms (0 switches a term off)."""

    vertex: float = 1.0e6
    lip_vertex: float = 1.0e6
    velocity: float = 1.0e6
    param: float = 0.0
    lip_closure: float = 0.0
    lip_perceptual: float = 0.0
    emotion_perceptual: float = 0.0
    exchange_lip: float = 0.0
    exchange_lip_vertex: float = 0.0
    exchange_emotion: float = 0.0

    @property
    def exchange(self) -> bool:
        """True when any exchange term is on (the decoder then runs twice per batch)."""
        return max(self.exchange_lip, self.exchange_lip_vertex, self.exchange_emotion) > 0


def vertex_sets_spec(lip_reader: nn.Module | None, face_emotion: nn.Module | None,
                     loss_region: str = "moving", loss_stride: int = 1, closure: bool = False
                     ) -> dict[str, tuple[str, int]]:
    """Named vertex sets (region, stride) the loss needs, for :meth:`FaceVertexSets.build`
    (``loss_stride`` thins the vertex / velocity set; the lips are always kept whole;
    ``closure`` adds the two lip-centre vertices of the ``lip_closure`` term)."""
    spec = {LOSS_SET: (loss_region, loss_stride), LIPS_SET: ("lips", 1)}
    if closure:
        spec[CLOSURE_SET] = ("lip_centres", 1)
    for name, net in ((LIP_READER_SET, lip_reader), (FACE_EMOTION_SET, face_emotion)):
        if net is not None:
            spec[name] = perceptual_vertex_set(net)
    return spec


class FaceDecoderLoss(nn.Module):
    """All terms of one decoder step; ``forward`` returns a dict of terms and their weighted ``total``.

    Args:
        vertex_sets: FLAME vertices of :func:`vertex_sets_spec`'s sets.
        weights: :class:`FaceDecoderLossWeights`.
        lip_reader, face_emotion: frozen perceptual networks (needed by the terms that use them).
    """

    lip_reader: nn.Module | None
    face_emotion: nn.Module | None

    def __init__(self, vertex_sets: FaceVertexSets, weights: FaceDecoderLossWeights,
                 lip_reader: nn.Module | None = None, face_emotion: nn.Module | None = None) -> None:
        super().__init__()
        self.sets, self.weights = vertex_sets, weights
        # not registered as sub-modules: their owner (the LightningModule) holds and moves them,
        # and checkpoints keep one copy of their weights
        object.__setattr__(self, "lip_reader", lip_reader)
        object.__setattr__(self, "face_emotion", face_emotion)
        w = weights
        if max(w.lip_perceptual, w.exchange_lip) > 0 and lip_reader is None:
            raise ValueError("lip_perceptual / exchange_lip weights need a lip reader (model.lip_reader or lip_reader_export)")
        if max(w.emotion_perceptual, w.exchange_emotion) > 0 and face_emotion is None:
            raise ValueError("emotion_perceptual / exchange_emotion weights need an emotion network "
                             "(model.face_emotion or face_emotion_export)")

    def _lip(self, verts: torch.Tensor) -> torch.Tensor:
        assert self.lip_reader is not None
        return self.lip_reader(self.sets.displacement(verts, LIP_READER_SET)).features

    def _emotion(self, verts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        assert self.face_emotion is not None
        out = self.face_emotion(self.sets.displacement(verts, FACE_EMOTION_SET))
        return out.features, out.logits

    def forward(self, flint: FlintPrior, pred: tuple[torch.Tensor, torch.Tensor], target: tuple[torch.Tensor, torch.Tensor],
                exchanged: tuple[torch.Tensor, torch.Tensor] | None = None,
                exchanged_emotion: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Terms for predicted / target expression ``(B, T, E)`` + jaw ``(B, T, 3)``.

        Args:
            flint: the frozen FLINT prior (normalisation of the ``param`` term).
            pred, target: ``(expression, jaw)`` of the decoder output and of the data.
            exchanged: ``(expression, jaw)`` decoded with permuted emotion labels (stage 2).
            exchanged_emotion: ``(B,)`` the permuted emotion labels (-1 unknown).
        """
        w, E = self.weights, flint.num_expressions
        t_expr, t_jaw = target[0][..., :E], target[1]
        v = self.sets(*pred)  # (B, T, U, 3)
        vx = self.sets(*exchanged) if exchanged is not None else None
        with torch.no_grad():
            v_gt = self.sets(t_expr, t_jaw)
        sel = self.sets.select
        terms: dict[str, torch.Tensor] = {
            "vertex": (sel(v, LOSS_SET) - sel(v_gt, LOSS_SET)).square().mean(),
            "lip_vertex": (sel(v, LIPS_SET) - sel(v_gt, LIPS_SET)).square().mean(),
        }
        dv, dv_gt = sel(v, LOSS_SET).diff(dim=1), sel(v_gt, LOSS_SET).diff(dim=1)
        terms["velocity"] = (dv - dv_gt).square().mean() if dv.shape[1] else v.new_zeros(())
        with torch.no_grad():  # LVE (MeshTalk): mean over frames of the max lip-vertex L2 error, m
            terms["lve"] = (sel(v, LIPS_SET) - sel(v_gt, LIPS_SET)).norm(dim=-1).amax(-1).mean()
        if w.lip_closure > 0:
            gap_gt = self._gap(v_gt)
            terms["lip_closure"] = self._closure(v, gap_gt)
            if vx is not None:  # the swapped emotion must close the lips too
                terms["lip_closure"] = 0.5 * (terms["lip_closure"] + self._closure(vx, gap_gt))
        if w.param > 0:
            terms["param"] = (flint.features(*pred) - flint.features(t_expr, t_jaw)).square().mean()
        lip_gt = emo_gt = None
        if self.lip_reader is not None and max(w.lip_perceptual, w.exchange_lip) > 0:
            with torch.no_grad():
                lip_gt = self._lip(v_gt)
            if w.lip_perceptual > 0:
                terms["lip_perceptual"] = (self._lip(v) - lip_gt).square().mean()
        if self.face_emotion is not None and w.emotion_perceptual > 0:
            with torch.no_grad():
                emo_gt = self._emotion(v_gt)[0]
            terms["emotion_perceptual"] = (self._emotion(v)[0] - emo_gt).square().mean()
        if vx is not None:
            terms.update(self._exchange(v, vx, exchanged_emotion, lip_gt))
        total = sum(getattr(w, name) * terms[name] for name in (f.name for f in fields(w)) if name in terms)
        terms["total"] = total if isinstance(total, torch.Tensor) else v.new_zeros(())
        return terms

    def _gap(self, verts: torch.Tensor) -> torch.Tensor:
        """``(B, T)`` distance (m) between the two inner-lip centre vertices."""
        c = self.sets.select(verts, CLOSURE_SET)
        return (c[..., 0, :] - c[..., 1, :]).norm(dim=-1)

    def _closure(self, verts: torch.Tensor, gap_gt: torch.Tensor) -> torch.Tensor:
        """Mean of relu(gap - gap_gt)^2 over frames whose ground-truth gap is under ``CLOSED_LIP_GAP``."""
        closed = (gap_gt < CLOSED_LIP_GAP).to(verts.dtype)
        excess = F.relu(self._gap(verts) - gap_gt).square()
        return (excess * closed).sum() / closed.sum().clamp_min(1.0)

    def _exchange(self, v: torch.Tensor, vx: torch.Tensor, new_emotion: torch.Tensor | None,
                  lip_gt: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """Content-emotion exchange terms (module notes) of the exchanged output's vertices ``vx``."""
        w, sel = self.weights, self.sets.select
        out: dict[str, torch.Tensor] = {}
        if w.exchange_lip > 0 and lip_gt is not None:
            out["exchange_lip"] = (self._lip(vx) - lip_gt).square().mean()
        if w.exchange_lip_vertex > 0:
            out["exchange_lip_vertex"] = (sel(vx, LIPS_SET) - sel(v, LIPS_SET).detach()).square().mean()
        if w.exchange_emotion > 0 and new_emotion is not None:
            logits = self._emotion(vx)[1]
            known = (new_emotion >= 0) & (new_emotion < logits.shape[-1]) if logits is not None else None
            if logits is None or known is None:
                raise ValueError("exchange_emotion needs an emotion network that returns logits")
            out["exchange_emotion"] = F.cross_entropy(logits[known], new_emotion[known]) if bool(known.any()) \
                else logits.sum() * 0.0
        return out
