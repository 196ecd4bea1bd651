"""A tiny frame classifier of lip events in speech: bilabial closure, pause, other speech.

The face needs to know *when the lips meet*: at /p b m/ and in pauses between phrases. A
general phone recogniser finds those as a by-product, slowly and with many misses on real
voices. This model answers only that question, per 10 ms frame, from the log filterbank:

    x (B, T, F) --conv k5--> C --[residual dilated depthwise-separable block] x L--> 3 logits

Each block is ``x + PW(GELU(LN(DW_d(x))))``: a depthwise convolution of kernel ``k`` and
dilation ``d`` (time context), layer norm over the channels of each frame (never over time,
so a frame's output depends on its receptive field alone, in a short window as in a long
recording), GELU, a pointwise 1x1 mixing the channels
(MobileNet's separable convolution, Howard et al. 2017; dilations as in WaveNet / TCN, Bai et
al. 2018). With k = 5 and dilations (1, 2, 4, 8, 1) the receptive field is about +-0.35 s,
enough to see the silence of a stop's closure and the burst or nasal murmur around it.

Classes (:data:`CLOSURE_CLASSES`): 0 other speech, 1 bilabial (p, b, m), 2 pause (silence,
breath, noise). The input is :func:`motion.audio.closures.closure_features`: a loudness-
normalised 40-band Kaldi filterbank with the per-band mean over the speech removed (cepstral
mean normalisation), so neither the level nor the microphone's colour reaches the model.
"""

from __future__ import annotations

import torch
from torch import nn

from motion.models.config import register_config

#: Output classes, in logit order.
CLOSURE_CLASSES: tuple[str, ...] = ("speech", "bilabial", "pause")


class _Block(nn.Module):
    """Residual dilated depthwise-separable convolution: ``x + PW(GELU(LN(DW(x))))``, ``(B, C, T)``."""

    def __init__(self, channels: int, kernel: int, dilation: int, dropout: float) -> None:
        super().__init__()
        self.dw = nn.Conv1d(channels, channels, kernel, padding=dilation * (kernel // 2), dilation=dilation,
                            groups=channels)
        self.norm = nn.LayerNorm(channels)  # per frame
        self.pw = nn.Conv1d(channels, channels, 1)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm(self.dw(x).transpose(1, 2)).transpose(1, 2)
        return x + self.drop(self.pw(nn.functional.gelu(h)))


class ClosureDetector(nn.Module):
    """Per-frame logits of :data:`CLOSURE_CLASSES` (module notes).

    Args:
        in_dim: filterbank bands F.
        channels: C.
        kernel: depthwise kernel size (odd).
        dilations: one residual block per dilation.
        dropout: inside the blocks (training only).
    """

    @register_config
    def __init__(self, in_dim: int = 40, channels: int = 64, kernel: int = 5,
                 dilations: tuple[int, ...] | list[int] = (1, 2, 4, 8, 1), dropout: float = 0.1) -> None:
        super().__init__()
        if kernel % 2 != 1:
            raise ValueError(f"kernel must be odd, got {kernel}")
        self.in_dim = in_dim
        self.inp = nn.Conv1d(in_dim, channels, kernel, padding=kernel // 2)
        self.blocks = nn.Sequential(*[_Block(channels, kernel, int(d), dropout) for d in dilations])
        self.out = nn.Conv1d(channels, len(CLOSURE_CLASSES), 1)

    @property
    def receptive_frames(self) -> int:
        """Frames either side of a frame that reach its output."""
        k = self.inp.kernel_size[0]
        return k // 2 + sum(b.dw.dilation[0] * (k // 2) for b in self.blocks)  # type: ignore[union-attr]

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """``(B, T, F)`` features -> ``(B, T, 3)`` logits."""
        if feats.dim() != 3 or feats.shape[-1] != self.in_dim:
            raise ValueError(f"expected (B, T, {self.in_dim}) features, got {tuple(feats.shape)}")
        x = self.blocks(self.inp(feats.transpose(1, 2)))
        return self.out(x).transpose(1, 2)
