"""What every training stage shares: optimiser and schedule, plain hyper-parameters, export."""

from __future__ import annotations

import math
import time
import types
import warnings
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from torch import nn

from motion.models.body_features import BODY_FEATURE_DIM, BODY_JOINTS
from motion.models.config import save_module
from motion.types import EMOTIONS, FPS, JOINT_NAMES


def _is_plain(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    return False


def save_plain_hyperparameters(module: pl.LightningModule, frame: types.FrameType | None) -> None:
    """``save_hyperparameters`` keeping only plain values.

    Under LightningCLI the hyper-parameters are the parsed config (plain dicts, so
    ``load_from_checkpoint`` can rebuild sub-modules); built directly in Python, arguments
    that are modules or callables are left out. Either way checkpoints hold plain data
    only and load with ``torch.load(..., weights_only=True)``.
    """
    with warnings.catch_warnings():  # "attribute is an nn.Module": filtered out just below
        warnings.simplefilter("ignore")
        module.save_hyperparameters(frame=frame)
    bad = [k for k, v in module.hparams.items() if not _is_plain(v)]
    if bad:
        module.save_hyperparameters(ignore=bad, frame=frame)


class StageModule(pl.LightningModule):
    """Base LightningModule of a training stage.

    Args:
        lr: peak learning rate of AdamW.
        weight_decay: AdamW weight decay.
        warmup_steps: linear warm-up steps, then cosine decay to ``min_lr_ratio * lr`` at the
            last step (``trainer.estimated_stepping_batches``).
        min_lr_ratio: final learning rate as a fraction of ``lr``.
    """

    #: Name of the stage (export manifest, run folders).
    stage: str = "stage"

    def __init__(self, lr: float = 2e-4, weight_decay: float = 0.01, warmup_steps: int = 500,
                 min_lr_ratio: float = 0.1) -> None:
        super().__init__()
        self.lr, self.weight_decay = lr, weight_decay
        self.warmup_steps, self.min_lr_ratio = warmup_steps, min_lr_ratio

    def trainable_modules(self) -> list[nn.Module]:
        """Modules whose parameters the optimiser updates."""
        raise NotImplementedError

    def export_modules(self) -> dict[str, nn.Module]:
        """Sub-modules written as plain ``<name>.safetensors`` + ``<name>.json`` by the export."""
        raise NotImplementedError

    def write_to(self, folder: Path) -> dict[str, str]:
        """Write :meth:`export_modules` into the existing ``folder`` (not atomic; stages add their
        settings files); returns ``{name: class_path}``."""
        written = {}
        for name, mod in self.export_modules().items():
            save_module(mod, folder, name)
            written[name] = f"{type(mod).__module__}.{type(mod).__qualname__}"
        return written

    def save_pretrained(self, path: str | Path, trainer: pl.Trainer | None = None) -> Path:
        """The stage's inference weights as the folder ``path``, atomically: :meth:`write_to`'s
        files (``<name>.safetensors`` + ``<name>.json``) and a ``manifest.json`` naming them,
        the data, the feature layout and (with ``trainer``) the step. What the pipelines'
        ``from_pretrained`` (:mod:`motion.pipelines.weights`) and
        :func:`motion.models.config.load_module` read; the same format as their
        ``save_pretrained``. An existing folder at ``path`` is replaced as a whole."""
        from motion.atomic import atomic_folder
        from motion.pipelines.weights import MANIFEST, write_json

        out = Path(path)
        with atomic_folder(out) as tmp:
            write_json(tmp / MANIFEST, self._manifest(self.write_to(tmp), trainer))
        return out

    def _manifest(self, modules: dict[str, str], trainer: pl.Trainer | None) -> dict[str, Any]:
        dm = getattr(trainer, "datamodule", None) if trainer is not None else None
        return {
            "stage": self.stage,
            "modules": modules,
            "data": dm.describe() if dm is not None and hasattr(dm, "describe") else None,
            "body_features": {"dim": BODY_FEATURE_DIM, "fps": FPS, "joints": [JOINT_NAMES[j] for j in BODY_JOINTS]},
            "emotions": list(EMOTIONS),
            "epoch": trainer.current_epoch if trainer is not None else None,
            "global_step": trainer.global_step if trainer is not None else None,
            "torch": torch.__version__,
            "pytorch_lightning": pl.__version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }

    def _datamodule(self) -> Any:
        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        if dm is None or not hasattr(dm, "feature_stats"):
            raise RuntimeError(f"{type(self).__name__} needs a datamodule with feature_stats() "
                               "(motion.data.datamodule.Beat2DataModule) to set its normalisation")
        return dm

    def _step(self, batch: dict[str, torch.Tensor], split: str) -> torch.Tensor:
        """Loss of one batch for ``split`` (``"train"`` or ``"val"``), logged; subclasses define it."""
        raise NotImplementedError

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self._step(batch, "val")

    def log_losses(self, terms: dict[str, torch.Tensor], split: str, batch_size: int, total: str = "loss",
                   drop: tuple[str, ...] = (), extra: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        """Log ``terms`` as ``<split>/<name>`` (``terms[total]`` as ``<split>/loss`` on the progress
        bar; ``drop`` left out, ``extra`` added) and return ``terms[total]``.

        Validation values are averaged across processes (``sync_dist``) so DDP runs log one number.
        """
        sync = split != "train"
        logs = {f"{split}/{k}": v.detach() for k, v in terms.items() if k != total and k not in drop}
        logs.update({f"{split}/{k}": v.detach() for k, v in (extra or {}).items()})
        if logs:
            self.log_dict(logs, batch_size=batch_size, sync_dist=sync)
        self.log(f"{split}/loss", terms[total].detach(), batch_size=batch_size, prog_bar=True, sync_dist=sync)
        return terms[total]

    def configure_optimizers(self) -> Any:
        params = [p for m in self.trainable_modules() for p in m.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=self.lr, weight_decay=self.weight_decay)
        total = max(int(self.trainer.estimated_stepping_batches), 1)
        warm, floor = self.warmup_steps, self.min_lr_ratio

        def factor(step: int) -> float:
            if step < warm:
                return (step + 1) / warm
            progress = min((step - warm) / max(total - warm, 1), 1.0)
            return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

        sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

