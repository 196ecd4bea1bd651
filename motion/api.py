"""The Python front door: :func:`generate`, its :class:`GenerationOptions`, :func:`clear_cache`."""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from motion.errors import MotionError
from motion.pipelines.request import OPTION_NAMES, GenerationOptions
from motion.types import AUDIO_SR, FPS

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from motion.audio import Audio
    from motion.container import Motion
    from motion.pipelines.emotion_curve import EmotionCurve

__all__ = ["GenerationOptions", "NotBuiltError", "clear_cache", "generate"]


class NotBuiltError(MotionError, NotImplementedError):
    """Raised by parts of the toolkit that are planned but not built yet."""


def generate(
    audio: str | os.PathLike[str] | np.ndarray | Audio,
    *,
    sr: int | None = None,
    emotion: str | os.PathLike[str] | EmotionCurve | None = None,
    intensity: float | None = None,
    emotion_reference: str | os.PathLike[str] | None = None,
    style: str | int | None = None,
    seed: int | None = None,
    body: bool = True,
    face: bool = True,
    fps: float = FPS,
    transcript: str | None = None,
    weights: str | os.PathLike[str] | None = None,
    threads: int | None = None,
    device: str = "cpu",
    options: GenerationOptions | None = None,
    **deprecated: Any,
) -> Motion:
    """Speech -> one whole-character animation.

    Args:
        audio: speech of any length: a file (wav, flac, ogg, mp3, m4a, ...), a numpy array of
            samples (``(N,)`` mono or ``(N, C)`` channels-last, float in [-1, 1] or integer PCM;
            give its rate as ``sr``), or a :class:`motion.audio.Audio` (``motion.load_audio``).
        sr: the sample rate of an array ``audio`` in Hz (required for an array; a file or an
            ``Audio`` carries its own).
        emotion: one of :data:`motion.types.EMOTIONS` (aliases allowed); or the emotion over
            time, a keyframed curve: its text (``"0:neutral, 4.5:angry@2.5, 9:sad"``, a key per
            ``TIME:LABEL[@INTENSITY]`` or ``TIME:(VALENCE,AROUSAL)``), a
            :class:`motion.EmotionCurve`, or the path of a ``.json`` / ``.csv`` curve file
            (:mod:`motion.pipelines.emotion_curve`: each key holds until the next, 1 s smoothstep
            cross-fades into it; the body follows it window by window, the face frame by frame;
            keys after the audio's end are allowed and change nothing); ``None``: the emotion
            heard in the audio, which body and face both follow.
        intensity: 0-3 (MEAD levels 1-3, continuous in between); ``None``: 2 with an emotion
            label, unknown (the model's choice) otherwise. Not with a curve (its keys hold the
            intensities: ``LABEL@INTENSITY``).
        emotion_reference: a speech clip whose emotion (as the speech encoder hears it) is used.
        style: speaker id or reference clip path; ``None`` keeps the audio's own.
        seed: random seed (same seed, same motion); ``None``: drawn, recorded in ``meta.seed``.
        body, face: which parts to generate (without face weights the face stays neutral).
        fps: output frame rate (generated at 30 fps, then resampled).
        transcript: the words spoken, if known: the face's phones are aligned to them (forced
            alignment) instead of recognised from the audio alone. English; other languages
            degrade to the voice's own cues.
        weights: weights folder (a latent-diffusion export, or a root with ``body/`` and
            ``face/``); default ``$MOTION_WEIGHTS_DIR``, then the shipped ``motion/weights``.
        threads: torch intra-op threads for this call (``--threads`` of the command line);
            ``None``: ``$MOTION_THREADS``, else a pool size you set yourself
            (``torch.set_num_threads``, ``$OMP_NUM_THREADS``) is kept, else the cores this
            process may use that are idle (:mod:`motion.threads`). torch's pool is put back
            as it was when the call returns.
        device: where the networks run: "cpu" (default), "cuda" or "cuda:N" (a GPU, if this
            torch build and machine have one; the output is the same Motion on the CPU).
        options: the research knobs (sampler, steps, guidance, windowing, smoothing, the face's
            phone mode): a :class:`GenerationOptions`; ``None``: its defaults, the command line's.
        deprecated: the fields of :class:`GenerationOptions` as keyword arguments (``steps=2``)
            still work in this release, with a DeprecationWarning; they override ``options``.

    Pipelines are loaded once and kept for the next call, at most two weights folders per part
    (least recently used dropped first; a folder whose files change is loaded again);
    :func:`clear_cache` frees them.

    Returns:
        A :class:`motion.Motion` with SMPL-X poses, translation, expression and metadata (with a
        curve: ``meta.emotion`` the label held longest, ``meta.intensity`` its mean intensity,
        ``meta.extra["emotion_curve"]`` the keys).

    Raises:
        FileNotFoundError, ValueError, TypeError: for bad inputs (checked before any weights load).
        motion.pipelines.weights.WeightsNotFoundError: no weights; the message gives the
            ``motion fit`` commands that train them.
        motion.pipelines.weights.DeviceNotAvailableError: ``device="cuda"`` without a usable GPU.
    """
    from motion.pipelines.emotion_curve import EmotionCurve, as_emotion  # numpy only
    from motion.pipelines.weights import check_device
    from motion.threads import parse_threads, threads_for_call

    options = _options(options, deprecated)
    if threads is not None:
        parse_threads(str(threads), "threads")  # before any work
    emotion = as_emotion(emotion)  # a label (canonical) or an EmotionCurve; malformed: said here
    if isinstance(emotion, EmotionCurve) and intensity is not None:
        raise ValueError(f"intensity={intensity!r} with an emotion curve: the curve's keys hold the intensities "
                         "(e.g. \"0:sad@3, 5:happy@1.5\"); leave intensity out")
    if intensity is not None and not 0.0 <= _real(intensity, "intensity") <= 3.0:
        raise ValueError(f"intensity must be within [0, 3] (MEAD levels 1-3), got {intensity!r}")
    if not 0.0 < _real(fps, "fps") <= 1000.0:
        raise ValueError(f"fps must be in (0, 1000], got {fps!r}")
    if not (body or face):
        raise ValueError("nothing to generate: body and face are both off")
    if emotion_reference is not None and not Path(emotion_reference).is_file():
        raise FileNotFoundError(f"emotion reference clip not found: {emotion_reference}")
    dev = str(check_device(device))  # CUDA asked for but not there: said before any work
    speech = _speech(audio, sr)
    with threads_for_call(threads):
        return _generate(speech, weights, options, emotion=emotion, intensity=intensity, style=style,
                         seed=seed, fps=fps, body=body, face=face, emotion_reference=emotion_reference,
                         transcript=transcript, device=dev)


