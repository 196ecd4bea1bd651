"""Emotion, intensity and style conditioning of the face decoder (EMOTE, Sec. 3.3).

EMOTE conditions its decoder on a one-hot emotion (8 MEAD classes), a one-hot intensity (3
levels) and a one-hot training identity, concatenated and projected. Here the same codes
are embedded and summed (a linear map of a concatenation is a sum of per-part maps), with
three extensions:

* **emotion** may be a class index ``(B,)`` (-1 = unknown: no emotion code) or a weight
  vector ``(B, 8)``, e.g. the speech encoder's emotion probabilities or a blend of two
  emotions;
* **intensity** is continuous: ``(B,)`` in [0, 3] is mapped onto "hat" weights over the
  levels 1, 2, 3 (piecewise-linear interpolation), so the embedding at 1.5 is exactly the
  mean of those at 1 and 2. Below the first level the emotion fades into neutral:
  ``w = (i / 1) onehot(e) + (1 - i / 1) onehot(neutral)`` at level 1, so intensity 0 is the
  neutral face whatever the emotion. Negative intensity = unknown (no intensity code);
* **style** is a speaker id ``(B,)`` (long; -1 or out of range = the "unknown speaker"
  row) or a style latent ``(B, S)`` (float), e.g. the speech encoder's style vector of a
  reference clip.

Per frame: emotion ``(B, T)`` / ``(B, T, 8)`` with intensity ``(B, T)`` (an emotion curve,
:mod:`motion.pipelines.emotion_curve`) gives a condition ``(B, T, W)``; every operation acts on
the last dimension, so frame ``t`` is the per-clip condition of that frame's emotion and
intensity. The style stays per clip.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def intensity_weights(intensity: torch.Tensor, levels: Sequence[float]) -> torch.Tensor:
    """``(B,)`` (or ``(B, T)``) intensities -> ``(B, K)`` (``(B, T, K)``) hat weights over ``levels``
    (sum 1; clamped to the level range; all zero for negative = unknown intensities)."""
    lv = torch.as_tensor(list(levels), dtype=torch.float32, device=intensity.device)
    x = intensity.float().clamp(float(lv[0]), float(lv[-1]))
    if len(lv) == 1:
        w = torch.ones(*x.shape, 1, device=x.device)
    else:
        gaps = lv[1:] - lv[:-1]  # (K-1,)
        left = torch.cat([gaps[:1], gaps])  # distance to the previous level
        right = torch.cat([gaps, gaps[-1:]])  # distance to the next level
        d = x[..., None] - lv  # (B, [T,] K)
        w = torch.where(d <= 0, 1.0 + d / left, 1.0 - d / right).clamp(0.0, 1.0)
    return w * (intensity >= 0).float()[..., None]


class FaceConditioning(nn.Module):
    """``(emotion, intensity, style)`` -> condition vector ``(B, width)``, or ``(B, T, width)`` per frame.

    Args:
        width: output size.
        num_emotions: emotion classes (8, :data:`motion.types.EMOTIONS`).
        num_styles: speaker-id rows (ids >= this, or < 0, use the extra "unknown" row).
        style_dim: size of a style latent input (0: speaker ids only).
        intensity_levels: levels of the intensity code (MEAD: 1, 2, 3).
        neutral_index: the emotion that intensity 0 fades into.
    """

    def __init__(self, width: int, num_emotions: int = 8, num_styles: int = 32, style_dim: int = 0,
                 intensity_levels: Sequence[float] = (1.0, 2.0, 3.0), neutral_index: int = 0) -> None:
        super().__init__()
        self.num_emotions, self.num_styles, self.style_dim = num_emotions, num_styles, style_dim
        self.levels = tuple(float(v) for v in intensity_levels)
        if list(self.levels) != sorted(set(self.levels)) or self.levels[0] <= 0:
            raise ValueError(f"intensity_levels must be positive and increasing, got {intensity_levels}")
        self.neutral_index = neutral_index
        self.emotion = nn.Linear(num_emotions, width, bias=False)  # one-hot @ W
        self.intensity = nn.Linear(len(self.levels), width, bias=False)  # hat weights @ W
        self.speaker = nn.Embedding(num_styles + 1, width)  # last row: unknown speaker
        self.style = nn.Linear(style_dim, width) if style_dim > 0 else None

    def emotion_weights(self, emotion: torch.Tensor, intensity: torch.Tensor) -> torch.Tensor:
        """``(B, [T,] num_emotions)`` emotion code, faded into neutral below the first intensity level."""
        if emotion.dtype in (torch.int32, torch.int64):
            known = (emotion >= 0) & (emotion < self.num_emotions)
            w = nn.functional.one_hot(emotion.clamp(0, self.num_emotions - 1), self.num_emotions).float()
            w = w * known.float()[..., None]
        else:
            w = emotion.float()
        a = (intensity.float() / self.levels[0]).clamp(0.0, 1.0)
        a = torch.where(intensity < 0, torch.ones_like(a), a)[..., None]  # unknown intensity: no fading
        neutral = torch.zeros_like(w)
        neutral[..., self.neutral_index] = w.sum(-1)  # keep the code's total weight (0 for unknown)
        return a * w + (1.0 - a) * neutral

    def style_vector(self, style: torch.Tensor | None, batch: int, device: torch.device) -> torch.Tensor:
        """``(B, width)`` from speaker ids ``(B,)``, a style latent ``(B, S)`` or None (unknown)."""
        if style is None:
            style = torch.full((batch,), -1, dtype=torch.long, device=device)
        if style.dtype in (torch.int32, torch.int64):
            ids = torch.where((style < 0) | (style >= self.num_styles), self.num_styles, style)
            return self.speaker(ids)
        if self.style is None:
            raise ValueError("this decoder was built for speaker ids (style_dim=0); pass a long tensor of ids")
        if style.shape[-1] != self.style_dim:
            raise ValueError(f"style latent must have {self.style_dim} values, got {tuple(style.shape)}")
        return self.style(style.float())

    def forward(self, emotion: torch.Tensor, intensity: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor:
        """Condition ``(B, width)``; ``(B, T, width)`` for per-frame emotion and intensity.

        Args:
            emotion: ``(B,)`` class index (-1 unknown) or ``(B, num_emotions)`` weights; per frame
                ``(B, T)`` indices or ``(B, T, num_emotions)`` weights.
            intensity: ``(B,)`` in [0, 3] (negative = unknown); per frame ``(B, T)``.
            style: ``(B,)`` speaker ids, ``(B, style_dim)`` style latents, or None (per clip).

        Raises:
            ValueError: emotion and intensity of different batch / frame shapes.
        """
        if intensity.dim() not in (1, 2):
            raise ValueError(f"intensity must be (B,) or (B, T) per frame, got {tuple(intensity.shape)}")
        index = emotion.dtype in (torch.int32, torch.int64)
        want = tuple(intensity.shape) + (() if index else (self.num_emotions,))
        if tuple(emotion.shape) != want:
            raise ValueError(f"emotion must be {want} for intensity {tuple(intensity.shape)} "
                             f"({'indices' if index else 'weights'}), got {tuple(emotion.shape)}")
        B = intensity.shape[0]
        e = self.emotion(self.emotion_weights(emotion, intensity))
        i = self.intensity(intensity_weights(intensity, self.levels))
        style_vec = self.style_vector(style, B, intensity.device)
        if intensity.dim() == 2:  # per frame: one style for the clip
            style_vec = style_vec[:, None]
        return e + i + style_vec
