"""Body-motion metrics (numpy): FGD, beat consistency, L1div, seam jumps.

* **FGD** (Frechet gesture distance; Yoon et al. 2020, after FID, Heusel et al. 2017):
  ``|mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))`` between Gaussians fitted to features of
  real and generated motion (:mod:`.feature_extractor`). Only comparable with the same
  extractor.
* **Beat consistency** (BC; EMAGE, Liu et al. 2024, after BEAT): audio beats are onsets;
  motion beats are local minima (``scipy.signal.argrelextrema``, ``order`` frames each side)
  of the mean speed of the upper-body joints that lie above ``threshold`` (a pause is not a
  beat); ``BC = mean over audio beats of exp(-d^2 / (2 sigma^2))``, ``d`` the distance to the
  nearest motion beat, sigma = 0.3 s. EMAGE drops the first and last 2 s of each sequence;
  the corpus clips are 2-4 s long, so the trim is ``min(2 s, trim_fraction x duration)``
  (10 % by default: 0.28 s of a 2.8 s clip). Clips with no audio onset left are skipped.
* **L1div** (EMAGE): per clip, the absolute deviation of every joint coordinate from the
  clip's mean, summed over joints and coordinates and averaged over frames (pooled over
  clips by frame count). Joints without the root translation (pose only), metres.
* **Seam jumps** (ours, for long audio): frame-to-frame change of the joint velocity
  ``|v_{t+1} - v_t|`` averaged over joints; the largest value within ``radius`` frames of
  each window seam against the same statistic over windows of the same size away from seams.

Joint positions come from :func:`joint_positions`, a fixed skeleton (the stand-in's rest
joints, :mod:`motion.bodymodels.skeleton`) so that every method is measured with the same
bones whatever body shape it carries.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from motion.types import UPPER_BODY


def joint_positions(poses: np.ndarray, trans: np.ndarray | None = None) -> np.ndarray:
    """Forward kinematics of the fixed skeleton.

    Args:
        poses: ``(T, 55, 3)`` axis-angle (SMPL-X order).
        trans: ``(T, 3)`` root translation, or None (root at the origin).

    Returns:
        ``(T, 55, 3)`` joint positions in metres.
    """
    from motion.bodymodels.kinematics import skeleton_forward_kinematics

    return skeleton_forward_kinematics(poses, trans)


def joint_speed(joints: np.ndarray, fps: float) -> np.ndarray:
    """``(T, J)`` joint speed (m/s): forward difference at the start, central differences
    inside, backward at the end (as EMAGE's ``load_pose``)."""
    joints = np.asarray(joints, np.float64)
    if joints.shape[0] < 2:
        return np.zeros(joints.shape[:2])
    vel = np.gradient(joints, 1.0 / fps, axis=0)
    return np.linalg.norm(vel, axis=-1)


def motion_beats(joints: np.ndarray, fps: float, threshold: float = 0.0, order: int = 7,
                 joint_ids: Sequence[int] = UPPER_BODY) -> np.ndarray:
    """Frames of the local minima of the mean ``joint_ids`` speed that are above ``threshold``."""
    from scipy.signal import argrelextrema

    speed = joint_speed(joints, fps)[:, list(joint_ids)].mean(1)
    (minima,) = argrelextrema(speed, np.less, order=max(1, order))
    return minima[speed[minima] > threshold]


def gaussian_hit_rate(audio_beats: np.ndarray, motion_beats_: np.ndarray, sigma: float) -> float:
    """Mean over ``audio_beats`` (s) of ``exp(-d^2 / 2 sigma^2)``, d to the nearest motion beat."""
    a = np.asarray(audio_beats, np.float64)
    m = np.asarray(motion_beats_, np.float64)
    if a.size == 0:
        return float("nan")
    if m.size == 0:
        return 0.0
    d = np.abs(a[:, None] - m[None, :]).min(1)
    return float(np.exp(-(d**2) / (2.0 * sigma**2)).mean())


def beat_consistency(joints: np.ndarray, onsets: np.ndarray, fps: float, sigma: float = 0.3,
                     trim_s: float = 2.0, trim_fraction: float = 0.1, threshold: float = 0.0,
                     order: int = 7) -> float:
    """BC of one clip (module docstring); NaN when no audio onset is left after trimming.

    Args:
        joints: ``(T, J, 3)`` joint positions.
        onsets: audio onset frames (at ``fps``).
        fps: frame rate of both.
        sigma: Gaussian width in seconds.
        trim_s, trim_fraction: seconds dropped at each end: ``min(trim_s, trim_fraction * T / fps)``.
        threshold: speed (m/s) a minimum must exceed to count as a beat.
        order: frames on each side a minimum must be below.
    """
    T = joints.shape[0]
    trim = round(min(trim_s, trim_fraction * T / fps) * fps)
    a, b = trim, T - trim
    if b - a < 3:
        return float("nan")
    beats = motion_beats(joints[a:b], fps, threshold, order) + a
    on = np.asarray(onsets, np.int64)
    on = on[(on >= a) & (on < b)]
    return gaussian_hit_rate(on / fps, beats / fps, sigma)


def l1div(clips: Sequence[np.ndarray]) -> float:
    """EMAGE's L1div over clips of joint positions ``(T, J, 3)`` (module docstring)."""
    total, frames = 0.0, 0
    for j in clips:
        flat = np.asarray(j, np.float64).reshape(j.shape[0], -1)
        total += float(np.abs(flat - flat.mean(0)).sum())
        frames += flat.shape[0]
    return total / frames if frames else float("nan")


def gaussian_stats(feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(D,)`` and covariance ``(D, D)`` of ``(N, D)`` features."""
    x = np.asarray(feats, np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"need (N >= 2, D) features, got shape {x.shape}")
    return x.mean(0), np.cov(x, rowvar=False).reshape(x.shape[1], x.shape[1])


def frechet_distance(mu1: np.ndarray, s1: np.ndarray, mu2: np.ndarray, s2: np.ndarray) -> float:
    """``|mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))`` (Dowson & Landau 1982)."""
    from scipy import linalg

    with warnings.catch_warnings():  # singular products are handled just below
        warnings.simplefilter("ignore")
        covmean = linalg.sqrtm(s1 @ s2)
    if not np.isfinite(covmean).all():  # near-singular product: regularise (as pytorch-fid)
        eps = 1e-6 * np.eye(s1.shape[0])
        covmean = linalg.sqrtm((s1 + eps) @ (s2 + eps))
    covmean = np.real(covmean)
    diff = mu1 - mu2
    return float(max(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean), 0.0))


def fgd(real: np.ndarray, generated: np.ndarray) -> float:
    """FGD between ``(N, D)`` real and ``(M, D)`` generated motion features."""
    return frechet_distance(*gaussian_stats(real), *gaussian_stats(generated))


def intra_fgd(real: list[np.ndarray], real_labels: Sequence[int], generated: list[np.ndarray],
              generated_labels: Sequence[int], min_frames: int = 8) -> float:
    """Class-conditional FGD: the mean over classes of the FGD between the real and generated
    features of that class ("intra-FID", Miyato & Koyama 2018, Sec. 5.2).

    Args:
        real, generated: per-clip ``(N_i, D)`` features.
        real_labels: class of each real clip (its emotion); generated_labels: the class each
            generated clip was *asked* for. Negative labels are skipped.
        min_frames: classes with fewer feature frames on either side are skipped.

    Unlike the pooled FGD, it sees whether a clip's motion fits its condition: real motion
    of the wrong emotion scores badly, the mean of the right one well.
    """
    out = []
    for c in sorted({int(x) for x in real_labels if x >= 0}):
        r = [f for f, lab in zip(real, real_labels) if lab == c]
        g = [f for f, lab in zip(generated, generated_labels) if lab == c]
        if not r or not g:
            continue
        r_cat, g_cat = np.concatenate(r), np.concatenate(g)
        if min(r_cat.shape[0], g_cat.shape[0]) < min_frames:
            continue
        out.append(fgd(r_cat, g_cat))
    return float(np.mean(out)) if out else float("nan")


@dataclass(frozen=True)
class SeamStats:
    """Velocity jumps at window seams vs. away from them (m/s per frame)."""

    seam: float
    inside: float

    @property
    def ratio(self) -> float:
        return self.seam / self.inside if self.inside > 0 else float("inf")

    def to_dict(self) -> dict[str, Any]:
        return {"seam": self.seam, "inside": self.inside, "ratio": self.ratio}


def velocity_jumps(joints: np.ndarray, fps: float) -> np.ndarray:
    """``(T,)`` mean over joints of ``|v_t - v_{t-1}|`` (v in m/s; 0 for the first two frames)."""
    v = np.diff(np.asarray(joints, np.float64), axis=0) * fps
    out = np.zeros(joints.shape[0])
    out[2:] = np.linalg.norm(np.diff(v, axis=0), axis=-1).mean(1)
    return out


def seam_jumps(joints: np.ndarray, seams: Sequence[int], fps: float, radius: int = 4) -> SeamStats:
    """Largest velocity jump within ``radius`` frames of each seam, mean over seams, against
    the same maximum over same-sized windows at least ``2 * radius`` frames from any seam."""
    jumps = velocity_jumps(joints, fps)
    T, width = len(jumps), 2 * radius + 1

    def peak(c: int) -> float:
        return float(jumps[max(c - radius, 2):min(c + radius + 1, T)].max(initial=0.0))

    seam_vals = [peak(s) for s in seams]
    far = [c for c in range(2 + radius, T - radius, width)
           if all(abs(c - s) > 2 * radius for s in seams)]
    inside = float(np.mean([peak(c) for c in far])) if far else float("nan")
    return SeamStats(float(np.mean(seam_vals)) if seam_vals else float("nan"), inside)
