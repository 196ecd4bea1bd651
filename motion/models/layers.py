"""Building blocks shared by the speech encoder, the motion VAE and the denoiser."""

from __future__ import annotations

import math

import torch
from torch import nn

from motion.models.config import register_config


def sinusoidal_embedding(positions: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding of (possibly fractional) positions.

    ``PE(p, 2i) = sin(p / max_period^(2i/dim))``, ``PE(p, 2i+1) = cos(...)``
    (Vaswani et al. 2017, Sec. 3.5; also the DDPM timestep embedding).

    Args:
        positions: ``(...)`` float or int tensor.
        dim: embedding size (even).

    Returns:
        ``(..., dim)`` float tensor.
    """
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=positions.device) / half)
    args = positions.float().unsqueeze(-1) * freqs
    emb = torch.cat([torch.sin(args), torch.cos(args)], dim=-1)
    return emb if dim % 2 == 0 else torch.nn.functional.pad(emb, (0, 1))


def add_positions(x: torch.Tensor, offset: int = 0) -> torch.Tensor:
    """``x + PE(offset .. offset + T - 1)`` for ``x`` of shape ``(B, T, D)``."""
    pos = torch.arange(offset, offset + x.shape[1], device=x.device)
    return x + sinusoidal_embedding(pos, x.shape[-1]).to(x.dtype)


class TimestepEmbedding(nn.Module):
    """Diffusion timestep -> vector: sinusoid then a 2-layer MLP (Ho et al. 2020, App. B)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.width = width
        self.mlp = nn.Sequential(nn.Linear(width, width), nn.SiLU(), nn.Linear(width, width))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """``(B,)`` timesteps -> ``(B, width)``."""
        return self.mlp(sinusoidal_embedding(t, self.width))


class ConvStack(nn.Module):
    """Residual 1-D convolutions over time: ``(B, T, D) -> (B, T, D)``, length preserved."""

    def __init__(self, width: int, layers: int = 2, kernel_size: int = 5, dropout: float = 0.0) -> None:
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd to keep the length, got {kernel_size}")
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.Conv1d(width, width, kernel_size, padding=kernel_size // 2),
                          nn.GroupNorm(1, width), nn.GELU(), nn.Dropout(dropout))
            for _ in range(layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.transpose(1, 2)
        for block in self.blocks:
            h = h + block(h)
        return h.transpose(1, 2)


class TransformerStack(nn.Module):
    """Pre-norm transformer encoder over ``(B, N, W)`` tokens, optional U-Net long skips.

    With ``skip=True`` (the "skip transformer" of MLD/AMUSE, after U-ViT, Bao et al. 2023)
    the first ``layers // 2`` blocks store their outputs, one middle block follows, and each
    of the last ``layers // 2`` blocks first fuses the mirrored stored output:
    ``h = Linear([h, h_skip])``. ``layers`` must then be odd.
    """

    def __init__(self, width: int, layers: int, heads: int = 4, ff_mult: int = 4,
                 dropout: float = 0.1, skip: bool = False) -> None:
        super().__init__()
        if skip and layers % 2 == 0:
            raise ValueError(f"a skip transformer needs an odd number of layers, got {layers}")

        def block() -> nn.TransformerEncoderLayer:
            return nn.TransformerEncoderLayer(width, heads, ff_mult * width, dropout,
                                              activation="gelu", batch_first=True, norm_first=True)

        self.skip = skip
        self.blocks = nn.ModuleList(block() for _ in range(layers))
        n_skip = layers // 2 if skip else 0
        self.fuse = nn.ModuleList(nn.Linear(2 * width, width) for _ in range(n_skip))
        self.norm = nn.LayerNorm(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.skip:
            for blk in self.blocks:
                x = blk(x)
            return self.norm(x)
        half = len(self.blocks) // 2
        stored = []
        for blk in self.blocks[:half]:
            x = blk(x)
            stored.append(x)
        x = self.blocks[half](x)
        for blk, fuse in zip(self.blocks[half + 1:], self.fuse):
            x = blk(fuse(torch.cat([x, stored.pop()], dim=-1)))
        return self.norm(x)


def limit_bands(x: torch.Tensor, bands: int | None) -> torch.Tensor:
    """``(..., F)`` standardized features -> ``(..., F)`` whose features from ``bands`` on repeat
    feature ``bands - 1`` (None: ``x`` itself).

    For log-mel input this keeps a model off the top bands that lossy codecs low-pass (LAME
    cuts 16 kHz MP3s near 7.5 kHz, Vorbis lower) while its input keeps its width: neighbouring
    high bands rise and fall together (quiet in a pause, loud in a fricative), so a model
    trained on all bands reads the limited input without retraining.
    """
    if bands is None:
        return x
    return torch.cat([x[..., :bands], x[..., bands - 1:bands].expand(*x.shape[:-1], x.shape[-1] - bands)], dim=-1)


def check_bands(bands: int | None, in_dim: int) -> None:
    """Raise unless ``bands`` is None or within [1, in_dim]."""
    if bands is not None and not 0 < bands <= in_dim:
        raise ValueError(f"bands must be within [1, in_dim={in_dim}] or None, got {bands}")


class Standardizer(nn.Module):
    """Per-feature ``(x - mean) / std`` with statistics kept as buffers (saved with weights).

    The statistics start as identity (mean 0, std 1, ``initialized`` False) and are set
    once from training data with :meth:`set_stats`; std is floored at ``eps``.
    """

    mean: torch.Tensor
    std: torch.Tensor
    initialized: torch.Tensor

    @register_config
    def __init__(self, dim: int, eps: float = 1e-2) -> None:
        super().__init__()
        self.eps = eps
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))
        self.register_buffer("initialized", torch.tensor(False))

    def set_stats(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        """Set ``(D,)`` statistics (std floored at ``eps``)."""
        if mean.shape != self.mean.shape or std.shape != self.std.shape:
            raise ValueError(f"stats of shape {tuple(mean.shape)} / {tuple(std.shape)} do not "
                             f"match the feature size {tuple(self.mean.shape)}")
        self.mean.copy_(mean)
        self.std.copy_(std.clamp_min(self.eps))
        self.initialized.fill_(True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., D)`` -> standardized ``(..., D)``."""
        return (x - self.mean) / self.std

    def inverse(self, x: torch.Tensor) -> torch.Tensor:
        """Undo :meth:`forward`."""
        return x * self.std + self.mean
