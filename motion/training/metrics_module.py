"""The evaluation networks: FGD feature extractor, emotion and speaker classifiers.

All three are trained on *ground-truth* motion windows only (never on generated motion), in
one stage since they read the same data; their parameters and losses are independent::

    loss = L1(recon) + velocity_weight * L1(recon velocity)      (feature extractor)
         + CE(emotion logits, emotion)  + CE(speaker logits, speaker)   (-1 labels ignored)

``motion fit --config configs/body/motion_metrics.yaml`` exports
``feature_extractor``, ``emotion_classifier`` and ``speaker_classifier`` (``.json`` + ``.safetensors``)
to ``runs/motion_metrics/latest``, which ``motion evaluate --metrics`` reads.
"""

from __future__ import annotations

import inspect

import torch
from torch import nn

from motion.metrics.classifier import MotionClassifier
from motion.metrics.feature_extractor import MotionFeatureExtractor
from motion.training.base import StageModule, save_plain_hyperparameters
from motion.training.losses import _check_labels, _masked_ce


class MotionMetricsModule(StageModule):
    """Trains the evaluation networks of :mod:`motion.metrics`.

    Args:
        extractor: the (untrained) feature extractor.
        emotion_classifier, speaker_classifier: the (untrained) classifiers.
        velocity_weight: weight of the extractor's velocity term.
        lr, weight_decay, warmup_steps, min_lr_ratio: optimisation (:class:`StageModule`).
    """

    stage = "motion_metrics"

    def __init__(self, extractor: MotionFeatureExtractor, emotion_classifier: MotionClassifier,
                 speaker_classifier: MotionClassifier, velocity_weight: float = 1.0,
                 lr: float = 1e-3, weight_decay: float = 0.01, warmup_steps: int = 100,
                 min_lr_ratio: float = 0.1) -> None:
        super().__init__(lr, weight_decay, warmup_steps, min_lr_ratio)
        save_plain_hyperparameters(self, inspect.currentframe())
        self.extractor = extractor
        self.emotion_classifier = emotion_classifier
        self.speaker_classifier = speaker_classifier
        self.velocity_weight = velocity_weight

    def setup(self, stage: str) -> None:
        """Every network standardizes with the training motion statistics (set once)."""
        if stage != "fit":
            return
        for net in (self.extractor, self.emotion_classifier, self.speaker_classifier):
            if not bool(net.norm.initialized):
                net.norm.set_stats(*self._datamodule().feature_stats("motion"))

    def trainable_modules(self) -> list[nn.Module]:
        return [self.extractor, self.emotion_classifier, self.speaker_classifier]

    def export_modules(self) -> dict[str, nn.Module]:
        return {"feature_extractor": self.extractor, "emotion_classifier": self.emotion_classifier,
                "speaker_classifier": self.speaker_classifier}

    def losses(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """All loss terms, accuracies and their sum ``"loss"`` for a batch of windows."""
        motion, emo, spk = batch["motion"], batch["emotion"], batch["speaker"]
        if motion.dim() == 4:  # pair batches: every clip of the group
            motion, emo, spk = motion.flatten(0, 1), emo.flatten(), spk.flatten()
        _check_labels(spk, self.speaker_classifier.num_classes, "speaker")
        _check_labels(emo, self.emotion_classifier.num_classes, "emotion")
        recon, _ = self.extractor(motion)
        target = self.extractor.norm(motion)
        out = {"recon": (recon - target).abs().mean(),
               "velocity": (recon.diff(dim=1) - target.diff(dim=1)).abs().mean()}
        e_logits, s_logits = self.emotion_classifier(motion), self.speaker_classifier(motion)
        out["emotion_ce"] = _masked_ce(e_logits, emo)
        out["speaker_ce"] = _masked_ce(s_logits, spk)
        with torch.no_grad():
            for name, logits, lab in (("emotion", e_logits, emo), ("speaker", s_logits, spk)):
                known = lab >= 0
                out[f"{name}_acc"] = ((logits.argmax(-1) == lab)[known].float().mean()
                                      if known.any() else logits.new_zeros(()))
        out["loss"] = (out["recon"] + self.velocity_weight * out["velocity"]
                       + out["emotion_ce"] + out["speaker_ce"])
        return out

    def _step(self, batch: dict[str, torch.Tensor], split: str) -> torch.Tensor:
        terms = self.losses(batch)
        return self.log_losses(terms, split, batch["motion"].shape[0])

