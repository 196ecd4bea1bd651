"""Training of the lip-event detector (:class:`motion.models.closure_detector.ClosureDetector`).

Per 10 ms frame, weighted cross-entropy over (speech, bilabial, pause)::

    L = - sum_t w_{y_t} log softmax(f(x))_{t, y_t} / sum_t w_{y_t}

with ``w = (1, w_bilabial, 1)``: bilabials are about 5% of the frames, and a missed closure is
what the face shows. Validation also logs the bilabial frame recall / precision at the
decoder's threshold (:data:`motion.audio.closures.HIGH`).
"""

from __future__ import annotations

import inspect

import torch
import torch.nn.functional as F
from torch import nn

from motion.data.closure_data import IGNORE
from motion.models.closure_detector import ClosureDetector
from motion.training.base import StageModule, save_plain_hyperparameters


class ClosureDetectorModule(StageModule):
    """Trains a :class:`ClosureDetector` (module notes).

    Args:
        channels, kernel, dilations, dropout: the detector (:class:`ClosureDetector`).
        w_bilabial: class weight of the bilabial frames.
        lr, weight_decay, warmup_steps, min_lr_ratio: optimisation (:class:`StageModule`).
    """

    stage = "closure_detector"

    def __init__(self, channels: int = 64, kernel: int = 5, dilations: list[int] | None = None,
                 dropout: float = 0.1, w_bilabial: float = 3.0, lr: float = 2e-3, weight_decay: float = 0.01,
                 warmup_steps: int = 200, min_lr_ratio: float = 0.05) -> None:
        super().__init__(lr, weight_decay, warmup_steps, min_lr_ratio)
        save_plain_hyperparameters(self, inspect.currentframe())
        from motion.audio.closures import N_BANDS

        self.detector = ClosureDetector(N_BANDS, channels, kernel, tuple(dilations or (1, 2, 4, 8, 1)), dropout)
        self.register_buffer("class_weight", torch.tensor([1.0, w_bilabial, 1.0]))

    def trainable_modules(self) -> list[nn.Module]:
        return [self.detector]

    def export_modules(self) -> dict[str, nn.Module]:
        return {"closure_detector": self.detector}

    def _step(self, batch: dict[str, torch.Tensor], split: str) -> torch.Tensor:
        logits = self.detector(batch["feats"])  # (B, W, 3)
        y = batch["labels"]
        loss = F.cross_entropy(logits.reshape(-1, 3), y.reshape(-1), weight=self.class_weight, ignore_index=IGNORE)
        terms = {"loss": loss}
        if split != "train":
            from motion.audio.closures import HIGH

            with torch.no_grad():
                p = logits.softmax(-1)[..., 1] > HIGH
                bil, valid = y == 1, y != IGNORE
                terms["bilabial_recall"] = (p & bil).sum() / bil.sum().clamp_min(1)
                terms["bilabial_precision"] = (p & bil).sum() / (p & valid).sum().clamp_min(1)
                terms["accuracy"] = ((logits.argmax(-1) == y) & valid).sum() / valid.sum().clamp_min(1)
        return self.log_losses(terms, split, y.shape[0])
