"""Face animation: visemes + emotional expression + eyebrow beats + blinks + gaze.

Outputs the ``(T, 100)`` expression coefficients, the jaw rotation (SMPL-X joint 22)
and the eye rotations (joints 23/24). Models:

* mouth: :mod:`.visemes` (dominance coarticulation, exact bilabial closures);
* emotion: FACS-prototype coefficients (:mod:`.emotions`) with slow +-12 % drift; a
  pressed-lips emotion (anger) relaxes while the jaw is open for speech;
* eyebrow raises on pitch accents (Cave et al. 1996; brows lower for anger);
* blinks: rate 10-25 /min scaled by emotion, 100-300 ms, fast close (40 %) and slower
  open, both eyes; half of them at speech pauses, where people tend to blink;
* gaze: EmoFace-style fixations of 0.6-1.6 s, 40 % back to centre, otherwise a point
  0.05-0.15 rad away, joined by 70 ms saccades; emotion biases the direction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from motion.synthetic.corpus.curves import min_jerk, smooth_noise
from motion.synthetic.corpus.emotions import EmotionProfile
from motion.synthetic.corpus.expressions import channel_indices
from motion.synthetic.corpus.prosody import Beat
from motion.synthetic.corpus.visemes import apply_closures, mouth_tracks
from motion.synthetic.tts.phonemes import is_pause
from motion.types import NUM_EXPRESSIONS


@dataclass
class FaceTracks:
    """``expression`` (T, 100), ``jaw`` (T, 3), ``eyes`` (T, 2, 3) axis-angle, ``blinks`` (s)."""

    expression: np.ndarray
    jaw: np.ndarray
    eyes: np.ndarray
    blinks: list[float]


def blink_times(phonemes: Sequence[tuple[str, float, float]], duration: float, rate: float,
                rng: np.random.Generator) -> list[float]:
    """Blink peak times: Poisson count at ``rate`` per minute (at least one in >= 2 s)."""
    n = int(rng.poisson(rate * duration / 60.0))
    if duration >= 2.0:
        n = max(n, 1)
    pauses = [0.5 * (s + e) for sym, s, e in phonemes if is_pause(sym) and e - s > 0.04]
    out: list[float] = []
    for _ in range(n * 4):
        if len(out) >= n:
            break
        if pauses and rng.uniform() < 0.5:
            c = float(pauses[int(rng.integers(len(pauses)))]) + rng.uniform(-0.1, 0.1)
        else:
            c = float(rng.uniform(0.2, max(duration - 0.2, 0.21)))
        if 0.15 <= c <= duration - 0.15 and all(abs(c - o) > 0.8 for o in out):
            out.append(c)
    return sorted(out)


def blink_curve(t: np.ndarray, peaks: Sequence[float], rng: np.random.Generator,
                fps: float) -> np.ndarray:
    """``(T,)`` eyelid closure in [0, 1]; each blink peaks at 1 on a frame."""
    out = np.zeros(len(t))
    for c in peaks:
        c = round(c * fps) / fps
        dur = float(rng.uniform(0.1, 0.3))
        close, opening = 0.4 * dur, 0.6 * dur
        rise = min_jerk((t - (c - close)) / close)
        fall = 1.0 - min_jerk((t - c) / opening)
        out = np.maximum(out, np.where(t <= c, rise, fall))
    return out


def gaze_track(t: np.ndarray, prof: EmotionProfile, rng: np.random.Generator) -> np.ndarray:
    """``(T, 2)`` gaze pitch (+ down) and yaw (+ left), radians."""
    keys_t, keys_v = [0.0], [np.array([prof.gaze_pitch, prof.gaze_yaw])]
    cur = 0.0
    end = float(t[-1]) if len(t) else 0.0
    while cur < end:
        cur += float(rng.uniform(0.6, 1.6))
        if rng.uniform() < 0.4:
            target = np.zeros(2)
        else:
            ang, rad = rng.uniform(0, 2 * np.pi), rng.uniform(0.05, 0.15)
            target = rad * np.array([0.6 * np.sin(ang), np.cos(ang)])  # vertical range smaller
        target = target + np.array([prof.gaze_pitch, prof.gaze_yaw])
        keys_t += [cur, cur + 0.07]
        keys_v += [keys_v[-1], target]
    out = np.empty((len(t), 2))
    kt = np.asarray(keys_t)
    kv = np.stack(keys_v)
    seg = np.clip(np.searchsorted(kt, t, side="right") - 1, 0, len(kt) - 2)
    s = min_jerk((t - kt[seg]) / np.maximum(kt[seg + 1] - kt[seg], 1e-9))
    out[:] = kv[seg] + (kv[seg + 1] - kv[seg]) * s[:, None]
    return out


def face_tracks(
    phonemes: Sequence[tuple[str, float, float]],
    t: np.ndarray,
    fps: float,
    prof: EmotionProfile,
    emotion: str,
    beats: Sequence[Beat],
    rng: np.random.Generator,
) -> FaceTracks:
    """All face channels of one clip over frame times ``t`` (``(T,)``)."""
    idx = channel_indices()
    T = len(t)
    expr = np.zeros((T, NUM_EXPRESSIONS))
    mouth = mouth_tracks(phonemes, t, prof.articulation)
    speech_open = np.clip(mouth["jaw"] / 0.15, 0.0, 1.0)
    # emotion expression with slow drift
    drift = 1.0 + smooth_noise(rng, T, max(len(prof.face), 1), fps, 0.8, 0.12)
    for k, (name, value) in enumerate(sorted(prof.face.items())):
        v = value * drift[:, k]
        if name == "lips_press":
            v = v * (1.0 - speech_open)
        if name in mouth:
            mouth[name] = mouth[name] + v
        else:
            expr[:, idx[name]] += v
    # eyebrows on pitch accents
    brow = np.zeros(T)
    for b in beats:
        brow += b.strength * np.exp(-0.5 * ((t - b.time + 0.05) / 0.09) ** 2)
    brow *= 0.12 + 0.25 * prof.arousal
    if emotion == "angry":
        expr[:, idx["brow_down"]] += 0.8 * brow
    else:
        expr[:, idx["brow_outer_up"]] += (0.3 if emotion == "sad" else 1.0) * brow
        expr[:, idx["brow_inner_up"]] += 0.6 * brow
    mouth["jaw"] = mouth["jaw"] + prof.jaw * (0.7 + 0.3 * speech_open)
    apply_closures(mouth, phonemes, t, fps)
    for name, v in mouth.items():
        if name != "jaw":
            expr[:, idx[name]] += v
    # blinks (eyelids also keep any emotional droop); a blink closes a widened eye too
    rate = float(rng.uniform(10.0, 25.0)) * prof.blink
    peaks = blink_times(phonemes, float(t[-1]) + 1.0 / fps if T else 0.0, rate, rng)
    blink = blink_curve(t, peaks, rng, fps)
    for side in ("blink_left", "blink_right"):
        expr[:, idx[side]] = np.maximum(expr[:, idx[side]], blink)
    expr[:, idx["eye_wide"]] *= 1.0 - blink
    expr = np.clip(expr, -1.0, 1.2)
    jaw = np.zeros((T, 3))
    jaw[:, 0] = np.clip(mouth["jaw"], 0.0, 0.45)
    gaze = gaze_track(t, prof, rng)
    eyes = np.zeros((T, 2, 3))
    eyes[:, :, 0] = gaze[:, None, 0]
    eyes[:, :, 1] = gaze[:, None, 1]
    return FaceTracks(expr.astype(np.float32), jaw, eyes, peaks)
