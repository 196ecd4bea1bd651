"""Plain constants shared across the toolkit: skeleton layout, emotion labels, rates.

No heavy imports here: this module is imported on the ``--help`` path.
"""

from __future__ import annotations

from typing import Final

# The SMPL-X skeleton (shared with the Blender add-on), re-exported here.
from motion.smplx_names import JOINT_INDEX as JOINT_INDEX
from motion.smplx_names import JOINT_NAMES as JOINT_NAMES
from motion.smplx_names import NUM_JOINTS as NUM_JOINTS
from motion.smplx_names import PARENTS as PARENTS

#: Internal motion frame rate (BEAT2 uses 30 fps).
FPS: Final[float] = 30.0
#: Internal audio sample rate (BEAT2, AMUSE and EMOTE all use 16 kHz).
AUDIO_SR: Final[int] = 16000

#: The 8 emotion labels (MEAD order).
EMOTIONS: Final[tuple[str, ...]] = (
    "neutral",
    "happy",
    "sad",
    "surprised",
    "fear",
    "disgusted",
    "angry",
    "contempt",
)
#: Spellings used by BEAT and others, mapped onto :data:`EMOTIONS`.
EMOTION_ALIASES: Final[dict[str, str]] = {
    "happiness": "happy",
    "sadness": "sad",
    "surprise": "surprised",
    "disgust": "disgusted",
    "anger": "angry",
    "fearful": "fear",
    "calm": "neutral",
}
#: MEAD intensity levels.
INTENSITY_LEVELS: Final[tuple[int, ...]] = (1, 2, 3)
#: Emotions shown by ``motion demo`` and the README gallery, in order (chosen to be easy to tell apart).
DEMO_EMOTIONS: Final[tuple[str, ...]] = ("happy", "sad", "angry", "surprised")


def canonical_emotion(label: str) -> str:
    """Return the canonical emotion name for ``label`` (case-insensitive, aliases allowed).

    Raises:
        ValueError: if the label is not one of the 8 emotions or a known alias.
    """
    key = label.strip().lower()
    key = EMOTION_ALIASES.get(key, key)
    if key not in EMOTIONS:
        raise ValueError(
            f"unknown emotion {label!r}; choose one of: {', '.join(EMOTIONS)}"
        )
    return key


# Joint index groups of the (55, 3) pose.
ROOT: Final[int] = 0
BODY_JOINTS: Final[tuple[int, ...]] = tuple(range(1, 22))  # 21 body joints
#: EMAGE's upper-body joints (spine, neck, collars, head, arms, wrists).
UPPER_BODY: Final[tuple[int, ...]] = (3, 6, 9, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21)
JAW: Final[int] = 22
LEFT_EYE: Final[int] = 23
RIGHT_EYE: Final[int] = 24
LEFT_HAND_JOINTS: Final[tuple[int, ...]] = tuple(range(25, 40))
RIGHT_HAND_JOINTS: Final[tuple[int, ...]] = tuple(range(40, 55))

# Slices of the flat 165-value pose vector (BEAT2 / AMASS ``poses``), axis-angle radians.
POSE_GLOBAL: Final[slice] = slice(0, 3)
POSE_BODY: Final[slice] = slice(3, 66)
POSE_JAW: Final[slice] = slice(66, 69)
POSE_EYES: Final[slice] = slice(69, 75)
POSE_LHAND: Final[slice] = slice(75, 120)
POSE_RHAND: Final[slice] = slice(120, 165)

#: FLAME joints (global, neck, jaw, left eye, right eye) and parents.
FLAME_JOINT_NAMES: Final[tuple[str, ...]] = ("global", "neck", "jaw", "left_eye", "right_eye")
FLAME_PARENTS: Final[tuple[int, ...]] = (-1, 0, 1, 1, 1)

#: Default sizes of shape / expression spaces.
NUM_BETAS_BEAT2: Final[int] = 300
NUM_EXPRESSIONS: Final[int] = 100
NUM_FACE_EXPRESSIONS_DEFAULT: Final[int] = 50
