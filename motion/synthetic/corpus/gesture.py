"""Gesture planning: prosodic beats -> arm parameter tracks for both arms.

A gesture phrase follows Kendon's (1980) structure: preparation (rest -> gesture space),
one stroke per beat, a post-stroke hold, retraction to rest. Keyframes sit at stroke
ends (= beats) and are joined by minimum-jerk segments, so arm speed has a minimum
exactly on each beat (the "motion beat" of the BEAT/EMAGE beat-consistency metric).
Between beats the hand lifts and strikes down again (a bump whose apex position sets
how sharp the downstroke is); circular (metaphoric) gestures loop once per beat
interval, with the loop's angular speed also zero on the beats.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from motion.synthetic.corpus.arms import ARM_DIM, clamp_params, hand_weights
from motion.synthetic.corpus.curves import bump, keyframe_track, min_jerk
from motion.synthetic.corpus.emotions import EmotionProfile
from motion.synthetic.corpus.prosody import Beat
from motion.synthetic.corpus.speakers import GESTURE_TYPES, Speaker

# Emotion -> extra preference for each gesture kind (beat, presentation, pointing, circular):
# anger points and beats, joy presents and draws, sadness makes small beats, surprise
# and disgust (palm-out push) use open-hand presentation.
_KIND_BIAS: Final[dict[str, tuple[float, float, float, float]]] = {
    "neutral": (0, 0, 0, 0), "happy": (0, 0.3, 0, 0.2), "sad": (0.4, 0, 0, 0),
    "surprised": (0, 0.5, 0, 0), "fear": (0.4, 0, 0, 0), "disgusted": (0, 0.6, 0, 0),
    "angry": (0.3, 0, 0.4, 0), "contempt": (0.2, 0.2, 0, 0),
}


#: Shortest preparation (s) before a first stroke; quicker would be a jerk, not a gesture.
MIN_PREP: Final[float] = 0.3


@dataclass(frozen=True)
class Phrase:
    """A planned gesture phrase: its beats, gesture kind and arms (``left``/``right``/``both``)."""

    beats: tuple[Beat, ...]
    kind: str
    hands: str


def rest_params(speaker: Speaker, prof: EmotionProfile) -> np.ndarray:
    """``(11,)`` resting arm parameters (left-arm convention)."""
    elbow = speaker.rest_elbow + prof.arm_raise
    front = min(elbow / 1.2, 1.5)
    p = np.zeros(ARM_DIM)
    p[0] = 0.17 + 0.5 * prof.arm_open
    p[1] = 0.08 + 0.15 * front + 0.3 * max(prof.arm_raise, 0.0)
    p[2] = -0.3 * front
    p[3] = elbow
    p[5] = 0.1
    p[7:11] = 0.7 * hand_weights("relaxed") + 0.3 * hand_weights(
        prof.hand if prof.hand == "fist" else "relaxed")
    return clamp_params(p)


def _stroke_pose(kind: str, emotion: str, rest: np.ndarray, amp: float, prof: EmotionProfile,
                 rng: np.random.Generator, alt: float) -> np.ndarray:
    """Stroke-end pose of one beat; ``alt`` = +-1 alternates the placement beat to beat."""
    u = rng.uniform(-1.0, 1.0, 4)
    p = rest.copy()
    hand = prof.hand
    if kind == "beat":
        p[:7] = [rest[0] + 0.12 * amp * (0.5 + 0.5 * u[0]), 0.25 + 0.15 * amp + 0.08 * u[1],
                 -0.1 + 0.2 * alt + 0.1 * u[2], 1.15 + 0.15 * u[3], -0.3, 0.1, 0.0]
    elif kind == "presentation":
        hand = "open"
        p[:7] = [rest[0] + 0.2 * amp, 0.35 + 0.15 * amp + 0.05 * u[1],
                 0.3 * amp + 0.1 * alt, 1.0 + 0.1 * u[3], -1.1, -0.2, 0.0]
        if emotion == "disgusted":  # palm-out push away from the body
            p[4], p[5], p[1] = 0.6, -0.7, p[1] + 0.15
    elif kind == "pointing":
        hand = "point"
        p[:7] = [0.25 + 0.05 * u[0], 0.55 + 0.25 * amp + 0.05 * u[1], -0.2 + 0.15 * alt,
                 0.55 + 0.1 * u[3], -0.1, 0.0, 0.0]
    else:  # circular
        hand = "open" if hand != "fist" else "relaxed"
        p[:7] = [0.3 + 0.1 * amp, 0.35 + 0.1 * amp, 0.05 * alt, 1.1 + 0.1 * u[3], -0.6, 0.0, 0.0]
    p[7:11] = hand_weights(hand)
    return clamp_params(p)


def plan_phrases(phrases: list[list[Beat]], speaker: Speaker, emotion: str,
                 rng: np.random.Generator, arousal: float) -> list[Phrase]:
    """Pick a gesture kind and hands for each phrase from the speaker's style and emotion."""
    out: list[Phrase] = []
    bias = np.asarray(_KIND_BIAS[emotion])
    for beats in phrases:
        w = np.asarray(speaker.gestures) + bias + 1e-3
        kind = GESTURE_TYPES[int(rng.choice(len(w), p=w / w.sum()))]
        p_both = {"both": 0.65, "right": 0.2, "left": 0.2}[speaker.handedness]
        p_both = float(np.clip(p_both + 0.3 * (arousal - 0.4), 0.05, 0.9))
        r = rng.uniform()
        if r < p_both:
            hands = "both"
        elif speaker.handedness == "both":
            hands = "right" if rng.uniform() < 0.55 else "left"
        else:
            dominant = speaker.handedness
            hands = dominant if rng.uniform() < 0.93 else ("left" if dominant == "right" else "right")
        out.append(Phrase(tuple(beats), kind, hands))
    return out


