"""Speech -> FLAME face animation: EMOTE-style decoder, frozen FLINT prior, eyes and blinks.

API (stable; :mod:`motion.pipelines.generate` and :func:`motion.generate` call it)::

    from motion.pipelines.face import FacePipeline

    pipe = FacePipeline.from_pretrained("motion/weights")   # a root holding face/, or an export folder
    out = pipe("speech.wav", emotion="happy", intensity=2.0, style=None, seed=0)
    out.expression   # (T, E) float32 FLAME expression coefficients (E = the prior's, 50)
    out.jaw          # (T, 3) float32 jaw axis-angle (SMPL-X joint 22)
    out.eyes         # (T, 2, 3) float32 left / right eye axis-angle (SMPL-X joints 23, 24)
    out.fps          # 30.0; T = round(audio duration x 30)
    pipe.save_pretrained("my_weights/face")               # safetensors; from_pretrained reads it back

``__call__(audio_path_or_features, *, emotion, intensity, style, seed, content=None, phonemes=None,
transcript=None)``:

* ``audio_path_or_features``: a path, an :class:`~motion.audio.Audio`, a 16 kHz waveform
  ``(N,)`` or features ``(T, F)`` at 30 fps (the export's ``audio_features`` / ``n_mels``);
  may be None when ``content`` is given;
* ``emotion``: a name, a blend ``{"happy": 0.7, "sad": 0.3}``, an
  :class:`~motion.pipelines.emotion_curve.EmotionCurve` (the emotion changing over time; its keys
  hold the intensities, ``intensity`` is not used) or None (the emotion the speech encoder hears;
  neutral without one); ``intensity``: 0-3, continuous (0 = neutral);
* ``style``: speaker id (int or digit string), a reference clip path, or None (the audio's own);
* ``seed``: blinks and gaze (the decoder itself is deterministic): same seed, same output;
* ``content``: ``(T, 64)`` content of the shared speech encoder, if the caller has it already;
* ``phonemes``: timings (``load_timings()`` output, ``[(symbol, start_s, end_s)]`` or a
  :class:`~motion.audio.phones.PhoneTrack`) instead of recognising them;
* ``transcript``: the words spoken, if known: the phones are aligned to them (pocketsphinx
  forced alignment) instead of recognised (phone loop).

Lip closures (``lip_closure=True``, the default): the phones of the speech (given, aligned to
the transcript, or recognised by :func:`motion.audio.phones.recognise_phones`) mark the
bilabials /p b m/, and :class:`motion.pipelines.lip_closure.LipCloser` shuts the lips there on
the face model itself (any FLAME basis), easing in and out; pauses of 0.3 s or more shut the
mouth at rest the same way. ``meta["phones"]`` says where the phones came from; a recogniser
that looks lost (noise, music) closes nothing.

Long audio is decoded in overlapping chunks (``chunk_frames``, ``overlap_frames``) blended
linearly, so memory stays flat and there are no seams. With an emotion curve each chunk takes
the curve's per-frame weights and intensities of its frames (frame ``t`` at ``t / fps`` s): a
chunk over which the curve does not change is decoded with one condition, as a fixed label is
(the same numbers), one it changes over with a per-frame condition. Post-processing is
:func:`motion.pipelines.eyes.postprocess_face` (closure-preserving Savitzky-Golay smoothing,
EmoFace blinks and gaze). Blinks need eyelid coefficients: the stand-in basis has them; for
a real FLAME basis pass ``blink_direction`` ``(E,)``, else blinks are skipped with a warning.
"""

from __future__ import annotations

import copy
import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from motion.audio.loudness import TARGET_LUFS
from motion.models.face.decoder import EmoteDecoder, encode_speech
from motion.models.face.flint import FlintPrior
from motion.models.speech_encoder import SpeechDisentangler
from motion.pipelines.emotion_curve import EmotionCurve
from motion.pipelines.face_inputs import (
    AudioLike,
    EmotionLike,
    as_audio,
    StyleLike,
    blend_weights,
    check_intensity,
    check_phone_mode,
    chunk_spans,
    emotion_code,
    parse_style,
    phone_track,
    speech_features,
)
from motion.pipelines.request import PhoneMode
from motion.pipelines.weights import (
    FACE_MODULES,
    MANIFEST,
    TRAIN_FACE_HELP,
    SavesPretrained,
    check_device,
    load_modules,
    read_manifest,
    require_part,
    save_modules,
    write_json,
)
from motion.types import EMOTIONS, FPS


