"""Body + face -> one whole-character :class:`~motion.container.Motion`.

The body pipeline (:mod:`.body`) gives SMPL-X body, hands and root motion with jaw, eyes
and expression at rest; the face pipeline (:mod:`.face`) gives FLAME expression, jaw and
eyes. When face weights are available both run on the same audio with the same controls and
are merged (jaw -> joint 22, eyes -> joints 23/24, expression padded to 100 coefficients as
BEAT2); otherwise the face stays neutral and the output says so in ``meta.extra["face"]``.

Weights: a weights root holds ``body/`` and ``face/`` (:mod:`.weights`); a folder that is a
body export itself is accepted too (then ``face/`` next to it is not looked for).
:class:`~motion.pipelines.motion_pipeline.MotionPipeline` loads, saves and moves both at once.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from motion._memory import trim_heap
from motion.container import Motion, MotionMeta
from motion.pipelines.emotion_curve import EmotionCurve, curve_meta
from motion.pipelines.weights import FACE_MODULES
from motion.types import EMOTIONS, FPS, JAW, LEFT_EYE, NUM_EXPRESSIONS, RIGHT_EYE

if TYPE_CHECKING:  # pragma: no cover
    from motion.pipelines.body import BodyPipeline, BodyPipelineOutput


@dataclass
class GenerationOutput:
    """Result of :func:`generate_motion`.

    Attributes:
        motion: the merged animation at the requested frame rate.
        body: the body pipeline's output (None when the body was not asked for).
        face: the face pipeline's output (None when no face model ran).
        notes: what was left out and why (e.g. no face weights).
    """

    motion: Motion
    body: BodyPipelineOutput | None = None
    face: Any = None
    notes: list[str] = field(default_factory=list)


def _fit_frames(x: np.ndarray, T: int) -> np.ndarray:
    """Crop or edge-pad ``x`` along time to ``T`` frames (the two pipelines may differ by one)."""
    if x.shape[0] >= T:
        return x[:T]
    return np.concatenate([x, np.repeat(x[-1:], T - x.shape[0], axis=0)], axis=0)


def merge_face(motion: Motion, face: Any, inplace: bool = False) -> Motion:
    """``motion`` with jaw, eyes and expression from a face output (``expression (T, E)``,
    ``jaw (T, 3)``, ``eyes (T, 2, 3)``); expression padded to 100 coefficients. ``inplace``:
    write the joints into ``motion.poses`` itself (no copy; the caller owns ``motion``)."""
    T = motion.num_frames
    poses = motion.poses if inplace else motion.poses.copy()
    poses[:, JAW] = _fit_frames(np.asarray(face.jaw, np.float32), T)
    eyes = _fit_frames(np.asarray(face.eyes, np.float32), T)
    poses[:, LEFT_EYE], poses[:, RIGHT_EYE] = eyes[:, 0], eyes[:, 1]
    expr = _fit_frames(np.asarray(face.expression, np.float32), T)
    width = max(NUM_EXPRESSIONS, expr.shape[1])
    expression = np.zeros((T, width), np.float32)
    expression[:, :expr.shape[1]] = expr
    return motion.replace(poses=poses, expression=expression)


def generate_motion(audio: Any, body_pipe: BodyPipeline | None, face_pipe: Any = None, *,
                    emotion: str | EmotionCurve | None = None, intensity: float | None = None,
                    style: object | None = None, seed: int | None = None, fps: float = FPS,
                    emotion_reference: Any = None, face_note: str | None = None,
                    transcript: str | None = None, phones: str = "detector", keep_outputs: bool = True,
                    **body_options: Any) -> GenerationOutput:
    """Run the body and/or face pipeline on ``audio`` and merge them.

    Args:
        audio: speech (path, :class:`motion.audio.Audio` or 16 kHz samples).
        body_pipe: a :class:`BodyPipeline`, or None for a face on a body at rest.
        face_pipe: a :class:`motion.pipelines.face.FacePipeline`, or None for a neutral face.
        emotion, intensity, style, seed: the controls, passed to both pipelines. ``emotion`` may
            be an :class:`~motion.pipelines.emotion_curve.EmotionCurve` (no ``intensity`` then):
            the body takes it per window, the face per frame (not the emotion heard).
        fps: output frame rate (generated at 30 fps, then resampled).
        emotion_reference: a clip whose emotion the body takes; the face gets the emotion
            label the speech encoder hears in it.
        face_note: why there is no face pipeline (recorded in the metadata).
        transcript: the words spoken, if known (the face aligns its phones to them).
        phones: how the face finds p/b/m without a transcript: "detector" (lip-event
            network, fast; default), "loop" (phone recogniser),
            "words" (word recogniser, then alignment: more accurate, slower) or "off".
        keep_outputs: keep the pipelines' own outputs (``body``: features and latents, ``face``)
            in the result; False drops each as soon as it is merged (less memory on long audio;
            :func:`motion.generate` passes False).
        body_options: further :meth:`BodyPipeline.__call__` arguments (steps, sampler...).

    Memory: a recording given by path is decoded once, to disk (:func:`motion.audio.io.open_audio`);
    both pipelines' speech features (and the face's phones) are read from it chunk by chunk and it
    is dropped before any model runs. With ``keep_outputs=False`` the body's windows are decoded
    to SMPL-X as they come and the face is post-processed on its own arrays, so what grows with
    the length is the per-frame output and the shared speech features
    (:mod:`benchmarks.bench_memory`).
    """
    if body_pipe is None and face_pipe is None:
        raise ValueError("nothing to generate: neither a body nor a face pipeline")
    curve = emotion if isinstance(emotion, EmotionCurve) else None
    if curve is not None and intensity is not None:
        raise ValueError("an emotion curve holds its own intensities (LABEL@INTENSITY in its keys): "
                         "leave intensity out")
    if seed is None:
        seed = int(np.random.default_rng().integers(2**31))
    notes: list[str] = []
    body_out = None
    if face_pipe is not None:
        from motion.pipelines.face_inputs import check_phone_mode

        check_phone_mode(phones)
    body_feats = face_feats = track = None
    from motion.audio import Audio

    if isinstance(audio, (str, os.PathLike, Audio)):  # decode once, features for both, then drop the samples
        from motion.audio.io import open_audio

        # a path: the samples on disk, read chunk by chunk; an Audio: read as both pipelines would
        speech = audio if isinstance(audio, Audio) else open_audio(audio, allow_silent=True)
        if body_pipe is not None:
            body_feats = body_pipe.speech_features(speech)
        if face_pipe is not None and hasattr(face_pipe, "speech_inputs"):
            shared = None  # the same speech features for both (log-mel at the same settings): computed once
            if body_feats is not None and body_pipe.features.audio_features == "log_mel" \
                    and face_pipe.feature_config() == body_pipe.features:  # type: ignore[union-attr]
                shared = body_feats
            face_feats, track = face_pipe.speech_inputs(speech, transcript, phones,  # type: ignore[arg-type]
                                                        features=shared)
        del speech
        trim_heap()  # the lip-event detector's filterbank and the feature chunks
    if body_pipe is not None:
        if not keep_outputs:  # only the poses and translation held whole (BodyDecoder)
            body_options = {"keep_features": False, **body_options}
        body_out = body_pipe(audio, features=body_feats, emotion=emotion, intensity=intensity,
                             emotion_reference=emotion_reference, style=style, seed=seed,
                             **body_options)
        body_feats = None
        motion = body_out.motion
        trim_heap()  # the body's windows
    face_out = None
    if face_pipe is not None:
        face_emotion: Any = emotion
        if emotion_reference is not None and body_out is not None:
            face_emotion = body_out.motion.meta.emotion
        elif emotion is None and body_out is not None and body_out.audio_emotion_probs is not None:
            # One emotion source: the face shows the emotion the body's speech encoder hears.
            probs = np.asarray(body_out.audio_emotion_probs, np.float64)[:len(EMOTIONS)]
            face_emotion = dict(zip(EMOTIONS, probs.tolist()))
        if not keep_outputs:
            body_out = None  # its features and latents: the motion is all that is merged
        kwargs: dict[str, Any] = {"emotion": face_emotion, "style": style, "seed": seed}
        if transcript is not None:
            kwargs["transcript"] = transcript
        kwargs["phones"] = phones
        if intensity is not None:
            kwargs["intensity"] = float(intensity)
        if face_feats is not None:  # the same output as from the audio: its features and phones
            face_in, face_feats = face_feats, None
            face_out = face_pipe(face_in, phonemes=track, **kwargs)
            del face_in  # the speech features: not needed for the merge
            trim_heap()
        else:
            face_out = face_pipe(audio, **kwargs)
        if body_pipe is None:
            label: Any = emotion
            level, extra = intensity, {}
            if curve is not None:  # the longest-held label and its mean intensity; the keys in extra
                label, level, extra = curve_meta(curve, face_out.num_frames, face_out.fps)
            motion = Motion.zeros(face_out.num_frames, meta=MotionMeta(
                emotion=label, intensity=level, style=None if style is None else str(style),
                audio=str(audio) if isinstance(audio, (str, os.PathLike)) else None, seed=seed,
                source="motion.pipelines.face", extra=extra))
            notes.append("body: not generated (rest pose)")
        motion = merge_face(motion, face_out, inplace=not keep_outputs)  # the body's output is dropped then
        if not keep_outputs:
            face_out = None
    else:
        notes.append(f"face: neutral ({face_note or 'no face pipeline'})")
    motion.meta.extra["face"] = ("generated" if face_pipe is not None
                                 else f"neutral ({face_note or 'no face pipeline'})")
    if fps != motion.fps:
        motion = motion.resample(fps)
    return GenerationOutput(motion, body_out, face_out, notes)


def load_face_pipeline(weights: str | os.PathLike[str] | None,
                       device: Any = "cpu") -> tuple[Any, str | None]:
    """``(FacePipeline, None)`` from ``<weights>/face`` (:meth:`FacePipeline.from_pretrained`), or
    ``(None, reason)`` when there is none or it cannot be loaded (a warning then): the face is
    optional, generation goes on with a neutral one."""
    from motion.pipelines.weights import part_folder

    folder = part_folder(weights, "face", FACE_MODULES)
    if folder is None:
        return None, f"no face weights (face_decoder.json/.safetensors) in {weights}/face"
    from motion.models.config import WeightsFileError
    from motion.pipelines.face import FacePipeline

    try:
        return FacePipeline.from_pretrained(folder, device), None
    except (OSError, ValueError, RuntimeError, WeightsFileError) as exc:
        from motion.pipelines.weights import DeviceNotAvailableError

        if isinstance(exc, DeviceNotAvailableError):
            raise
        warnings.warn(f"face weights in {folder} could not be loaded ({exc}); neutral face",
                      stacklevel=2)
        return None, f"face weights in {folder} could not be loaded: {exc}"
