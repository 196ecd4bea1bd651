"""Windows of speech features + FLAME expression / jaw + per-frame visemes (face decoder data).

Every clip of a BEAT2-layout folder gives aligned per-frame arrays at 30 fps::

    audio       (T, F)  log-mel / fbank from the shared feature cache (motion.data.feature_cache)
    expression  (T, E)  FLAME expression (smplxflame_30/<id>.npz, zero-padded to E)
    jaw         (T, 3)  jaw axis-angle (SMPL-X joint 22 = FLAME jaw)
    viseme      (T,)    viseme class of the phoneme under each frame (motion.synthetic.tts.phonemes),
                        from phonemes/<id>.json; "pause" between phonemes, -1 without timings

and labels ``emotion`` / ``speaker`` (long, -1 unknown) and ``intensity`` (float, -1
unknown). Items are windows of ``window`` frames every ``hop`` frames (clips shorter than
a window are skipped). Used by the face decoder (:mod:`motion.training.face_decoder`) and
its lip / emotion networks (:mod:`motion.training.face_classifiers`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytorch_lightning as pl
import torch
from torch.utils.data import Dataset

from motion.data.beat2_dataset import Beat2Record, index_beat2
from motion.data.split_loaders import SplitLoaders
from motion.data.windows import ClipLabels
from motion.types import FPS, JAW


def frame_visemes(phonemes: Sequence[Any] | Mapping[str, Any], num_frames: int, fps: float = FPS) -> np.ndarray:
    """``(T,)`` int64 viseme class index (:data:`motion.synthetic.tts.phonemes.VISEME_CLASSES`) of the
    phoneme under each frame time ``i / fps``; 0 (``pause``) outside every phoneme."""
    from motion.synthetic.tts.phonemes import VISEME_CLASSES, phoneme_triples, viseme_class

    t = np.arange(num_frames) / fps
    out = np.zeros(num_frames, np.int64)
    for sym, s, e in phoneme_triples(phonemes):
        out[(t >= s) & (t < e)] = VISEME_CLASSES.index(viseme_class(sym))
    return out


@dataclass
class FaceSpeechClip:
    """Aligned per-frame arrays of one clip (module notes) and its labels."""

    audio: np.ndarray
    expression: np.ndarray
    jaw: np.ndarray
    viseme: np.ndarray
    labels: ClipLabels

    @property
    def num_frames(self) -> int:
        return int(self.audio.shape[0])


def load_face_speech_clip(rec: Beat2Record, audio: np.ndarray, num_expressions: int, fps: float = FPS) -> FaceSpeechClip:
    """Read a clip's face from its npz and visemes from its phoneme timings; align to ``audio`` ``(T, F)``."""
    from motion.data.formats.beat2 import read_beat2

    m = read_beat2(rec.npz, fps=fps)
    T = min(m.num_frames, audio.shape[0])
    expr = np.zeros((T, num_expressions), np.float32)
    assert m.expression is not None
    k = min(num_expressions, m.num_expressions)
    expr[:, :k] = m.expression[:T, :k]
    if rec.phonemes is not None and rec.phonemes.is_file():
        vis = frame_visemes(json.loads(rec.phonemes.read_text(encoding="utf-8")), T, fps)
    else:
        vis = np.full(T, -1, np.int64)
    return FaceSpeechClip(np.ascontiguousarray(audio[:T], np.float32), expr,
                          np.ascontiguousarray(m.poses[:T, JAW], np.float32), vis, ClipLabels.from_record(rec))


class FaceSpeechDataset(Dataset):
    """Windows of :class:`FaceSpeechClip` (module notes for the item keys and shapes)."""

    def __init__(self, clips: list[FaceSpeechClip], window: int, hop: int) -> None:
        if window < 1 or hop < 1:
            raise ValueError(f"window and hop must be >= 1, got {window}, {hop}")
        self.clips, self.window = clips, window
        self.index = [(c, s) for c, clip in enumerate(clips) for s in range(0, clip.num_frames - window + 1, hop)]
        if clips and not self.index:
            raise ValueError(f"no clip is as long as the window ({window} frames; the longest has "
                             f"{max(c.num_frames for c in clips)}); lower data.window")

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        c, s = self.index[i]
        clip, sl = self.clips[c], slice(s, s + self.window)
        lab = clip.labels
        return {"audio": torch.from_numpy(clip.audio[sl]), "expression": torch.from_numpy(clip.expression[sl]),
                "jaw": torch.from_numpy(clip.jaw[sl]), "viseme": torch.from_numpy(clip.viseme[sl]),
                "emotion": torch.tensor(lab.emotion, dtype=torch.long),
                "speaker": torch.tensor(lab.speaker, dtype=torch.long),
                "intensity": torch.tensor(lab.intensity, dtype=torch.float32)}


