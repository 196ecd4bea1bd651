"""Callbacks: export plain inference weights into the run folder; stop at a given step."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback

from motion.atomic import atomic_folder
from motion.training.base import StageModule


def run_dir(trainer: pl.Trainer) -> Path:
    """The run folder: the logger's version folder, or ``default_root_dir`` without a logger.

    Call it on every process: under DDP ``trainer.log_dir`` broadcasts from rank 0.
    """
    log_dir = trainer.log_dir if trainer.logger is not None else None
    return Path(log_dir or trainer.default_root_dir)


class ExportWeights(Callback):
    """Export plain inference weights at the end of fitting (and every N validation epochs).

    Writes ``<run>/export/`` (:meth:`StageModule.save_pretrained`) and, with ``latest=True``, a copy in
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
        out = module.save_pretrained(run / self.dirname, trainer)
        if self.latest:  # replaced as a whole: a crash leaves the previous latest, never half of one
            with atomic_folder(Path(trainer.default_root_dir) / "latest") as tmp:
                shutil.copytree(out, tmp, dirs_exist_ok=True)

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
