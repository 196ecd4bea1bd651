"""EMOTE's speech-to-face decoder: speech features -> latents of the frozen FLINT prior.

EMOTE (Danecek et al. 2023, Sec. 3.3) maps wav2vec2 features through a 1-layer transformer
(width 128, 8 heads, FaceFormer-style temporal bias) to the latent sequence of its frozen
motion prior FLINT, which decodes FLAME expression + jaw. Here::

    speech (B, T, F)  content of the shared speech encoder (F = 64) or standardized log-mel (F = 80)
      -> Linear + condition(emotion, intensity, style)  [+ periodic positions, FaceFormer Eq. 4]
      -> N x transformer layer with periodic ALiBi bias (FaceFormer Sec. 3.2)        (B, T, W)
      -> + condition -> log2(8) x [Conv1d(k5, stride 2) + LeakyReLU + LayerNorm]     (B, T/8, W)
      -> Linear                                                                      (B, T/8, latent)
      -> FLINT decoder (frozen, outside this module) -> expression (B, T, E), jaw (B, T, 3)

The condition (:class:`~motion.models.face.conditioning.FaceConditioning`) is added to every
frame before the transformer and again before the downsampling, so the emotion code reaches
the latents directly as well as through attention. Any ``T >= 1`` works: the sequence is
padded to a multiple of 8 by repeating its last frame (as the prior does) and the prior's
output is cropped back to ``T``.

Emotion over time: with per-frame emotion ``(B, T[, 8])`` and intensity ``(B, T)`` (an emotion
curve) the condition is per frame, ``(B, T, W)``, added frame by frame in both places; the
padding frames take the last frame's condition, as they take its features.

Config is the constructor (:func:`~motion.models.config.register_config`): exported as
``face_decoder.json`` + ``face_decoder.pt``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import torch
from torch import nn

from motion.models.config import register_config
from motion.models.face.conditioning import FaceConditioning
from motion.models.face.temporal import BiasedTransformerLayer, periodic_positions
from motion.models.layers import Standardizer, check_bands, limit_bands

if TYPE_CHECKING:  # pragma: no cover
    from motion.models.face.flint import FlintPrior
    from motion.models.speech_encoder import SpeechDisentangler


class _FrameNorm(nn.Module):
    """LayerNorm over the channels of ``(B, C, T)``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.transpose(1, 2)).transpose(1, 2)


@dataclass
class FaceDecoderOutput:
    """Decoded face: ``expression (B, T, E)``, ``jaw (B, T, 3)`` axis-angle, ``latents (B, ceil(T/8), C)``."""

    expression: torch.Tensor
    jaw: torch.Tensor
    latents: torch.Tensor


