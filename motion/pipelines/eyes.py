"""Eyes and blinks post-processing (EmoFace, Liu et al. 2024, Sec. 3.4), seeded and switchable.

Speech-driven face models learn little about blinks and gaze (they are not driven by
speech), so EmoFace adds them procedurally. Here, on a :class:`~motion.container.Motion`:

* **blinks** (:func:`add_blinks`): EmoFace draws a rate in blinks per minute from a
  lognormal (mu 3.518, sigma 0.532; median ~34/min) clamped to [15, 100]. That is above
  conversational rates (~10-25/min) and the toolkit wants 8-30/min, so the clamped draw is
  mapped linearly from [15, 100] onto ``rate_range`` (default [8, 30]; the median lands at
  ~13/min). The clip then gets ``round(rate x minutes)`` blinks, one placed at random in
  each of that many equal slots (so the realised rate is the drawn one and blinks never
  overlap). Each blink is a fixed 13-frame curve at 30 fps (0.43 s; fast close, slower
  open; resampled in time at other rates) written into the eyelid channels by ``max``;
  it is above 0.5 for only ~0.2 s.
* **eyelid channels**: the stand-in basis has ``blink_left`` / ``blink_right`` (columns 11,
  12; 1 = shut) and ``eye_wide`` (13, damped during a blink). Real FLAME expression is PCA
  without an eyelid axis: pass ``blink_direction`` ``(E,)``, the expression offset that
  shuts both eyes (e.g. mean expression of eyes-shut frames minus eyes-open frames of the
  user's data, or a FLAME-2023 eyelid blendshape projected onto the basis); without one a
  clear error is raised rather than moving an unrelated component.
* **gaze** (:func:`add_gaze`): fixations of 25-45 frames (at 30 fps); 40 % return to the
  centre, otherwise a point at radius 0.1-0.2 rad in a uniform direction; each fixation
  starts with a 5-frame linear transition. Both eyes (SMPL-X joints 23/24) get the same
  axis-angle ``(pitch, yaw, 0)`` (x: + looks down, y: + looks to the character's left;
  the rotation angle is the radius), as in the synthetic corpus.

:func:`postprocess_face` chains smoothing (:mod:`.face_smoothing`), blinks and gaze.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from motion.container import Motion
from motion.types import LEFT_EYE, RIGHT_EYE

#: EmoFace's blink-rate lognormal (of blinks per minute) and its clamp.
EMOFACE_BLINK_MU, EMOFACE_BLINK_SIGMA = 3.518, 0.532
EMOFACE_RATE_CLAMP = (15.0, 100.0)
#: Blink closure curve, 13 frames at 30 fps (0.43 s): 4-frame close, 8-frame open.
BLINK_CURVE_30FPS = np.array([0.0, 0.3, 0.7, 0.95, 1.0, 0.85, 0.65, 0.47, 0.32, 0.2, 0.1, 0.04, 0.0])
#: ``blink_left``, ``blink_right``, ``eye_wide`` columns of the stand-in expression basis.
STANDIN_BLINK_CHANNELS = (11, 12)
STANDIN_EYE_WIDE = 13
REFERENCE_FPS = 30.0


def _rng(seed: int | None, rng: np.random.Generator | None) -> np.random.Generator:
    return rng if rng is not None else np.random.default_rng(seed)


def draw_blink_rate(rng: np.random.Generator, rate_range: tuple[float, float] = (8.0, 30.0)) -> float:
    """Blinks per minute: EmoFace's clamped lognormal mapped linearly onto ``rate_range``."""
    r = float(np.clip(rng.lognormal(EMOFACE_BLINK_MU, EMOFACE_BLINK_SIGMA), *EMOFACE_RATE_CLAMP))
    lo, hi = EMOFACE_RATE_CLAMP
    return rate_range[0] + (r - lo) * (rate_range[1] - rate_range[0]) / (hi - lo)


def blink_curve(fps: float) -> np.ndarray:
    """The 13-frame (30 fps) blink curve resampled to ``fps`` (same duration), ``(K,)``."""
    src_t = np.arange(len(BLINK_CURVE_30FPS)) / REFERENCE_FPS
    n = int(np.floor(src_t[-1] * fps + 1e-9)) + 1
    return np.interp(np.arange(n) / fps, src_t, BLINK_CURVE_30FPS)


