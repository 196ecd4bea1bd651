"""The Python front door: :func:`generate`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from motion.pipelines.request import GenerationRequest
from motion.types import FPS

if TYPE_CHECKING:  # pragma: no cover
    from motion.container import Motion


class NotBuiltError(NotImplementedError):
    """Raised by parts of the toolkit that are planned but not built yet."""


def generate(
    audio: str | Path,
    *,
    emotion: str | None = None,
    intensity: float = 2.0,
    style: str | None = None,
    seed: int | None = None,
    fps: float = FPS,
    body: bool = True,
    face: bool = True,
    steps: int | None = None,
    models_dir: str | Path | None = None,
) -> "Motion":
    """Speech -> one whole-character animation.

    Args:
        audio: speech recording of any length (wav, flac, ogg, mp3, ...).
        emotion: one of :data:`motion.types.EMOTIONS`; ``None`` keeps the audio's own.
        intensity: 1-3, continuous in between.
        style: speaker id or reference clip path; ``None`` keeps the audio's own.
        seed: random seed.
        fps: output frame rate.
        body, face: which parts to generate.
        steps: diffusion sampling steps (``None`` = default).
        models_dir: SMPL-X / FLAME models folder (default ``$MOTION_MODELS_DIR`` or stand-in).

    Returns:
        A :class:`motion.Motion` with SMPL-X poses, translation, expression and metadata.

    Raises:
        FileNotFoundError, ValueError: for bad inputs (checked before any work).
        NotBuiltError: until the body (issue 3) and face (issue 4) models land.
    """
    request = GenerationRequest(
        audio=Path(audio), emotion=emotion, intensity=intensity, style=style, seed=seed,
        fps=fps, body=body, face=face, steps=steps,
    )
    del request, models_dir
    raise NotBuiltError(
        "speech -> motion generation is not built yet: the body model (issue 3) and the face "
        "model (issue 4) are in progress. Meanwhile, `motion corpus` makes animated clips and "
        "`motion render` turns them into videos."
    )
