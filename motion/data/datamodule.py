"""LightningDataModule over a BEAT2-layout folder (the synthetic corpus or real BEAT2).

Features are computed once per clip into a content-addressed npz cache
(:mod:`motion.data.feature_cache`; computed in ``prepare_data`` on one process per node, read
by every process in ``setup``), then cut into windows (:mod:`motion.data.windows`). With
``pairs=True`` every item carries its same-sentence partner grid for the speech encoder's
cross-reconstruction and content-alignment losses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytorch_lightning as pl
import torch

from motion.data.alignment import load_words
from motion.data.beat2_dataset import Beat2Record, index_beat2
from motion.data.feature_cache import (
    ClipFeatures,
    FeatureCache,
    FeatureConfig,
    fill_cache,
)
from motion.data.split_loaders import SplitLoaders
from motion.data.windows import ClipLabels, PairWindowDataset, WindowDataset
from motion.types import FPS


class Beat2DataModule(SplitLoaders, pl.LightningDataModule):
    """Windows of BEAT2-layout clips with cached speech + body features.

    Args:
        root: BEAT2 folder (or a folder holding exactly one, e.g. a generated corpus).
        cache_dir: feature cache (default ``$MOTION_CACHE_DIR/features`` or
            ``~/.cache/motion/features``).
        audio_features: "log_mel" (80 bands) or "fbank" (Kaldi, AMUSE's input; use 128 bands).
        n_mels: bands of the audio features (the speech encoder's ``in_dim``).
        window: frames per training window (30 fps).
        hop: frames between training windows.
        val_hop: frames between validation windows (default: ``window``).
        pairs: items carry same-sentence partner grids (speech-encoder stage).
        batch_size: windows per batch (per process).
        num_workers: DataLoader workers.
        train_split, val_split: split names of ``train_test_split.csv``.
        max_clips: use at most this many clips per split (debugging).
    """

    def __init__(self, root: str = "data/corpus", cache_dir: str | None = None,
                 audio_features: Literal["log_mel", "fbank"] = "log_mel", n_mels: int = 80,
                 window: int = 64, hop: int = 16, val_hop: int | None = None, pairs: bool = False,
                 batch_size: int = 32, num_workers: int = 0, train_split: str = "train",
                 val_split: str = "val", max_clips: int | None = None) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.root = root
        self.features = FeatureConfig(audio_features, n_mels, FPS)
        if cache_dir is None:
            from motion.bodymodels.paths import cache_root

            cache_dir = str(cache_root() / "features")
        self.cache_dir = cache_dir
        self.window, self.hop, self.val_hop = window, hop, val_hop or window
        self.pairs, self.batch_size, self.num_workers = pairs, batch_size, num_workers
        self.splits = {"train": train_split, "val": val_split}
        self.max_clips = max_clips
        self.datasets: dict[str, WindowDataset] = {}
        self._stats: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    # ------------------------------------------------------------------ data
    def _records(self, split: str) -> list[Beat2Record]:
        recs = index_beat2(self.root, split=self.splits[split])
        return recs[: self.max_clips] if self.max_clips else recs

    def prepare_data(self) -> None:
        """Fill the feature cache (runs on one process per node)."""
        cache = FeatureCache(self.cache_dir, self.features)
        recs = [r for split in self.splits for r in self._records(split)]
        fill_cache(cache, recs, self.num_workers)

    def _dataset(self, split: str, hop: int) -> WindowDataset:
        recs = self._records(split)
        if not recs:
            raise ValueError(f"no clips of split {self.splits[split]!r} in {self.root}")
        cache = FeatureCache(self.cache_dir, self.features)
        clips: list[ClipFeatures] = [cache.get(r) for r in recs]
        labels = [ClipLabels.from_record(r) for r in recs]
        if self.pairs:
            return PairWindowDataset(clips, labels, self.window, hop, [load_words(r) for r in recs],
                                     self.features.fps)
        return WindowDataset(clips, labels, self.window, hop)

    # ------------------------------------------------------------------ statistics
    def feature_stats(self, kind: Literal["audio", "motion"]) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-feature mean and std ``(F,)`` over every frame of the training clips.

        Deterministic (same on every process), so DDP ranks agree without communication.
        """
        if kind not in self._stats:
            if "train" not in self.datasets:
                self.setup("fit")
            frames = np.concatenate([getattr(c, kind) for c in self.datasets["train"].clips])
            mean = frames.mean(0, dtype=np.float64)
            std = frames.std(0, dtype=np.float64)
            self._stats[kind] = (torch.from_numpy(mean).float(), torch.from_numpy(std).float())
        return self._stats[kind]

    def describe(self) -> dict[str, Any]:
        """Feature settings an inference pipeline must reproduce (goes into the export)."""
        return {"audio_features": self.features.audio_features, "n_mels": self.features.n_mels,
                "fps": self.features.fps, "loudness_lufs": self.features.loudness_lufs, "window": self.window,
                "root": str(Path(self.root))}
