"""Callbacks: export plain inference weights into the run folder; stop at a given step."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import Callback

from motion.models.body_features import BODY_FEATURE_DIM, BODY_JOINTS
from motion.training.base import StageModule
from motion.types import EMOTIONS, FPS, JOINT_NAMES

MANIFEST = "manifest.json"


def run_dir(trainer: pl.Trainer) -> Path:
    """The run folder: the logger's version folder, or ``default_root_dir`` without a logger.

    Call it on every process: under DDP ``trainer.log_dir`` broadcasts from rank 0.
    """
    log_dir = trainer.log_dir if trainer.logger is not None else None
    return Path(log_dir or trainer.default_root_dir)


def write_export(module: StageModule, directory: Path, trainer: pl.Trainer | None = None) -> Path:
    """Write a stage's sub-modules (``.safetensors`` + ``.json``) and ``manifest.json`` to ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    modules = module.export(directory)
    dm = getattr(trainer, "datamodule", None) if trainer is not None else None
    manifest: dict[str, Any] = {
        "stage": module.stage,
        "modules": modules,
        "data": dm.describe() if dm is not None and hasattr(dm, "describe") else None,
        "body_features": {"dim": BODY_FEATURE_DIM, "fps": FPS,
                          "joints": [JOINT_NAMES[j] for j in BODY_JOINTS]},
        "emotions": list(EMOTIONS),
        "epoch": trainer.current_epoch if trainer is not None else None,
        "global_step": trainer.global_step if trainer is not None else None,
        "torch": torch.__version__,
        "pytorch_lightning": pl.__version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return directory


class ExportWeights(Callback):
    """Export plain inference weights at the end of fitting (and every N validation epochs).

    Writes ``<run>/export/`` (see :func:`write_export`) and, with ``latest=True``, a copy in
    ``<default_root_dir>/latest/``: the newest export of the experiment, which the next
    stage's config can point at.

    Args:
        dirname: sub-folder of the run folder.
        latest: also refresh ``<default_root_dir>/latest``.
        every_n_epochs: also export after every N-th validation (0 = only at the end).
    """

    def __init__(self, dirname: str = "export", latest: bool = True, every_n_epochs: int = 0) -> None:
        self.dirname, self.latest, self.every_n_epochs = dirname, latest, every_n_epochs

    def _export(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        if not isinstance(module, StageModule):
            raise TypeError(f"ExportWeights needs a motion.training StageModule, got {type(module).__name__}")
        run = run_dir(trainer)  # on every rank: trainer.log_dir is a collective under DDP
        if trainer.is_global_zero:
            self._write(trainer, module, run)

    def _write(self, trainer: pl.Trainer, module: StageModule, run: Path) -> None:
        out = write_export(module, run / self.dirname, trainer)
        if self.latest:
            latest = Path(trainer.default_root_dir) / "latest"
            tmp = latest.with_name("latest.tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.copytree(out, tmp)
            shutil.rmtree(latest, ignore_errors=True)
            tmp.rename(latest)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        n = self.every_n_epochs
        if n > 0 and not trainer.sanity_checking and (trainer.current_epoch + 1) % n == 0:
            self._export(trainer, pl_module)

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._export(trainer, pl_module)


class StopAtStep(Callback):
    """Stop fitting after ``step`` optimizer steps, the learning-rate schedule still sized by
    ``trainer.max_steps``.

    Replays, step for step, a run that ended before its schedule did (stopped by
    ``trainer.max_time``, say): ``--trainer.max_steps 5000
    --trainer.callbacks+=motion.training.callbacks.StopAtStep --trainer.callbacks.step 3291``.

    Args:
        step: the global step after which training stops (>= 1).
    """

    def __init__(self, step: int) -> None:
        if step < 1:
            raise ValueError(f"StopAtStep: step must be >= 1, got {step}")
        self.step = step

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any,
                           batch: Any, batch_idx: int) -> None:
        if trainer.global_step >= self.step:
            trainer.should_stop = True
