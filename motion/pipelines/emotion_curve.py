"""Keyframed emotion curves: the emotion of a clip changing over time (numpy only).

A curve is a list of keys, each an emotion at a time in seconds::

    0:neutral, 4.5:angry@2.5, 9:sad          # label [@ intensity 0-3, default 2]
    0:happy, 6:(0.8,0.7)                     # (valence, arousal), each in [0, 1]

Keys are separated by commas (or ``;`` / new lines); the comma inside ``(v,a)`` is part of the
key. Labels are those of :data:`motion.types.EMOTIONS` or their aliases ("anger", "joy" is not
one). Files: ``.json`` (a list of ``{"time": s, "emotion": label, "intensity": x}`` or
``{"time": s, "valence": v, "arousal": a}``, or ``{"transition": s, "keys": [...]}``) and
``.csv`` (header ``time,emotion,intensity`` or ``time,valence,arousal``; a row may leave
``intensity`` empty).

Semantics (what :meth:`EmotionCurve.sample` computes):

* each key's emotion holds from its time until the next key;
* the change into a key's emotion is a smoothstep cross-fade (``3u^2 - 2u^3``) of the emotion
  weights and the intensity over the ``transition_s`` seconds *ending at* the key's time,
  clipped at the previous key (keys closer than ``transition_s`` cross-fade over their gap;
  ``transition_s = 0``: hard cuts);
* before the first key the first key holds; after the last key the last one holds, and keys
  after the end of the audio change nothing (they are allowed, without an error).

So ``"0:sad@3, 5:happy@3"`` is sad (intensity 3) up to 4 s, fades to happy between 4 s and 5 s,
and is happy from 5 s on. A key's emotion is a weight vector ``(8,)`` over
:data:`~motion.types.EMOTIONS` (one-hot for a label), so a curve gives per-frame weights
``(T, 8)`` (summing to 1) and intensities ``(T,)``. The face decoder takes them frame by frame;
the body takes, per diffusion window, the label with the largest weight and the intensity at the
window's centre. A label's intensity defaults to 2 (as ``motion.generate(emotion=...)``); for
"neutral" it only sets the intensity code, as a neutral label does anywhere in the toolkit.

Valence / arousal keys (:func:`va_to_emotion`): the point ``(v, a)`` in ``[0, 1]^2`` (0.5, 0.5 =
neutral) is compared with fixed points of the 8 emotions on Russell's circumplex (Russell 1980,
"A circumplex model of affect", J. Pers. Soc. Psychol. 39(6)): neutral at the centre, the others
on the circle of radius 0.5 around it at the angles Russell's direct circular scaling gave the
nearest of his 28 affect words (degrees counter-clockwise from "pleasure", arousal up): happy
7.8 ("happy"), surprised 69.8 ("astonished"), angry 99.0 ("angry"), fear 116.9 ("afraid"),
sad 207.5 ("sad"). Disgust and contempt are not among Russell's words; this toolkit places them
at 137.6 (with "distressed": unpleasant, moderately aroused) and 170.0 (unpleasant, near-neutral
arousal; Scherer's 2005 Geneva wheel also puts contempt between disgust and the low-arousal
negative emotions). Weights are ``softmax(-|p - p_e| / 0.05)`` (temperature 0.05, in the
unit-square's units); the intensity is the distance from the neutral point scaled so that the
circle (distance 0.5) is 3, clipped to ``[0, 3]``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from motion.errors import MotionError
from motion.types import EMOTIONS, canonical_emotion

#: The syntax, quoted by every parsing error.
SYNTAX = ('keys "TIME:LABEL[@INTENSITY]" or "TIME:(VALENCE,AROUSAL)" separated by commas, e.g. '
          '"0:neutral, 4.5:angry@2.5, 9:sad" (time in seconds >= 0, increasing; intensity 0-3, '
          f'default 2; valence and arousal 0-1; labels: {", ".join(EMOTIONS)})')
#: Intensity of a label key written without ``@``.
DEFAULT_INTENSITY = 2.0
#: Default cross-fade into each key, seconds.
DEFAULT_TRANSITION_S = 1.0
#: Angle (degrees, counter-clockwise from "pleasure") of each emotion on the circumplex (module notes).
CIRCUMPLEX_DEG: dict[str, float] = {"happy": 7.8, "surprised": 69.8, "angry": 99.0, "fear": 116.9,
                                    "disgusted": 137.6, "contempt": 170.0, "sad": 207.5}
#: Radius of the emotion circle around the neutral point (0.5, 0.5) of the unit square.
CIRCUMPLEX_RADIUS = 0.5
#: Softmax temperature of the valence/arousal -> weights map (unit-square units).
VA_TEMPERATURE = 0.05
#: Suffixes of curve files.
CURVE_SUFFIXES = (".json", ".csv")


class EmotionCurveError(MotionError, ValueError):
    """A malformed emotion curve (text, file or keys); the message names the item and the syntax."""


def _circumplex_points() -> np.ndarray:
    """``(8, 2)`` (valence, arousal) of each of :data:`EMOTIONS` in ``[0, 1]^2`` (neutral: the centre)."""
    pts = np.full((len(EMOTIONS), 2), 0.5)
    for name, deg in CIRCUMPLEX_DEG.items():
        rad = math.radians(deg)
        pts[EMOTIONS.index(name)] = (0.5 + CIRCUMPLEX_RADIUS * math.cos(rad), 0.5 + CIRCUMPLEX_RADIUS * math.sin(rad))
    return pts


#: ``(8, 2)`` circumplex points of :data:`EMOTIONS` (module notes).
CIRCUMPLEX_POINTS: np.ndarray = _circumplex_points()


def va_to_emotion(valence: float, arousal: float) -> tuple[np.ndarray, float]:
    """``(weights (8,), intensity)`` of a valence / arousal point in ``[0, 1]^2`` (module notes).

    Raises:
        EmotionCurveError: a value outside [0, 1].
    """
    for name, x in (("valence", valence), ("arousal", arousal)):
        if not (isinstance(x, (int, float)) and not isinstance(x, bool) and 0.0 <= x <= 1.0):
            raise EmotionCurveError(f"{name} must be a number in [0, 1], got {x!r}")
    p = np.array([valence, arousal], np.float64)
    d = np.linalg.norm(CIRCUMPLEX_POINTS - p, axis=1)
    logits = -(d - d.min()) / VA_TEMPERATURE
    w = np.exp(logits)
    w /= w.sum()
    intensity = min(3.0, 3.0 * float(np.linalg.norm(p - 0.5)) / CIRCUMPLEX_RADIUS)
    return w, intensity


@dataclass(frozen=True)
class EmotionKey:
    """One key of a curve.

    Attributes:
        time_s: when the key's emotion is fully reached, seconds >= 0.
        weights: ``(8,)`` weights over :data:`EMOTIONS` (sum 1; one-hot for a label).
        intensity: 0-3 (MEAD levels 1-3, continuous).
        valence_arousal: the ``(v, a)`` point the key was given as, or None for a label.
    """

    time_s: float
    weights: tuple[float, ...]
    intensity: float = DEFAULT_INTENSITY
    valence_arousal: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        t = self.time_s
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t < 0:
            raise EmotionCurveError(f"a key's time must be a number of seconds >= 0, got {t!r}")
        w = tuple(float(x) for x in self.weights)
        if len(w) != len(EMOTIONS) or any(not math.isfinite(x) or x < 0 for x in w) or sum(w) <= 0:
            raise EmotionCurveError(f"a key's weights must be {len(EMOTIONS)} numbers >= 0 with a positive sum, "
                                    f"got {self.weights!r}")
        x = self.intensity
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not 0.0 <= x <= 3.0:
            raise EmotionCurveError(f"intensity must be a number in [0, 3] (MEAD levels 1-3), got {x!r}")
        object.__setattr__(self, "time_s", float(t))
        object.__setattr__(self, "weights", tuple(v / sum(w) for v in w))
        object.__setattr__(self, "intensity", float(x))

    @classmethod
    def label(cls, time_s: float, emotion: str, intensity: float = DEFAULT_INTENSITY) -> EmotionKey:
        """A key of one emotion label (aliases allowed)."""
        try:
            name = canonical_emotion(emotion)
        except ValueError:
            raise EmotionCurveError(f"unknown emotion {emotion!r}; choose one of: {', '.join(EMOTIONS)}") from None
        w = [0.0] * len(EMOTIONS)
        w[EMOTIONS.index(name)] = 1.0
        return cls(time_s, tuple(w), intensity)

    @classmethod
    def point(cls, time_s: float, valence: float, arousal: float) -> EmotionKey:
        """A key of a valence / arousal point (:func:`va_to_emotion`)."""
        w, intensity = va_to_emotion(valence, arousal)
        return cls(time_s, tuple(w.tolist()), intensity, (float(valence), float(arousal)))

    @property
    def emotion(self) -> str:
        """The label of the largest weight."""
        return EMOTIONS[int(np.argmax(self.weights))]

    def as_dict(self) -> dict[str, Any]:
        """The key as in a JSON file: ``{"time", "emotion", "intensity"}`` or ``{"time", "valence", "arousal"}``."""
        if self.valence_arousal is not None:
            return {"time": self.time_s, "valence": self.valence_arousal[0], "arousal": self.valence_arousal[1]}
        return {"time": self.time_s, "emotion": self.emotion, "intensity": self.intensity}


def smoothstep(u: np.ndarray) -> np.ndarray:
    """``3u^2 - 2u^3`` of ``u`` clipped to [0, 1] (0 -> 0, 1 -> 1 exactly)."""
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3.0 - 2.0 * u)


@dataclass(frozen=True)
class EmotionCurve:
    """Keys of an emotion changing over time (module notes); build with :meth:`parse`, :meth:`read`,
    :meth:`from_dicts` or from :class:`EmotionKey` s.

    Attributes:
        keys: the keys, times strictly increasing.
        transition_s: the cross-fade into each key, seconds >= 0 (default 1).
    """

    keys: tuple[EmotionKey, ...]
    transition_s: float = DEFAULT_TRANSITION_S

    def __post_init__(self) -> None:
        keys = tuple(self.keys)
        if not keys:
            raise EmotionCurveError(f"an emotion curve needs at least one key: {SYNTAX}")
        if not all(isinstance(k, EmotionKey) for k in keys):
            raise EmotionCurveError("an EmotionCurve's keys must be EmotionKey objects")
        for a, b in zip(keys, keys[1:]):
            if b.time_s <= a.time_s:
                what = "twice" if b.time_s == a.time_s else f"after {a.time_s:g} s"
                raise EmotionCurveError(f"key times must increase: {b.time_s:g} s comes {what}; "
                                        "give each key its own time, in order")
        x = self.transition_s
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) or x < 0:
            raise EmotionCurveError(f"transition must be a number of seconds >= 0, got {x!r}")
        object.__setattr__(self, "keys", keys)
        object.__setattr__(self, "transition_s", float(x))

    # ------------------------------------------------------------------ building
    @classmethod
    def parse(cls, text: str, transition_s: float = DEFAULT_TRANSITION_S) -> EmotionCurve:
        """A curve from its text, e.g. ``"0:neutral, 4.5:angry@2.5, 9:sad, 12:(0.8,0.7)"``.

        Raises:
            EmotionCurveError: empty text, a malformed key (quoted), an unknown label, a value out
                of range, or times that do not increase.
        """
        if not isinstance(text, str):
            raise EmotionCurveError(f"an emotion curve is text, got {type(text).__name__}")
        items = _split_keys(text)
        if not items:
            raise EmotionCurveError(f"the emotion curve is empty; {SYNTAX}")
        keys = tuple(_parse_key(item) for item in items)
        _check_order([k.time_s for k in keys], [f"key {item!r}" for item in items], "")
        return cls(keys, transition_s)

    @classmethod
    def from_dicts(cls, keys: Iterable[Mapping[str, Any]], transition_s: float = DEFAULT_TRANSITION_S,
                   where: str = "", item_names: Sequence[str] | None = None) -> EmotionCurve:
        """A curve from key dicts (``{"time", "emotion", "intensity"}`` or ``{"time", "valence", "arousal"}``;
        ``where`` prefixes the messages, e.g. the file name; ``item_names`` names the items in them
        (default "key 1", "key 2", ...))."""
        items = list(keys)
        names = list(item_names) if item_names is not None else [f"key {i + 1}" for i in range(len(items))]
        out = [_key_from_dict(item, f"{where}{name}") for item, name in zip(items, names)]
        if not out:
            raise EmotionCurveError(f"{where}the emotion curve has no keys; {SYNTAX}")
        _check_order([k.time_s for k in out], [f"{n} ({k.time_s:g} s)" for n, k in zip(names, out)], where)
        try:
            return cls(tuple(out), transition_s)
        except EmotionCurveError as exc:
            raise EmotionCurveError(f"{where}{exc}") from None

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> EmotionCurve:
        """A curve from a ``.json`` or ``.csv`` file (module notes).

        Raises:
            EmotionCurveError: an unreadable, empty or malformed file (the message names it).
        """
        p = Path(path)
        suffix = p.suffix.lower()
        if suffix not in CURVE_SUFFIXES:
            raise EmotionCurveError(f"{p}: an emotion-curve file is .json or .csv, not {p.suffix or 'no suffix'!r}")
        try:
            text = p.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            why = getattr(exc, "strerror", None) or str(exc)
            raise EmotionCurveError(f"cannot read the emotion-curve file {p}: {why}") from None
        where = f"{p.name}: "
        if suffix == ".json":
            return _from_json(text, where)
        return _from_csv(text, where)

    # ------------------------------------------------------------------ reading
    def sample(self, times_s: np.ndarray | Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        """``(weights (T, 8), intensity (T,))`` at ``times_s (T,)`` seconds (float64; weights sum to 1).

        Held stretches are the keys' values exactly (a label's one-hot, its intensity)."""
        t = np.asarray(times_s, np.float64).reshape(-1)
        kt = np.array([k.time_s for k in self.keys])
        kw = np.array([k.weights for k in self.keys], np.float64)  # (K, 8)
        ki = np.array([k.intensity for k in self.keys], np.float64)
        cur = np.clip(np.searchsorted(kt, t, side="right") - 1, 0, None)  # the key holding (first before it)
        weights, intensity = kw[cur].copy(), ki[cur].copy()
        nxt = cur + 1
        has_next = (nxt < len(kt)) & (t >= kt[0])
        if self.transition_s > 0 and has_next.any():
            j = nxt[has_next]
            end = kt[j]
            start = np.maximum(end - self.transition_s, kt[j - 1])
            s = smoothstep((t[has_next] - start) / (end - start))
            fading = s > 0
            if fading.any():
                rows = np.flatnonzero(has_next)[fading]
                s, j = s[fading], j[fading]
                weights[rows] = (1.0 - s)[:, None] * kw[j - 1] + s[:, None] * kw[j]
                intensity[rows] = (1.0 - s) * ki[j - 1] + s * ki[j]
        return weights, intensity

    def labels(self, times_s: np.ndarray | Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        """``(label index (T,), intensity (T,))``: the largest weight's emotion at each time."""
        w, i = self.sample(times_s)
        return w.argmax(-1), i

    def summary(self, num_frames: int, fps: float) -> tuple[str, float]:
        """The label that holds longest over ``num_frames`` frames at ``fps`` (largest weight per
        frame) and its mean intensity over those frames: what a one-label exporter records."""
        idx, inten = self.labels(np.arange(max(int(num_frames), 1)) / float(fps))
        counts = np.bincount(idx, minlength=len(EMOTIONS))
        best = int(counts.argmax())
        return EMOTIONS[best], float(inten[idx == best].mean())

    def keys_as_dicts(self) -> list[dict[str, Any]]:
        """The keys as plain dicts (JSON-ready; :meth:`from_dicts` reads them back)."""
        return [k.as_dict() for k in self.keys]

    def to_json(self) -> str:
        """The curve as a JSON file's text (``{"transition": s, "keys": [...]}``; :meth:`read` reads it)."""
        return json.dumps({"transition": self.transition_s, "keys": self.keys_as_dicts()}, indent=1)

    def __str__(self) -> str:
        parts = []
        for k in self.keys:
            if k.valence_arousal is not None:
                parts.append(f"{k.time_s:g}:({k.valence_arousal[0]:g},{k.valence_arousal[1]:g})")
            else:
                parts.append(f"{k.time_s:g}:{k.emotion}@{k.intensity:g}")
        return ", ".join(parts)


