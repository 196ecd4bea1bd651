"""Plain constants shared across the toolkit: skeleton layout, emotion labels, rates.

No heavy imports here: this module is imported on the ``--help`` path.
"""

from __future__ import annotations

from typing import Final

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


#: SMPL-X joint names, in model order (== ``smplx.joint_names.JOINT_NAMES[:55]``).
JOINT_NAMES: Final[tuple[str, ...]] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck",
    "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "jaw",
    "left_eye_smplhf", "right_eye_smplhf",
    "left_index1", "left_index2", "left_index3", "left_middle1", "left_middle2",
    "left_middle3", "left_pinky1", "left_pinky2", "left_pinky3", "left_ring1",
    "left_ring2", "left_ring3", "left_thumb1", "left_thumb2", "left_thumb3",
    "right_index1", "right_index2", "right_index3", "right_middle1", "right_middle2",
    "right_middle3", "right_pinky1", "right_pinky2", "right_pinky3", "right_ring1",
    "right_ring2", "right_ring3", "right_thumb1", "right_thumb2", "right_thumb3",
)
NUM_JOINTS: Final[int] = 55
#: Parent of each joint (row 0 of the SMPL-X ``kintree_table``; -1 for the root).
PARENTS: Final[tuple[int, ...]] = (
    -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 15, 15, 15,
    20, 25, 26, 20, 28, 29, 20, 31, 32, 20, 34, 35, 20, 37, 38,
    21, 40, 41, 21, 43, 44, 21, 46, 47, 21, 49, 50, 21, 52, 53,
)
JOINT_INDEX: Final[dict[str, int]] = {n: i for i, n in enumerate(JOINT_NAMES)}

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
