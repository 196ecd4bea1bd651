"""Light temporal smoothing of face channels that keeps bilabial closures closed.

EmoFace (Liu et al. 2024, Sec. 3.4) smooths its controller curves with a Savitzky-Golay
filter (window 15, order 3, at 60 fps = 0.25 s). A plain low-pass filter smears plosives:
the one- to three-frame lip closure of /p b m/ is averaged with the open vowels around it
and the lips no longer meet. Here the filtered curves are blended back to the unfiltered
ones on closure frames::

    w(t)   = max(0, 1 - d(t) / (ramp + 1))     d(t): frames to the nearest closure frame
    out(t) = w(t) x(t) + (1 - w(t)) SG(x)(t)

so every closure frame keeps its exact input value (``w = 1``) and the blend fades out
over ``ramp`` frames on either side. Closure frames are those whose ``lips_press``
coefficient is >= ``press_threshold`` (stand-in basis) and/or those inside a bilabial
phoneme (:func:`closure_mask`, from phoneme timings; the only source for a PCA basis such
as real FLAME, which has no lips-press coefficient).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from motion.container import Motion
from motion.synthetic.tts.phonemes import PhonemeLike, phoneme_triples  # noqa: F401 (phoneme_triples re-exported)
from motion.types import JAW

#: ``lips_press`` column of the stand-in expression basis (:data:`motion.bodymodels.names.EXPRESSION_NAMES`).
STANDIN_LIPS_PRESS = 4


def closure_mask(phonemes: Sequence[PhonemeLike] | Mapping[str, Any], num_frames: int, fps: float) -> np.ndarray:
    """``(T,)`` bool: frames whose time lies inside a bilabial (p, b, m), plus the frame
    nearest each bilabial's middle (so one shorter than a frame still marks one frame)."""
    from motion.synthetic.tts.phonemes import is_bilabial

    t = np.arange(num_frames) / fps
    mask = np.zeros(num_frames, bool)
    for sym, s, e in phoneme_triples(phonemes):
        if is_bilabial(sym):
            mask |= (t >= s) & (t <= e)
            mask[int(np.clip(round(0.5 * (s + e) * fps), 0, num_frames - 1))] = True
    return mask


def _odd_window(window: int | None, fps: float, order: int, num_frames: int) -> int:
    w = int(window) if window is not None else round(0.25 * fps)  # EmoFace: 15 frames at 60 fps
    w = max(w, order + 2)
    w += 1 - w % 2  # odd
    return min(w, num_frames if num_frames % 2 else num_frames - 1)


def protect_weight(closed: np.ndarray, ramp: int) -> np.ndarray:
    """``(T,)`` blend weight: 1 on closure frames, linearly to 0 over ``ramp`` frames around them."""
    from scipy.ndimage import distance_transform_edt

    closed = np.asarray(closed, bool)
    if not closed.any():
        return np.zeros(len(closed))
    d = distance_transform_edt(~closed)  # frames to the nearest closure frame, O(T) memory
    return np.clip(1.0 - d / (ramp + 1.0), 0.0, 1.0)


def smooth_face(motion: Motion, window: int | None = None, order: int = 3,
                closed: np.ndarray | None = None, press_channel: int | None = STANDIN_LIPS_PRESS,
                press_threshold: float = 0.8, ramp: int = 2, enabled: bool = True) -> Motion:
    """Savitzky-Golay-smooth expression ``(T, E)`` and jaw ``(T, 3)``, keeping closures.

    Args:
        motion: input (not modified).
        window: filter length in frames (odd; default ~0.25 s, i.e. 7 at 30 fps = EmoFace's
            15 at 60 fps). ``order``: polynomial order (EmoFace: 3).
        closed: ``(T,)`` bool closure frames (e.g. :func:`closure_mask` of the phonemes).
        press_channel: expression column of ``lips_press`` (default: the stand-in's); pass
            ``None`` for a PCA basis (real FLAME). Frames >= ``press_threshold`` count as closed.
        ramp: frames over which the protection fades out around closures.
        enabled: False returns an unchanged copy.

    Returns:
        A new :class:`Motion`; eyes, body and translation are untouched (jaw is filtered
        per axis-angle component, fine for the small jaw rotations).
    """
    out = motion.copy()
    if not enabled:
        return out
    assert motion.expression is not None
    expr, jaw = smooth_channels(motion.expression, motion.poses[:, JAW], motion.fps, window, order, closed,
                                press_channel, press_threshold, ramp)
    if expr is not motion.expression:  # filtered (else the copy is the answer)
        out.expression, out.poses[:, JAW] = expr, jaw
    return out


def smooth_channels(expression: np.ndarray, jaw: np.ndarray, fps: float, window: int | None = None,
                    order: int = 3, closed: np.ndarray | None = None,
                    press_channel: int | None = STANDIN_LIPS_PRESS, press_threshold: float = 0.8,
                    ramp: int = 2, inplace: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """:func:`smooth_face` on the arrays themselves: expression ``(T, E)`` and jaw ``(T, 3)`` at
    ``fps`` -> smoothed float32 arrays: new ones, or with ``inplace`` the float32 arrays given,
    filtered a few columns at a time (the same numbers); the inputs themselves when too short to
    filter. What a face pipeline needs, without a whole-body :class:`Motion` around them."""
    from scipy.signal import savgol_filter

    T = expression.shape[0]
    if T < order + 2:
        return expression, jaw
    w = _odd_window(window, fps, order, T)
    if w <= order:
        return expression, jaw
    mask = np.zeros(T, bool) if closed is None else np.asarray(closed, bool).copy()
    if mask.shape != (T,):
        raise ValueError(f"closed must be ({T},), got {mask.shape}")
    if press_channel is not None and press_channel < expression.shape[1]:
        mask |= expression[:, press_channel].astype(np.float64) >= press_threshold
    keep = protect_weight(mask, ramp)[:, None]

    def filtered(x32: np.ndarray) -> np.ndarray:
        """Filtered in float64 a few columns at a time (columns are independent): the float64
        working arrays stay a few columns wide however long the motion."""
        out32 = x32 if inplace and x32.dtype == np.float32 else np.empty(x32.shape, np.float32)
        for c in range(0, x32.shape[1], _COLUMNS):
            x = x32[:, c:c + _COLUMNS].astype(np.float64)
            sg = savgol_filter(x, w, order, axis=0, mode="interp")
            out32[:, c:c + _COLUMNS] = (keep * x + (1.0 - keep) * sg).astype(np.float32)
        return out32

    return filtered(expression), filtered(jaw)


#: Columns :func:`smooth_face` filters at once.
_COLUMNS = 4
