"""Face stage: the LightningModule that trains the FLINT face prior.

::

    python -m motion.training.cli fit --config configs/face/flint.yaml --data.root data/corpus
    python -m motion.training.cli fit --config configs/face/flint.yaml --trainer.fast_dev_run true
    (``motion fit ...`` once the toolkit CLI forwards ``fit`` to :mod:`motion.training.cli`)

It is a :class:`~motion.training.base.StageModule` (AdamW, warm-up + cosine schedule, plain
export by :class:`~motion.training.callbacks.ExportWeights` as ``flint.json`` + ``flint.safetensors``),
driven by the toolkit's LightningCLI (:mod:`motion.training.cli`, subclass mode). It
receives a ready-built :class:`~motion.models.face.flint.FlintPrior` and holds training
logic only (loss: :mod:`motion.training.face_losses`). The FLAME model of the vertex loss is
loaded from ``models_dir`` (or ``$MOTION_MODELS_DIR``, or the stand-in) and is never saved
into checkpoints. :func:`load_flint` rebuilds the prior, frozen, from an export folder or a
checkpoint (inference reads it with the face export: ``FacePipeline.from_pretrained``).
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from motion.models.config import load_module, module_config
from motion.models.face.flame_layer import FlameExpressionLayer, moving_vertices
from motion.models.face.flint import EXPORT_NAME, FlintOutput, FlintPrior
from motion.training.base import StageModule, save_plain_hyperparameters
from motion.training.face_losses import FlintLoss, FlintLossWeights

VertexSubset = Literal["moving", "face", "all"]


def load_flint(path: str | Path, map_location: str | torch.device = "cpu", freeze: bool = True) -> FlintPrior:
    """The trained :class:`FlintPrior`, frozen by default, from an export folder
    (``flint.json`` + ``flint.safetensors``, e.g. ``runs/flint/latest``: :func:`load_module`)
    or a ``.ckpt`` of :class:`FlintModule` (read with ``torch.load(weights_only=True)``)."""
    p = Path(path)
    if p.is_dir():
        flint = load_module(p, EXPORT_NAME, map_location, expected=FlintPrior)
    else:
        ckpt = torch.load(p, map_location=map_location, weights_only=True)
        flint = FlintPrior(**ckpt["hyper_parameters"]["flint_config"]["init_args"])
        flint.load_state_dict({k[len("flint."):]: v for k, v in ckpt["state_dict"].items() if k.startswith("flint.")})
    return flint.freeze() if freeze else flint


def _vertex_ids(face_model: Any, subset: VertexSubset, num_expressions: int, models_dir: str | None) -> np.ndarray | None:
    if subset == "all":
        return None
    if subset == "face":
        from motion.bodymodels import face_regions

        regions = face_regions(models_dir)
        if "face" in regions.flame:
            return regions.ids("face")
    return moving_vertices(face_model, num_expressions)


class FlintModule(StageModule):
    """Trains a :class:`FlintPrior` on windows of FLAME expression + jaw.

    Args:
        flint: the VAE (default: ``FlintPrior()``: E = 50, axis-angle jaw).
        models_dir: folder with ``flame/FLAME_NEUTRAL.*`` (None: ``$MOTION_MODELS_DIR`` or the stand-in).
        vertex_subset: vertices of the reconstruction loss: ``moving`` (moved by expression or
            jaw; default), ``face`` (the FLAME ``face`` mask) or ``all``.
        vertex_stride: keep every k-th vertex of the subset (k > 1 trades loss resolution for
            speed: the loss costs O(vertices) per frame; 4 is plenty on a CPU).
        vertex_weight, kl_weight, param_weight: loss weights (FLINT: 1e6 on m^2, 1e-3, 0).
        lr, weight_decay, warmup_steps, min_lr_ratio: optimisation (:class:`StageModule`).
    """

    stage = "flint"

    def __init__(self, flint: FlintPrior | None = None, models_dir: str | None = None,
                 vertex_subset: VertexSubset = "moving", vertex_stride: int = 1,
                 vertex_weight: float = 1.0e6, kl_weight: float = 1.0e-3,
                 param_weight: float = 0.0, lr: float = 1.0e-4, weight_decay: float = 0.0, warmup_steps: int = 100,
                 min_lr_ratio: float = 0.1) -> None:
        super().__init__(lr, weight_decay, warmup_steps, min_lr_ratio)
        save_plain_hyperparameters(self, inspect.currentframe())
        from motion.bodymodels import load_face_model

        self.flint = flint if flint is not None else FlintPrior()
        self.hparams["flint_config"] = module_config(self.flint)  # a checkpoint alone rebuilds the prior
        face_model = load_face_model(models_dir)
        E = self.flint.num_expressions
        if vertex_stride < 1:
            raise ValueError(f"vertex_stride must be >= 1, got {vertex_stride}")
        ids = _vertex_ids(face_model, vertex_subset, E, models_dir)
        if vertex_stride > 1:
            ids = (np.arange(face_model.v_template.shape[0]) if ids is None else ids)[::vertex_stride]
        layer = FlameExpressionLayer.from_flame(face_model, E, ids)
        self.loss = FlintLoss(layer, FlintLossWeights(vertex_weight, kl_weight, param_weight))

    def forward(self, expression: torch.Tensor, jaw: torch.Tensor) -> FlintOutput:
        """Reconstruct ``(B, T, E)`` / ``(B, T, 3)`` with the posterior mean."""
        return self.flint(expression, jaw, sample=False)

    def setup(self, stage: str) -> None:
        """Set the prior's feature standardisation from the training windows (once)."""
        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        if stage == "fit" and not bool(self.flint.norm.initialized) and dm is not None:
            dm.setup("fit")
            train_set = getattr(dm, "train_set", None)
            if train_set is None or not hasattr(train_set, "frames"):
                raise RuntimeError(f"{type(self).__name__} needs a datamodule whose train_set has frames() "
                                   "(motion.data.face_windows.FaceWindowDataModule)")
            expr, jaw = train_set.frames()
            if expr.shape[-1] < self.flint.num_expressions:
                raise ValueError(f"data has {expr.shape[-1]} expression coefficients, the prior models "
                                 f"{self.flint.num_expressions}: raise data num_expressions")
            self.flint.set_normalization(expr, jaw)

    def trainable_modules(self) -> list[nn.Module]:
        return [self.flint]

    def export_modules(self) -> dict[str, nn.Module]:
        return {EXPORT_NAME: self.flint}

    def _step(self, batch: dict[str, torch.Tensor], split: str) -> torch.Tensor:
        expr, jaw = batch["expression"], batch["jaw"]
        out = self.flint(expr, jaw, sample=split == "train")
        terms = self.loss(self.flint, out, expr, jaw)
        return self.log_losses(terms, split, expr.shape[0], total="total",
                               extra={"vertex_mm2": terms["vertex"] * 1e6})
