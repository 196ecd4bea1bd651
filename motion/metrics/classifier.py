"""Motion classifiers for emotion recognisability and style consistency.

A classifier trained on ground-truth motion only labels generated motion; its accuracy
against the *requested* emotion (or the speaker whose style was asked for) says how
recognisable the control is, next to its accuracy on ground truth (the ceiling). This is
the motion counterpart of the emotion-recognition accuracy that EMOTE and the talking-head
literature report with video classifiers.

Architecture (any length ``T >= 1``): standardization -> Linear -> residual convolutions
(kernel 5) with two stride-2 reductions -> mean and standard deviation over time -> MLP
-> logits. Inputs are the body features ``(B, T, 315)`` of :mod:`motion.models.body_features`;
the convolutions see frame differences, so speed and amplitude (what emotion changes most
in gesture) are available to it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from motion.models.body_features import BODY_FEATURE_DIM
from motion.models.config import register_config
from motion.models.layers import ConvStack, Standardizer


class MotionClassifier(nn.Module):
    """Body-feature sequence -> class logits.

    Args:
        in_dim: features per frame (315).
        num_classes: 8 emotions, or the number of speaker ids (ids must be below it).
        width: hidden width.
        conv_layers: residual conv blocks at each of the 3 temporal resolutions.
        dropout: dropout in the conv blocks and before the output layer.
    """

    @register_config
    def __init__(self, in_dim: int = BODY_FEATURE_DIM, num_classes: int = 8, width: int = 128,
                 conv_layers: int = 1, dropout: float = 0.1) -> None:
        super().__init__()
        self.in_dim, self.num_classes = in_dim, num_classes
        self.norm = Standardizer(in_dim)
        self.proj = nn.Linear(in_dim, width)
        self.convs = nn.ModuleList(ConvStack(width, conv_layers, 5, dropout) for _ in range(3))
        self.downs = nn.ModuleList(nn.Conv1d(width, width, 3, stride=2, padding=1) for _ in range(2))
        self.head = nn.Sequential(nn.Linear(2 * width, width), nn.GELU(), nn.Dropout(dropout),
                                  nn.Linear(width, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, T, in_dim)`` raw features -> ``(B, num_classes)`` logits."""
        if x.shape[-1] != self.in_dim:
            raise ValueError(f"classifier expects {self.in_dim} values per frame, got {x.shape[-1]}")
        h = self.convs[0](self.proj(self.norm(x)))
        for down, conv in zip(self.downs, self.convs[1:]):
            if h.shape[1] > 1:
                h = F.gelu(down(h.transpose(1, 2))).transpose(1, 2)
            h = conv(h)
        stats = torch.cat([h.mean(1), h.std(1, unbiased=False)], dim=-1)
        return self.head(stats)

    @torch.no_grad()
    def predict(self, clips: list[torch.Tensor]) -> torch.Tensor:
        """Class index ``(N,)`` of each ``(T_i, in_dim)`` clip (classified whole)."""
        was = self.training
        self.eval()
        try:
            return torch.stack([self(c[None].float())[0].argmax() for c in clips])
        finally:
            self.train(was)
