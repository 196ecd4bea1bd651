"""Semantic face channels -> indices of the 100 stand-in expression coefficients.

The generator speaks in semantic channels (``smile``, ``lips_press``...). Their column
in the ``(T, 100)`` expression array comes from
:mod:`motion.bodymodels.names` (the toolkit's stand-in basis, where a unit
coefficient is the full-strength expression). Each channel lists the names it may have
there; the first one the basis knows wins.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

#: Semantic channel -> candidate names in the expression basis, preferred first.
CHANNELS: Final[dict[str, tuple[str, ...]]] = {
    "smile": ("smile", "mouth_smile", "lip_corner_pull"),
    "frown": ("frown", "lip_corners_down", "lip_corner_depress", "mouth_frown"),
    "lip_pucker": ("lip_pucker", "pucker", "mouth_pucker"),
    "lip_funnel": ("lip_funnel", "funnel", "mouth_funnel"),
    "lips_press": ("lips_press", "lips_close", "lip_press", "mouth_close", "mouth_press"),
    "upper_lip_raise": ("upper_lip_raise", "upper_lip_up", "mouth_upper_up"),
    "lower_lip_depress": ("lower_lip_depress", "lower_lip_down", "mouth_lower_down"),
    "mouth_stretch": ("mouth_stretch", "lip_stretch", "lips_stretch"),
    "brow_inner_up": ("brow_inner_up", "inner_brow_raise", "brow_inner_raise"),
    "brow_outer_up": ("brow_outer_up", "outer_brow_raise", "brow_outer_raise"),
    "brow_down": ("brow_down", "brow_lower", "brow_lowerer"),
    "blink_left": ("blink_left", "eye_blink_left", "eye_close_left"),
    "blink_right": ("blink_right", "eye_blink_right", "eye_close_right"),
    "eye_wide": ("eye_wide", "eyes_wide", "upper_lid_raise", "eye_widen"),
    "cheek_squint": ("cheek_squint", "cheek_raise", "cheek_raiser"),
    "nose_sneer": ("nose_sneer", "nose_wrinkle", "nose_wrinkler"),
    "cheek_puff": ("cheek_puff", "cheeks_puff"),
    "mouth_left": ("mouth_left", "mouth_move_left"),
    "mouth_right": ("mouth_right", "mouth_move_right"),
    "lips_part": ("lips_part", "lip_part", "lips_apart", "mouth_open"),
}


@lru_cache(maxsize=1)
def channel_indices() -> dict[str, int]:
    """Column of each semantic channel in the expression array.

    Raises:
        KeyError: naming a channel none of whose candidate names the basis knows.
    """
    from motion.bodymodels.names import EXPRESSION_NAMES

    names = {n.lower(): i for i, n in enumerate(EXPRESSION_NAMES)}
    out: dict[str, int] = {}
    for channel, candidates in CHANNELS.items():
        idx = next((names[c] for c in candidates if c in names), None)
        if idx is None:
            raise KeyError(
                f"expression basis has no coefficient for {channel!r} (tried {candidates}); "
                f"it has {list(EXPRESSION_NAMES)[:24]}"
            )
        out[channel] = idx
    return out