# ----------------------------------------------------------------------------- the front door's dispatch
def as_emotion(value: Any) -> str | EmotionCurve | None:
    """What ``motion.generate(emotion=...)`` and ``motion generate --emotion`` take: None, a label
    (returned canonical), an :class:`EmotionCurve`, a curve's text (it holds ':'; a Windows drive
    path ending in .json / .csv is a file), or the path of a ``.json`` / ``.csv`` curve file.

    Raises:
        EmotionCurveError: a malformed curve or curve file (the message says what and how).
        ValueError: an unknown label.
        TypeError: anything else.
    """
    if value is None or isinstance(value, EmotionCurve):
        return value
    if isinstance(value, os.PathLike) or (isinstance(value, str) and value.strip().lower().endswith(CURVE_SUFFIXES)):
        p = Path(os.fspath(value).strip())
        if p.suffix.lower() not in CURVE_SUFFIXES:
            raise EmotionCurveError(f"an emotion given as a path must be a .json or .csv curve file, got {p}")
        if not p.is_file():
            raise EmotionCurveError(f"emotion-curve file not found: {p}")
        return EmotionCurve.read(p)
    if not isinstance(value, str):
        raise TypeError(f"emotion must be a label, a curve (text, EmotionCurve, .json / .csv file) or None, "
                        f"got {type(value).__name__}")
    if not value.strip():
        raise EmotionCurveError(f"the emotion is empty: give a label ({', '.join(EMOTIONS)}) or a curve, {SYNTAX}")
    if any(c in value for c in ":@(,;") or value.strip()[0].isdigit():
        return EmotionCurve.parse(value)
    return canonical_emotion(value)


