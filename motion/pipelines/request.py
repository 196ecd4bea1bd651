"""The research knobs of one generation call: :class:`GenerationOptions` and their defaults.

:func:`motion.generate` keeps the controls a user sets (audio, emotion, intensity, style,
seed, parts, frame rate, transcript, weights, threads); how the body is sampled, how long
audio is windowed and how the face finds its phones live here, in one typed, frozen place::

    import motion
    opts = motion.GenerationOptions(steps=20, sampler="ddim", emotion_guidance=1.5)
    m = motion.generate("speech.wav", emotion="happy", seed=0, options=opts)

Light on purpose (no numpy, no torch): the command line builds one before any model loads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Literal, get_args

#: Default body sampler and steps: DPM-Solver++ (Lu et al. 2022), a second-order multistep
#: solver, reaches in 10 steps what DDIM needs ~20 for (the benchmark and `motion evaluate`
#: compare them on the demo weights).
DEFAULT_SAMPLER = "dpmsolver"
DEFAULT_STEPS = 10
#: Default classifier-free guidance scales of the body (audio s_a, emotion s_e; Liu et al.
#: 2022). On the demo weights (the 1152 test clips, ``motion evaluate``) s_e = 2.5 gives the
#: requested emotion in 93% of clips, also when it differs from the audio's, at intra-FGD
#: 4.9 / 4.4 (seeds 0 / 1000); s_e = 1.5 gives 89.5% at 4.8 (seed 0; on 320 clips 1.0 gave 85%).
DEFAULT_AUDIO_GUIDANCE = 1.0
DEFAULT_EMOTION_GUIDANCE = 2.5
#: Default Gaussian smoothing (sigma, motion frames) of the decoded body features. The demo
#: motion VAE decodes with ~2.8x the ground truth's upper-body acceleration (frame-to-frame
#: jitter); sigma = 1 frame (33 ms) removes it and leaves 0.2-0.5 s gesture strokes intact.
DEFAULT_BODY_SMOOTHING = 1.0

#: The body's samplers (:func:`motion.models.sampler.sampling_scheduler`).
SAMPLERS: tuple[str, ...] = ("dpmsolver", "ddim")
#: How long audio's windows are joined (:mod:`motion.pipelines.long_audio`): all windows denoised
#: together with their overlaps fused, the overlap inpainted, cross-faded, or cut end to end.
StitchMode = Literal["fused", "inpaint", "crossfade", "concat"]
STITCH_MODES: tuple[str, ...] = get_args(StitchMode)
#: How the face finds the phones of speech without a transcript: the lip-event detector
#: (:func:`motion.audio.closures.detect_closures`: bilabials and pauses only), phone loop, words
#: then alignment (:func:`motion.audio.phones.recognise_phones`), or not at all (no closures).
PhoneMode = Literal["detector", "loop", "words", "off"]
PHONE_MODES: tuple[str, ...] = get_args(PhoneMode)


def _number(name: str, value: object, *, low: float, strict: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"GenerationOptions.{name} must be a finite number, got {value!r}")
    if value < low or (strict and value == low):
        raise ValueError(f"GenerationOptions.{name} must be {'>' if strict else '>='} {low:g}, got {value!r}")


@dataclass(frozen=True)
class GenerationOptions:
    """How :func:`motion.generate` samples the body and finds the face's phones.

    Every field has the default the command line uses (``motion generate --help``); the
    values are checked on construction (a ValueError names the field).

    Attributes:
        steps: diffusion sampling steps of the body (``--steps``).
        sampler: ``"dpmsolver"`` (DPM-Solver++) or ``"ddim"`` (``--sampler``).
        audio_guidance, emotion_guidance: classifier-free guidance scales s_a, s_e of the body
            (``--audio-guidance``, ``--emotion-guidance``; 0, 0 = unconditional).
        window_s, overlap_s: long-audio window and overlap in seconds (``--window``,
            ``--overlap``); ``None``: the training window, half of it overlapping when fused,
            a quarter otherwise (:mod:`motion.pipelines.long_audio`).
        stitch: how windows are joined: ``"fused"`` (all windows denoised together, overlaps
            fused at every step), ``"inpaint"``, ``"crossfade"`` or ``"concat"`` (``--stitch``).
        smoothing: Gaussian smoothing of the body over time, sigma in frames (0 = off).
        phones: without a transcript, how the face finds the p/b/m where the lips shut:
            ``"detector"`` (the lip-event network of :mod:`motion.audio.closures`, trained on
            real speech: about 80% of p/b/m on real recordings), ``"loop"`` (pocketsphinx phone
            loop: fewer p/b/m, fewer false ones, 3x the compute), ``"words"`` (word recognition,
            then alignment: ~10x the compute) or ``"off"`` (the lips follow the voice alone).
    """

    steps: int = DEFAULT_STEPS
    sampler: str = DEFAULT_SAMPLER
    audio_guidance: float = DEFAULT_AUDIO_GUIDANCE
    emotion_guidance: float = DEFAULT_EMOTION_GUIDANCE
    window_s: float | None = None
    overlap_s: float | None = None
    stitch: str = "fused"
    smoothing: float = DEFAULT_BODY_SMOOTHING
    phones: str = "detector"

    def __post_init__(self) -> None:
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 1:
            raise ValueError(f"GenerationOptions.steps must be a whole number >= 1, got {self.steps!r}")
        for name, choices in (("sampler", SAMPLERS), ("stitch", STITCH_MODES), ("phones", PHONE_MODES)):
            if getattr(self, name) not in choices:
                raise ValueError(f"GenerationOptions.{name} must be one of {', '.join(choices)}, "
                                 f"got {getattr(self, name)!r}")
        _number("audio_guidance", self.audio_guidance, low=0.0)
        _number("emotion_guidance", self.emotion_guidance, low=0.0)
        _number("smoothing", self.smoothing, low=0.0)
        if self.window_s is not None:
            _number("window_s", self.window_s, low=0.0, strict=True)
        if self.overlap_s is not None:
            _number("overlap_s", self.overlap_s, low=0.0)
        if (self.window_s is not None and self.overlap_s is not None and self.stitch != "concat"
                and self.overlap_s >= self.window_s):
            raise ValueError(f"the overlap ({self.overlap_s:g} s, --overlap / overlap_s) must be shorter than the "
                             f"window ({self.window_s:g} s, --window / window_s)")

    def body_kwargs(self) -> dict[str, object]:
        """The body pipeline's arguments (:meth:`motion.pipelines.body.BodyPipeline.__call__`)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "phones"}


#: The fields of :class:`GenerationOptions`: once keyword arguments of :func:`motion.generate`.
OPTION_NAMES: tuple[str, ...] = tuple(f.name for f in fields(GenerationOptions))
