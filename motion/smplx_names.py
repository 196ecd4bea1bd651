"""SMPL-X names the toolkit and the Blender add-on share: joints, their parents, the stand-in's
expression coefficients.

Plain constants, no imports: :mod:`motion.types` and :mod:`motion.bodymodels.names` take them
from here, and so does the rig module shared with the add-on (:mod:`motion.export.blender_rig`;
``blender_addon/build.py`` copies this file into the extension beside it), so one table serves
the toolkit, its FBX exporter inside Blender and the add-on.
"""

from __future__ import annotations

#: SMPL-X joint names, in model order (== ``smplx.joint_names.JOINT_NAMES[:55]``; the SMPL-X
#: Blender add-on's bones carry the same names).
JOINT_NAMES: tuple[str, ...] = (
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
NUM_JOINTS: int = 55
#: Parent of each joint (row 0 of the SMPL-X ``kintree_table``; -1 for the root).
PARENTS: tuple[int, ...] = (
    -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 15, 15, 15,
    20, 25, 26, 20, 28, 29, 20, 31, 32, 20, 34, 35, 20, 37, 38,
    21, 40, 41, 21, 43, 44, 21, 46, 47, 21, 49, 50, 21, 52, 53,
)
JOINT_INDEX: dict[str, int] = {n: i for i, n in enumerate(JOINT_NAMES)}
#: Expression coefficients 0-19 of the stand-in models (left = the character's own left);
#: real models' components have no names.
STANDIN_EXPRESSION_NAMES: tuple[str, ...] = (
    "smile", "frown", "lip_pucker", "lip_funnel", "lips_press", "upper_lip_raise", "lower_lip_depress",
    "mouth_stretch", "brow_inner_up", "brow_outer_up", "brow_down", "blink_left", "blink_right", "eye_wide",
    "cheek_squint", "nose_sneer", "cheek_puff", "mouth_left", "mouth_right", "mouth_open",
)
