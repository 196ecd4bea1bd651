"""Fixed-length training windows over cached clip features, alone or with content partners.

:class:`WindowDataset` items (``N`` = window frames, ``F`` audio features, ``D = 315``)::

    audio (N, F) float32    motion (N, D) float32
    emotion () long  -1 = unknown      speaker () long  -1 = unknown
    intensity () float  -1 = unknown

:class:`PairWindowDataset` items hold a 2 x 2 grid of the *same sentence* (AMUSE: two actors
x two takes) along a new leading axis of 4, every partner time-warped onto the anchor's
window (:mod:`motion.data.alignment`)::

    index 0: anchor A (speaker s1, emotion e1)     index 1: B (s1, e2)
    index 2: C (s2, e1)                            index 3: D (s2, e2)
    has_speaker_pair () bool   has_emotion_pair () bool

When no second speaker (or emotion) says the sentence, the missing clips repeat the ones
present and the flag is False, so the losses that need the pair can mask themselves out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

from motion.data.alignment import Word, frame_map, warp
from motion.data.beat2_dataset import Beat2Record
from motion.data.feature_cache import ClipFeatures
from motion.types import EMOTIONS


@dataclass(frozen=True)
class ClipLabels:
    """Labels of one clip (-1 = unknown) and its sentence key (None = unknown)."""

    emotion: int
    speaker: int
    intensity: float
    sentence: str | None

    @classmethod
    def from_record(cls, rec: Beat2Record) -> ClipLabels:
        """Labels from a record; real BEAT2 speech ids (kind 0) share a sentence key per
        recording number (*unverified*: assumes BEAT speakers read the same scripts)."""
        sentence: str | None = None
        if rec.sentence_id is not None:
            sentence = f"s{rec.sentence_id}"
        else:
            parts = rec.id.split("_")
            if len(parts) == 5 and parts[2] == "0":
                sentence = f"beat_{parts[3]}_{parts[4]}"
        return cls(EMOTIONS.index(rec.emotion) if rec.emotion else -1,
                   rec.speaker_id if rec.speaker_id is not None else -1,
                   float(rec.intensity) if rec.intensity is not None else -1.0, sentence)


class WindowDataset(Dataset):
    """Windows of ``window`` frames every ``hop`` frames; shorter clips are skipped."""

    def __init__(self, clips: list[ClipFeatures], labels: list[ClipLabels], window: int,
                 hop: int) -> None:
        if window < 1 or hop < 1:
            raise ValueError(f"window and hop must be >= 1, got {window}, {hop}")
        self.clips, self.labels, self.window = clips, labels, window
        self.index = [(c, s) for c, clip in enumerate(clips)
                      for s in range(0, clip.num_frames - window + 1, hop)]
        if clips and not self.index:
            longest = max(c.num_frames for c in clips)
            raise ValueError(f"no clip is as long as the window ({window} frames; the longest "
                             f"has {longest}); lower data.window")

    def __len__(self) -> int:
        return len(self.index)

    def _item(self, clip: int, start: int, positions: np.ndarray | None = None) -> dict[str, torch.Tensor]:
        feats, lab = self.clips[clip], self.labels[clip]
        if positions is None:
            sl = slice(start, start + self.window)
            audio, motion = feats.audio[sl], feats.motion[sl]
        else:
            audio, motion = warp(feats.audio, positions), warp(feats.motion, positions)
        return {"audio": torch.from_numpy(np.ascontiguousarray(audio)),
                "motion": torch.from_numpy(np.ascontiguousarray(motion)),
                "emotion": torch.tensor(lab.emotion, dtype=torch.long),
                "speaker": torch.tensor(lab.speaker, dtype=torch.long),
                "intensity": torch.tensor(lab.intensity, dtype=torch.float32)}

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return self._item(*self.index[i])


class PairWindowDataset(WindowDataset):
    """Windows with same-sentence partners (module docstring); partners drawn at random."""

    def __init__(self, clips: list[ClipFeatures], labels: list[ClipLabels], window: int,
                 hop: int, words: list[list[Word] | None], fps: float) -> None:
        super().__init__(clips, labels, window, hop)
        self.words, self.fps = words, fps
        self.groups: dict[str, list[int]] = defaultdict(list)
        for c, lab in enumerate(labels):
            if lab.sentence is not None:
                self.groups[lab.sentence].append(c)
        self._maps: dict[tuple[int, int], np.ndarray] = {}

    def _map(self, a: int, b: int) -> np.ndarray:
        """Fractional frames of clip b at every frame of clip a (memoised)."""
        if (a, b) not in self._maps:
            self._maps[(a, b)] = frame_map(self.words[a], self.words[b], self.clips[a].num_frames,
                                           self.clips[b].num_frames, self.fps)
        return self._maps[(a, b)]

    @staticmethod
    def _pick(options: list[int]) -> int:
        return options[int(torch.randint(len(options), ()).item())]

    def partners(self, a: int) -> tuple[int, int, int, bool, bool]:
        """Clip indices (B, C, D) for anchor ``a`` and the two pair flags."""
        lab = self.labels[a]
        group = self.groups.get(lab.sentence, []) if lab.sentence is not None else []
        by_se: dict[tuple[int, int], list[int]] = defaultdict(list)
        for c in group:
            by_se[(self.labels[c].speaker, self.labels[c].emotion)].append(c)
        for key, cs in by_se.items():  # prefer partners at the anchor's intensity
            same = [c for c in cs if self.labels[c].intensity == lab.intensity]
            by_se[key] = same or cs
        s1, e1 = lab.speaker, lab.emotion
        speakers = sorted({s for s, e in by_se if s != s1 and e == e1})
        emotions = sorted({e for s, e in by_se if s == s1 and e != e1})
        s2 = self._pick(speakers) if speakers else None
        common = [e for e in emotions if s2 is None or (s2, e) in by_se]
        if s2 is not None and common:
            e2 = self._pick(common)
            return (self._pick(by_se[(s1, e2)]), self._pick(by_se[(s2, e1)]),
                    self._pick(by_se[(s2, e2)]), True, True)
        if s2 is not None:
            c = self._pick(by_se[(s2, e1)])
            return a, c, c, True, False
        if emotions:
            b = self._pick(by_se[(s1, self._pick(emotions))])
            return b, a, b, False, True
        return a, a, a, False, False

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        a, start = self.index[i]
        b, c, d, has_spk, has_emo = self.partners(a)
        items = [self._item(a, start)]
        for p in (b, c, d):
            if p == a:
                items.append(items[0])
            else:
                items.append(self._item(p, 0, self._map(a, p)[start:start + self.window]))
        out = {k: torch.stack([it[k] for it in items]) for k in items[0]}
        out["has_speaker_pair"] = torch.tensor(has_spk)
        out["has_emotion_pair"] = torch.tensor(has_emo)
        return out