def curve_meta(curve: EmotionCurve, num_frames: int, fps: float) -> tuple[str, float, dict[str, Any]]:
    """``(emotion, intensity, extra)`` a motion made with ``curve`` records: the longest-held
    label, its mean intensity, and ``extra`` = ``{"emotion_source": "curve", "emotion_curve":
    [key dicts], "emotion_transition_s": s}``."""
    label, intensity = curve.summary(num_frames, fps)
    return label, intensity, {"emotion_source": "curve", "emotion_curve": curve.keys_as_dicts(),
                              "emotion_transition_s": curve.transition_s}


def curve_of_meta(extra: Mapping[str, Any]) -> EmotionCurve | None:
    """The curve a motion's ``meta.extra`` records (:func:`curve_meta`), or None."""
    keys = extra.get("emotion_curve")
    if not keys:
        return None
    return EmotionCurve.from_dicts(keys, float(extra.get("emotion_transition_s", DEFAULT_TRANSITION_S)))


# ----------------------------------------------------------------------------- parsing
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_VA = re.compile(rf"^\(\s*({_NUMBER})\s*,\s*({_NUMBER})\s*\)$")
_LABEL = re.compile(rf"^([A-Za-z_]+)\s*(?:@\s*({_NUMBER}))?$")
_TIME = re.compile(rf"^({_NUMBER})\s*s?$")


