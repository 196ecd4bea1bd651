"""Fixed-length windows of FLAME expression + jaw from a BEAT2-layout folder (FLINT training data).

FLINT (EMOTE, Danecek et al. 2023, Sec. 3.2) is trained on 32-frame sequences of FLAME
expression (the first 50 coefficients) and jaw pose. Here every clip of a split is read
once (``smplxflame_30/<id>.npz``, resampled to 30 fps), ``expressions[:, :E]`` and the jaw
(SMPL-X joint 22 = FLAME jaw, flat pose ``[66:69]``, axis-angle) are kept in memory, and
windows are cut every ``stride`` frames (plus one window flush with the clip's end).
Clips shorter than a window are skipped.

>>> ds = FaceWindowDataset("data/corpus", split="train")  # doctest: +SKIP
>>> ds[0]["expression"].shape, ds[0]["jaw"].shape          # doctest: +SKIP
(torch.Size([32, 50]), torch.Size([32, 3]))
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset

from motion.types import FPS, JAW


class FaceWindowDataset(Dataset):
    """Windows ``{"expression": (W, E), "jaw": (W, 3)}`` (float32 tensors) of one split.

    Args:
        root: BEAT2-layout folder (or a folder holding exactly one).
        split: ``train`` / ``val`` / ``test`` (None = every clip).
        window: frames per window (FLINT: 32).
        stride: hop between window starts (default: ``window // 2``).
        num_expressions: E, leading expression coefficients kept (zero-padded if a file has fewer).
        fps: frame rate the clips are resampled to.
    """

    def __init__(self, root: str | Path, split: str | None = "train", window: int = 32, stride: int | None = None,
                 num_expressions: int = 50, fps: float = FPS) -> None:
        from motion.data.beat2_dataset import index_beat2
        from motion.data.formats.beat2 import read_beat2

        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        self.window, self.stride = window, stride or max(window // 2, 1)
        self.num_expressions = num_expressions
        self.clips: list[tuple[np.ndarray, np.ndarray]] = []
        self.index: list[tuple[int, int]] = []  # (clip, start frame)
        self.ids: list[str] = []
        for rec in index_beat2(root, split=split, require_audio=False):
            m = read_beat2(rec.npz, fps=fps)
            if m.num_frames < window:
                continue
            expr = np.zeros((m.num_frames, num_expressions), np.float32)
            k = min(num_expressions, m.num_expressions)
            assert m.expression is not None
            expr[:, :k] = m.expression[:, :k]
            c = len(self.clips)
            self.clips.append((expr, m.poses[:, JAW].astype(np.float32)))
            self.ids.append(rec.id)
            starts = list(range(0, m.num_frames - window + 1, self.stride))
            if starts[-1] != m.num_frames - window:
                starts.append(m.num_frames - window)
            self.index += [(c, s) for s in starts]

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        c, s = self.index[i]
        expr, jaw = self.clips[c]
        sl = slice(s, s + self.window)
        return {"expression": torch.from_numpy(expr[sl]), "jaw": torch.from_numpy(jaw[sl])}

    def frames(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Every frame of every clip: expression ``(N, E)``, jaw ``(N, 3)`` (for normalisation)."""
        if not self.clips:
            return torch.zeros(0, self.num_expressions), torch.zeros(0, 3)
        return (torch.from_numpy(np.concatenate([e for e, _ in self.clips])),
                torch.from_numpy(np.concatenate([j for _, j in self.clips])))


class FaceWindowDataModule(pl.LightningDataModule):
    """Train / val :class:`FaceWindowDataset` loaders for the FLINT prior.

    Args:
        root: BEAT2-layout folder.
        window, stride, num_expressions: see :class:`FaceWindowDataset` (the default keeps all
            100 coefficients; the prior uses its own leading E, so the two need no linking).
        batch_size: windows per batch.
        num_workers: DataLoader workers (data is in memory; 0 is fine).
        train_split, val_split: split names (``val_split=None``: no validation).
    """

    def __init__(self, root: str, window: int = 32, stride: int | None = None, num_expressions: int = 100,
                 batch_size: int = 64, num_workers: int = 0, train_split: str = "train",
                 val_split: str | None = "val") -> None:
        super().__init__()
        self.root, self.window, self.stride = root, window, stride
        self.num_expressions, self.batch_size, self.num_workers = num_expressions, batch_size, num_workers
        self.train_split, self.val_split = train_split, val_split
        self.train_set: FaceWindowDataset | None = None
        self.val_set: FaceWindowDataset | None = None

    def describe(self) -> dict[str, Any]:
        """Data settings an inference pipeline must reproduce (goes into the export manifest)."""
        return {"fps": FPS, "window": self.window, "num_expressions": self.num_expressions, "root": str(Path(self.root))}

    def _dataset(self, split: str) -> FaceWindowDataset:
        ds = FaceWindowDataset(self.root, split, self.window, self.stride, self.num_expressions)
        if len(ds) == 0:
            raise ValueError(f"no {self.window}-frame windows in split {split!r} of {self.root}")
        return ds

    def setup(self, stage: str | None = None) -> None:
        if stage in (None, "fit") and self.train_set is None:
            self.train_set = self._dataset(self.train_split)
        if stage in (None, "fit", "validate") and self.val_split and self.val_set is None:
            self.val_set = self._dataset(self.val_split)

    def _loader(self, ds: Any, shuffle: bool) -> DataLoader:
        return DataLoader(ds, batch_size=self.batch_size, shuffle=shuffle, num_workers=self.num_workers,
                          drop_last=False, persistent_workers=self.num_workers > 0)

    def train_dataloader(self) -> DataLoader:
        assert self.train_set is not None, "call setup('fit') first"
        return self._loader(self.train_set, shuffle=True)

    def val_dataloader(self) -> DataLoader | list[Any]:
        return self._loader(self.val_set, shuffle=False) if self.val_set is not None else []