def blink_onsets(num_frames: int, fps: float, rate: float, rng: np.random.Generator, gap_s: float = 0.3) -> np.ndarray:
    """Start frames ``(N,)`` of ``round(rate x minutes)`` blinks, one at random per equal slot
    (fewer if the slots would be shorter than a blink plus ``gap_s``)."""
    K = len(blink_curve(fps))
    n = round(rate * num_frames / fps / 60.0)
    n = min(n, num_frames // (K + int(np.ceil(gap_s * fps))))
    if n <= 0:
        return np.zeros(0, np.int64)
    edges = np.linspace(0, num_frames, n + 1)
    slack = np.maximum(np.floor(edges[1:] - edges[:-1]) - K - np.ceil(gap_s * fps), 0)
    return (np.ceil(edges[:-1]) + np.floor(rng.uniform(0, 1, n) * (slack + 1))).astype(np.int64)


def blink_track(num_frames: int, onsets: Sequence[int] | np.ndarray, fps: float) -> np.ndarray:
    """``(T,)`` eyelid closure in [0, 1] with a blink curve starting at each onset."""
    curve, out = blink_curve(fps), np.zeros(num_frames)
    for s in onsets:
        seg = out[s: s + len(curve)]
        np.maximum(seg, curve[: len(seg)], out=seg)
    return out


def add_blinks(motion: Motion, seed: int | None = None, rng: np.random.Generator | None = None,
               rate: float | None = None, rate_range: tuple[float, float] = (8.0, 30.0),
               blink_direction: np.ndarray | None = None,
               channels: Sequence[int] | None = STANDIN_BLINK_CHANNELS, enabled: bool = True) -> Motion:
    """Add blinks to the face expression (see the module notes). Returns a new Motion; the
    onsets (s) and rate (/min) are recorded in ``meta.extra["blinks"]``.

    Args:
        seed / rng: randomness (``rng`` wins). rate: blinks per minute (default: drawn).
        blink_direction: ``(E,)`` expression offset that shuts the eyes (PCA bases).
        channels: eyelid columns closed by ``max`` when no direction is given (stand-in: 11, 12).
    """
    out = motion.copy()
    if not enabled:
        return out
    assert out.expression is not None
    out.meta.extra["blinks"] = blink_channels(out.expression, motion.fps, _rng(seed, rng), rate, rate_range,
                                              blink_direction, channels)
    return out


def blink_channels(expression: np.ndarray, fps: float, rng: np.random.Generator, rate: float | None = None,
                   rate_range: tuple[float, float] = (8.0, 30.0), blink_direction: np.ndarray | None = None,
                   channels: Sequence[int] | None = STANDIN_BLINK_CHANNELS) -> dict[str, Any]:
    """:func:`add_blinks` on an expression ``(T, E)`` array itself (changed in place; at ``fps``):
    returns what ``add_blinks`` records in ``meta.extra["blinks"]``."""
    expr, T = expression, expression.shape[0]
    r = float(rate) if rate is not None else draw_blink_rate(rng, rate_range)
    onsets = blink_onsets(T, fps, r, rng)
    curve = blink_track(T, onsets, fps)
    if blink_direction is not None:
        d = np.asarray(blink_direction, np.float32)
        if d.shape != (expr.shape[1],):
            raise ValueError(f"blink_direction must be ({expr.shape[1]},), got {d.shape}")
        expr += curve[:, None].astype(np.float32) * d[None]
    else:
        if channels is None or expr.shape[1] <= max(channels):
            raise ValueError("no eyelid channels: this expression basis has no blink coefficients; pass "
                             "blink_direction (E,), the expression offset that shuts the eyes")
        for c in channels:
            expr[:, c] = np.maximum(expr[:, c], curve)
        if tuple(channels) == STANDIN_BLINK_CHANNELS and expr.shape[1] > STANDIN_EYE_WIDE:
            expr[:, STANDIN_EYE_WIDE] *= (1.0 - curve).astype(np.float32)
    return {"rate_per_min": r, "onsets_s": [round(float(s) / fps, 4) for s in onsets]}


def gaze_track(num_frames: int, fps: float, rng: np.random.Generator, fixation: tuple[int, int] = (25, 45),
               p_centre: float = 0.4, radius: tuple[float, float] = (0.1, 0.2), transition: int = 5) -> np.ndarray:
    """``(T, 2)`` gaze (pitch, yaw) in radians; frame counts are at 30 fps and scaled to ``fps``."""
    scale = fps / REFERENCE_FPS
    trans_n = max(round(transition * scale), 1)

    def target() -> np.ndarray:
        if rng.uniform() < p_centre:
            return np.zeros(2)
        ang, rad = rng.uniform(0.0, 2.0 * np.pi), rng.uniform(*radius)
        return rad * np.array([np.sin(ang), np.cos(ang)])

    out = np.zeros((num_frames, 2))
    cur, t = target(), 0
    while t < num_frames:
        n = round(rng.integers(fixation[0], fixation[1] + 1) * scale)
        nxt = target() if t > 0 else cur
        ramp = np.clip(np.arange(1, n + 1) / trans_n, 0.0, 1.0) if t > 0 else np.ones(n)
        seg = cur[None] + (nxt - cur)[None] * ramp[:, None]  # linear transition, then hold
        out[t: t + n] = seg[: num_frames - t]
        cur, t = nxt, t + n
    return out


def add_gaze(motion: Motion, seed: int | None = None, rng: np.random.Generator | None = None,
             enabled: bool = True, **track_kw: Any) -> Motion:
    """Set both eye joints (23, 24) to a :func:`gaze_track` (same axis-angle ``(pitch, yaw, 0)``)."""
    out = motion.copy()
    if not enabled:
        return out
    out.poses[:, [LEFT_EYE, RIGHT_EYE]] = gaze_eyes(motion.num_frames, motion.fps, _rng(seed, rng), **track_kw)
    return out


def gaze_eyes(num_frames: int, fps: float, rng: np.random.Generator, **track_kw: Any) -> np.ndarray:
    """``(T, 2, 3)`` float32 left / right eye axis-angles of a :func:`gaze_track` (what
    :func:`add_gaze` writes into joints 23 and 24)."""
    g = gaze_track(num_frames, fps, rng, **track_kw)
    eyes = np.zeros((num_frames, 2, 3), np.float32)
    eyes[:, :, :2] = g[:, None]
    return eyes


def postprocess_face(motion: Motion, seed: int | None = None, smooth: bool = True, blinks: bool = True,
                     gaze: bool = True, closed: np.ndarray | None = None, **kw: Any) -> Motion:
    """Smoothing (closures kept; ``closed`` = bilabial frames) -> blinks -> gaze, one seeded
    generator. Extra keywords go to :func:`add_blinks` (``rate``, ``blink_direction``, ``channels``)."""
    from motion.pipelines.face_smoothing import smooth_face

    g = np.random.default_rng(seed)
    out = smooth_face(motion, closed=closed, enabled=smooth)
    out = add_blinks(out, rng=g, enabled=blinks, **kw)
    return add_gaze(out, rng=g, enabled=gaze)
