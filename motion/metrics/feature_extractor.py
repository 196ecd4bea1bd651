"""The motion feature extractor behind FGD: a small temporal autoencoder on real motion.

FGD (Yoon et al. 2020) and EMAGE measure the Frechet distance between feature Gaussians
of a motion autoencoder trained on ground-truth motion only. Here the autoencoder works on
the body features of :mod:`motion.models.body_features` (``(B, T, 315)``: 52 joints in 6D +
root motion), standardized inside the module with training statistics::

    encoder: Linear -> [residual convs, strided conv (/2)] x log2(f) -> Linear  -> (B, T/f, D)
    decoder: Linear -> [transposed conv (x2), residual convs] x log2(f) -> Linear -> (B, T, 315)

Trained with L1 reconstruction + L1 velocity (:class:`motion.training.metrics_module.
MotionMetricsModule`). FGD features are the encoder outputs of every latent frame of every
clip (``(N, D)``, as EMAGE pools the latent frames of its test sequences). Any ``T >= 1``
works (padding by repeating the last frame, as the motion VAE).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from motion.models.body_features import BODY_FEATURE_DIM
from motion.models.config import register_config
from motion.models.layers import ConvStack, Standardizer


class MotionFeatureExtractor(nn.Module):
    """Temporal convolutional autoencoder; :meth:`encode` gives FGD features.

    Args:
        in_dim: features per frame (315).
        width: hidden width.
        feature_dim: D, feature channels per latent frame.
        downsample: f, temporal downsampling (power of two).
        conv_layers: residual conv blocks per resolution level.
        dropout: dropout in the conv blocks.
    """

    @register_config
    def __init__(self, in_dim: int = BODY_FEATURE_DIM, width: int = 128, feature_dim: int = 32,
                 downsample: int = 4, conv_layers: int = 2, dropout: float = 0.0) -> None:
        super().__init__()
        levels = round(math.log2(downsample)) if downsample >= 1 else -1
        if downsample < 1 or 2 ** levels != downsample:
            raise ValueError(f"downsample must be a power of two, got {downsample}")
        self.in_dim, self.feature_dim, self.downsample = in_dim, feature_dim, downsample
        self.norm = Standardizer(in_dim)
        self.enc_in = nn.Linear(in_dim, width)
        self.enc_convs = nn.ModuleList(ConvStack(width, conv_layers, 5, dropout) for _ in range(levels))
        self.enc_downs = nn.ModuleList(nn.Conv1d(width, width, 4, stride=2, padding=1)
                                       for _ in range(levels))
        self.enc_out = nn.Linear(width, feature_dim)
        self.dec_in = nn.Linear(feature_dim, width)
        self.dec_ups = nn.ModuleList(nn.ConvTranspose1d(width, width, 4, stride=2, padding=1)
                                     for _ in range(levels))
        self.dec_convs = nn.ModuleList(ConvStack(width, conv_layers, 5, dropout) for _ in range(levels))
        self.dec_out = nn.Linear(width, in_dim)

    def encode(self, x: torch.Tensor, normalized: bool = False) -> torch.Tensor:
        """``(B, T, in_dim)`` (raw unless ``normalized``) -> features ``(B, ceil(T / f), D)``."""
        if x.shape[-1] != self.in_dim:
            raise ValueError(f"feature extractor expects {self.in_dim} values per frame, "
                             f"got {x.shape[-1]}")
        T = x.shape[1]
        h = x if normalized else self.norm(x)
        pad = -(-T // self.downsample) * self.downsample - T
        if pad:
            h = torch.cat([h, h[:, -1:].expand(-1, pad, -1)], dim=1)
        h = self.enc_in(h)
        for conv, down in zip(self.enc_convs, self.enc_downs):
            h = F.gelu(down(conv(h).transpose(1, 2))).transpose(1, 2)
        return self.enc_out(h)

    def decode(self, z: torch.Tensor, num_frames: int) -> torch.Tensor:
        """``(B, L, D)`` -> standardized reconstruction ``(B, num_frames, in_dim)``."""
        h = self.dec_in(z)
        for up, conv in zip(self.dec_ups, self.dec_convs):
            h = conv(F.gelu(up(h.transpose(1, 2))).transpose(1, 2))
        return self.dec_out(h)[:, :num_frames]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Raw ``(B, T, in_dim)`` -> (standardized reconstruction, features ``(B, L, D)``)."""
        z = self.encode(x)
        return self.decode(z, x.shape[1]), z

    @torch.no_grad()
    def clip_features(self, clips: list[torch.Tensor]) -> torch.Tensor:
        """FGD features ``(N, D)``: every latent frame of every ``(T_i, in_dim)`` clip."""
        was = self.training
        self.eval()
        try:
            return torch.cat([self.encode(c[None].float())[0] for c in clips], dim=0)
        finally:
            self.train(was)
