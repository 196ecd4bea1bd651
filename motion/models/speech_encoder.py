"""Speech disentanglement encoder (AMUSE, Chhatre et al. CVPR 2024, Sec. 3.1), shared by body and face.

Audio features at the motion frame rate ``(B, T, F)`` (log-mel, F = 80, or Kaldi fbank,
F = 128, see :mod:`motion.data.feature_cache`) are standardized with corpus statistics and
encoded by three branches of the same shape (input projection, residual convolutions,
transformer):

* content  ``(B, T, Dc)``: a sequence at the motion rate, instance-normalised over time
  (Chou et al. 2019, "one-shot VC ... with instance normalization") so that per-clip
  channel statistics - where speaker and emotion colour hides - are removed;
* emotion  ``(B, De)``: attentive statistics pooling (Okabe et al. 2018) of its branch, with
  an 8-class emotion head;
* style    ``(B, Ds)``: the same pooling of its own branch, with a speaker-ID head.

A decoder maps ``[content_t, emotion, style]`` back to the (standardized) features; the
training losses (self- and cross-reconstruction, classification, content alignment) live in
:mod:`motion.training.losses`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from motion.models.config import register_config
from motion.models.layers import ConvStack, Standardizer, TransformerStack, add_positions, check_bands, limit_bands


@dataclass
class SpeechLatents:
    """Output of :meth:`SpeechDisentangler.encode`.

    Attributes:
        content: ``(B, T, Dc)`` content sequence at the input frame rate.
        emotion: ``(B, De)`` emotion vector.
        style: ``(B, Ds)`` speaking-style vector.
        emotion_logits: ``(B, num_emotions)``.
        speaker_logits: ``(B, num_speakers)``.
    """

    content: torch.Tensor
    emotion: torch.Tensor
    style: torch.Tensor
    emotion_logits: torch.Tensor
    speaker_logits: torch.Tensor


class _Branch(nn.Module):
    """``(B, T, F) -> (B, T, W)``: projection, residual convolutions, transformer."""

    def __init__(self, in_dim: int, width: int, conv_layers: int, layers: int, heads: int,
                 dropout: float) -> None:
        super().__init__()
        self.proj = nn.Linear(in_dim, width)
        self.conv = ConvStack(width, conv_layers, kernel_size=5, dropout=dropout)
        self.transformer = TransformerStack(width, layers, heads, dropout=dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.transformer(add_positions(self.conv(self.proj(x))))


class _StatsPool(nn.Module):
    """Attentive statistics pooling: ``(B, T, W) -> (B, out)`` from the weighted mean and std."""

    def __init__(self, width: int, out_dim: int) -> None:
        super().__init__()
        self.score = nn.Sequential(nn.Linear(width, width // 2), nn.Tanh(), nn.Linear(width // 2, 1))
        self.out = nn.Linear(2 * width, out_dim)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        w = torch.softmax(self.score(h), dim=1)  # (B, T, 1)
        mean = (w * h).sum(1)
        std = ((w * (h - mean[:, None]) ** 2).sum(1) + 1e-5).sqrt()
        return self.out(torch.cat([mean, std], dim=-1))


def instance_norm_time(x: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Normalise each channel of ``(B, T, D)`` to zero mean, unit variance over time."""
    mean = x.mean(dim=1, keepdim=True)
    var = x.var(dim=1, keepdim=True, unbiased=False)
    return (x - mean) / (var + eps).sqrt()


class SpeechDisentangler(nn.Module):
    """Speech features -> (content sequence, emotion vector, style vector), and back.

    Args:
        in_dim: F, audio feature size per frame (80 log-mel, 128 fbank).
        content_dim, emotion_dim, style_dim: Dc, De, Ds.
        num_emotions: emotion classes (8, :data:`motion.types.EMOTIONS`).
        num_speakers: speaker-ID classes; speaker ids must be below this.
        width: hidden width W of every branch and the decoder.
        conv_layers, layers, heads: residual conv blocks, transformer blocks, heads per branch.
        dropout: dropout inside the branches.
        bands: read only the first ``bands`` features (None: all; 77 of 80 log-mel bands:
            0-7.1 kHz, so a codec's low-pass cannot change what is heard):
            :func:`~motion.models.layers.limit_bands` after standardisation.
    """

    @register_config
    def __init__(self, in_dim: int = 80, content_dim: int = 64, emotion_dim: int = 64,
                 style_dim: int = 64, num_emotions: int = 8, num_speakers: int = 32,
                 width: int = 256, conv_layers: int = 2, layers: int = 2, heads: int = 4,
                 dropout: float = 0.1, bands: int | None = None) -> None:
        super().__init__()
        check_bands(bands, in_dim)
        self.bands = bands
        self.in_dim, self.content_dim = in_dim, content_dim
        self.emotion_dim, self.style_dim = emotion_dim, style_dim
        self.num_emotions, self.num_speakers = num_emotions, num_speakers
        self.norm = Standardizer(in_dim, eps=1e-3)

        def branch() -> _Branch:
            return _Branch(in_dim, width, conv_layers, layers, heads, dropout)

        self.content_branch, self.emotion_branch, self.style_branch = branch(), branch(), branch()
        self.content_out = nn.Linear(width, content_dim)
        self.emotion_pool = _StatsPool(width, emotion_dim)
        self.style_pool = _StatsPool(width, style_dim)
        self.emotion_head = nn.Linear(emotion_dim, num_emotions)
        self.speaker_head = nn.Linear(style_dim, num_speakers)
        self.dec_in = nn.Linear(content_dim + emotion_dim + style_dim, width)
        self.dec_conv = ConvStack(width, conv_layers, kernel_size=5, dropout=dropout)
        self.dec_transformer = TransformerStack(width, layers, heads, dropout=dropout)
        self.dec_out = nn.Linear(width, in_dim)

    def encode(self, features: torch.Tensor, normalized: bool = False) -> SpeechLatents:
        """Encode ``(B, T, F)`` features (raw, or already standardized if ``normalized``)."""
        if features.shape[-1] != self.in_dim:
            raise ValueError(f"speech encoder expects {self.in_dim} features per frame, got "
                             f"{features.shape[-1]} (check the data's audio_features / n_mels)")
        x = limit_bands(features if normalized else self.norm(features), self.bands)
        content = instance_norm_time(self.content_out(self.content_branch(x)))
        emotion = self.emotion_pool(self.emotion_branch(x))
        style = self.style_pool(self.style_branch(x))
        return SpeechLatents(content, emotion, style, self.emotion_head(emotion),
                             self.speaker_head(style))

    def decode(self, content: torch.Tensor, emotion: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """``(B, T, Dc)``, ``(B, De)``, ``(B, Ds)`` -> standardized features ``(B, T, F)``."""
        T = content.shape[1]
        z = torch.cat([content, emotion[:, None].expand(-1, T, -1),
                       style[:, None].expand(-1, T, -1)], dim=-1)
        h = self.dec_conv(self.dec_in(z))
        return self.dec_out(self.dec_transformer(add_positions(h)))

    def forward(self, features: torch.Tensor) -> SpeechLatents:
        """Alias of :meth:`encode` on raw features."""
        return self.encode(features)
