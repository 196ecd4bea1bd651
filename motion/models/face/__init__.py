"""Face models: the FLINT temporal VAE prior and a fast FLAME expression + jaw layer.

Light on purpose; the names below load their module on first use::

    from motion.models.face import FlintPrior, FlameExpressionLayer
"""

from __future__ import annotations

from typing import Any

_LAZY: dict[str, tuple[str, str]] = {
    "FlintPrior": ("motion.models.face.flint", "FlintPrior"),
    "FlintOutput": ("motion.models.face.flint", "FlintOutput"),
    "FlameExpressionLayer": ("motion.models.face.flame_layer", "FlameExpressionLayer"),
    "moving_vertices": ("motion.models.face.flame_layer", "moving_vertices"),
    "AlibiTransformerLayer": ("motion.models.face.attention", "AlibiTransformerLayer"),
}

__all__ = ["AlibiTransformerLayer", "FlameExpressionLayer", "FlintOutput", "FlintPrior", "moving_vertices"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'motion.models.face' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
