"""Prosodic beats: where in the speech gesture strokes and head nods land.

Beat gestures and head nods co-occur with pitch accents, i.e. stressed syllables
(McNeill 1992; Loehr 2004: gesture apexes align with pitch-accented syllables within
about +-0.1 s). espeak marks lexical stress in its phoneme mnemonics (``'`` primary,
``,`` secondary) and puts a pitch accent on primary-stressed syllables, so candidate
beats are the onsets of stressed vowels. Each candidate is weighted by its stress
level, the vowel's loudness in the synthesised audio, and a boost for the last accent
of a phrase (the nuclear accent, the most prominent one in English intonation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from motion.synthetic.tts.phonemes import is_pause, is_vowel, split_stress


@dataclass(frozen=True)
class Beat:
    """A prosodic beat: ``time`` (s, in the clip's timeline) and ``strength`` in (0, ~1.5]."""

    time: float
    strength: float


def _rms(samples: np.ndarray, sr: int, t0: float, t1: float) -> float:
    a, b = int(t0 * sr), max(int(t1 * sr), int(t0 * sr) + 1)
    seg = samples[a:b]
    return float(np.sqrt(np.mean(seg.astype(np.float64) ** 2))) if len(seg) else 0.0


def candidate_beats(
    phonemes: Sequence[tuple[str, float, float]],
    samples: np.ndarray,
    sr: int,
    lead: float = 0.0,
) -> list[Beat]:
    """Stressed-vowel onsets as weighted beat candidates.

    Args:
        phonemes: ``(symbol, start_s, end_s)`` in the audio's timeline.
        samples: ``(N,)`` audio used for loudness weighting.
        sr: its sample rate.
        lead: shift of every beat (s); negative = before the vowel onset.

    Returns:
        Beats in time order.
    """
    vowels = [(sym, s, e) for sym, s, e in phonemes if is_vowel(sym)]
    if not vowels:
        return []
    loud = np.array([_rms(samples, sr, s, e) for _, s, e in vowels])
    loud = loud / max(float(loud.max()), 1e-9)
    # the last stressed vowel before each pause (or the end) carries the nuclear accent
    nuclear: set[int] = set()
    last: int | None = None
    vi = 0
    for sym, s, e in phonemes:
        if is_pause(sym):
            if last is not None:
                nuclear.add(last)
            last = None
        elif is_vowel(sym):
            if split_stress(sym)[1] == 2:
                last = vi
            vi += 1
    if last is not None:
        nuclear.add(last)
    out: list[Beat] = []
    for i, (sym, s, _e) in enumerate(vowels):
        stress = split_stress(sym)[1]
        if stress == 0:
            continue
        w = (1.0 if stress == 2 else 0.5) * (0.5 + 0.5 * loud[i])
        if i in nuclear:
            w *= 1.3
        out.append(Beat(s + lead, float(w)))
    return out


def select_beats(
    candidates: Sequence[Beat],
    density: float,
    min_gap: float,
    t_min: float,
    t_max: float,
) -> list[Beat]:
    """Keep the strongest candidates at least ``min_gap`` apart.

    Args:
        candidates: beat candidates.
        density: fraction of candidates to keep (the strongest first; at least one).
        min_gap: minimum spacing of kept beats (s); a stroke needs time to prepare.
        t_min, t_max: kept beats lie in this window.

    Returns:
        Selected beats in time order.
    """
    pool = [b for b in candidates if t_min <= b.time <= t_max]
    if not pool:
        return []
    want = max(1, round(density * len(pool)))
    kept: list[Beat] = []
    for b in sorted(pool, key=lambda b: (-b.strength, b.time)):
        if all(abs(b.time - k.time) >= min_gap for k in kept):
            kept.append(b)
        if len(kept) >= want:
            break
    return sorted(kept, key=lambda b: b.time)


def group_phrases(beats: Sequence[Beat], max_gap: float) -> list[list[Beat]]:
    """Split beats into gesture phrases where consecutive beats are > ``max_gap`` apart."""
    phrases: list[list[Beat]] = []
    for b in beats:
        if phrases and b.time - phrases[-1][-1].time <= max_gap:
            phrases[-1].append(b)
        else:
            phrases.append([b])
    return phrases