@dataclass
class FaceOutput:
    """One generated face: ``expression (T, E)``, ``jaw (T, 3)``, ``eyes (T, 2, 3)`` (float32 numpy),
    ``fps``; ``meta``: emotion weights, style, blinks."""

    expression: np.ndarray
    jaw: np.ndarray
    eyes: np.ndarray
    fps: float = FPS
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return int(self.expression.shape[0])


class _ChunkBlend:
    """The cross-fade of overlapping chunk outputs, ``sum_k w_k x_k / sum_k w_k`` per frame in
    float64, written to float32 outputs as soon as no later chunk reaches a frame: only the
    open chunk is held in float64 (the same numbers as whole-length float64 sums, in the
    same order). Chunks must come in order of their start."""

    def __init__(self, num_frames: int, dims: tuple[int, ...]) -> None:
        self.out = [np.empty((num_frames, d), np.float32) for d in dims]
        self._acc: list[np.ndarray] = [np.zeros((0, d)) for d in dims]
        self._wsum = np.zeros((0, 1))
        self._start = 0  # first frame of the open accumulators

    def add(self, a: int, w: np.ndarray, *xs: np.ndarray) -> None:
        self._flush(a)
        b = a + w.shape[0]
        grow = b - self._start - self._wsum.shape[0]
        if grow > 0:
            self._acc = [np.concatenate([acc, np.zeros((grow, acc.shape[1]))]) for acc in self._acc]
            self._wsum = np.concatenate([self._wsum, np.zeros((grow, 1))])
        i, j = a - self._start, b - self._start
        for acc, x in zip(self._acc, xs):
            acc[i:j] += w[:, None] * x.astype(np.float64)
        self._wsum[i:j] += w[:, None]

    def _flush(self, upto: int) -> None:
        """Write frames ``[start, upto)`` (final: no later chunk starts before ``upto``)."""
        n = min(upto - self._start, self._wsum.shape[0])
        if n <= 0:
            return
        for out, acc in zip(self.out, self._acc):
            out[self._start:self._start + n] = (acc[:n] / self._wsum[:n]).astype(np.float32)
        self._acc = [acc[n:].copy() for acc in self._acc]
        self._wsum = self._wsum[n:].copy()
        self._start += n

    def finish(self) -> list[np.ndarray]:
        self._flush(self._start + self._wsum.shape[0])
        return self.out