class FaceSpeechDataModule(SplitLoaders, pl.LightningDataModule):
    """Train / val :class:`FaceSpeechDataset` loaders over a BEAT2-layout folder.

    Args:
        root: BEAT2 folder (or a folder holding exactly one, e.g. a generated corpus).
        cache_dir: feature cache (default ``$MOTION_CACHE_DIR/features``), shared with the body stages.
        audio_features, n_mels: speech features (must match the speech encoder, if one is used);
            "log_mel_visemes" adds the recognised phones' viseme classes to the log-mel.
        augment_variants: besides each training clip as it is, this many random renderings of
            it as real recordings might hold it (:func:`motion.audio.augment.augment_speech`:
            voice, room, EQ, noise, telephone band, codec, level), each cached once.
        window, hop, val_hop: window length and hops in frames (30 fps; a multiple of 8 suits FLINT).
        num_expressions: expression coefficients kept (the models use their own leading E).
        batch_size, num_workers: loaders.
        train_split, val_split: split names of ``train_test_split.csv``.
        max_clips: at most this many clips per split (debugging).
    """

    def __init__(self, root: str = "data/corpus", cache_dir: str | None = None,
                 audio_features: Literal["log_mel", "fbank", "log_mel_visemes"] = "log_mel", n_mels: int = 80,
                 window: int = 64, hop: int = 16, val_hop: int | None = None, num_expressions: int = 100,
                 batch_size: int = 32, num_workers: int = 0, train_split: str = "train", val_split: str = "val",
                 max_clips: int | None = None, augment_variants: int = 0) -> None:
        super().__init__()
        from motion.data.feature_cache import FeatureConfig

        self.root, self.features = root, FeatureConfig(audio_features, n_mels, FPS)
        if cache_dir is None:
            from motion.bodymodels.paths import cache_root

            cache_dir = str(cache_root() / "features")
        self.cache_dir = cache_dir
        self.window, self.hop, self.val_hop = window, hop, val_hop or window
        self.num_expressions, self.batch_size, self.num_workers = num_expressions, batch_size, num_workers
        self.splits = {"train": train_split, "val": val_split}
        self.max_clips = max_clips
        if augment_variants < 0:
            raise ValueError(f"augment_variants must be >= 0, got {augment_variants}")
        self.augment_variants = augment_variants
        self.datasets: dict[str, FaceSpeechDataset] = {}
        self._stats: tuple[torch.Tensor, torch.Tensor] | None = None

    def _records(self, split: str) -> list[Beat2Record]:
        recs = index_beat2(self.root, split=self.splits[split])
        return recs[: self.max_clips] if self.max_clips else recs

    def _cache(self, augment_seed: int | None = None) -> Any:
        from motion.data.feature_cache import FeatureCache

        return FeatureCache(self.cache_dir, self.features.variant(augment_seed))

    def _seeds(self, split: str) -> list[int | None]:
        """Augmentation seeds of a split: the clip as it is, then the training variants."""
        from motion.data.feature_cache import augment_seeds

        return augment_seeds(self.augment_variants, split == "train")

    def prepare_data(self) -> None:
        """Fill the feature cache (one process per node), augmented variants included."""
        from motion.data.feature_cache import fill_cache

        for split in self.splits:
            for seed in self._seeds(split):
                desc = "features" if seed is None else f"features (augmented {seed})"
                fill_cache(self._cache(seed), self._records(split), self.num_workers, desc=desc)

    def _dataset(self, split: str, hop: int) -> FaceSpeechDataset:
        from dataclasses import replace

        recs = self._records(split)
        if not recs:
            raise ValueError(f"no clips of split {self.splits[split]!r} in {self.root}")
        caches = [self._cache(seed) for seed in self._seeds(split)]
        clips = []
        for r in recs:
            base = load_face_speech_clip(r, caches[0].get(r).audio, self.num_expressions)
            clips.append(base)
            for cache in caches[1:]:  # same face, the speech as another recording holds it
                a = cache.get(r).audio[:base.num_frames]
                a = np.concatenate([a, np.repeat(a[-1:], base.num_frames - a.shape[0], 0)])
                clips.append(replace(base, audio=np.ascontiguousarray(a, np.float32)))
        return FaceSpeechDataset(clips, self.window, hop)

    @property
    def train_set(self) -> FaceSpeechDataset:
        if "train" not in self.datasets:
            self.setup("fit")
        return self.datasets["train"]

    def feature_stats(self, kind: Literal["audio"] = "audio") -> tuple[torch.Tensor, torch.Tensor]:
        """Per-feature mean and std ``(F,)`` of the training clips' speech features (deterministic)."""
        if kind != "audio":
            raise ValueError(f"{type(self).__name__} has audio statistics only, asked for {kind!r}")
        if self._stats is None:
            frames = np.concatenate([c.audio for c in self.train_set.clips])
            self._stats = (torch.from_numpy(frames.mean(0, dtype=np.float64)).float(),
                           torch.from_numpy(frames.std(0, dtype=np.float64)).float())
        return self._stats

    def frames(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Every training frame: expression ``(N, E)``, jaw ``(N, 3)``."""
        clips = self.train_set.clips
        return (torch.from_numpy(np.concatenate([c.expression for c in clips])),
                torch.from_numpy(np.concatenate([c.jaw for c in clips])))

    def describe(self) -> dict[str, Any]:
        """Feature settings an inference pipeline must reproduce (goes into the export manifest)."""
        return {"audio_features": self.features.audio_features, "n_mels": self.features.n_mels,
                "fps": self.features.fps, "loudness_lufs": self.features.loudness_lufs,
                "window": self.window, "num_expressions": self.num_expressions,
                "root": str(Path(self.root))}
