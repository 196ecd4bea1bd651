"""Face stage: the perceptual networks of the decoder's second stage (and of the evaluation).

::

    python -m motion.training.cli fit --config configs/face/lip_reader.yaml     # -> runs/lip_reader/latest
    python -m motion.training.cli fit --config configs/face/face_emotion.yaml   # -> runs/face_emotion/latest

Both train on ground-truth FLAME motion of a BEAT2-layout folder
(:class:`~motion.data.face_speech.FaceSpeechDataModule`): the expression + jaw of each window
is turned into vertex offsets from the neutral template (:class:`FaceVertexSets`) of the
network's ``region`` and classified:

* :class:`LipReaderModule` - :class:`~motion.models.face.perceptual.LipReader`, per-frame
  visemes from the corpus phoneme timings (cross-entropy; frames without timings ignored);
* :class:`FaceEmotionModule` - :class:`~motion.models.face.perceptual.FaceEmotionNet`, the
  clip's emotion (cross-entropy; unknown labels ignored).

Small Gaussian noise on the expression coefficients (``input_noise``) makes the networks
less brittle on generated faces. The network is exported as ``lip_reader`` / ``face_emotion``
(``.json`` + ``.safetensors``) for ``model.init_args.lip_reader_export`` / ``face_emotion_export`` of the
decoder. The vertex region is set here (``region``, ``vertex_stride``) and recorded in the
network's config, because the network's input size depends on it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from motion.models.face.vertices import FaceVertexSets
from motion.training.base import StageModule, save_plain_hyperparameters

#: Builds the network from its number of input vertices (plus ``region`` / ``vertex_stride`` keywords).
NetFactory = Callable[..., nn.Module]
_SET = "net"


class _FaceClassifierModule(StageModule):
    """Shared set-up: FLAME vertex offsets of a region -> a classifier network, exported under
    the stage's name."""

    def __init__(self, net: NetFactory, region: str, vertex_stride: int, models_dir: str | None,
                 num_expressions: int, input_noise: float, lr: float, weight_decay: float, warmup_steps: int,
                 min_lr_ratio: float) -> None:
        super().__init__(lr, weight_decay, warmup_steps, min_lr_ratio)
        from motion.bodymodels import load_face_model

        self.sets = FaceVertexSets.build(load_face_model(models_dir), num_expressions,
                                         {_SET: (region, vertex_stride)}, models_dir)
        self.net = net if isinstance(net, nn.Module) else net(self.sets.size(_SET), region=region,
                                                               vertex_stride=vertex_stride)
        self.num_expressions, self.input_noise = num_expressions, input_noise

    def displacements(self, batch: dict[str, torch.Tensor], train: bool) -> torch.Tensor:
        """``(B, T, K, 3)`` vertex offsets of the window (expression noise in training)."""
        expr = batch["expression"][..., : self.num_expressions]
        if train and self.input_noise > 0:
            expr = expr + self.input_noise * torch.randn_like(expr)
        with torch.no_grad():
            return self.sets.displacement(self.sets(expr, batch["jaw"]), _SET)

    def trainable_modules(self) -> list[nn.Module]:
        return [self.net]

    def export_modules(self) -> dict[str, nn.Module]:
        return {self.stage: self.net}

    def _terms(self, batch: dict[str, torch.Tensor], train: bool) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def _step(self, batch: dict[str, torch.Tensor], split: str) -> torch.Tensor:
        loss, acc = self._terms(batch, split == "train")
        return self.log_losses({"loss": loss, "accuracy": acc}, split, batch["expression"].shape[0])



def _masked_ce(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Cross-entropy and accuracy over known labels (``>= 0``); zero loss (with a graph) if none."""
    known = labels >= 0
    if not bool(known.any()):
        return logits.sum() * 0.0, torch.tensor(float("nan"))
    lg, lb = logits[known], labels[known]
    return F.cross_entropy(lg, lb), (lg.argmax(-1) == lb).float().mean().detach()


class LipReaderModule(_FaceClassifierModule):
    """Trains the lip consistency network: per-frame visemes from lip-vertex offsets.

    Args:
        net: network factory (default config: :class:`~motion.models.face.perceptual.LipReader`).
        region, vertex_stride: vertices it sees (default: every lip vertex).
        models_dir: FLAME model folder (None: ``$MOTION_MODELS_DIR`` or the stand-in).
        num_expressions: expression coefficients used (the prior's E).
        input_noise: std of Gaussian noise on the expression coefficients in training.
        lr, weight_decay, warmup_steps, min_lr_ratio: optimisation (:class:`StageModule`).
    """

    stage = "lip_reader"

    def __init__(self, net: NetFactory, region: str = "lips", vertex_stride: int = 1, models_dir: str | None = None,
                 num_expressions: int = 50, input_noise: float = 0.05, lr: float = 1.0e-3,
                 weight_decay: float = 0.01, warmup_steps: int = 100, min_lr_ratio: float = 0.1) -> None:
        super().__init__(net, region, vertex_stride, models_dir, num_expressions, input_noise, lr, weight_decay,
                         warmup_steps, min_lr_ratio)
        save_plain_hyperparameters(self, inspect.currentframe())

    def _terms(self, batch: dict[str, torch.Tensor], train: bool) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.net(self.displacements(batch, train)).logits  # (B, T, C)
        return _masked_ce(logits.reshape(-1, logits.shape[-1]), batch["viseme"].reshape(-1))


class FaceEmotionModule(_FaceClassifierModule):
    """Trains the face emotion classifier: a window's emotion from face-vertex offsets.

    Args: as :class:`LipReaderModule` (default region: every 4th vertex that expression or jaw move).
    """

    stage = "face_emotion"

    def __init__(self, net: NetFactory, region: str = "moving", vertex_stride: int = 4, models_dir: str | None = None,
                 num_expressions: int = 50, input_noise: float = 0.05, lr: float = 1.0e-3,
                 weight_decay: float = 0.01, warmup_steps: int = 100, min_lr_ratio: float = 0.1) -> None:
        super().__init__(net, region, vertex_stride, models_dir, num_expressions, input_noise, lr, weight_decay,
                         warmup_steps, min_lr_ratio)
        save_plain_hyperparameters(self, inspect.currentframe())

    def _terms(self, batch: dict[str, torch.Tensor], train: bool) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.net(self.displacements(batch, train)).logits  # (B, num_emotions)
        return _masked_ce(logits, batch["emotion"])
