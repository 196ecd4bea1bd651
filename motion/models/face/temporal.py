"""FaceFormer-style temporal attention bias and periodic positions for the face decoder.

FaceFormer (Fan et al. 2022, Sec. 3.2) biases the decoder's self-attention with a
*periodic* ALiBi: head ``h`` adds ``-m_h * floor((i - j) / p)`` to the logit of query ``i``
and key ``j <= i`` (keys in the future are masked), with ALiBi's slopes ``m_h = 2^(-8 (h + 1)
/ H)`` (Press et al. 2022, Sec. 3) and period ``p`` (frames); it also adds a periodic
positional encoding (PPE, Eq. 4): the sinusoid of ``t mod p``. EMOTE (Danecek et al. 2023)
uses the non-causal form (its ``alibi_future`` bias): the whole audio window is known, so
the bias is symmetric, ``-m_h * floor(|i - j| / p)``. Both forms are here (``causal``); with
``p = 1`` the bias is plain ALiBi. The bias depends only on ``i - j``, so the layer runs at
any length.
"""

from __future__ import annotations

import torch
from torch import nn

from motion.models.face.attention import alibi_slopes
from motion.models.layers import sinusoidal_embedding


def periodic_alibi_bias(num_heads: int, length: int, period: int = 1, causal: bool = False,
                        device: torch.device | None = None) -> torch.Tensor:
    """``(H, L, L)`` additive attention bias ``-m_h floor(|i - j| / p)`` (FaceFormer Sec. 3.2);
    with ``causal`` the future (``j > i``) is ``-inf``."""
    if period < 1:
        raise ValueError(f"period must be >= 1, got {period}")
    pos = torch.arange(length, device=device)
    delta = pos[:, None] - pos[None, :]  # (L, L): i - j
    dist = torch.div(delta.abs(), period, rounding_mode="floor").float()
    bias = -alibi_slopes(num_heads).to(dist.device)[:, None, None] * dist[None]
    if causal:
        bias = bias.masked_fill((delta < 0)[None], float("-inf"))
    return bias


def periodic_positions(length: int, dim: int, period: int, device: torch.device | None = None) -> torch.Tensor:
    """``(L, dim)`` periodic positional encoding: the sinusoid of ``t mod p`` (FaceFormer Eq. 4)."""
    t = torch.arange(length, device=device) % period
    return sinusoidal_embedding(t, dim)


class BiasedTransformerLayer(nn.Module):
    """Pre-norm transformer encoder layer whose self-attention carries :func:`periodic_alibi_bias`.

    Args:
        width: model width D (divisible by ``num_heads``).
        num_heads: attention heads.
        ff_dim: feed-forward hidden size.
        dropout: dropout inside the layer.
        period: bias period p in frames (1 = plain ALiBi).
        causal: mask keys in the future (FaceFormer) or not (EMOTE).
    """

    def __init__(self, width: int = 128, num_heads: int = 8, ff_dim: int = 256, dropout: float = 0.1,
                 period: int = 1, causal: bool = False) -> None:
        super().__init__()
        self.num_heads, self.period, self.causal = num_heads, period, causal
        self.layer = nn.TransformerEncoderLayer(width, num_heads, ff_dim, dropout, activation="gelu",
                                                batch_first=True, norm_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, L, D)`` -> ``(B, L, D)``."""
        B, L, _ = x.shape
        bias = periodic_alibi_bias(self.num_heads, L, self.period, self.causal, x.device).to(x.dtype)
        return self.layer(x, src_mask=bias.repeat(B, 1, 1))  # (B * H, L, L) per-(batch, head) layout
