"""Names of the stand-in's semantic expression and shape coefficients (no imports).

See :mod:`motion.bodymodels.standin.expression_basis` and :mod:`motion.bodymodels.standin.shape_basis`
for what each one does. On real FLAME / SMPL-X models the coefficients are PCA
components without these meanings.
"""

from __future__ import annotations

from motion.smplx_names import STANDIN_EXPRESSION_NAMES

#: Expression coefficients 0-19 of the stand-in (left = the character's own left).
EXPRESSION_NAMES: tuple[str, ...] = STANDIN_EXPRESSION_NAMES
#: Shape coefficients (betas) 0-9 of the stand-in.
SHAPE_NAMES: tuple[str, ...] = (
    "size", "girth", "shoulder_width", "hip_width", "leg_length", "torso_length", "arm_length", "head_size", "belly", "chest",
)


def expression_index(name: str) -> int:
    """Index of a named expression coefficient, e.g. ``expression_index('blink_left') == 11``."""
    try:
        return EXPRESSION_NAMES.index(name)
    except ValueError:
        raise ValueError(f"unknown expression {name!r}; choose one of: {', '.join(EXPRESSION_NAMES)}") from None


def shape_index(name: str) -> int:
    """Index of a named shape coefficient (beta), e.g. ``shape_index('size') == 0``."""
    try:
        return SHAPE_NAMES.index(name)
    except ValueError:
        raise ValueError(f"unknown shape coefficient {name!r}; choose one of: {', '.join(SHAPE_NAMES)}") from None
