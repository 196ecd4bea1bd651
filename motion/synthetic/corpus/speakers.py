"""Synthetic speakers: an espeak-ng voice plus a gesture style.

Each speaker stands for one BEAT2 actor: a distinct voice (espeak variant, base pitch)
and a consistent way of gesturing, so speaker-ID and style encoders have something to
learn (AMUSE's style encoder is trained with a speaker-ID head). Style parameters model
what varies most between real speakers in gesture studies: handedness, preferred
gesture types (beat, presentation/open palm, pointing/deictic, circular/metaphoric),
amplitude, tempo, posture (lean) and how far the hands rest from the body.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Final

import numpy as np

GESTURE_TYPES: Final[tuple[str, ...]] = ("beat", "presentation", "pointing", "circular")


@dataclass(frozen=True)
class Speaker:
    """One synthetic speaker.

    Attributes:
        speaker_id: 1-based id (the first field of BEAT2 file ids).
        name: lower-case name (the second field of BEAT2 file ids).
        voice: espeak-ng voice with variant (``"en+m3"``).
        pitch: espeak base pitch 0..100 before emotion offsets.
        rate_wpm: speaking rate before emotion scaling.
        handedness: ``"right"``, ``"left"`` or ``"both"``.
        gestures: preference weight per gesture type (:data:`GESTURE_TYPES` order).
        amplitude: gesture amplitude scale (1 = average).
        tempo: gesture tempo scale (>1 = quicker strokes, denser beats).
        lean: torso pitch in radians (+ forward).
        rest_elbow: elbow flexion of the resting arms (0 = hanging, 1.3 = hands at waist).
        head_amp: head-nod amplitude scale.
        beat_lead: stroke end relative to the stressed vowel onset, seconds (- = before).
        betas_seed: seed of the speaker's body shape (10 betas).
    """

    speaker_id: int
    name: str
    voice: str
    pitch: int
    rate_wpm: int
    handedness: str
    gestures: tuple[float, float, float, float]
    amplitude: float
    tempo: float
    lean: float
    rest_elbow: float
    head_amp: float
    beat_lead: float
    betas_seed: int = field(default=0)

    def betas(self, num: int = 300) -> np.ndarray:
        """``(num,)`` float32 body shape: 10 drawn coefficients, zeros after."""
        out = np.zeros(num, np.float32)
        rng = np.random.default_rng(self.betas_seed + 7919 * self.speaker_id)
        out[:10] = rng.normal(0.0, 0.7, 10).astype(np.float32)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly description."""
        d = asdict(self)
        d["gestures"] = dict(zip(GESTURE_TYPES, self.gestures))
        return d


#: All speakers, in id order; a corpus with N speakers uses the first N. The first two
#: are right- and left-handed so even the tiny corpus shows handedness.
SPEAKERS: Final[tuple[Speaker, ...]] = (
    Speaker(1, "adam", "en+m3", 48, 170, "right", (0.6, 0.1, 0.3, 0.0), 1.0, 1.0, 0.03, 0.25, 1.0, -0.03),
    Speaker(2, "bella", "en+f3", 55, 180, "left", (0.2, 0.5, 0.0, 0.3), 1.1, 1.1, 0.0, 0.9, 0.8, -0.01),
    Speaker(3, "carl", "en+m7", 42, 160, "both", (0.5, 0.4, 0.0, 0.1), 1.3, 0.9, -0.03, 0.35, 1.2, -0.05),
    Speaker(4, "dana", "en+f4", 60, 185, "right", (0.2, 0.3, 0.0, 0.5), 0.85, 1.2, 0.05, 1.2, 0.9, 0.0),
    Speaker(5, "eric", "en-us+m1", 50, 175, "right", (0.4, 0.0, 0.6, 0.0), 0.95, 1.05, 0.07, 0.5, 1.1, -0.02),
    Speaker(6, "fiona", "en-us+f2", 52, 165, "both", (0.2, 0.7, 0.0, 0.1), 1.2, 0.95, -0.02, 0.7, 0.7, -0.04),
    Speaker(7, "greg", "en+m1", 40, 150, "left", (0.7, 0.2, 0.1, 0.0), 0.7, 0.8, 0.09, 0.15, 1.3, -0.06),
    Speaker(8, "hana", "en-us+f5", 58, 190, "right", (0.3, 0.2, 0.1, 0.4), 1.05, 1.15, 0.0, 1.0, 1.0, 0.02),
)


def speakers(n: int) -> tuple[Speaker, ...]:
    """The first ``n`` speakers."""
    if not 1 <= n <= len(SPEAKERS):
        raise ValueError(f"number of speakers must be in [1, {len(SPEAKERS)}], got {n}")
    return SPEAKERS[:n]
