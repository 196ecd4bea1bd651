"""Transformer denoiser over the motion-latent sequence, conditioned on speech and emotion.

Tokens (AMUSE-style condition tokens beside the noisy latent, Chhatre et al. 2024, Sec. 3.3)::

    [time, style, emotion vector, emotion label, intensity] + L latent tokens

The content sequence is *aligned in time* rather than a token: the ``f`` content frames
under each latent frame (f = the VAE's downsampling) are concatenated and projected, then
added to that latent token. The stack is a skip transformer (U-ViT long skips, as MLD and
AMUSE use).

Condition groups, for classifier-free guidance (Ho & Salimans 2022) and its compositional
form (Liu et al. 2022; :mod:`motion.models.sampler`):

* audio   = content sequence + style vector (both come from the speech);
* emotion = emotion vector + emotion label + intensity.

Dropping a group replaces its inputs with learned null embeddings.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from motion.models.config import register_config
from motion.models.layers import TimestepEmbedding, TransformerStack, add_positions

NUM_COND_TOKENS = 5


@dataclass
class BodyCondition:
    """Conditions of one batch.

    Attributes:
        content: ``(B, T, Dc)`` speech content at the motion rate, T about ``L * f``.
        emotion: ``(B, De)`` emotion vector from the speech, or None (null vector).
        style: ``(B, Ds)`` style vector.
        emotion_label: ``(B,)`` long, index in :data:`motion.types.EMOTIONS`, -1 = unknown.
        intensity: ``(B,)`` float in [0, 3], negative = unknown.
    """

    content: torch.Tensor
    emotion: torch.Tensor | None
    style: torch.Tensor
    emotion_label: torch.Tensor
    intensity: torch.Tensor

    def repeat(self, n: int) -> BodyCondition:
        """The batch repeated ``n`` times along dim 0 (for batched guidance passes)."""
        def rep(x: torch.Tensor | None) -> torch.Tensor | None:
            return None if x is None else x.repeat(n, *([1] * (x.dim() - 1)))

        return BodyCondition(rep(self.content), rep(self.emotion), rep(self.style),  # type: ignore[arg-type]
                             rep(self.emotion_label), rep(self.intensity))  # type: ignore[arg-type]


def _mask(m: torch.Tensor | bool | None, batch: int, device: torch.device) -> torch.Tensor:
    """``(B, 1)`` bool mask from a bool or a ``(B,)`` tensor."""
    if m is None or isinstance(m, bool):
        return torch.full((batch, 1), bool(m), device=device)
    return m.to(device=device, dtype=torch.bool).reshape(batch, 1)


class LatentDenoiser(nn.Module):
    """Predicts noise (or v) for a noisy latent sequence.

    The first five arguments are dimensions of the frozen speech encoder and motion VAE;
    the training module passes them (so configs never repeat them).

    Args:
        latent_dim: C, VAE latent channels.
        content_dim, emotion_dim, style_dim: speech-encoder sizes Dc, De, Ds.
        downsample: f, motion frames per latent frame.
        width, layers, heads, ff_mult, dropout: transformer sizes (``layers`` odd if ``skip``).
        num_emotions: emotion label classes (a null class is added).
        skip: U-ViT long skip connections.
    """

    @register_config
    def __init__(self, latent_dim: int, content_dim: int, emotion_dim: int, style_dim: int,
                 downsample: int, width: int = 256, layers: int = 9, heads: int = 4,
                 ff_mult: int = 4, dropout: float = 0.1, num_emotions: int = 8,
                 skip: bool = True) -> None:
        super().__init__()
        self.latent_dim, self.content_dim, self.downsample = latent_dim, content_dim, downsample
        self.emotion_dim, self.style_dim, self.num_emotions = emotion_dim, style_dim, num_emotions
        self.latent_in = nn.Linear(latent_dim, width)
        self.content_in = nn.Linear(downsample * content_dim, width)
        self.time = TimestepEmbedding(width)
        self.style_in = nn.Linear(style_dim, width)
        self.emotion_in = nn.Linear(emotion_dim, width)
        self.label = nn.Embedding(num_emotions + 1, width)  # index num_emotions = null
        self.intensity_in = nn.Linear(1, width)
        self.null_content = nn.Parameter(torch.zeros(content_dim))
        self.null_style = nn.Parameter(torch.zeros(style_dim))
        self.null_emotion = nn.Parameter(torch.zeros(emotion_dim))
        self.null_intensity = nn.Parameter(torch.zeros(width))
        self.token_type = nn.Parameter(torch.randn(NUM_COND_TOKENS, width) * 0.02)
        self.transformer = TransformerStack(width, layers, heads, ff_mult, dropout, skip=skip)
        self.out = nn.Linear(width, latent_dim)
        nn.init.zeros_(self.out.weight)  # start as a zero predictor (stable early training)
        nn.init.zeros_(self.out.bias)

    def align_content(self, content: torch.Tensor, num_latents: int) -> torch.Tensor:
        """``(B, T, Dc)`` -> ``(B, L, f * Dc)``: the f content frames under each latent frame.

        T is padded (last frame repeated) or cropped to ``L * f``.
        """
        need = num_latents * self.downsample
        T = content.shape[1]
        if T < need:
            content = torch.cat([content, content[:, -1:].expand(-1, need - T, -1)], dim=1)
        return content[:, :need].reshape(content.shape[0], num_latents, -1)

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor | int, cond: BodyCondition,
                drop_audio: torch.Tensor | bool = False, drop_emotion: torch.Tensor | bool = False,
                drop_emotion_vector: torch.Tensor | bool = False) -> torch.Tensor:
        """Denoiser output for ``sample``.

        Args:
            sample: ``(B, L, C)`` noisy latents.
            timestep: ``(B,)`` or scalar diffusion step.
            cond: conditions (see :class:`BodyCondition`).
            drop_audio: ``(B,)`` bool or bool; replace content and style by nulls.
            drop_emotion: ``(B,)`` bool or bool; replace emotion vector, label, intensity by nulls.
            drop_emotion_vector: replace only the speech emotion vector (label kept).

        Returns:
            ``(B, L, C)`` predicted noise (or v, per the training objective).
        """
        B, L, _ = sample.shape
        dev = sample.device
        t = torch.as_tensor(timestep, device=dev).reshape(-1).expand(B)
        m_audio = _mask(drop_audio, B, dev)
        m_emo = _mask(drop_emotion, B, dev)
        m_vec = m_emo | _mask(drop_emotion_vector, B, dev)
        if cond.emotion is None:
            m_vec = torch.ones_like(m_vec)
            emotion = self.null_emotion.expand(B, -1)
        else:
            emotion = cond.emotion
        content = torch.where(m_audio[:, :, None], self.null_content.to(sample.dtype), cond.content)
        style = torch.where(m_audio, self.null_style.to(sample.dtype), cond.style)
        emotion = torch.where(m_vec, self.null_emotion.to(sample.dtype), emotion)
        label = cond.emotion_label.to(dev).long()
        label = torch.where(m_emo[:, 0] | (label < 0), torch.full_like(label, self.num_emotions), label)
        inten = cond.intensity.to(dev, sample.dtype).reshape(B, 1)
        inten_tok = torch.where(m_emo | (inten < 0), self.null_intensity.to(sample.dtype),
                                self.intensity_in(inten.clamp_min(0.0) / 3.0))
        tokens = torch.stack([self.time(t), self.style_in(style), self.emotion_in(emotion),
                              self.label(label), inten_tok], dim=1) + self.token_type
        x = self.latent_in(sample) + self.content_in(self.align_content(content, L))
        h = self.transformer(torch.cat([tokens, add_positions(x)], dim=1))
        return self.out(h[:, NUM_COND_TOKENS:])
