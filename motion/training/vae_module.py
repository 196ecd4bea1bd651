"""Stage 2: the temporal motion VAE (body prior)."""

from __future__ import annotations

import inspect

import torch
from torch import nn

from motion.models.motion_vae import MotionVAE
from motion.training.base import StageModule, save_plain_hyperparameters
from motion.training.losses import VAEDistance, motion_vae_losses, vae_distance


class MotionVAEModule(StageModule):
    """Trains a :class:`MotionVAE` on body-feature windows.

    Args:
        vae: the (untrained) motion VAE.
        kl_weight: weight of the per-element KL term (1e-4..1e-5).
        velocity_weight: weight of the loss on frame-to-frame differences.
        distance: per-element error of both terms, ``l1`` or ``mse``
            (:func:`~motion.training.losses.motion_vae_losses`).
        lr, weight_decay, warmup_steps, min_lr_ratio: optimisation (:class:`StageModule`).
    """

    stage = "motion_vae"

    def __init__(self, vae: MotionVAE, kl_weight: float = 1e-4, velocity_weight: float = 1.0,
                 distance: VAEDistance = "mse", lr: float = 2e-4, weight_decay: float = 0.01,
                 warmup_steps: int = 500, min_lr_ratio: float = 0.1) -> None:
        super().__init__(lr, weight_decay, warmup_steps, min_lr_ratio)
        save_plain_hyperparameters(self, inspect.currentframe())
        self.vae = vae
        vae_distance(distance)  # a bad name fails here, not at the first step
        self.kl_weight, self.velocity_weight, self.distance = kl_weight, velocity_weight, distance

    def setup(self, stage: str) -> None:
        """Set the feature standardization from the training data (once)."""
        if stage == "fit" and not bool(self.vae.norm.initialized):
            mean, std = self._datamodule().feature_stats("motion")
            self.vae.norm.set_stats(mean, std)

    def trainable_modules(self) -> list[nn.Module]:
        return [self.vae]

    def export_modules(self) -> dict[str, nn.Module]:
        return {"motion_vae": self.vae}

    def _step(self, batch: dict[str, torch.Tensor], split: str) -> torch.Tensor:
        motion = batch["motion"]
        if motion.dim() == 4:  # pair batches: use every clip of the group
            motion = motion.flatten(0, 1)
        terms = motion_vae_losses(self.vae, motion, self.kl_weight, self.velocity_weight,
                                  sample=split == "train", distance=self.distance)
        return self.log_losses(terms, split, motion.shape[0])

