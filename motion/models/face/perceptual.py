"""Pluggable "perceptual" networks for the face decoder's second stage (EMOTE, Sec. 3.4).

EMOTE adds two perceptual losses: features of a lip-reading network (on rendered mouth
crops) and of a video emotion network, both also on condition-exchanged outputs. The
toolkit works on FLAME vertices instead of renders, through one small interface:

* :class:`FacePerceptualNet` (a Protocol): an ``nn.Module`` with a ``region`` attribute
  (which FLAME vertices it looks at, :func:`motion.models.face.vertices.region_vertex_ids`;
  optional ``vertex_stride``, default 1) whose ``forward(displacements)`` maps vertex
  offsets from the neutral template ``(B, T, K, 3)`` (metres) to a :class:`PerceptualOutput`:
  ``features`` ``(B, T, C)`` (per frame) or ``(B, C)`` (per clip) and class ``logits``.

In-toolkit implementations, trained by :mod:`motion.training.face_classifiers`:

* :class:`LipReader`: lip consistency network, a per-frame viseme classifier
  (13 classes, :data:`motion.synthetic.tts.phonemes.VISEME_CLASSES`) on the lip vertices, trained on
  the corpus phoneme timings; its per-frame features are the lip-reading features.
* :class:`FaceEmotionNet`: clip-level emotion classifier (8 classes) on a subsampled face;
  also the "emotion accuracy" classifier of the evaluation.

A real lip-reading network plugs in through the decoder config
(``model.init_args.lip_reader: {class_path: my_pkg.MyLipReader, init_args: {...}}``): any
``nn.Module`` with ``region`` and that ``forward`` (e.g. one that renders the offsets added
to its own template and runs a visual speech recognizer) - it is frozen by the decoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import torch
from torch import nn

from motion.models.config import register_config
from motion.models.layers import ConvStack


@dataclass
class PerceptualOutput:
    """``features`` ``(B, T, C)`` or ``(B, C)``; ``logits`` ``(B, T, K)`` / ``(B, K)`` or None."""

    features: torch.Tensor
    logits: torch.Tensor | None = None


@runtime_checkable
class FacePerceptualNet(Protocol):
    """What the face decoder needs from a lip or emotion network (see the module notes)."""

    region: str

    def __call__(self, displacements: torch.Tensor) -> PerceptualOutput:
        """``(B, T, K, 3)`` vertex offsets (m) from the neutral template -> :class:`PerceptualOutput`."""
        ...


def perceptual_vertex_set(net: nn.Module) -> tuple[str, int]:
    """``(region, stride)``: the FLAME vertices a perceptual network sees (its ``region`` and
    ``vertex_stride``, default 1), as :func:`motion.models.face.vertices.region_vertex_ids` takes them."""
    return str(net.region), int(getattr(net, "vertex_stride", 1))


def check_perceptual(net: object, what: str) -> None:
    """Raise a clear error if ``net`` does not follow :class:`FacePerceptualNet`."""
    if not isinstance(net, nn.Module) or not isinstance(net, FacePerceptualNet):
        raise TypeError(f"{what} must be an nn.Module with a `region` attribute and forward(displacements) -> "
                        f"PerceptualOutput (motion.models.face.perceptual.FacePerceptualNet); got {type(net).__name__}")


class _FrameEncoder(nn.Module):
    """``(B, T, K, 3)`` offsets -> ``(B, T, W)``: scaled, flattened, projected, residual temporal convs."""

    def __init__(self, num_vertices: int, width: int, layers: int, kernel_size: int, dropout: float,
                 scale: float) -> None:
        super().__init__()
        self.num_vertices, self.scale = num_vertices, scale
        self.proj = nn.Sequential(nn.Linear(3 * num_vertices, width), nn.GELU(), nn.Linear(width, width))
        self.temporal = ConvStack(width, layers, kernel_size, dropout)

    def forward(self, displacements: torch.Tensor) -> torch.Tensor:
        B, T, K, _ = displacements.shape
        if K != self.num_vertices:
            raise ValueError(f"network was built for {self.num_vertices} vertices, got {K} (another FLAME "
                             "model or region? retrain it with the decoder's models_dir)")
        return self.temporal(self.proj(displacements.reshape(B, T, 3 * K) * self.scale))


class LipReader(nn.Module):
    """Per-frame viseme classifier on lip-vertex offsets; its features are the lip-reading features.

    Args:
        num_vertices: K, lip vertices (the size of ``region`` on the FLAME model used).
        num_classes: viseme classes (13: :data:`motion.synthetic.tts.phonemes.VISEME_CLASSES`).
        width, layers, kernel_size, dropout: frame projection and residual temporal convolutions.
        scale: multiplies the offsets (m -> cm at 100, so inputs are ~1).
        region, vertex_stride: the vertices it sees (default: every lip vertex).
    """

    @register_config
    def __init__(self, num_vertices: int, num_classes: int = 13, width: int = 128, layers: int = 3,
                 kernel_size: int = 5, dropout: float = 0.1, scale: float = 100.0, region: str = "lips",
                 vertex_stride: int = 1) -> None:
        super().__init__()
        self.region, self.vertex_stride, self.num_classes = region, vertex_stride, num_classes
        self.encoder = _FrameEncoder(num_vertices, width, layers, kernel_size, dropout, scale)
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, num_classes)

    def forward(self, displacements: torch.Tensor) -> PerceptualOutput:
        """``(B, T, K, 3)`` -> features ``(B, T, W)`` (layer-normed), viseme logits ``(B, T, C)``."""
        h = self.norm(self.encoder(displacements))
        return PerceptualOutput(h, self.head(h))


class FaceEmotionNet(nn.Module):
    """Clip-level emotion classifier on face-vertex offsets (mean + std pooling over time).

    Args:
        num_vertices: K, vertices of ``region`` after ``vertex_stride``.
        num_emotions: classes (8, :data:`motion.types.EMOTIONS`).
        width, layers, kernel_size, dropout, scale: as :class:`LipReader`.
        region, vertex_stride: the vertices it sees (default: every 4th vertex that expression or jaw move).
    """

    @register_config
    def __init__(self, num_vertices: int, num_emotions: int = 8, width: int = 128, layers: int = 2,
                 kernel_size: int = 5, dropout: float = 0.1, scale: float = 100.0, region: str = "moving",
                 vertex_stride: int = 4) -> None:
        super().__init__()
        self.region, self.vertex_stride, self.num_classes = region, vertex_stride, num_emotions
        self.encoder = _FrameEncoder(num_vertices, width, layers, kernel_size, dropout, scale)
        self.pool = nn.Sequential(nn.Linear(2 * width, width), nn.LayerNorm(width))
        self.head = nn.Linear(width, num_emotions)

    def forward(self, displacements: torch.Tensor) -> PerceptualOutput:
        """``(B, T, K, 3)`` -> clip features ``(B, W)``, emotion logits ``(B, num_emotions)``."""
        h = self.encoder(displacements)  # (B, T, W)
        stats = torch.cat([h.mean(1), h.std(1, unbiased=False)], dim=-1) if h.shape[1] > 1 else \
            torch.cat([h[:, 0], torch.zeros_like(h[:, 0])], dim=-1)
        f = self.pool(stats)
        return PerceptualOutput(f, self.head(f))
