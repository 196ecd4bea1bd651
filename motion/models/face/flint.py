"""FLINT: a temporal VAE prior over FLAME expression + jaw (EMOTE, Danecek et al. 2023, Sec. 3.2).

Architecture (as FLINT, built on the Learning-to-Listen motion encoder of Ng et al. 2022)::

    x (B, T, D)  D = E expression + 3 (axis-angle) or 6 (6D) jaw; T padded to a multiple of 8
      -> Conv1d(k5, stride 2) + LeakyReLU + norm                          T/2
      -> 2 x [Conv1d(k5) + LeakyReLU + norm + MaxPool1d(2)]               T/8
      -> 1 transformer layer (width 128, 8 heads, ALiBi bias)
      -> Gaussian head: mu, logvar (B, T/8, latent)                     q(z|x)
    z -> Linear -> 1 transformer layer (ALiBi)
      -> 3 x [ConvTranspose1d(k5, stride 2) + LeakyReLU + norm]           T
      -> Linear -> x_hat (B, T, D), cropped back to the input length

Differences from the original, on purpose:

* normalisation is a per-frame LayerNorm over channels instead of BatchNorm, so outputs never
  depend on the other clips of a batch (and batch size 1 trains and infers the same way);
* any length ``T`` works: the input is padded to a multiple of 8 by repeating the last
  frame, and the output is cropped back (ALiBi makes attention length-agnostic);
* the jaw may be axis-angle (``jaw_rep="axis_angle"``, 3 values, FLAME's own parameters,
  the default) or the continuous 6D form of Zhou et al. 2019 (``"6d"``); decoding always
  returns axis-angle;
* per-channel feature standardisation (:class:`motion.models.layers.Standardizer`), set once from
  the training data (``set_normalization``) and saved with the weights.

Config is the constructor (:func:`motion.models.config.register_config`): export and reload
with :func:`motion.models.config.save_module` / ``load_module`` (``flint.json`` + ``flint.safetensors``);
a face pipeline loads it with the rest of its export (``FacePipeline.from_pretrained``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from motion.models.config import register_config
from motion.models.face.attention import AlibiTransformerLayer
from motion.models.layers import Standardizer

#: Name of an exported prior (``<folder>/flint.{json,pt}``).
EXPORT_NAME = "flint"

JawRep = Literal["axis_angle", "6d"]
_JAW_DIMS: dict[str, int] = {"axis_angle": 3, "6d": 6}


class FrameNorm(nn.Module):
    """LayerNorm over channels of a ``(B, C, T)`` sequence, frame by frame."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.transpose(1, 2)).transpose(1, 2)


def _block(layer: nn.Module, width: int, pool: bool = False) -> nn.Sequential:
    parts = [layer, nn.LeakyReLU(0.2), FrameNorm(width)]
    return nn.Sequential(*parts, nn.MaxPool1d(2)) if pool else nn.Sequential(*parts)


@dataclass
class FlintOutput:
    """Reconstruction and posterior. ``expression`` ``(B, T, E)``, ``jaw`` ``(B, T, 3)``
    axis-angle, ``mu`` / ``logvar`` / ``z`` ``(B, ceil(T / 8), latent)``."""

    expression: torch.Tensor
    jaw: torch.Tensor
    mu: torch.Tensor
    logvar: torch.Tensor
    z: torch.Tensor