def _check_order(times: Sequence[float], names: Sequence[str], where: str) -> None:
    """Raise unless ``times`` strictly increase, naming the two keys (``names``) that do not."""
    for i in range(1, len(times)):
        if times[i] <= times[i - 1]:
            how = "at the same time as" if times[i] == times[i - 1] else "earlier than"
            raise EmotionCurveError(f"{where}{names[i]} is {how} the key before it, {names[i - 1]}: "
                                    "key times must increase (each key its own time, in order)")


def _split_keys(text: str) -> list[str]:
    """The key items of ``text``: split at ``,`` ``;`` and new lines outside parentheses."""
    items, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch in ",;\n" and depth <= 0:
            items.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    items.append("".join(cur))
    return [s.strip() for s in items if s.strip()]


def _parse_key(item: str) -> EmotionKey:
    """One ``TIME:LABEL[@INTENSITY]`` or ``TIME:(V,A)`` item."""
    if ":" not in item:
        raise EmotionCurveError(f"malformed key {item!r}: no ':' between time and emotion; {SYNTAX}")
    when, what = (s.strip() for s in item.split(":", 1))
    tm = _TIME.match(when)
    if not tm:
        raise EmotionCurveError(f"malformed key {item!r}: {when!r} is not a time in seconds; {SYNTAX}")
    t = float(tm.group(1))
    if t < 0:
        raise EmotionCurveError(f"key {item!r}: time {t:g} s is negative; times are seconds >= 0")
    va = _VA.match(what)
    try:
        if va:
            return EmotionKey.point(t, float(va.group(1)), float(va.group(2)))
        if what.startswith("("):
            raise EmotionCurveError(f"malformed key {item!r}: a valence/arousal point is written (V,A), e.g. "
                                    "6:(0.8,0.7), and sets its own intensity (no @)")
        lm = _LABEL.match(what)
        if not lm:
            raise EmotionCurveError(f"malformed key {item!r}: {what!r} is not LABEL or LABEL@INTENSITY; {SYNTAX}")
        intensity = float(lm.group(2)) if lm.group(2) is not None else DEFAULT_INTENSITY
        return EmotionKey.label(t, lm.group(1), intensity)
    except EmotionCurveError as exc:
        if repr(item) in str(exc):
            raise
        raise EmotionCurveError(f"key {item!r}: {exc}") from None


