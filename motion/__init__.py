"""motion: emotional speech -> whole-character 3D animation (SMPL-X body + FLAME face).

The top level stays light (no torch import); public names are loaded on first use::

    import motion
    m = motion.read_motion("clip.npz")      # -> motion.Motion
    m = motion.generate("speech.wav", emotion="happy", intensity=2, seed=0)
    m = motion.generate(samples, sr=44100, options=motion.GenerationOptions(steps=20))
    m = motion.generate("speech.wav", emotion="0:neutral, 4.5:angry@2.5, 9:sad")   # emotion over time
    result = motion.evaluate("data/corpus", split="test", part="both")   # what `motion evaluate` writes
"""

from __future__ import annotations

from motion._lazy import lazy_attributes
from motion._numba_cache import configure as _configure_numba_cache

_configure_numba_cache()  # before anything imports numba (librosa's kernels): a cache place that works

__version__ = "0.1.0"

_LAZY = {
    "Motion": ("motion.container", "Motion"),
    "MotionMeta": ("motion.container", "MotionMeta"),
    "generate": ("motion.api", "generate"),
    "GenerationOptions": ("motion.pipelines.request", "GenerationOptions"),
    "EmotionCurve": ("motion.pipelines.emotion_curve", "EmotionCurve"),
    "clear_cache": ("motion.api", "clear_cache"),
    "evaluate": ("motion.metrics.evaluate", "evaluate"),
    "read_motion": ("motion.data.formats", "read_motion"),
    "load_audio": ("motion.audio", "load_audio"),
    "load_body_model": ("motion.bodymodels", "load_body_model"),
    "load_face_model": ("motion.bodymodels", "load_face_model"),
    "EMOTIONS": ("motion.types", "EMOTIONS"),
    "MotionError": ("motion.errors", "MotionError"),
}

__all__ = sorted(_LAZY) + ["__version__"]


__getattr__, __dir__ = lazy_attributes("motion", _LAZY, globals())
