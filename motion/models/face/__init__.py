"""Face models: the FLINT prior, the EMOTE-style decoder, perceptual nets, a fast FLAME layer.

Light on purpose; the names below load their module on first use::

    from motion.models.face import FlintPrior, FlameExpressionLayer, EmoteDecoder
"""

from __future__ import annotations

from motion._lazy import lazy_attributes

_LAZY: dict[str, tuple[str, str]] = {
    "FlintPrior": ("motion.models.face.flint", "FlintPrior"),
    "FlintOutput": ("motion.models.face.flint", "FlintOutput"),
    "FlameExpressionLayer": ("motion.models.face.flame_layer", "FlameExpressionLayer"),
    "moving_vertices": ("motion.models.face.flame_layer", "moving_vertices"),
    "AlibiTransformerLayer": ("motion.models.face.attention", "AlibiTransformerLayer"),
    "EmoteDecoder": ("motion.models.face.decoder", "EmoteDecoder"),
    "FaceDecoderOutput": ("motion.models.face.decoder", "FaceDecoderOutput"),
    "FaceConditioning": ("motion.models.face.conditioning", "FaceConditioning"),
    "FacePerceptualNet": ("motion.models.face.perceptual", "FacePerceptualNet"),
    "PerceptualOutput": ("motion.models.face.perceptual", "PerceptualOutput"),
    "LipReader": ("motion.models.face.perceptual", "LipReader"),
    "FaceEmotionNet": ("motion.models.face.perceptual", "FaceEmotionNet"),
    "FaceVertexSets": ("motion.models.face.vertices", "FaceVertexSets"),
}

__all__ = [
    "AlibiTransformerLayer", "EmoteDecoder", "FaceConditioning", "FaceDecoderOutput", "FaceEmotionNet",
    "FacePerceptualNet", "FaceVertexSets", "FlameExpressionLayer", "FlintOutput", "FlintPrior", "LipReader",
    "PerceptualOutput", "moving_vertices",
]


__getattr__, __dir__ = lazy_attributes("motion.models.face", _LAZY, globals())
