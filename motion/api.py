"""The Python front door: :func:`generate`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from motion.errors import MotionError
from motion.pipelines.request import GenerationRequest
from motion.types import FPS

if TYPE_CHECKING:  # pragma: no cover
    from motion.container import Motion


class NotBuiltError(MotionError, NotImplementedError):
    """Raised by parts of the toolkit that are planned but not built yet."""


#: Loaded pipelines by (kind, folder, weights mtime), so repeated calls do not reload.
_CACHE: dict[tuple[str, str, float], Any] = {}


def _cached(kind: str, folder: Path, stamp_file: str, load: Any) -> Any:
    stamp = folder / stamp_file
    key = (kind, str(folder.resolve()), stamp.stat().st_mtime if stamp.is_file() else 0.0)
    if key not in _CACHE:
        _CACHE[key] = load()
    return _CACHE[key]


def generate(
    audio: str | Path,
    *,
    emotion: str | None = None,
    intensity: float | None = None,
    style: str | int | None = None,
    seed: int | None = None,
    fps: float = FPS,
    body: bool = True,
    face: bool = True,
    steps: int | None = None,
    models_dir: str | Path | None = None,
    weights: str | os.PathLike[str] | None = None,
    emotion_reference: str | Path | None = None,
    audio_guidance: float | None = None,
    emotion_guidance: float | None = None,
    sampler: str | None = None,
    window_s: float | None = None,
    overlap_s: float | None = None,
    stitch: str | None = None,
    smoothing: float | None = None,
    transcript: str | None = None,
    phones: str = "detector",
    threads: int | None = None,
) -> Motion:
    """Speech -> one whole-character animation.

    Args:
        audio: speech recording of any length (wav, flac, ogg, mp3, ...).
        emotion: one of :data:`motion.types.EMOTIONS`; ``None`` keeps the audio's own.
        intensity: 0-3 (MEAD levels 1-3, continuous in between); ``None``: 2 with an emotion
            label, unknown (the model's choice) otherwise.
        style: speaker id or reference clip path; ``None`` keeps the audio's own.
        seed: random seed (same seed, same motion).
        fps: output frame rate.
        body, face: which parts to generate (without face weights the face stays neutral).
        steps: diffusion sampling steps (``None`` = 10, :data:`~motion.pipelines.request.DEFAULT_STEPS`).
        models_dir: SMPL-X / FLAME models folder (not needed for generation; kept for symmetry).
        weights: weights folder (a latent-diffusion export, or a root with ``body/`` and
            ``face/``); default ``$MOTION_WEIGHTS_DIR``, then ``motion/weights`` if shipped.
        emotion_reference: a speech clip whose emotion (as the speech encoder hears it) is used.
        audio_guidance, emotion_guidance: classifier-free guidance scales (default 1.0, 2.5:
            :data:`~motion.pipelines.request.DEFAULT_EMOTION_GUIDANCE`).
        sampler: "dpmsolver" (DPM-Solver++, default) or "ddim".
        window_s, overlap_s, stitch: long-audio windowing (:mod:`motion.pipelines.long_audio`;
            default: the training window, half-window overlap, "fused").
        smoothing: Gaussian smoothing of the body over time, sigma in frames (default 1; 0 = off).
        transcript: the words spoken, if known: the face's phones are aligned to them (forced
            alignment) instead of recognised from the audio alone. English; other languages
            degrade to the voice's own cues.
        phones: without a transcript, how the face finds the p/b/m where the lips shut:
            "detector" (default: the tiny lip-event network of :mod:`motion.audio.closures`,
            trained on real speech; about 80% of p/b/m on real recordings at a third of the
            loop's compute), "loop" (pocketsphinx phone loop: fewer p/b/m, fewer false ones),
            "words" (English word recognition, then alignment of the words heard: about 10x
            the compute), or "off" (no phones: the lips follow the voice alone).
        threads: torch intra-op threads for this call (``--threads`` of the command line);
            ``None``: ``$MOTION_THREADS``, else a pool size you set yourself
            (``torch.set_num_threads``, ``$OMP_NUM_THREADS``) is kept, else the cores this
            process may use that are idle (:mod:`motion.threads`). torch's pool is put back
            as it was when the call returns.

    Returns:
        A :class:`motion.Motion` with SMPL-X poses, translation, expression and metadata.

    Raises:
        FileNotFoundError, ValueError: for bad inputs (checked before any work).
        motion.pipelines.weights.WeightsNotFoundError: no weights; the message gives the
            ``motion fit`` commands that train them.
    """
    from motion.threads import parse_threads

    if threads is not None:
        parse_threads(str(threads), "threads")  # before any work
    request = GenerationRequest(
        audio=Path(audio), emotion=emotion, intensity=2.0 if intensity is None else intensity,
        style=None if style is None else str(style), seed=seed, fps=fps, body=body, face=face,
        steps=steps,
    )
    del models_dir
    from motion.pipelines.face_inputs import check_phone_mode

    check_phone_mode(phones)
    if window_s is not None and overlap_s is not None and stitch != "concat" and overlap_s >= window_s:
        raise ValueError(f"the overlap ({overlap_s:g} s, --overlap / overlap_s) must be shorter than the window "
                         f"({window_s:g} s, --window / window_s)")  # before any weights load
    if emotion_reference is not None and not Path(emotion_reference).is_file():
        raise FileNotFoundError(f"emotion reference clip not found: {emotion_reference}")
    from motion.threads import threads_for_call

    with threads_for_call(threads):
        return _generate(request, weights, emotion=emotion, intensity=intensity, style=style, seed=seed,
                         emotion_reference=emotion_reference, transcript=transcript, phones=phones,
                         given={"steps": steps, "audio_guidance": audio_guidance,
                                "emotion_guidance": emotion_guidance, "sampler": sampler, "window_s": window_s,
                                "overlap_s": overlap_s, "stitch": stitch, "smoothing": smoothing})


def _generate(request: GenerationRequest, weights: str | os.PathLike[str] | None, *, emotion: str | None,
              intensity: float | None, style: str | int | None, seed: int | None, emotion_reference: Any,
              transcript: str | None, phones: str, given: dict[str, Any]) -> Motion:
    """:func:`generate` after its checks, torch's pool sized; ``given``: the body's sampling options."""
    from motion.pipelines.generate import generate_motion, load_face_pipeline
    from motion.pipelines.weights import resolve_weights_dir

    root = resolve_weights_dir(weights)
    body_pipe = None
    if request.body:
        from motion.pipelines.body import BodyPipeline

        folder = root / "body" if (root / "body" / "denoiser.json").is_file() else root
        body_pipe = _cached("body", folder, "denoiser.pt", lambda: BodyPipeline.from_pretrained(root))
    face_pipe, note = None, "not asked for"
    if request.face:
        face_pipe, note = _cached("face", root, "face/face_decoder.pt",
                                  lambda: load_face_pipeline(root))
        if face_pipe is None and not request.body:
            from motion.pipelines.weights import WeightsNotFoundError

            raise WeightsNotFoundError(f"face only was asked for, but {note}")
    options = {k: v for k, v in given.items() if v is not None and body_pipe is not None}
    out = generate_motion(str(request.audio), body_pipe, face_pipe, emotion=request.emotion,
                          intensity=intensity if intensity is None else request.intensity,
                          style=style, seed=seed, fps=request.fps,
                          emotion_reference=emotion_reference, face_note=note, transcript=transcript,
                          phones=phones, keep_outputs=False, **options)
    return out.motion
