"""Named FLAME vertex sets (lips, moving face, ...) computed in one pass of the fast FLAME layer.

The face decoder's losses and its perceptual networks look at different vertices: the
vertex loss at every vertex expression / jaw can move, the lip loss and the lip network at
the lips, the emotion network at a subsampled face. :class:`FaceVertexSets` runs one
:class:`~motion.models.face.flame_layer.FlameExpressionLayer` over the union of the sets
and slices each set out of it. Region names (:func:`region_vertex_ids`):

* ``moving``: vertices that the first E expression components or the jaw move;
* ``all``: the whole mesh;
* ``lip_centres``: the upper and lower inner-lip centre vertices of the bilabial-closure
  metric (:func:`motion.metrics.face.lip_centre_ids`);
* any FLAME mask region (``lips``, ``face``, ``upper_face``, ``forehead``, ... from
  ``FLAME_masks.pkl`` or derived from the landmarks: :func:`motion.bodymodels.face_regions`).

``stride`` keeps every n-th id of a region (a coarser input for a network). Buffers are
rebuilt from the FLAME model and never saved in checkpoints.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from motion.models.face.flame_layer import FlameExpressionLayer, moving_vertices


def region_vertex_ids(region: str, face_model: Any, num_expressions: int = 50, models_dir: str | None = None,
                      stride: int = 1) -> np.ndarray:
    """Sorted FLAME vertex ids ``(K,)`` of ``region`` (see the module notes), every ``stride``-th kept."""
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    if region == "moving":
        ids = moving_vertices(face_model, num_expressions)
    elif region == "all":
        ids = np.arange(int(face_model.v_template.shape[0]))
    elif region == "lip_centres":
        from motion.bodymodels.flame_landmarks import lip_centre_ids

        ids = np.array(lip_centre_ids(face_model))
    else:
        from motion.bodymodels import face_regions

        ids = face_regions(models_dir).ids(region)  # KeyError names the available regions
    return np.unique(np.asarray(ids, np.int64))[::stride]


class FaceVertexSets(nn.Module):
    """FLAME vertices of several named sets from expression ``(..., E)`` + jaw ``(..., 3)``.

    Args:
        layer: the FLAME layer over the union of all sets.
        index: set name -> positions ``(K,)`` of its vertices in the layer's output.
    """

    def __init__(self, layer: FlameExpressionLayer, index: dict[str, torch.Tensor]) -> None:
        super().__init__()
        self.layer = layer
        self.names = tuple(index)
        for name, idx in index.items():
            self.register_buffer(f"_idx_{name}", idx.long(), persistent=False)

    @classmethod
    def build(cls, face_model: Any, num_expressions: int, sets: dict[str, tuple[str, int]],
              models_dir: str | None = None) -> FaceVertexSets:
        """``sets``: name -> (region, stride); e.g. ``{"loss": ("moving", 1), "lips": ("lips", 1)}``."""
        ids = {name: region_vertex_ids(region, face_model, num_expressions, models_dir, stride)
               for name, (region, stride) in sets.items()}
        union = np.unique(np.concatenate([v for v in ids.values()] or [np.zeros(0, np.int64)]))
        layer = FlameExpressionLayer.from_flame(face_model, num_expressions, union)
        index = {name: torch.from_numpy(np.searchsorted(union, v)) for name, v in ids.items()}
        return cls(layer, index)

    def ids(self, name: str) -> torch.Tensor:
        """Positions ``(K,)`` of set ``name`` in :meth:`forward`'s output."""
        if name not in self.names:
            raise KeyError(f"unknown vertex set {name!r}; have {', '.join(self.names)}")
        return getattr(self, f"_idx_{name}")

    def size(self, name: str) -> int:
        return int(self.ids(name).shape[0])

    def forward(self, expression: torch.Tensor, jaw: torch.Tensor) -> torch.Tensor:
        """Union vertices ``(..., U, 3)`` in metres."""
        return self.layer(expression, jaw)

    def select(self, vertices: torch.Tensor, name: str) -> torch.Tensor:
        """Vertices ``(..., K, 3)`` of set ``name`` from union vertices ``(..., U, 3)``."""
        return vertices.index_select(-2, self.ids(name))

    def displacement(self, vertices: torch.Tensor, name: str) -> torch.Tensor:
        """Set ``name``'s offsets from the neutral template ``(..., K, 3)`` (m): a perceptual net's input."""
        idx = self.ids(name)
        return vertices.index_select(-2, idx) - self.layer.template.index_select(0, idx)