class FacePipeline(SavesPretrained):
    """Speech -> face (module notes). Build with :meth:`from_pretrained`.

    Args:
        decoder, flint, speech_encoder: the trained modules (the FLINT prior frozen; encoder optional).
        settings: ``face_pipeline.json`` of the export (audio_input, style_input, features, face model).
        device: torch device.
        chunk_frames, overlap_frames: chunking of long audio (multiples of 8 frames).
        postprocess: smoothing, blinks and gaze (False: the raw decoder output, eyes at rest).
        blink_direction: ``(E,)`` expression offset that shuts the eyes (real FLAME bases).
        lip_closure: shut the lips on the bilabials of the speech's phones (module notes).
        models_dir: the FLAME model the closures are solved on (None: ``$MOTION_MODELS_DIR``
            or the stand-in, as everywhere else).
        closure_detector: the lip-event network of ``phones="detector"``
            (:class:`~motion.models.closure_detector.ClosureDetector`, always run on the CPU);
            None: the shipped one.
        manifest: the export's ``manifest.json`` (kept by :meth:`save_pretrained`).
    """

    def __init__(self, decoder: EmoteDecoder, flint: FlintPrior, speech_encoder: SpeechDisentangler | None = None,
                 settings: dict[str, Any] | None = None, device: str | torch.device = "cpu", chunk_frames: int = 600,
                 overlap_frames: int = 64, postprocess: bool = True, blink_direction: np.ndarray | None = None,
                 lip_closure: bool = True, models_dir: str | Path | None = None,
                 closure_detector: torch.nn.Module | None = None, manifest: dict[str, Any] | None = None) -> None:
        s: dict[str, Any] = {"audio_input": "content" if speech_encoder is not None else "log_mel", "style_input": "speaker",
             "audio_features": "log_mel", "n_mels": 80, "fps": FPS, "face_model": "stand-in"}
        s.update(settings or {})
        self.settings, self.device = s, torch.device(device)
        self.decoder = decoder.to(self.device).eval()
        self.flint = flint.freeze().to(self.device)
        self.speech_encoder = speech_encoder.to(self.device).eval() if speech_encoder is not None else None
        decoder.check_flint(flint)
        if chunk_frames < 16 or chunk_frames % 8 or overlap_frames % 8 or not 0 <= overlap_frames < chunk_frames:
            raise ValueError(f"chunk_frames ({chunk_frames}) and overlap_frames ({overlap_frames}) must be "
                             "multiples of 8 with 0 <= overlap < chunk")
        self.chunk_frames, self.overlap_frames = chunk_frames, overlap_frames
        self.postprocess, self.blink_direction = postprocess, blink_direction
        self.lip_closure, self.models_dir = lip_closure, models_dir
        self.closure_detector = closure_detector.eval() if closure_detector is not None else None
        self.manifest = copy.deepcopy(manifest) if manifest is not None else {"stage": "face_decoder"}
        self._closer: Any = None

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike[str], device: str | torch.device = "cpu",
                        **kwargs: Any) -> FacePipeline:
        """Load a face export (``face_decoder``, ``flint``, optional ``speech_encoder`` and
        ``closure_detector``, ``face_pipeline.json``, ``manifest.json``), or the ``face/`` of a
        weights root; ``kwargs``: the constructor's other arguments (``postprocess``, ...).

        Raises:
            WeightsNotFoundError: no face export there (the message says how to train one).
            WeightsFileError: a file is unreadable or does not fit (the message names it).
            DeviceNotAvailableError: CUDA asked for but not available.
        """
        from motion.models.closure_detector import ClosureDetector
        from motion.models.config import WeightsFileError, has_module

        dev = check_device(device)
        folder = require_part(path, "face", FACE_MODULES, TRAIN_FACE_HELP)
        optional = [n for n in ("speech_encoder", "closure_detector") if has_module(folder, n)]
        mods = load_modules(folder, [*FACE_MODULES, *optional], dev, expected={
            "face_decoder": EmoteDecoder, "flint": FlintPrior, "speech_encoder": SpeechDisentangler,
            "closure_detector": ClosureDetector})
        cfg = folder / "face_pipeline.json"
        try:
            settings = json.loads(cfg.read_text(encoding="utf-8")) if cfg.is_file() else {}
        except (ValueError, UnicodeDecodeError) as exc:
            raise WeightsFileError(f"{cfg} is not JSON ({exc})") from None
        detector = mods.get("closure_detector")
        return cls(mods["face_decoder"], mods["flint"], mods.get("speech_encoder"), settings, dev,  # type: ignore[arg-type]
                   closure_detector=detector.to("cpu") if detector is not None else None,
                   manifest=read_manifest(folder), **kwargs)

    def modules(self) -> dict[str, torch.nn.Module]:
        """The sub-modules by their export names (optional ones only when present)."""
        mods: dict[str, torch.nn.Module] = {"face_decoder": self.decoder, "flint": self.flint}
        if self.speech_encoder is not None:
            mods["speech_encoder"] = self.speech_encoder
        if self.closure_detector is not None:
            mods["closure_detector"] = self.closure_detector
        return mods


    def write_to(self, folder: Path) -> None:
        """Write the files of :meth:`save_pretrained` into the existing ``folder`` (not atomic)."""
        manifest = copy.deepcopy(self.manifest)
        manifest["modules"] = save_modules(folder, self.modules())
        write_json(folder / "face_pipeline.json", dict(self.settings))
        write_json(folder / MANIFEST, manifest)

    def to(self, device: str | torch.device) -> FacePipeline:
        """Move the decoder, the FLINT prior and the speech encoder to ``device``; returns the pipeline
        (the lip-event detector stays on the CPU, where its features are).

        Raises:
            DeviceNotAvailableError: CUDA asked for but not available.
        """
        self.device = check_device(device)
        for module in (self.decoder, self.flint, self.speech_encoder):
            if module is not None:
                module.to(self.device)
        return self

    @property
    def fps(self) -> float:
        return float(self.settings["fps"])

    # ------------------------------------------------------------------ inference
    @torch.inference_mode()
    def __call__(self, audio_path_or_features: AudioLike | None, *, emotion: EmotionLike = None,
                 intensity: float = 2.0, style: StyleLike = None, seed: int | None = None,
                 content: torch.Tensor | np.ndarray | None = None, phonemes: Any = None,
                 transcript: str | None = None, phones: PhoneMode = "detector") -> FaceOutput:
        """Generate the face for one recording (module notes); ``transcript``: the words spoken,
        if known (the phones are aligned to them instead of recognised); ``phones``: how the
        phones are found without one (``"loop"``, ``"detector"``, ``"words"``; ``"off"``: no closures)."""
        s, intensity = self.settings, check_intensity(intensity)
        check_phone_mode(phones)
        feats, track = None, None
        if audio_path_or_features is not None:
            x, track = self.speech_inputs(audio_path_or_features, transcript, phones, phonemes)
            feats = torch.from_numpy(x)
        if content is not None:
            content = torch.as_tensor(np.asarray(content, np.float32) if not isinstance(content, torch.Tensor) else content)
            if s["audio_input"] != "content":
                raise ValueError("this face model reads log-mel features, not speech-encoder content: pass the audio")
        if feats is None and content is None:
            raise ValueError("give the audio (path, waveform or features) or its speech-encoder content")
        T = int(feats.shape[0]) if feats is not None else int(content.shape[0])  # type: ignore[union-attr]
        if content is not None and content.shape[0] != T:  # a frame of rounding: edge-pad / crop
            content = torch.cat([content, content[-1:].expand(max(T - content.shape[0], 0), -1)])[:T]
        spans = chunk_spans(T, self.chunk_frames, self.overlap_frames)
        parts, heard, own_style, spk = self._encode(feats, content, spans)
        style_t, style_meta = self._style(style, own_style, spk)
        if isinstance(emotion, EmotionCurve):
            emo_track = emotion.sample(np.arange(T) / self.fps)  # (T, 8), (T,)
            meta_emotion: Any = {"curve": str(emotion), "transition_s": emotion.transition_s}
        else:
            code = emotion_code(emotion, heard)
            emo_track = (code[None], np.array([intensity]))  # one condition for every chunk
            meta_emotion = dict(zip(EMOTIONS, np.round(code, 4).tolist()))
        E = self.flint.num_expressions
        blend = _ChunkBlend(T, (E, 3))
        for (a, b), w, x in zip(spans, blend_weights(spans, T, self.overlap_frames), parts):
            emo_t, inten_t = self._chunk_condition(emo_track, a, b)
            out = self.decoder.generate(self.flint, x[None].to(self.device), emo_t, inten_t, style_t)
            blend.add(a, w, out.expression[0].cpu().numpy(), out.jaw[0].cpu().numpy())
        parts.clear()
        expr, jaw = blend.finish()
        meta = {"emotion": meta_emotion, "intensity": None if isinstance(emotion, EmotionCurve) else intensity,
                "style": style_meta, "seed": seed}
        timings, meta["phones"] = self._phones(phonemes if phonemes is not None else track)
        return self._finish(expr, jaw, seed, timings, meta, closures=phones != "off")

    def _chunk_condition(self, track: tuple[np.ndarray, np.ndarray], a: int, b: int
                         ) -> tuple[torch.Tensor, torch.Tensor]:
        """The decoder's emotion ``(1, 8)`` and intensity ``(1,)`` for frames ``[a, b)`` of
        ``track`` = (weights ``(T, 8)``, intensity ``(T,)``; one row: the same for every frame);
        per frame ``(1, b - a, 8)`` and ``(1, b - a)`` where they change within the chunk."""
        weights, inten = track
        if weights.shape[0] == 1:
            w, i = weights[0], inten[0]
        else:
            w, i = weights[a:b], inten[a:b]
            if (w == w[0]).all() and (i == i[0]).all():  # constant here: the per-clip condition
                w, i = w[0], i[0]
        emo = torch.from_numpy(np.asarray(w, np.float32))[None].to(self.device)
        if w.ndim == 1:
            return emo, torch.tensor([float(i)], device=self.device)
        return emo, torch.from_numpy(np.asarray(i, np.float32))[None].to(self.device)

    def speech_inputs(self, audio: AudioLike, transcript: str | None = None, phones: PhoneMode = "detector",
                      phonemes: Any = None, features: np.ndarray | None = None) -> tuple[np.ndarray, Any]:
        """``(features (T, F), phone track or None)`` of the speech, the recording decoded once.

        What :meth:`__call__` computes from its audio first; a caller may compute it, drop the
        recording, and pass ``features`` with ``phonemes=track`` (the same output, less memory).
        ``features``: this audio's features of :meth:`feature_config`, if the caller has them."""
        audio = as_audio(audio)
        track = (phone_track(audio, transcript, phones, self.closure_detector)
                 if self.needs_phones(phonemes, phones) else None)  # None for features
        if features is not None:
            return features, track
        visemes = track if track is None or track.source != "detected" else None  # no phones in it
        return self._features(audio, transcript, visemes), track

    def feature_config(self) -> Any:
        """The :class:`~motion.data.feature_cache.FeatureConfig` of this export's speech features."""
        from motion.data.feature_cache import FeatureConfig

        s = self.settings
        return FeatureConfig(s["audio_features"], int(s["n_mels"]), self.fps,  # type: ignore[arg-type]
                             s.get("loudness_lufs", TARGET_LUFS))

    def needs_phones(self, phonemes: Any = None, phones: PhoneMode = "detector") -> bool:
        """True when a call without ``phonemes`` would recognise or align them itself."""
        closing = self.lip_closure and phones != "off"
        return phonemes is None and (closing or self.settings["audio_features"] == "log_mel_visemes")

    @staticmethod
    def _phones(phonemes: Any) -> tuple[list[tuple[str, float, float]] | None, dict[str, Any]]:
        """The phone timings that mark closures, and what ``meta["phones"]`` records of them."""
        from motion.audio.phones import PhoneTrack
        from motion.pipelines.face_smoothing import phoneme_triples

        if phonemes is None:
            return None, {"source": "none"}
        if isinstance(phonemes, PhoneTrack):
            info = {"source": phonemes.source, "language_ok": phonemes.language_ok}
            if not phonemes.language_ok:  # noise, music: its "phones" would shut the lips at random
                return None, {**info, "note": "the phones look unreliable (noise, music, or a transcript of other words): no closures"}
            return phonemes.triples(), info
        return phoneme_triples(phonemes), {"source": "given"}

    def _encode(self, feats: torch.Tensor | None, content: torch.Tensor | None, spans: list[tuple[int, int]]
                ) -> tuple[list[torch.Tensor], np.ndarray | None, torch.Tensor | None, int | None]:
        """Per-chunk decoder inputs; the heard emotion / style / speaker averaged over the chunks."""
        enc, mode = self.speech_encoder, self.settings["audio_input"]
        parts, probs, styles, spk = [], [], [], []
        for a, b in spans:
            if content is not None and (enc is None or feats is None):
                parts.append(content[a:b])
                continue
            assert feats is not None
            sp = encode_speech(feats[a:b][None].to(self.device), enc, mode)
            parts.append(content[a:b] if content is not None else sp.features[0].cpu())
            if sp.emotion_probs is not None:
                probs.append(sp.emotion_probs[0].cpu())
                styles.append(sp.style[0].cpu())  # type: ignore[index]
                spk.append(sp.speaker_logits[0].cpu())  # type: ignore[index]
        if not probs:
            return parts, None, None, None
        heard = torch.stack(probs).mean(0).numpy()
        return parts, heard, torch.stack(styles).mean(0), int(torch.stack(spk).mean(0).argmax())

    def closer(self) -> Any:
        """The :class:`~motion.pipelines.lip_closure.LipCloser` of this face model (built once)."""
        if self._closer is None:
            from motion.bodymodels import load_face_model
            from motion.pipelines.lip_closure import LipCloser

            model = load_face_model(self.models_dir, num_expressions=self.flint.num_expressions)
            self._closer = LipCloser.from_face_model(model, self.flint.num_expressions)
        return self._closer

    def _features(self, audio: AudioLike, transcript: str | None = None, phones: Any = None) -> np.ndarray:
        """``(T, F)`` the export's speech features (loudness-normalised unless its settings say null)."""
        s = self.settings
        return speech_features(audio, s["audio_features"], int(s["n_mels"]), self.fps,
                               s.get("loudness_lufs", TARGET_LUFS), transcript, phones)

    def _reference(self, path: Path) -> tuple[torch.Tensor, int]:
        """Style latent and speaker id the speech encoder hears in a reference clip."""
        if self.speech_encoder is None:
            raise ValueError("a reference clip as style needs a speech encoder in the export; pass a speaker id")
        f = torch.from_numpy(self._features(path))
        lat = self.speech_encoder.encode(f[None].to(self.device))
        return lat.style[0].cpu(), int(lat.speaker_logits[0].argmax())

    def _style(self, style: StyleLike, own: torch.Tensor | None, own_speaker: int | None) -> tuple[torch.Tensor, Any]:
        """Decoder style input ``(1,)`` ids or ``(1, S)`` latent, and what to record in ``meta``."""
        s = parse_style(style)
        latent_mode = self.settings["style_input"] == "speech"
        if isinstance(s, Path):
            if self.speech_encoder is None and not latent_mode:  # speaker ids only (the demo face)
                from motion.errors import MotionWarning

                warnings.warn(f"the face model cannot hear a speaking style in {s.name} (its export has no "
                              "speech encoder): the face uses its unknown-speaker style; the body still "
                              "takes the clip's style", MotionWarning, stacklevel=3)
                return torch.tensor([-1], device=self.device), f"unknown speaker (reference {s.name} not heard)"
            latent, spk = self._reference(s)
            value = latent[None] if latent_mode else torch.tensor([spk])
            return value.to(self.device), str(s)
        if latent_mode:
            if s is not None:
                raise ValueError("this face model takes its style from speech: pass a reference clip path, not a speaker id")
            if own is None:
                raise ValueError("this face model takes its style from speech, but no speech encoder input was given")
            return own[None].to(self.device), "audio"
        if s is None:
            s = own_speaker if own_speaker is not None else -1
        return torch.tensor([s], device=self.device), s

    def _finish(self, expr: np.ndarray, jaw: np.ndarray, seed: int | None, phonemes: Any,
                meta: dict[str, Any], closures: bool = True) -> FaceOutput:
        """Post-process (smoothing, blinks, gaze; :func:`motion.pipelines.eyes.postprocess_face`
        step by step) on the face's own arrays, in place (``expr`` and ``jaw``, the blended decoder
        output, belong to this call): no whole-body motion, no second copy of the clip's length."""
        from motion.pipelines.eyes import blink_channels, gaze_eyes
        from motion.pipelines.face_smoothing import closure_mask, smooth_channels

        T = expr.shape[0]
        eyes = np.zeros((T, 2, 3), np.float32)
        if self.postprocess:
            closed = closure_mask(phonemes, T, self.fps) if phonemes is not None else None
            g = np.random.default_rng(seed)
            if self.settings.get("face_model") == "stand-in" and self.blink_direction is None:
                expr, jaw = smooth_channels(expr, jaw, self.fps, closed=closed, inplace=True)
                meta["blinks"] = blink_channels(expr, self.fps, g)
            else:  # a PCA basis: no lips-press channel; blinks only along a given direction
                expr, jaw = smooth_channels(expr, jaw, self.fps, closed=closed, press_channel=None, inplace=True)
                if self.blink_direction is None:
                    warnings.warn("no blink_direction for this FLAME basis: blinks skipped", stacklevel=3)
                    meta["blinks"] = None
                else:
                    meta["blinks"] = blink_channels(expr, self.fps, g, blink_direction=self.blink_direction)
            eyes = gaze_eyes(T, self.fps, g)
        if self.lip_closure and closures and phonemes is not None:
            from motion.pipelines.lip_closure import closure_weights, rest_weights
            from motion.synthetic.tts.phonemes import is_bilabial

            weight = np.maximum(closure_weights(phonemes, T, self.fps), rest_weights(phonemes, T, self.fps))
            expr, jaw = self.closer()(expr, jaw, weight, inplace=True)
            meta["phones"]["closures"] = sum(is_bilabial(sym) for sym, _, _ in phonemes)
        return FaceOutput(np.asarray(expr, np.float32), np.array(jaw, np.float32), eyes, self.fps, meta)
