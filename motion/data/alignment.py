"""Time alignment between two recordings of the same sentence (for content pairs).

AMUSE's content-alignment and cross-reconstruction losses compare two speakers saying the
same take frame by frame. Different speakers and emotions speak at different speeds, so
here the partner clip is *time-warped* onto the anchor's timeline: a piecewise-linear map
through the matching word boundaries (TextGrid ``words`` tier, or our ``phonemes/*.json``),
falling back to a uniform stretch when the word lists do not match or are missing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from motion.data.beat2_dataset import Beat2Record, read_textgrid

Word = tuple[float, float, str]
_NON_ALNUM = re.compile(r"[^a-z0-9']+")


def _norm(word: str) -> str:
    return _NON_ALNUM.sub("", word.lower())


def load_words(rec: Beat2Record) -> list[Word] | None:
    """Non-empty words ``(start_s, end_s, word)`` of a clip, or None without timings."""
    words: list[Word] = []
    if rec.textgrid is not None:
        tiers = read_textgrid(rec.textgrid)
        tier = tiers.get("words") or next(iter(tiers.values()), [])
        words = [(a, b, _norm(t)) for a, b, t in tier if _norm(t)]
    elif rec.phonemes is not None:
        data = json.loads(Path(rec.phonemes).read_text(encoding="utf-8"))
        words = [(float(w["start"]), float(w["end"]), _norm(str(w["word"])))
                 for w in data.get("words", []) if _norm(str(w["word"]))]
    return words or None


def frame_map(words_a: list[Word] | None, words_b: list[Word] | None, frames_a: int,
              frames_b: int, fps: float) -> np.ndarray:
    """Fractional frame of clip b at each frame of clip a.

    Anchors are (0, 0), the start and end of every word (when both clips have the same
    words in the same order) and the two ends; times in between are interpolated linearly.

    Returns:
        ``(frames_a,)`` float64 positions in ``[0, frames_b - 1]``.
    """
    dur_a, dur_b = frames_a / fps, frames_b / fps
    src, dst = [0.0], [0.0]
    if words_a and words_b and [w for *_, w in words_a] == [w for *_, w in words_b]:
        for (sa, ea, _), (sb, eb, _) in zip(words_a, words_b):
            src += [sa, ea]
            dst += [sb, eb]
    src.append(dur_a)
    dst.append(dur_b)
    s = np.maximum.accumulate(np.clip(np.asarray(src), 0.0, dur_a))
    d = np.maximum.accumulate(np.clip(np.asarray(dst), 0.0, dur_b))
    t = np.interp(np.arange(frames_a) / fps, s, d)
    return np.clip(t * fps, 0.0, max(frames_b - 1, 0))


def warp(x: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Rows of ``x`` ``(T_b, D)`` linearly interpolated at fractional ``positions`` ``(N,)``."""
    i0 = np.floor(positions).astype(np.int64)
    i1 = np.minimum(i0 + 1, x.shape[0] - 1)
    w = (positions - i0)[:, None].astype(np.float32)
    return (x[i0] * (1.0 - w) + x[i1] * w).astype(np.float32)