def arm_tracks(phrases: list[Phrase], t: np.ndarray, speaker: Speaker, prof: EmotionProfile,
               emotion: str, rng: np.random.Generator) -> np.ndarray:
    """``(T, 2, 11)`` parameters of the left (0) and right (1) arm over frame times ``t``."""
    rest = rest_params(speaker, prof)
    amp = min(speaker.amplitude * prof.amp, 1.8)
    pace = prof.speed / speaker.tempo  # > 1 = slower
    prep = float(np.clip(0.5 * pace, 0.35, 0.8))
    hold = float(np.clip(0.2 * pace, 0.08, 0.4))
    retract = float(np.clip(0.6 * pace, 0.45, 1.1))
    keys: list[list[tuple[float, np.ndarray]]] = [[(0.0, rest)], [(0.0, rest)]]
    overlay = np.zeros((len(t), 2, ARM_DIM))
    for n, ph in enumerate(phrases):
        arms = [0, 1] if ph.hands == "both" else [0 if ph.hands == "left" else 1]
        for arm in arms:
            dominant = (arm == 1) == (speaker.handedness != "left")
            gain = 1.0 if len(arms) == 1 or dominant else 0.85
            earliest = keys[arm][-1][0] + 0.12
            # beats too early to prepare for (< MIN_PREP after the arm is free) are skipped
            beats = [b for b in ph.beats if b.time - earliest >= MIN_PREP]
            if not beats:
                continue
            bn = beats[-1].time
            t_prep = max(beats[0].time - prep, earliest, 0.0)
            keys[arm].append((t_prep, keys[arm][-1][1]))
            times = [t_prep] + [b.time for b in beats]
            for i, b in enumerate(beats):
                pose = _stroke_pose(ph.kind, emotion, rest, amp * gain, prof, rng, (-1.0) ** i)
                keys[arm].append((b.time, pose))
                strength = 0.6 + 0.4 * min(b.strength, 1.5)
                _add_stroke(overlay[:, arm], t, times[i], times[i + 1], ph.kind,
                            amp * gain * strength, prof.sharpness, prep=i == 0)
            keys[arm].append((bn + hold, keys[arm][-1][1]))
            # retract unless this arm's next phrase starts preparing before it could finish
            nxt = next((q for q in phrases[n + 1:] if q.hands in ("both", ("left", "right")[arm])), None)
            if nxt is None or nxt.beats[0].time - prep > bn + hold + retract + 0.1:
                keys[arm].append((bn + hold + retract, rest))
    out = np.empty((len(t), 2, ARM_DIM))
    for arm in (0, 1):
        ks = _dedupe(keys[arm])
        out[:, arm] = keyframe_track(np.array([k[0] for k in ks]), np.stack([k[1] for k in ks]), t)
    return clamp_params(out + overlay)


def _dedupe(keys: list[tuple[float, np.ndarray]]) -> list[tuple[float, np.ndarray]]:
    """Drop keyframes not strictly later than the previous one (keeps the earlier)."""
    out: list[tuple[float, np.ndarray]] = []
    for k in keys:
        if not out or k[0] > out[-1][0] + 1e-6:
            out.append(k)
    return out


def _add_stroke(overlay: np.ndarray, t: np.ndarray, s0: float, s1: float, kind: str,
                amp: float, sharpness: float, prep: bool = False) -> None:
    """Add the lift-and-strike (or loop) between two stroke ends into ``overlay`` (T, 11)."""
    if kind == "circular":
        if prep:
            return  # loops run between strokes; the preparation just reaches the space
        phi = 2 * np.pi * min_jerk((t - s0) / max(s1 - s0, 1e-6))
        inside = (t > s0) & (t < s1)
        r = 0.12 * amp * min(1.0, (s1 - s0) / 0.5)
        overlay[inside, 0] += r * np.sin(phi[inside])
        overlay[inside, 1] += 0.8 * r * (1 - np.cos(phi[inside]))
        overlay[inside, 3] += 0.5 * r * np.sin(phi[inside])
        return
    dt = s1 - s0
    # downstroke = the last (1 - sharpness) of the interval, but never under 0.14 s
    # (fast human strokes take ~0.1-0.2 s); short intervals get smaller lifts
    down = max((1.0 - sharpness) * dt, min(0.14, 0.6 * dt))
    lift = {"beat": 0.28, "presentation": 0.18, "pointing": 0.3}[kind] * amp * min(1.0, dt / 0.45)
    b = bump(t, s0, s1 - down, s1)
    overlay[:, 3] += lift * b  # forearm rises (elbow flexes) then strikes down on the beat
    overlay[:, 1] += 0.3 * lift * b
    if kind != "pointing":
        overlay[:, 5] -= 0.5 * lift * b  # wrist cocks back during the lift