def _number(value: Any, name: str, where: str) -> float:
    """``value`` (number or numeric text) as a float, else an error naming ``name`` at ``where``."""
    if isinstance(value, bool):
        value = None
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise EmotionCurveError(f"{where}: {name} must be a number, got {value!r}") from None
    if not math.isfinite(x):
        raise EmotionCurveError(f"{where}: {name} must be a finite number, got {value!r}")
    return x


def _key_from_dict(item: Any, where: str) -> EmotionKey:
    """One key from ``{"time", "emotion"[, "intensity"]}`` or ``{"time", "valence", "arousal"}``."""
    expected = ('{"time": s, "emotion": label, "intensity": x} or {"time": s, "valence": v, "arousal": a}')
    if not isinstance(item, Mapping):
        raise EmotionCurveError(f"{where}: {item!r} is not a key; expected {expected}")
    keys = {str(k).strip().lower(): v for k, v in item.items()}
    unknown = sorted(set(keys) - {"time", "emotion", "intensity", "valence", "arousal"})
    if "time" not in keys or unknown or not (("emotion" in keys) ^ ("valence" in keys or "arousal" in keys)):
        extra = f" (unknown field {unknown[0]!r})" if unknown else ""
        raise EmotionCurveError(f"{where}: malformed key {dict(item)!r}{extra}; expected {expected}")
    t = _number(keys["time"], "time", where)
    if t < 0:
        raise EmotionCurveError(f"{where}: time {t:g} s is negative; times are seconds >= 0")
    try:
        if "emotion" in keys:
            inten = keys.get("intensity")
            inten = DEFAULT_INTENSITY if inten is None or inten == "" else _number(inten, "intensity", where)
            if not isinstance(keys["emotion"], str):
                raise EmotionCurveError(f"emotion must be a label, got {keys['emotion']!r}")
            return EmotionKey.label(t, keys["emotion"], inten)
        if "valence" not in keys or "arousal" not in keys or "intensity" in keys:
            raise EmotionCurveError(f"malformed key {dict(item)!r}: a valence/arousal key needs both values "
                                    "(and sets its own intensity)")
        return EmotionKey.point(t, _number(keys["valence"], "valence", where), _number(keys["arousal"], "arousal", where))
    except EmotionCurveError as exc:
        if str(exc).startswith(where):
            raise
        raise EmotionCurveError(f"{where}: {exc}") from None


