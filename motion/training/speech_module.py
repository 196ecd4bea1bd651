"""Stage 1: the speech disentanglement encoder (AMUSE, Sec. 3.1)."""

from __future__ import annotations

import inspect

import torch
from torch import nn

from motion.models.speech_encoder import SpeechDisentangler
from motion.training.base import StageModule, save_plain_hyperparameters
from motion.training.losses import SpeechLossWeights, speech_encoder_losses


class SpeechEncoderModule(StageModule):
    """Trains a :class:`SpeechDisentangler` on same-sentence groups (``data.pairs: true``).

    Args:
        encoder: the (untrained) speech encoder.
        input_noise: std of the noise added to standardized inputs (targets stay clean).
        w_self_recon, w_cross_recon, w_emotion, w_speaker, w_content_speaker,
        w_content_emotion: loss weights (:class:`motion.training.losses.SpeechLossWeights`).
        lr, weight_decay, warmup_steps, min_lr_ratio: optimisation (:class:`StageModule`).
    """

    stage = "speech_encoder"

    def __init__(self, encoder: SpeechDisentangler, input_noise: float = 0.1,
                 w_self_recon: float = 1.0, w_cross_recon: float = 1.0, w_emotion: float = 0.1,
                 w_speaker: float = 0.1, w_content_speaker: float = 1.0,
                 w_content_emotion: float = 0.5, lr: float = 2e-4, weight_decay: float = 0.01,
                 warmup_steps: int = 500, min_lr_ratio: float = 0.1) -> None:
        super().__init__(lr, weight_decay, warmup_steps, min_lr_ratio)
        save_plain_hyperparameters(self, inspect.currentframe())
        self.encoder = encoder
        self.input_noise = input_noise
        self.weights = SpeechLossWeights(w_self_recon, w_cross_recon, w_emotion, w_speaker,
                                         w_content_speaker, w_content_emotion)

    def setup(self, stage: str) -> None:
        """Set the input standardization from the training data (once; a checkpoint restores it)."""
        if stage == "fit" and not bool(self.encoder.norm.initialized):
            mean, std = self._datamodule().feature_stats("audio")
            self.encoder.norm.set_stats(mean, std)

    def trainable_modules(self) -> list[nn.Module]:
        return [self.encoder]

    def export_modules(self) -> dict[str, nn.Module]:
        return {"speech_encoder": self.encoder}

    def _step(self, batch: dict[str, torch.Tensor], split: str) -> torch.Tensor:
        noise = self.input_noise if split == "train" else 0.0
        terms = speech_encoder_losses(self.encoder, batch, self.weights, noise)
        return self.log_losses(terms, split, batch["audio"].shape[0])