def clear_cache() -> None:
    """Drop the pipelines :func:`generate` keeps loaded (their memory is freed once no
    :class:`motion.Motion` or caller holds them); the next call loads the weights again.

    Only the in-memory models: the files under ``$MOTION_CACHE_DIR`` are not touched.
    """
    _body_pipeline.cache_clear()
    _face_pipeline.cache_clear()


# ----------------------------------------------------------------------------- internals
def _real(value: Any, name: str) -> float:
    """``value`` as a finite float, else a ValueError naming ``name``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return number


def _options(options: GenerationOptions | None, deprecated: dict[str, Any]) -> GenerationOptions:
    """``options`` (default: :class:`GenerationOptions`'s), with the old keyword arguments applied."""
    if options is not None and not isinstance(options, GenerationOptions):
        raise TypeError(f"options must be a motion.GenerationOptions, got {type(options).__name__}")
    options = options or GenerationOptions()
    if not deprecated:
        return options
    unknown = sorted(set(deprecated) - set(OPTION_NAMES) - {"models_dir"})
    if unknown:
        raise TypeError(f"generate() got an unexpected keyword argument {unknown[0]!r}")
    if "models_dir" in deprecated:
        warnings.warn("motion.generate(models_dir=...) is deprecated and ignored (generation needs no SMPL-X / "
                      "FLAME files); it will be removed in the next release", DeprecationWarning, stacklevel=3)
    given = {k: v for k, v in deprecated.items() if k != "models_dir"}
    if given:
        args = ", ".join(f"{k}={v!r}" for k, v in given.items())
        warnings.warn(f"motion.generate({', '.join(f'{k}=' for k in given)}...) is deprecated and will be removed "
                      f"in the next release: pass options=motion.GenerationOptions({args})",
                      DeprecationWarning, stacklevel=3)
    # None meant "the default" for these keywords
    return dataclasses.replace(options, **{k: v for k, v in given.items() if v is not None})


def _speech(audio: Any, sr: int | None) -> Any:
    """A checked file path, or an :class:`~motion.audio.Audio` at 16 kHz for array input."""
    if isinstance(audio, (str, os.PathLike)):
        if sr is not None:
            raise ValueError(f"sr={sr!r} is for array input; a file's sample rate is read from the file")
        from motion.audio.errors import check_audio_path  # light: no numpy

        return check_audio_path(audio)  # not found / a folder / a FIFO or device: said as such
    import numpy as np

    from motion.audio import Audio, load_audio_from_array

    if isinstance(audio, Audio):
        if sr is not None and sr != audio.sr:
            raise ValueError(f"sr={sr!r} disagrees with the Audio's own rate ({audio.sr} Hz); leave sr out")
        if audio.sr == AUDIO_SR:
            return audio
        audio, sr = np.asarray(audio.samples), audio.sr
    elif not isinstance(audio, np.ndarray):
        raise TypeError(f"audio must be a file path, a numpy array of samples (with sr=) or a motion.audio.Audio, "
                        f"got {type(audio).__name__}")
    elif sr is None:
        raise ValueError("an array of samples needs its sample rate: motion.generate(samples, sr=16000, ...)")
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ValueError(f"sr must be a sample rate in Hz (a whole number > 0), got {sr!r}")
    return load_audio_from_array(audio, int(sr), allow_silent=True)  # as a file is read: down-mixed, 16 kHz


def _stamp(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Name, size and modification time of the files in ``folder``: new weights, a new key."""
    try:
        files = [(p.name, p.stat()) for p in folder.iterdir() if p.is_file()]
    except OSError:
        return ()
    return tuple(sorted((name, st.st_size, st.st_mtime_ns) for name, st in files))


@functools.lru_cache(maxsize=2)
def _body_pipeline(root: str, stamp: tuple[Any, ...], device: str = "cpu") -> Any:
    """The body pipeline of weights ``root`` on ``device`` (``stamp``: the files it is read from)."""
    from motion.pipelines.body import BodyPipeline

    return BodyPipeline.from_pretrained(root, device)


@functools.lru_cache(maxsize=2)
def _face_pipeline(root: str, stamp: tuple[Any, ...], device: str = "cpu") -> tuple[Any, str | None]:
    """``(FacePipeline, None)`` or ``(None, why not)`` for weights ``root``, on ``device``."""
    from motion.pipelines.generate import load_face_pipeline

    return load_face_pipeline(root, device)


def _generate(speech: Any, weights: str | os.PathLike[str] | None, options: GenerationOptions, *,
              emotion: str | EmotionCurve | None, intensity: float | None, style: str | int | None, seed: int | None,
              fps: float, body: bool, face: bool, emotion_reference: Any, transcript: str | None,
              device: str = "cpu") -> Motion:
    """:func:`generate` after its checks, torch's pool sized."""
    from motion.pipelines.generate import generate_motion
    from motion.pipelines.weights import resolve_weights_dir

    root = resolve_weights_dir(weights)
    key = str(root.resolve())
    body_pipe = None
    if body:
        body_pipe = _body_pipeline(key, _stamp(root / "body" if (root / "body").is_dir() else root), device)
    face_pipe, note = None, "not asked for"
    if face:
        face_pipe, note = _face_pipeline(key, _stamp(root / "face"), device)
        if face_pipe is None and not body:
            from motion.pipelines.weights import WeightsNotFoundError

            raise WeightsNotFoundError(f"face only was asked for, but {note}")
    body_options = options.body_kwargs() if body_pipe is not None else {}
    out = generate_motion(speech if not isinstance(speech, Path) else str(speech), body_pipe, face_pipe,
                          emotion=emotion, intensity=intensity, style=style, seed=seed, fps=fps,
                          emotion_reference=emotion_reference, face_note=note, transcript=transcript,
                          phones=options.phones, keep_outputs=False, **body_options)
    return out.motion
