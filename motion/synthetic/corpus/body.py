"""Whole-body assembly: posture, breathing, sway, weight shifts, head nods, arms, face joints.

Rotation conventions (SMPL-X, all rest frames world-aligned, y up, facing +z):
``+x`` on spine/neck/head pitches forward/down, ``+y`` turns to the character's left,
``+z`` tilts toward the character's right. On the left collar ``+z`` raises the shoulder
and ``-y`` rolls it forward; the right side mirrors, (x, y, z) -> (x, -y, -z).

Models:
* posture = speaker lean + emotion offsets (:mod:`.emotions`), distributed over
  spine1/2/3 (40/30/30 %) and neck/head (40/60 %); the head partly compensates the
  torso lean so the gaze stays forward;
* breathing at 0.22-0.36 Hz (faster with arousal): spine3 pitch and a small shrug;
* idle sway: low-passed noise (1.5 s) on the torso and root;
* weight shifts: the pelvis rolls and slides a few cm, hips counter-rotate so the legs
  stay vertical, the unloaded knee bends a little; feet stay put to within ~1 cm;
* head nods peak on prosodic beats (Hadar et al. 1983: head movements mark stress);
* the torso turns a little toward the gesturing hand; happy adds a bounce on beats.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from motion.synthetic.corpus.arms import arm_axis_angles
from motion.synthetic.corpus.curves import bump, smooth_noise
from motion.synthetic.corpus.emotions import EmotionProfile
from motion.synthetic.corpus.face import FaceTracks
from motion.synthetic.corpus.gesture import rest_params
from motion.synthetic.corpus.prosody import Beat
from motion.synthetic.corpus.skeleton import clamp_to_limits
from motion.synthetic.corpus.speakers import Speaker
from motion.types import (
    JAW,
    LEFT_EYE,
    LEFT_HAND_JOINTS,
    NUM_JOINTS,
    RIGHT_EYE,
    RIGHT_HAND_JOINTS,
)

SPINE = (3, 6, 9)
NECK, HEAD = 12, 15
L_COLLAR, R_COLLAR = 13, 14
L_HIP, R_HIP, L_KNEE, R_KNEE, L_ANKLE, R_ANKLE = 1, 2, 4, 5, 7, 8


def _nods(t: np.ndarray, beats: Sequence[Beat], amp: float) -> np.ndarray:
    """``(T,)`` head pitch offset: a nod reaching its lowest point on each beat."""
    out = np.zeros(len(t))
    for b in beats:
        out += amp * min(b.strength, 1.3) * bump(t, b.time - 0.22, b.time, b.time + 0.35)
    return out


def body_motion(
    t: np.ndarray,
    fps: float,
    speaker: Speaker,
    prof: EmotionProfile,
    beats: Sequence[Beat],
    arms: np.ndarray,
    face: FaceTracks,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Assemble the full pose.

    Args:
        t: ``(T,)`` frame times.
        fps: frame rate.
        speaker, prof: style and (intensity-blended) emotion profile.
        beats: selected prosodic beats (head nods, bounce).
        arms: ``(T, 2, 11)`` left/right arm parameters from :func:`.gesture.arm_tracks`.
        face: jaw and eye rotations.
        rng: the clip's random generator.

    Returns:
        ``poses`` ``(T, 55, 3)`` axis-angle and ``trans`` ``(T, 3)`` metres.
    """
    T = len(t)
    poses = np.zeros((T, NUM_JOINTS, 3))
    trans = np.zeros((T, 3))
    # posture
    lean = speaker.lean + prof.lean
    for k, share in zip(SPINE, (0.4, 0.3, 0.3)):
        poses[:, k] += [lean * share, prof.twist * share, prof.side * share]
    head_pitch = prof.head_pitch - 0.5 * lean
    # breathing
    f_breath = 0.22 + 0.16 * prof.arousal
    breath = np.sin(2 * np.pi * f_breath * t + rng.uniform(0, 2 * np.pi))
    poses[:, 9, 0] += 0.012 * breath
    poses[:, 6, 0] += 0.006 * breath
    # sway of torso and root
    sway = smooth_noise(rng, T, 4, fps, 1.5, 0.012)
    poses[:, 3, 1] += sway[:, 0]
    poses[:, 3, 2] += 0.6 * sway[:, 1]
    poses[:, 0, 1] += 0.8 * sway[:, 2] + 0.3 * prof.twist
    # torso turns toward the gesturing hand (activity = distance from the rest pose)
    rest = rest_params(speaker, prof)
    act = np.clip(np.linalg.norm(arms[:, :, :7] - rest[:7], axis=-1), 0.0, 1.0)
    poses[:, 9, 1] += 0.07 * (act[:, 0] - act[:, 1])
    poses[:, 6, 0] += 0.03 * act.max(axis=1) * (0.5 + prof.arousal)
    # collars: shrug, slump, breathing, asymmetric contempt shrug
    for k, m in ((L_COLLAR, 1.0), (R_COLLAR, -1.0)):
        extra = 0.5 * prof.side if k == L_COLLAR else 0.0
        poses[:, k, 2] += m * (prof.shrug + extra + 0.008 * breath)
        poses[:, k, 1] += -m * prof.slump
    # weight shifts: pelvis roll + slide, hips counter-rotate, unloaded knee bends
    shift = np.tanh(1.5 * smooth_noise(rng, T, 1, fps, 2.5, 1.0)[:, 0])
    roll = 0.015 * shift
    poses[:, 0, 2] += roll
    trans[:, 0] += 0.02 * shift
    poses[:, L_HIP, 2] -= roll
    poses[:, R_HIP, 2] -= roll
    for knee, ankle, sign in ((L_KNEE, L_ANKLE, 1.0), (R_KNEE, R_ANKLE, -1.0)):
        flex = 0.03 + 0.06 * np.clip(sign * shift, 0.0, 1.0)
        poses[:, knee, 0] += flex
        poses[:, ankle, 0] -= 0.5 * flex
        poses[:, L_HIP if knee == L_KNEE else R_HIP, 0] -= 0.5 * flex
    trans[:, 2] += prof.back
    # bounce on beats (happy): knees give a little, the body dips
    if prof.bounce > 0:
        dip = sum((bump(t, b.time - 0.15, b.time, b.time + 0.25) for b in beats), np.zeros(T))
        trans[:, 1] -= prof.bounce * dip
        poses[:, L_KNEE, 0] += 6 * prof.bounce * dip
        poses[:, R_KNEE, 0] += 6 * prof.bounce * dip
    # neck and head: posture, nods, noise, following the gaze
    nod = _nods(t, beats, (0.03 + 0.07 * prof.arousal) * speaker.head_amp)
    noise = smooth_noise(rng, T, 3, fps, 0.7, 0.02)
    gaze_yaw = face.eyes[:, 0, 1]
    pitch = head_pitch + nod + noise[:, 0]
    yaw = prof.head_yaw + noise[:, 1] + 0.3 * gaze_yaw + 0.05 * (act[:, 0] - act[:, 1])
    roll_h = prof.head_roll + 0.5 * noise[:, 2]
    for k, share in ((NECK, 0.4), (HEAD, 0.6)):
        poses[:, k] += np.stack([share * pitch, 0.5 * yaw, 0.5 * roll_h], axis=1)
    # arms and hands
    for arm, side, (sh, el, wr), hand in ((0, "left", (16, 18, 20), LEFT_HAND_JOINTS),
                                          (1, "right", (17, 19, 21), RIGHT_HAND_JOINTS)):
        a = arm_axis_angles(arms[:, arm], side)
        poses[:, sh], poses[:, el], poses[:, wr] = a["shoulder"], a["elbow"], a["wrist"]
        poses[:, list(hand)] = a["fingers"]
    # face joints
    poses[:, JAW] = face.jaw
    poses[:, LEFT_EYE] = face.eyes[:, 0]
    poses[:, RIGHT_EYE] = face.eyes[:, 1]
    return clamp_to_limits(poses), trans