class FlintPrior(nn.Module):
    """Temporal VAE over FLAME expression + jaw (FLINT).

    Args:
        num_expressions: E, leading FLAME expression coefficients modelled (EMOTE: 50).
        jaw_rep: ``"axis_angle"`` (3) or ``"6d"`` (6) jaw features.
        width: convolution / transformer width (FLINT: 128).
        latent_dim: channels of the latent sequence.
        num_heads: attention heads (FLINT: 8).
        ff_dim: transformer feed-forward size.
        num_layers: transformer layers in the encoder and in the decoder (FLINT: 1).
        quant_factor: log2 of the temporal downsampling (FLINT: 3 -> 8x).
        dropout: transformer dropout.
    """

    @register_config
    def __init__(self, num_expressions: int = 50, jaw_rep: JawRep = "axis_angle", width: int = 128,
                 latent_dim: int = 128, num_heads: int = 8, ff_dim: int = 256, num_layers: int = 1,
                 quant_factor: int = 3, dropout: float = 0.1) -> None:
        super().__init__()
        if jaw_rep not in _JAW_DIMS:
            raise ValueError(f"jaw_rep must be one of {sorted(_JAW_DIMS)}, got {jaw_rep!r}")
        if quant_factor < 1:
            raise ValueError(f"quant_factor must be >= 1, got {quant_factor}")
        self.num_expressions, self.jaw_rep, self.latent_dim = num_expressions, jaw_rep, latent_dim
        self.downsample = 2**quant_factor
        D = num_expressions + _JAW_DIMS[jaw_rep]
        self.feature_dim = D
        enc = [_block(nn.Conv1d(D, width, 5, stride=2, padding=2, padding_mode="replicate"), width)]  # T -> T/2
        enc += [_block(nn.Conv1d(width, width, 5, padding=2, padding_mode="replicate"), width, pool=True)
                for _ in range(quant_factor - 1)]  # each: T/2^k -> T/2^(k+1)
        self.squasher = nn.Sequential(*enc)
        self.encoder = nn.Sequential(*[AlibiTransformerLayer(width, num_heads, ff_dim, dropout) for _ in range(num_layers)])
        self.to_gaussian = nn.Linear(width, 2 * latent_dim)  # Gaussian head: mu, logvar
        self.from_latent = nn.Linear(latent_dim, width)
        self.decoder = nn.Sequential(*[AlibiTransformerLayer(width, num_heads, ff_dim, dropout) for _ in range(num_layers)])
        self.expander = nn.Sequential(*[_block(nn.ConvTranspose1d(width, width, 5, stride=2, padding=2, output_padding=1), width)
                                        for _ in range(quant_factor)])  # each: L -> 2L exactly
        self.to_features = nn.Linear(width, D)
        self.norm = Standardizer(D)  # feature standardisation (identity until set_normalization)
        self._frozen = False

    # ------------------------------------------------------------------ features
    def features(self, expression: torch.Tensor, jaw: torch.Tensor) -> torch.Tensor:
        """Normalised features ``(B, T, D)`` from expression ``(B, T, >=E)`` and jaw ``(B, T, 3)`` axis-angle."""
        from motion.rotations import convert

        j = jaw if self.jaw_rep == "axis_angle" else convert(jaw, "axis_angle", "6d")
        x = torch.cat([expression[..., : self.num_expressions], j], dim=-1)
        return self.norm(x)

    def split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalised features ``(B, T, D)`` -> expression ``(B, T, E)``, jaw axis-angle ``(B, T, 3)``."""
        from motion.rotations import convert

        x = self.norm.inverse(x)
        e, j = x[..., : self.num_expressions], x[..., self.num_expressions:]
        return e, (j if self.jaw_rep == "axis_angle" else convert(j, "6d", "axis_angle"))

    @torch.no_grad()
    def set_normalization(self, expression: torch.Tensor, jaw: torch.Tensor) -> None:
        """Set the per-channel mean / std from data ``(N, >=E)`` / ``(N, 3)`` (frames pooled;
        std floored at the standardizer's ``eps`` = 0.01)."""
        ref: torch.Tensor = self.norm.mean  # type: ignore[assignment]
        self.norm.set_stats(torch.zeros_like(ref), torch.ones_like(ref))
        x = self.features(expression.reshape(-1, expression.shape[-1]).to(ref), jaw.reshape(-1, 3).to(ref))
        self.norm.set_stats(x.mean(0), x.std(0))

    # ------------------------------------------------------------------ VAE
    def encode(self, expression: torch.Tensor, jaw: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior ``q(z | x)``: ``mu``, ``logvar``, each ``(B, ceil(T / 8), latent)``, for any ``T >= 1``."""
        x = self.features(expression, jaw)
        T = x.shape[1]
        pad = -T % self.downsample
        if pad:  # repeat the last frame up to a multiple of 8
            x = torch.cat([x, x[:, -1:].expand(-1, pad, -1)], dim=1)
        h = self.squasher(x.transpose(1, 2)).transpose(1, 2)  # (B, T/8, width)
        mu, logvar = self.to_gaussian(self.encoder(h)).chunk(2, dim=-1)
        return mu, logvar.clamp(-20.0, 10.0)

    def decode(self, z: torch.Tensor, length: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Latents ``(B, L, latent)`` -> expression ``(B, T, E)``, jaw axis-angle ``(B, T, 3)``;
        ``T = length`` (<= 8 L) or ``8 L`` when omitted."""
        h = self.decoder(self.from_latent(z))
        x = self.to_features(self.expander(h.transpose(1, 2)).transpose(1, 2))  # (B, 8L, D)
        return self.split(x[:, :length] if length is not None else x)

    @staticmethod
    def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """``z = mu + exp(logvar / 2) * eps`` (Kingma & Welling 2014, Eq. 10)."""
        return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)

    def forward(self, expression: torch.Tensor, jaw: torch.Tensor, sample: bool | None = None) -> FlintOutput:
        """Encode and decode ``(B, T, E)`` / ``(B, T, 3)``; samples ``z`` in training mode unless
        ``sample`` says otherwise (the posterior mean otherwise)."""
        mu, logvar = self.encode(expression, jaw)
        draw = self.training if sample is None else sample
        z = self.reparameterize(mu, logvar) if draw else mu
        e, j = self.decode(z, expression.shape[1])
        return FlintOutput(expression=e, jaw=j, mu=mu, logvar=logvar, z=z)

    @torch.no_grad()
    def sample(self, num: int, length: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Decode ``num`` draws of ``z ~ N(0, I)``: expression ``(num, length, E)``, jaw ``(num, length, 3)``."""
        L = -(-length // self.downsample)
        z = torch.randn(num, L, self.latent_dim, generator=generator, device=self.to_features.weight.device)
        return self.decode(z, length)

    # ------------------------------------------------------------------ frozen use
    def freeze(self) -> FlintPrior:
        """Use as a frozen prior (EMOTE Sec. 3.3): no gradients to its weights, always in
        eval mode (dropout off, even when a parent module calls ``.train()``). Gradients
        still flow through it to its inputs (latents predicted by a decoder)."""
        for p in self.parameters():
            p.requires_grad_(False)
        self._frozen = True
        return self.eval()

    @property
    def frozen(self) -> bool:
        return self._frozen

    def train(self, mode: bool = True) -> FlintPrior:
        return super().train(mode and not self._frozen)
