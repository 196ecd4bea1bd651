"""The validated controls of one generation call."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from motion.types import FPS, canonical_emotion

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


@dataclass(frozen=True)
class GenerationRequest:
    """Controls for speech -> animation, checked on construction.

    Attributes:
        audio: path of the speech recording (wav, flac, ogg, mp3, ...).
        emotion: one of the 8 emotions; ``None`` = the emotion heard in the audio.
        intensity: 1-3 (MEAD levels), continuous in between; 0 fades the emotion out.
        style: a speaker id (e.g. ``"2"``) or the path of a reference clip; ``None`` =
            the style heard in the audio.
        seed: random seed; the same seed gives the same motion.
        fps: output frame rate (motion is generated at 30 fps and resampled).
        body, face: which parts to generate.
        steps: sampling steps of the diffusion sampler (``None`` = model default).
    """

    audio: Path
    emotion: str | None = None
    intensity: float = 2.0
    style: str | None = None
    seed: int | None = None
    fps: float = FPS
    body: bool = True
    face: bool = True
    steps: int | None = None

    def __post_init__(self) -> None:
        from motion.audio.errors import check_audio_path  # light: no numpy

        object.__setattr__(self, "audio", Path(self.audio))
        check_audio_path(self.audio)  # not found / a folder / a FIFO or device: said as such
        if self.emotion is not None:
            object.__setattr__(self, "emotion", canonical_emotion(self.emotion))
        if not 0.0 <= float(self.intensity) <= 3.0:
            raise ValueError(f"intensity must be within [0, 3] (MEAD levels 1-3), got {self.intensity}")
        if not 0.0 < float(self.fps) <= 1000.0:
            raise ValueError(f"fps must be in (0, 1000], got {self.fps}")
        if not (self.body or self.face):
            raise ValueError("nothing to generate: body and face are both off")
        if self.steps is not None and self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")
