"""Teacher / student speech windows for robustness distillation of the speech encoder.

Each item is one window of a clip seen two ways, both log-mel at 30 fps:

    teacher  (W, F)  the clip as it is, at the level the teacher encoder was trained on
                     (``teacher_loudness_lufs``; None: the raw level of the synthetic corpus)
    student  (W, F)  the same frames after loudness normalisation, either as they are or as one
                     of ``augment_variants`` renderings as real recordings hold speech
                     (:func:`motion.audio.augment.augment_speech`), drawn at random per item

The student learns to give the teacher's latents from what a real recording delivers
(:class:`motion.training.speech_distill.SpeechDistillModule`), so every model downstream of the
encoder (the body denoiser) keeps working unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from torch.utils.data import Dataset

from motion.audio.loudness import TARGET_LUFS
from motion.data.beat2_dataset import Beat2Record, index_beat2
from motion.data.feature_cache import FeatureCache, FeatureConfig, augment_seeds, fill_cache
from motion.data.split_loaders import SplitLoaders
from motion.types import FPS


class TeacherStudentWindows(Dataset):
    """Windows of ``W`` frames every ``hop`` over clips with one teacher and V student arrays.

    Args:
        teacher: per clip ``(T, F)``.
        students: per clip a list of V ``(T, F)`` arrays (V >= 1).
        window, hop: in frames.
        random_variant: draw the student variant of each item at random (training); else
            variant 0, the clean one (validation).
    """

    def __init__(self, teacher: list[np.ndarray], students: list[list[np.ndarray]], window: int, hop: int,
                 random_variant: bool) -> None:
        self.teacher, self.students, self.window = teacher, students, window
        self.random_variant = random_variant
        self.index = [(c, s) for c, t in enumerate(teacher) for s in range(0, t.shape[0] - window + 1, hop)]
        self._rng = np.random.default_rng(0)

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        c, s = self.index[i]
        variants = self.students[c]
        k = int(self._rng.integers(len(variants))) if self.random_variant else 0
        sl = slice(s, s + self.window)
        return {"teacher": torch.from_numpy(self.teacher[c][sl]), "student": torch.from_numpy(variants[k][sl])}


class SpeechDistillDataModule(SplitLoaders, pl.LightningDataModule):
    """Train / val :class:`TeacherStudentWindows` over a BEAT2-layout folder (module notes).

    Args:
        root: BEAT2 folder (or a folder holding exactly one, e.g. a generated corpus).
        cache_dir: feature cache (default ``$MOTION_CACHE_DIR/features``).
        n_mels: log-mel bands (the encoder's ``in_dim``).
        teacher_loudness_lufs: level of the teacher's input (None: the raw recording level).
        loudness_lufs: level of the student's input (what inference uses).
        augment_variants: augmented renderings per training clip (validation: the clean one).
        window, hop, val_hop: windows in frames (30 fps).
        batch_size, num_workers: loaders (workers also fill the cache).
        train_split, val_split, max_clips: as :class:`motion.data.datamodule.Beat2DataModule`.
    """

    def __init__(self, root: str = "data/corpus", cache_dir: str | None = None, n_mels: int = 80,
                 teacher_loudness_lufs: float | None = None, loudness_lufs: float | None = TARGET_LUFS,
                 augment_variants: int = 2, window: int = 64, hop: int = 16, val_hop: int | None = None,
                 batch_size: int = 32, num_workers: int = 0, train_split: str = "train", val_split: str = "val",
                 max_clips: int | None = None) -> None:
        super().__init__()
        if augment_variants < 0:
            raise ValueError(f"augment_variants must be >= 0, got {augment_variants}")
        self.root = root
        self.teacher_cfg = FeatureConfig("log_mel", n_mels, FPS, teacher_loudness_lufs)
        self.features = FeatureConfig("log_mel", n_mels, FPS, loudness_lufs)
        if cache_dir is None:
            from motion.bodymodels.paths import cache_root

            cache_dir = str(cache_root() / "features")
        self.cache_dir = cache_dir
        self.augment_variants = augment_variants
        self.window, self.hop, self.val_hop = window, hop, val_hop or window
        self.batch_size, self.num_workers = batch_size, num_workers
        self.splits = {"train": train_split, "val": val_split}
        self.max_clips = max_clips
        self.datasets: dict[str, TeacherStudentWindows] = {}

    def _records(self, split: str) -> list[Beat2Record]:
        recs = index_beat2(self.root, split=self.splits[split])
        return recs[: self.max_clips] if self.max_clips else recs

    def _configs(self, split: str) -> list[FeatureConfig]:
        seeds = augment_seeds(self.augment_variants, split == "train")
        return [self.teacher_cfg] + [self.features.variant(s) for s in seeds]

    def prepare_data(self) -> None:
        """Fill the feature cache: teacher, clean student and augmented student features."""
        for split in self.splits:
            for cfg in self._configs(split):
                desc = f"features ({'teacher' if cfg is self.teacher_cfg else f'student {cfg.augment_seed}'})"
                fill_cache(FeatureCache(self.cache_dir, cfg), self._records(split), self.num_workers, desc=desc)

    def _dataset(self, split: str, hop: int) -> TeacherStudentWindows:
        recs = self._records(split)
        if not recs:
            raise ValueError(f"no clips of split {self.splits[split]!r} in {self.root}")
        caches = [FeatureCache(self.cache_dir, cfg) for cfg in self._configs(split)]
        teacher, students = [], []
        for r in recs:
            arrays = [c.get(r).audio for c in caches]
            T = min(a.shape[0] for a in arrays)
            teacher.append(np.ascontiguousarray(arrays[0][:T]))
            students.append([np.ascontiguousarray(a[:T]) for a in arrays[1:]])
        return TeacherStudentWindows(teacher, students, self.window, hop, random_variant=split == "train")

    def describe(self) -> dict[str, Any]:
        """Feature settings an inference pipeline must reproduce (goes into the export)."""
        return {"audio_features": "log_mel", "n_mels": self.features.n_mels, "fps": self.features.fps,
                "loudness_lufs": self.features.loudness_lufs, "window": self.window, "root": str(self.root)}
