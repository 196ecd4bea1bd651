"""Transformer layer with an ALiBi-style linear distance bias (FLINT's temporal attention).

ALiBi (Press et al. 2022, "Train Short, Test Long", Sec. 3) adds ``-m_h * |i - j|`` to the
attention logits of head ``h`` instead of adding positional embeddings; the slopes are the
geometric sequence ``m_h = 2^(-8 (h + 1) / H)``. FLINT uses the non-causal (symmetric)
form, since the VAE sees the whole window. Because the bias depends only on the distance,
the layer works at any sequence length, which is what lets the prior encode and decode
clips longer than its 32-frame training windows.
"""

from __future__ import annotations

import torch
from torch import nn


def alibi_slopes(num_heads: int) -> torch.Tensor:
    """``(H,)`` head slopes ``2^(-8 (h + 1) / H)`` (Press et al. 2022, Sec. 3)."""
    h = torch.arange(1, num_heads + 1, dtype=torch.float32)
    return torch.pow(2.0, -8.0 * h / num_heads)


def alibi_bias(num_heads: int, length: int, device: torch.device | None = None) -> torch.Tensor:
    """``(H, L, L)`` symmetric bias ``-m_h |i - j|`` added to the attention logits."""
    pos = torch.arange(length, device=device, dtype=torch.float32)
    dist = (pos[None, :] - pos[:, None]).abs()  # (L, L)
    return -alibi_slopes(num_heads).to(dist.device)[:, None, None] * dist[None]


class AlibiTransformerLayer(nn.Module):
    """One pre-norm transformer encoder layer whose self-attention carries the ALiBi bias.

    Args:
        width: model width D.
        num_heads: attention heads (D must be divisible by it).
        ff_dim: hidden size of the feed-forward block.
        dropout: dropout inside the layer.
    """

    def __init__(self, width: int = 128, num_heads: int = 8, ff_dim: int = 256, dropout: float = 0.1) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.layer = nn.TransformerEncoderLayer(width, num_heads, ff_dim, dropout, activation="gelu",
                                                batch_first=True, norm_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, L, D)`` -> ``(B, L, D)``."""
        B, L, _ = x.shape
        bias = alibi_bias(self.num_heads, L, x.device).to(x.dtype)  # (H, L, L)
        mask = bias.repeat(B, 1, 1)  # (B * H, L, L): PyTorch's per-(batch, head) float mask layout
        return self.layer(x, src_mask=mask)