class EmoteDecoder(nn.Module):
    """Speech features + (emotion, intensity, style) -> FLINT latent sequence.

    Args:
        in_dim: F, speech features per frame (64: speech-encoder content; 80: log-mel).
        latent_dim: channels of the prior's latents (FLINT: 128).
        downsample: the prior's temporal downsampling (FLINT: 8; a power of 2).
        style_dim: size of a style-latent input (0: speaker ids only).
        width, num_heads, ff_dim, num_layers, dropout: transformer (EMOTE: 128, 8, -, 1).
        period: period of the temporal bias in frames (1 = plain ALiBi; FaceFormer: 25-30).
        causal: mask the future (FaceFormer) or not (EMOTE, default).
        positions: add FaceFormer's periodic positional encoding (period ``period``).
        num_emotions, num_styles, intensity_levels: see :class:`FaceConditioning`.
        bands: read only the first ``bands`` input features (None: all; 77 of 80 log-mel
            bands: 0-7.1 kHz, so a codec's low-pass cannot move the mouth):
            :func:`~motion.models.layers.limit_bands` after standardisation.
    """

    @register_config
    def __init__(self, in_dim: int = 64, latent_dim: int = 128, downsample: int = 8, style_dim: int = 0,
                 width: int = 128, num_heads: int = 8, ff_dim: int = 256, num_layers: int = 1,
                 dropout: float = 0.1, period: int = 1, causal: bool = False, positions: bool = False,
                 num_emotions: int = 8, num_styles: int = 32,
                 intensity_levels: Sequence[float] = (1.0, 2.0, 3.0), bands: int | None = None) -> None:
        super().__init__()
        check_bands(bands, in_dim)
        steps = round(math.log2(downsample))
        if downsample < 1 or 2**steps != downsample:
            raise ValueError(f"downsample must be a power of 2, got {downsample}")
        self.in_dim, self.latent_dim, self.downsample = in_dim, latent_dim, downsample
        self.style_dim, self.width, self.period, self.positions = style_dim, width, period, positions
        self.norm = Standardizer(in_dim, eps=1e-3)  # log-mel standardization (identity for content)
        self.bands = bands
        self.input = nn.Linear(in_dim, width)
        self.condition = FaceConditioning(width, num_emotions, num_styles, style_dim, intensity_levels)
        self.condition_out = nn.Linear(width, width)
        self.transformer = nn.Sequential(*[BiasedTransformerLayer(width, num_heads, ff_dim, dropout, period, causal)
                                           for _ in range(num_layers)])
        self.squasher = nn.Sequential(*[nn.Sequential(
            nn.Conv1d(width, width, 5, stride=2, padding=2, padding_mode="replicate"),
            nn.LeakyReLU(0.2), _FrameNorm(width)) for _ in range(steps)])  # each: T -> T/2
        self.to_latent = nn.Linear(width, latent_dim)

    def check_flint(self, flint: FlintPrior) -> None:
        """Raise if ``flint`` does not take this decoder's latents."""
        if (flint.latent_dim, flint.downsample) != (self.latent_dim, self.downsample):
            raise ValueError(f"decoder predicts ({self.latent_dim} channels, /{self.downsample}) latents, the "
                             f"prior takes ({flint.latent_dim}, /{flint.downsample})")

    def forward(self, features: torch.Tensor, emotion: torch.Tensor, intensity: torch.Tensor,
                style: torch.Tensor | None = None) -> torch.Tensor:
        """Latents ``(B, ceil(T / 8), latent_dim)``.

        Args:
            features: ``(B, T, in_dim)`` speech features at the motion rate (30 fps).
            emotion: ``(B,)`` class index (-1 unknown) or ``(B, num_emotions)`` weights; per frame
                ``(B, T)`` indices or ``(B, T, num_emotions)`` weights.
            intensity: ``(B,)`` in [0, 3] (continuous; negative = unknown); per frame ``(B, T)``.
            style: ``(B,)`` speaker ids (long), ``(B, style_dim)`` style latents, or None.
        """
        if features.shape[-1] != self.in_dim:
            raise ValueError(f"face decoder expects {self.in_dim} features per frame, got {features.shape[-1]}")
        T = features.shape[1]
        if intensity.dim() == 2 and intensity.shape[1] != T:
            raise ValueError(f"per-frame intensity has {intensity.shape[1]} frames, the features {T}")
        pad = -T % self.downsample
        x = self.norm(features)
        x = limit_bands(x, self.bands)
        if pad:  # repeat the last frame up to a multiple of 8 (as FLINT's encoder does)
            x = torch.cat([x, x[:, -1:].expand(-1, pad, -1)], dim=1)
        cond = self.condition(emotion, intensity, style)  # (B, W), or (B, T, W) per frame
        if cond.dim() == 2:  # one condition for the clip
            cond_in, cond_out = cond[:, None], self.condition_out(cond)[:, None]
        else:  # the padding frames take the last frame's condition, as they take its features
            cond_in = torch.cat([cond, cond[:, -1:].expand(-1, pad, -1)], dim=1) if pad else cond
            cond_out = self.condition_out(cond_in)
        h = self.input(x) + cond_in
        if self.positions:
            h = h + periodic_positions(h.shape[1], self.width, max(self.period, 1), h.device).to(h.dtype)
        h = self.transformer(h) + cond_out
        h = self.squasher(h.transpose(1, 2)).transpose(1, 2)  # (B, (T + pad) / 8, W)
        return self.to_latent(h)

    def generate(self, flint: FlintPrior, features: torch.Tensor, emotion: torch.Tensor, intensity: torch.Tensor,
                 style: torch.Tensor | None = None) -> FaceDecoderOutput:
        """Latents through the (frozen) prior: expression ``(B, T, E)``, jaw ``(B, T, 3)`` for ``T`` input frames."""
        z = self(features, emotion, intensity, style)
        expression, jaw = flint.decode(z, features.shape[1])
        return FaceDecoderOutput(expression, jaw, z)


@dataclass
class SpeechInputs:
    """What the decoder takes from speech: ``features (B, T, F)``; from a speech encoder also its
    ``style (B, S)`` latent and ``emotion_probs`` / ``speaker_logits`` ``(B, K)`` (else None)."""

    features: torch.Tensor
    style: torch.Tensor | None = None
    emotion_probs: torch.Tensor | None = None
    speaker_logits: torch.Tensor | None = None


AudioInput = Literal["content", "log_mel"]


@torch.no_grad()
def encode_speech(audio: torch.Tensor, encoder: SpeechDisentangler | None, audio_input: AudioInput) -> SpeechInputs:
    """Decoder inputs from raw speech features ``(B, T, F)`` (log-mel / fbank at 30 fps).

    ``audio_input="content"``: the shared speech encoder's content sequence ``(B, T, 64)``
    (AMUSE's disentangled content); ``"log_mel"``: the features themselves (the decoder
    standardizes them). The encoder, when given, also supplies style and emotion.
    """
    if audio_input not in ("content", "log_mel"):
        raise ValueError(f"audio_input must be 'content' or 'log_mel', got {audio_input!r}")
    if encoder is None:
        if audio_input == "content":
            raise ValueError("audio_input='content' needs the speech encoder (speech_encoder_export)")
        return SpeechInputs(audio)
    lat = encoder.encode(audio)
    feats = lat.content if audio_input == "content" else audio
    return SpeechInputs(feats, lat.style, lat.emotion_logits.softmax(-1), lat.speaker_logits)
