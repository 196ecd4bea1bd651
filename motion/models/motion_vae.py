"""Temporal motion VAE: body features ``(B, T, 315)`` <-> latent sequence ``(B, T / f, C)``.

Unlike AMUSE's one 128-d latent per fixed 300-frame clip, the latent is a *sequence* at
``1 / f`` of the motion rate (FLINT-style temporal downsampling, Danecek et al. 2023): strided
convolutions halve the length ``log2(f)`` times, a transformer mixes the downsampled tokens
(sinusoidal positions, so any length works), and a Gaussian head gives ``mean, logvar`` per
latent frame. The decoder mirrors it with transposed convolutions. Inputs whose length is
not a multiple of ``f`` are padded by repeating the last frame and the output is cropped
back, so ``decode(encode(x).mean, T)`` has exactly ``T`` frames for any ``T >= 1``.

Features are standardized inside the module (:class:`~motion.models.layers.Standardizer`,
statistics from the training data), so the exported weights carry their normalisation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from motion.models.body_features import BODY_FEATURE_DIM
from motion.models.config import register_config
from motion.models.layers import ConvStack, Standardizer, TransformerStack, add_positions


@dataclass
class LatentDist:
    """Diagonal Gaussian over a latent sequence.

    Attributes:
        mean: ``(B, L, C)``.
        logvar: ``(B, L, C)``, clamped to [-30, 20].
        num_frames: T, the motion length the latent was encoded from.
    """

    mean: torch.Tensor
    logvar: torch.Tensor
    num_frames: int

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """Reparameterised sample ``mean + exp(logvar / 2) * eps`` (Kingma & Welling 2014, Eq. 10)."""
        eps = torch.randn(self.mean.shape, generator=generator, device=self.mean.device,
                          dtype=self.mean.dtype)
        return self.mean + torch.exp(0.5 * self.logvar) * eps

    def kl(self) -> torch.Tensor:
        """Mean per-element ``KL(q || N(0, I)) = 0.5 (mu^2 + sigma^2 - 1 - log sigma^2)``."""
        return 0.5 * (self.mean.pow(2) + self.logvar.exp() - 1.0 - self.logvar).mean()


class MotionVAE(nn.Module):
    """Body-motion prior with a temporally downsampled latent sequence.

    Args:
        in_dim: D, features per frame (315, :mod:`motion.models.body_features`).
        latent_dim: C, latent channels per latent frame.
        width: hidden width W.
        downsample: f, temporal downsampling factor (a power of two: 1, 2, 4, 8...).
        conv_layers: residual conv blocks at each resolution level.
        layers, heads: transformer blocks and heads at the latent rate (encoder and decoder).
        dropout: dropout in conv and transformer blocks.
    """

    @register_config
    def __init__(self, in_dim: int = BODY_FEATURE_DIM, latent_dim: int = 16, width: int = 256,
                 downsample: int = 4, conv_layers: int = 1, layers: int = 4, heads: int = 4,
                 dropout: float = 0.1) -> None:
        super().__init__()
        levels = round(math.log2(downsample)) if downsample >= 1 else -1
        if downsample < 1 or 2 ** levels != downsample:
            raise ValueError(f"downsample must be a power of two (1, 2, 4, 8...), got {downsample}")
        self.in_dim, self.latent_dim, self.downsample = in_dim, latent_dim, downsample
        self.norm = Standardizer(in_dim)
        self.enc_in = nn.Linear(in_dim, width)
        self.enc_convs = nn.ModuleList(ConvStack(width, conv_layers, 3, dropout) for _ in range(levels))
        self.enc_downs = nn.ModuleList(nn.Conv1d(width, width, 4, stride=2, padding=1)
                                       for _ in range(levels))
        self.enc_transformer = TransformerStack(width, layers, heads, dropout=dropout)
        self.to_dist = nn.Linear(width, 2 * latent_dim)
        self.dec_in = nn.Linear(latent_dim, width)
        self.dec_transformer = TransformerStack(width, layers, heads, dropout=dropout)
        self.dec_ups = nn.ModuleList(nn.ConvTranspose1d(width, width, 4, stride=2, padding=1)
                                     for _ in range(levels))
        self.dec_convs = nn.ModuleList(ConvStack(width, conv_layers, 3, dropout) for _ in range(levels))
        self.dec_out = nn.Linear(width, in_dim)

    def latent_length(self, num_frames: int) -> int:
        """L = ceil(T / f), latent frames for ``num_frames`` motion frames."""
        return -(-num_frames // self.downsample)

    def encode(self, x: torch.Tensor, normalized: bool = False) -> LatentDist:
        """``(B, T, D)`` features (raw unless ``normalized``) -> :class:`LatentDist` of length L."""
        if x.shape[-1] != self.in_dim:
            raise ValueError(f"motion VAE expects {self.in_dim} features per frame, got {x.shape[-1]}")
        T = x.shape[1]
        if T < 1:
            raise ValueError("cannot encode an empty motion")
        h = x if normalized else self.norm(x)
        pad = self.latent_length(T) * self.downsample - T
        if pad:  # repeat the last frame up to a multiple of f
            h = torch.cat([h, h[:, -1:].expand(-1, pad, -1)], dim=1)
        h = self.enc_in(h)
        for conv, down in zip(self.enc_convs, self.enc_downs):
            h = F.gelu(down(conv(h).transpose(1, 2))).transpose(1, 2)
        h = self.enc_transformer(add_positions(h))
        mean, logvar = self.to_dist(h).chunk(2, dim=-1)
        return LatentDist(mean, logvar.clamp(-30.0, 20.0), T)

    def decode(self, z: torch.Tensor, num_frames: int | None = None,
               normalized: bool = False) -> torch.Tensor:
        """``(B, L, C)`` latents -> ``(B, T, D)`` features (raw unless ``normalized``).

        Args:
            z: latent sequence.
            num_frames: T to crop to (default ``L * f``); must be within ``((L-1) f, L f]``.
        """
        full = z.shape[1] * self.downsample
        T = full if num_frames is None else num_frames
        if not full - self.downsample < T <= full:
            raise ValueError(f"{z.shape[1]} latent frames decode to {full - self.downsample + 1}"
                             f"..{full} motion frames, not {T}")
        h = self.dec_transformer(add_positions(self.dec_in(z)))
        for up, conv in zip(self.dec_ups, self.dec_convs):
            h = conv(F.gelu(up(h.transpose(1, 2))).transpose(1, 2))
        out = self.dec_out(h)[:, :T]
        return out if normalized else self.norm.inverse(out)

    def forward(self, x: torch.Tensor, sample: bool = True) -> tuple[torch.Tensor, LatentDist]:
        """Reconstruct ``(B, T, D)`` raw features; returns (standardized recon, posterior)."""
        dist = self.encode(x)
        z = dist.sample() if sample else dist.mean
        return self.decode(z, dist.num_frames, normalized=True), dist
