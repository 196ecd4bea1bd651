"""How each of the 8 emotions shapes prosody, posture, gesture and face.

Values are the full-intensity (level 3) offsets from neutral; level 1 and 2 scale them
by :data:`INTENSITY_WEIGHT` (MEAD's three levels read as weak / medium / strong).
Directions follow the emotional-speech and body-expression literature:

* Prosody (Scherer 2003, "Vocal communication of emotion"; Banse & Scherer 1996): anger,
  joy, surprise and fear raise F0 level; anger, joy and surprise widen F0 range; sadness
  lowers F0, narrows range, slows rate and softens; anger is loud and fast; fear fast.
* Posture and movement (Wallbott 1998, "Bodily expression of emotion"; Dael et al. 2012):
  sadness = collapsed upper body, head down, few slow small movements; anger = forward
  lean, large fast movements; joy = upright/expanded, head up, bouncy; fear = withdrawn,
  arms close, shoulders raised; surprise = arms raised, head back; disgust = turning away;
  contempt = head tilt/asymmetry, chin up.
* Face (FACS prototypes, Ekman & Friesen 1978): happy AU6+12, sad AU1+4+15, angry
  AU4+5+7+23, surprised AU1+2+5+26, fear AU1+2+4+5+20, disgust AU9+10, contempt
  unilateral AU14.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from motion.types import EMOTIONS

#: Weight of the full-intensity offsets at MEAD intensity levels 1, 2, 3.
INTENSITY_WEIGHT: Final[dict[int, float]] = {1: 0.45, 2: 0.72, 3: 1.0}


@dataclass(frozen=True)
class EmotionProfile:
    """Full-intensity offsets of one emotion (neutral = all zero / one).

    Prosody (espeak units): ``pitch`` and ``range`` are added to the 0..100 base pitch and
    range; ``rate`` multiplies words per minute; ``gain_db`` is post-hoc loudness;
    ``word_gap`` adds pauses between words (10 ms units).
    Posture (radians): ``lean`` torso pitch (+ forward), ``twist`` torso yaw, ``side``
    torso roll, ``head_pitch`` (+ down), ``head_yaw``, ``head_roll``, ``shrug`` collar
    elevation, ``slump`` collar forward roll, ``arm_open`` extra shoulder abduction,
    ``arm_raise`` extra elbow flexion of the resting arms, ``back`` pelvis translation
    (+ forward, metres), ``bounce`` vertical bounce on beats (metres).
    Gesture: ``amp`` amplitude scale, ``speed`` stroke-duration scale (<1 = faster),
    ``density`` fraction of prosodic beats that get a stroke, ``sharpness`` position of
    the stroke apex in the inter-beat interval (later = shorter, sharper downstroke),
    ``hand`` preferred hand shape (``relaxed/open/point/fist``).
    Face: ``face`` expression coefficients by semantic name; ``jaw`` extra jaw opening
    (rad); ``articulation`` scales viseme jaw/lip amplitudes; ``blink`` scales blink
    rate; ``gaze_pitch``/``gaze_yaw`` bias the gaze (+ down / + left).
    """

    arousal: float
    pitch: float = 0.0
    range: float = 0.0
    rate: float = 1.0
    gain_db: float = 0.0
    word_gap: float = 0.0
    lean: float = 0.0
    twist: float = 0.0
    side: float = 0.0
    head_pitch: float = 0.0
    head_yaw: float = 0.0
    head_roll: float = 0.0
    shrug: float = 0.0
    slump: float = 0.0
    arm_open: float = 0.0
    arm_raise: float = 0.0
    back: float = 0.0
    bounce: float = 0.0
    amp: float = 1.0
    speed: float = 1.0
    density: float = 0.65
    sharpness: float = 0.6
    hand: str = "relaxed"
    face: dict[str, float] = field(default_factory=dict)
    jaw: float = 0.0
    articulation: float = 1.0
    blink: float = 1.0
    gaze_pitch: float = 0.0
    gaze_yaw: float = 0.0


PROFILES: Final[dict[str, EmotionProfile]] = {
    "neutral": EmotionProfile(arousal=0.35),
    "happy": EmotionProfile(
        arousal=0.7, pitch=14, range=22, rate=1.08, gain_db=3.0,
        lean=-0.05, head_pitch=-0.08, arm_open=0.15, bounce=0.012,
        amp=1.3, speed=0.85, density=0.8, sharpness=0.6, hand="open",
        face={"smile": 0.9, "cheek_squint": 0.6, "lips_part": 0.15, "brow_outer_up": 0.15},
        articulation=1.1, blink=1.0, gaze_pitch=-0.03),
    "sad": EmotionProfile(
        arousal=0.15, pitch=-14, range=-25, rate=0.78, gain_db=-6.0, word_gap=2,
        lean=0.22, head_pitch=0.26, shrug=-0.06, slump=0.15, arm_open=-0.1, arm_raise=-0.15,
        amp=0.45, speed=1.6, density=0.35, sharpness=0.5, hand="relaxed",
        face={"brow_inner_up": 0.8, "frown": 0.7, "blink_left": 0.2, "blink_right": 0.2},
        articulation=0.75, blink=0.8, gaze_pitch=0.12),
    "surprised": EmotionProfile(
        arousal=0.8, pitch=20, range=30, rate=1.02, gain_db=4.0,
        lean=-0.1, head_pitch=-0.15, shrug=0.1, arm_open=0.1, arm_raise=0.7, back=-0.02,
        amp=1.4, speed=0.8, density=0.8, sharpness=0.6, hand="open",
        face={"brow_inner_up": 0.7, "brow_outer_up": 0.9, "eye_wide": 0.8, "lips_part": 0.3},
        jaw=0.1, articulation=1.15, blink=0.6, gaze_pitch=-0.04),
    "fear": EmotionProfile(
        arousal=0.7, pitch=16, range=-8, rate=1.18, gain_db=-1.0,
        lean=-0.06, head_pitch=0.1, shrug=0.15, arm_open=-0.2, arm_raise=0.9, back=-0.03,
        amp=0.6, speed=0.75, density=0.6, sharpness=0.65, hand="relaxed",
        face={"brow_inner_up": 0.9, "brow_outer_up": 0.5, "eye_wide": 0.7,
              "mouth_stretch": 0.6, "lips_part": 0.2},
        jaw=0.03, articulation=0.9, blink=1.4, gaze_yaw=0.08),
    "disgusted": EmotionProfile(
        arousal=0.45, pitch=-8, range=8, rate=0.86, gain_db=0.0,
        lean=-0.05, twist=0.2, head_pitch=-0.05, head_yaw=0.3, head_roll=0.08,
        arm_raise=0.2, amp=0.9, speed=1.1, density=0.5, sharpness=0.6, hand="open",
        face={"nose_sneer": 0.8, "upper_lip_raise": 0.7, "brow_down": 0.4, "frown": 0.3,
              "cheek_squint": 0.3},
        articulation=0.9, blink=1.1, gaze_yaw=-0.1),
    "angry": EmotionProfile(
        arousal=0.9, pitch=6, range=18, rate=1.12, gain_db=7.0,
        lean=0.15, head_pitch=0.05, shrug=0.05, arm_open=0.05, arm_raise=0.25, back=0.02,
        amp=1.5, speed=0.65, density=0.9, sharpness=0.75, hand="fist",
        face={"brow_down": 0.9, "lips_press": 0.5, "nose_sneer": 0.2, "eye_wide": 0.2,
              "frown": 0.2},
        articulation=1.15, blink=0.8),
    "contempt": EmotionProfile(
        arousal=0.35, pitch=-6, range=12, rate=0.9, gain_db=-1.0,
        side=0.05, head_pitch=-0.12, head_yaw=0.1, head_roll=0.15, shrug=0.04,
        amp=0.7, speed=1.2, density=0.45, sharpness=0.55, hand="relaxed",
        face={"mouth_right": 0.6, "smile": 0.15, "blink_left": 0.15, "blink_right": 0.15},
        articulation=0.85, blink=0.9, gaze_pitch=0.02),
}
assert tuple(PROFILES) == EMOTIONS, "profiles must follow motion.types.EMOTIONS"

_SCALED_FIELDS: Final[tuple[str, ...]] = (
    "pitch", "range", "gain_db", "word_gap", "lean", "twist", "side", "head_pitch",
    "head_yaw", "head_roll", "shrug", "slump", "arm_open", "arm_raise", "back", "bounce",
    "jaw", "gaze_pitch", "gaze_yaw",
)
_RATIO_FIELDS: Final[tuple[str, ...]] = ("rate", "amp", "speed", "articulation", "blink")


def profile(emotion: str, intensity: int) -> EmotionProfile:
    """The profile of ``emotion`` at MEAD ``intensity`` (1-3), blended from neutral.

    Additive fields scale linearly with :data:`INTENSITY_WEIGHT`; multiplicative ones
    (rate, amplitude, speed, articulation, blink rate) geometrically; ``density``,
    ``sharpness`` and ``arousal`` linearly; the face coefficients linearly.
    """
    if emotion not in PROFILES:
        raise ValueError(f"unknown emotion {emotion!r}; choose one of {EMOTIONS}")
    if intensity not in INTENSITY_WEIGHT:
        raise ValueError(f"intensity must be 1, 2 or 3, got {intensity}")
    w = INTENSITY_WEIGHT[intensity]
    full, base = PROFILES[emotion], PROFILES["neutral"]
    values: dict[str, object] = {}
    for name in _SCALED_FIELDS:
        values[name] = getattr(full, name) * w
    for name in _RATIO_FIELDS:
        values[name] = getattr(full, name) ** w
    for name in ("density", "sharpness", "arousal"):
        values[name] = getattr(base, name) + w * (getattr(full, name) - getattr(base, name))
    values["hand"] = full.hand if w >= 0.7 else (full.hand if full.hand != "fist" else "relaxed")
    values["face"] = {k: v * w for k, v in full.face.items()}
    return EmotionProfile(**values)  # type: ignore[arg-type]