def _from_json(text: str, where: str) -> EmotionCurve:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise EmotionCurveError(f"{where}not JSON ({exc})") from None
    transition = DEFAULT_TRANSITION_S
    if isinstance(data, Mapping):
        unknown = sorted(set(data) - {"transition", "keys"})
        if "keys" not in data or unknown:
            raise EmotionCurveError(f'{where}a JSON emotion curve is a list of keys or {{"transition": s, "keys": '
                                    f'[...]}}' + (f" (unknown field {unknown[0]!r})" if unknown else ""))
        transition = _number(data.get("transition", DEFAULT_TRANSITION_S), "transition", where.rstrip(": "))
        data = data["keys"]
    if not isinstance(data, list):
        raise EmotionCurveError(f'{where}a JSON emotion curve is a list of keys or {{"transition": s, "keys": [...]}}')
    return EmotionCurve.from_dicts(data, transition, where)


def _from_csv(text: str, where: str) -> EmotionCurve:
    rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    if not rows:
        raise EmotionCurveError(f"{where}the file is empty; expected a header time,emotion,intensity or "
                                "time,valence,arousal and one row per key")
    header = [c.strip().lower() for c in rows[0]]
    if header not in (["time", "emotion", "intensity"], ["time", "emotion"], ["time", "valence", "arousal"]):
        raise EmotionCurveError(f"{where}header {','.join(rows[0])!r}: expected time,emotion,intensity or "
                                "time,valence,arousal")
    keys, names = [], []
    for n, row in enumerate(rows[1:], start=2):
        if len(row) > len(header) or len(row) < 2:
            raise EmotionCurveError(f"{where}line {n} {','.join(row)!r}: expected {len(header)} columns "
                                    f"({','.join(header)})")
        keys.append({h: c.strip() for h, c in zip(header, row)})
        names.append(f"line {n}")
    return EmotionCurve.from_dicts(keys, DEFAULT_TRANSITION_S, where, names)
