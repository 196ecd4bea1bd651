"""Phoneme timings -> mouth channels (jaw opening + lip coefficients) with coarticulation.

Coarticulation follows Cohen & Massaro's (1993) dominance model: every phoneme pulls
each mouth channel toward its target with a dominance ``a * exp(-|t - c| / tau)``
around its centre ``c``; the channel value is the dominance-weighted mean of targets.
A phoneme that does not care about a channel (an alveolar about lip rounding) has low
dominance there, so neighbours' values carry over (anticipatory rounding). Bilabials
(p, b, m) must close the lips: after blending, every frame inside a bilabial (and the
frame nearest its middle) is forced to lips-pressed = 1 and jaw closed, with short
minimum-jerk ramps in and out (40 ms lips, 70 ms jaw), so closure is exact on the phoneme
yet smooth around it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np

from motion.synthetic.corpus.curves import min_jerk
from motion.synthetic.tts.phonemes import split_stress, viseme_class

#: Mouth channels produced here (``jaw`` is an opening angle in radians, the rest
#: are expression coefficients by semantic name, see :mod:`.expressions`).
MOUTH_CHANNELS: Final[tuple[str, ...]] = (
    "jaw", "lips_press", "lip_pucker", "lip_funnel", "upper_lip_raise", "lower_lip_depress",
    "mouth_stretch", "lips_part", "smile",
)
#: Jaw opening (rad) at or below which the mouth counts as closed.
JAW_CLOSED: Final[float] = 0.01
#: Ramps into and out of a bilabial closure (s): the lips seal and release faster than
#: the jaw travels (lip release ~30-50 ms; jaw cycles ~100 ms+).
LIP_RAMP: Final[float] = 0.04
JAW_RAMP: Final[float] = 0.07

# class -> (targets, dominance, spread tau in s)
_VISEMES: Final[dict[str, tuple[dict[str, float], float, float]]] = {
    "pause": ({"jaw": 0.015, "lips_press": 0.25}, 0.35, 0.08),
    "bilabial": ({"jaw": 0.0, "lips_press": 1.0}, 1.0, 0.05),
    "labiodental": ({"jaw": 0.04, "upper_lip_raise": 0.35, "lips_press": 0.35}, 0.9, 0.05),
    "dental": ({"jaw": 0.07, "lips_part": 0.45, "lips_press": 0.0}, 0.6, 0.05),
    "alveolar": ({"jaw": 0.06, "lips_part": 0.35}, 0.45, 0.045),
    "postalveolar": ({"jaw": 0.06, "lip_funnel": 0.6, "lip_pucker": 0.25, "lips_part": 0.3,
                      "lips_press": 0.0}, 0.8, 0.06),
    "velar": ({"jaw": 0.08, "lips_part": 0.35, "lips_press": 0.0}, 0.4, 0.045),
    "glide_w": ({"jaw": 0.05, "lip_pucker": 0.9, "lip_funnel": 0.3, "lips_press": 0.0}, 0.9, 0.07),
    "glide_j": ({"jaw": 0.06, "mouth_stretch": 0.3, "smile": 0.15, "lips_part": 0.3,
                 "lips_press": 0.0}, 0.6, 0.05),
    # vowels open the lips: they dominate lips_press (target 0) as strongly as the jaw
    "open": ({"jaw": 0.21, "lips_part": 0.7, "lower_lip_depress": 0.35, "lips_press": 0.0}, 1.0, 0.07),
    "mid": ({"jaw": 0.14, "lips_part": 0.55, "lower_lip_depress": 0.15, "lips_press": 0.0}, 0.9, 0.06),
    "close": ({"jaw": 0.07, "lips_part": 0.4, "mouth_stretch": 0.35, "lips_press": 0.0}, 0.8, 0.06),
    "rounded": ({"jaw": 0.11, "lip_pucker": 0.6, "lip_funnel": 0.6, "lips_part": 0.35,
                 "lips_press": 0.0}, 0.9, 0.09),
}
# At a closure: channel -> (value it is blended to, or None = scaled by the factor).
_CLOSED: Final[dict[str, tuple[float | None, float]]] = {
    "jaw": (0.0, 0.0), "lips_press": (1.0, 0.0), "lips_part": (0.0, 0.0),
    "lower_lip_depress": (0.0, 0.0), "upper_lip_raise": (None, 0.3),
    "mouth_stretch": (None, 0.5), "lip_funnel": (None, 0.5),
}


def mouth_tracks(
    phonemes: Sequence[tuple[str, float, float]],
    t: np.ndarray,
    articulation: float = 1.0,
) -> dict[str, np.ndarray]:
    """Coarticulated mouth channels (closures not yet enforced).

    Args:
        phonemes: ``(symbol, start_s, end_s)`` in the clip timeline.
        t: ``(T,)`` frame times.
        articulation: scales jaw opening and lip shapes (emotion: sad < 1 < angry).

    Returns:
        ``{channel: (T,)}`` for :data:`MOUTH_CHANNELS`.
    """
    C = len(MOUTH_CHANNELS)
    rest_target = np.zeros(C)
    rest_target[0], rest_target[1] = 0.015, 0.25
    num = np.tile(rest_target * 0.02, (len(t), 1))
    den = np.full((len(t), C), 0.02)
    for sym, s, e in phonemes:
        cls = viseme_class(sym)
        targets, alpha, tau = _VISEMES[cls]
        stress = split_stress(sym)[1]
        target = np.zeros(C)
        dom = np.full(C, 0.25 * alpha)
        for name, v in targets.items():
            k = MOUTH_CHANNELS.index(name)
            target[k], dom[k] = v, alpha
        dom[0] = alpha  # every phoneme has a say on the jaw
        if cls in ("open", "mid", "close", "rounded"):
            target[0] *= 1.15 if stress == 2 else (1.0 if stress == 1 else 0.85)
        if cls != "bilabial":
            target[0] *= articulation
            target[2:] *= articulation
        c = 0.5 * (s + e)
        w = np.exp(-np.abs(t - c) / (tau + 0.25 * max(e - s, 0.0)))[:, None] * dom[None, :]
        num += w * target[None, :]
        den += w
    vals = num / den
    return {name: vals[:, k] for k, name in enumerate(MOUTH_CHANNELS)}


def closure_weight(
    phonemes: Sequence[tuple[str, float, float]], t: np.ndarray, fps: float, ramp: float
) -> np.ndarray:
    """``(T,)`` closure weight: 1 on every frame inside a bilabial (and on the frame
    nearest its middle, for bilabials shorter than a frame), ramping to 0 outside."""
    w = np.zeros(len(t))
    for sym, s, e in phonemes:
        if viseme_class(sym) != "bilabial":
            continue
        d = np.where(t < s, s - t, np.where(t > e, t - e, 0.0))
        w = np.maximum(w, 1.0 - min_jerk(d / ramp))
        w[int(np.clip(round(0.5 * (s + e) * fps), 0, len(t) - 1))] = 1.0
    return w


def apply_closures(channels: dict[str, np.ndarray], phonemes: Sequence[tuple[str, float, float]],
                   t: np.ndarray, fps: float) -> None:
    """Blend channels toward a closed mouth around every bilabial (in place).

    Exact (lips pressed = 1, jaw = 0) on every frame inside a bilabial.
    """
    weights = {ramp: closure_weight(phonemes, t, fps, ramp) for ramp in (LIP_RAMP, JAW_RAMP)}
    for name, (value, factor) in _CLOSED.items():
        if name not in channels:
            continue
        w = weights[JAW_RAMP if name == "jaw" else LIP_RAMP]
        x = channels[name]
        goal = np.full_like(x, value) if value is not None else x * factor
        channels[name] = (1.0 - w) * x + w * goal
