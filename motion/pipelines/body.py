"""Speech -> SMPL-X body motion: the latent-diffusion inference pipeline.

    pipe = BodyPipeline.from_pretrained("motion/weights")   # or an export: runs/latent_diffusion/latest
    out = pipe("speech.wav", emotion="happy", intensity=2.5, seed=0)
    out.motion                      # motion.Motion at 30 fps, jaw / eyes / expression zero
    pipe.save_pretrained("my_weights/body")                # the same folder layout, safetensors

Per window of the latent sequence (:mod:`.long_audio`): speech features (the ones the
model was trained on, :func:`motion.data.feature_cache.audio_features`) -> speech encoder
(content sequence, emotion, style; AMUSE, Chhatre et al. 2024) -> guided reverse diffusion
(DDIM, Song et al. 2021, or DPM-Solver++, Lu et al. 2022; compositional classifier-free
guidance with separate audio and emotion scales, Liu et al. 2022) with the overlap inpainted
from the previous window (:func:`motion.models.sampler.denoise`) -> motion-VAE decoder -> cross-fade -> SMPL-X
poses and translation (:func:`motion.models.body_features.decode_body`).
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from motion.audio import Audio
from motion.audio.io import open_audio
from motion.audio.loudness import TARGET_LUFS
from motion.container import Motion, MotionMeta
from motion.data.feature_cache import FeatureConfig, audio_features
from motion.models.body_features import BODY_FEATURE_DIM
from motion.models.denoiser import LatentDenoiser
from motion.models.layers import Standardizer
from motion.models.motion_vae import MotionVAE
from motion.models.sampler import sample_latents, sampling_scheduler
from motion.models.speech_encoder import SpeechDisentangler
from motion.pipelines import body_controls as controls
from motion.pipelines.body_speech import (
    ClipSpeech,
    encode_clip,
    encode_window,
    encode_windows,
)
from motion.pipelines.emotion_curve import EmotionCurve, curve_meta
from motion.pipelines.fused import sample_fused
from motion.pipelines.long_audio import (
    BodyDecoder,
    Window,
    plan_clip,
    seam_frames,
)
from motion.pipelines.request import (
    DEFAULT_AUDIO_GUIDANCE,
    DEFAULT_BODY_SMOOTHING,
    DEFAULT_EMOTION_GUIDANCE,
    DEFAULT_SAMPLER,
    DEFAULT_STEPS,
    STITCH_MODES,
    StitchMode,
)
from motion.pipelines.weights import (
    BODY_MODULES,
    MANIFEST,
    TRAIN_BODY_HELP,
    SavesPretrained,
    WeightsNotFoundError,
    check_device,
    load_modules,
    read_manifest,
    require_part,
    save_modules,
    write_json,
)
from motion.types import EMOTIONS, FPS, NUM_BETAS_BEAT2, NUM_EXPRESSIONS

AudioInput = str | os.PathLike[str] | Audio | np.ndarray


@dataclass
class BodyPipelineOutput:
    """Result of :meth:`BodyPipeline.__call__`.

    Attributes:
        motion: the animation (30 fps; jaw, eyes and expression zero).
        body_features: ``(T, 315)`` decoded body features (:mod:`motion.models.body_features`);
            None when the call was made with ``keep_features=False``.
        latents: ``(L, C)`` standardized latents of the whole sequence.
        windows: the latent windows that were sampled.
        seams: motion frames where consecutive windows meet.
        audio_emotion: emotion the speech encoder hears in the audio (None for no audio).
        audio_emotion_probs: ``(8,)`` its posterior, averaged over windows.
        timings: seconds spent in ``features``, ``encode``, ``sample``, ``decode``.
    """

    motion: Motion
    body_features: np.ndarray | None
    latents: np.ndarray
    windows: list[Window]
    seams: list[int]
    audio_emotion: str | None
    audio_emotion_probs: np.ndarray | None
    timings: dict[str, float] = field(default_factory=dict)


class BodyPipeline(SavesPretrained):
    """Frozen speech encoder + motion VAE + denoiser + latent statistics + noise schedule.

    Args:
        speech_encoder, vae, denoiser, latent_norm: the modules of a latent-diffusion export.
        scheduler_config: the training scheduler's config (``scheduler_config.json``).
        features: speech-feature settings the encoder was trained on.
        train_window: training window in motion frames (the default inference window), or None.
        source: where the weights came from (recorded in the output's metadata).
        manifest: the export's ``manifest.json`` (kept by :meth:`save_pretrained`; None: made
            from the arguments).
    """

    def __init__(self, speech_encoder: SpeechDisentangler, vae: MotionVAE,
                 denoiser: LatentDenoiser, latent_norm: Standardizer,
                 scheduler_config: dict[str, Any], features: FeatureConfig,
                 train_window: int | None = None, source: str | None = None,
                 manifest: dict[str, Any] | None = None) -> None:
        self.speech_encoder = speech_encoder.eval()
        self.vae = vae.eval()
        self.denoiser = denoiser.eval()
        self.latent_norm = latent_norm.eval()
        self.scheduler_config = dict(scheduler_config)
        self.features = features
        self.train_window = train_window
        self.source = source
        self.manifest = copy.deepcopy(manifest) if manifest is not None else {"stage": "latent_diffusion"}

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike[str], device: str | torch.device = "cpu") -> BodyPipeline:
        """Load a latent-diffusion export, or the ``body/`` of a weights root.

        Args:
            path: the export folder (``speech_encoder``, ``motion_vae``, ``denoiser``, ``latent_norm``,
                ``scheduler_config.json``, ``manifest.json``) or a weights root holding it as ``body/``.
            device: where the modules go ("cpu", "cuda", "cuda:1").

        Raises:
            WeightsNotFoundError: a module or ``scheduler_config.json`` is missing.
            WeightsFileError: a file is unreadable or does not fit (the message names it).
            DeviceNotAvailableError: CUDA asked for but not available.
        """
        from diffusers import DDPMScheduler

        dev = check_device(device)
        folder = require_part(path, "body", BODY_MODULES, TRAIN_BODY_HELP)
        mods = load_modules(folder, BODY_MODULES, dev, expected={
            "speech_encoder": SpeechDisentangler, "motion_vae": MotionVAE, "denoiser": LatentDenoiser,
            "latent_norm": Standardizer})
        if not (folder / "scheduler_config.json").is_file():
            raise WeightsNotFoundError(f"{folder} has no scheduler_config.json (written by the "
                                       f"latent_diffusion stage's export).\n{TRAIN_BODY_HELP}")
        sched = dict(DDPMScheduler.load_config(str(folder)))
        manifest = read_manifest(folder)
        enc = mods["speech_encoder"]
        data = manifest.get("data") or {}
        kind = data.get("audio_features") or ("fbank" if enc.in_dim == 128 else "log_mel")
        feats = FeatureConfig(kind, int(data.get("n_mels") or enc.in_dim),  # type: ignore[arg-type]
                              float(data.get("fps") or FPS),  # (FeatureConfig checks kind)
                              data.get("loudness_lufs", TARGET_LUFS))  # absent: normalised
        if feats.n_mels != enc.in_dim:
            raise ValueError(f"{folder}: manifest n_mels {feats.n_mels} != speech encoder in_dim "
                             f"{enc.in_dim}")
        window = data.get("window")
        return cls(enc, mods["motion_vae"], mods["denoiser"], mods["latent_norm"], sched, feats,
                   int(window) if window else None, str(folder), manifest)

    def modules(self) -> dict[str, torch.nn.Module]:
        """The sub-modules by their export names."""
        return {"speech_encoder": self.speech_encoder, "motion_vae": self.vae, "denoiser": self.denoiser,
                "latent_norm": self.latent_norm}


    def write_to(self, folder: Path) -> None:
        """Write the files of :meth:`save_pretrained` into the existing ``folder`` (not atomic)."""
        manifest = copy.deepcopy(self.manifest)
        manifest["modules"] = save_modules(folder, self.modules())
        data = dict(manifest.get("data") or {})
        data.update(audio_features=self.features.audio_features, n_mels=self.features.n_mels, fps=self.features.fps)
        if self.features.loudness_lufs != TARGET_LUFS or "loudness_lufs" in data:
            data["loudness_lufs"] = self.features.loudness_lufs
        if self.train_window:
            data["window"] = self.train_window
        manifest["data"] = data
        write_json(folder / "scheduler_config.json", self.scheduler_config)
        write_json(folder / MANIFEST, manifest)

    def to(self, device: str | torch.device) -> BodyPipeline:
        """Move every module to ``device`` ("cpu", "cuda", ...); returns the pipeline.

        Raises:
            DeviceNotAvailableError: CUDA asked for but not available.
        """
        dev = check_device(device)
        for module in self.modules().values():
            module.to(dev)
        return self

    # ------------------------------------------------------------------ helpers
    @property
    def device(self) -> torch.device:
        return next(self.denoiser.parameters()).device

    def speech_features(self, audio: AudioInput) -> np.ndarray:
        """``(T, F)`` speech features of ``audio`` (path, :class:`Audio` or 16 kHz samples)."""
        if isinstance(audio, np.ndarray):
            audio = Audio(np.asarray(audio, np.float32), 16000)
        elif not isinstance(audio, Audio):
            audio = open_audio(audio, allow_silent=True)  # the samples on disk, read chunk by chunk
        return audio_features(audio, self.features)

    def _clip_speech(self, ref: AudioInput | ClipSpeech, windows: list[Window] | None = None
                     ) -> ClipSpeech:
        if isinstance(ref, ClipSpeech):
            return ref
        feats = self.speech_features(ref)
        if windows is None:
            windows = self._plan(feats.shape[0], None, None, "crossfade")[0]
        return encode_clip(self.speech_encoder, feats, windows, self.vae.downsample)

    def _plan(self, num_frames: int, window_s: float | None, overlap_s: float | None,
              stitch: str) -> tuple[list[Window], float, float]:
        return plan_clip(num_frames, self.vae.downsample, self.features.fps, self.train_window,
                         window_s, overlap_s, stitch)

    def _generate_fused(self, feats: np.ndarray, windows: list[Window], speech: ClipSpeech,
                        latents: torch.Tensor, stitcher: BodyDecoder,
                        timings: dict[str, float], condition: Callable[[Any, list[Window]], Any],
                        sample: Callable[..., torch.Tensor], batch_windows: int) -> None:
        """Fused sampling (:mod:`.fused`), ``batch_windows`` windows at a time; fills
        ``latents (L, C)`` and ``stitcher`` in place.

        ``condition(lat, group)`` builds the windows' :class:`BodyCondition` from their speech
        latents; ``sample(cond, windows, known)`` runs :func:`.fused.sample_fused`."""
        f, T = self.vae.downsample, int(feats.shape[0])
        for g in range(0, len(windows), batch_windows):
            group = windows[g:g + batch_windows]
            t0 = time.perf_counter()
            lat = encode_windows(self.speech_encoder, feats, group, f)
            speech.add(lat, [float(w.length) for w in group])
            cond = condition(lat, group)
            timings["encode"] += time.perf_counter() - t0
            start = group[0].start
            t0 = time.perf_counter()
            z = sample(cond, group, latents[start:start + group[0].known] if g else None)
            timings["sample"] += time.perf_counter() - t0
            latents[start:group[-1].stop] = z.cpu()
            t0 = time.perf_counter()
            zw = torch.stack([z[w.start - start:w.stop - start] for w in group])
            dec = self.vae.decode(self.latent_norm.inverse(zw), group[0].length * f).cpu().numpy()
            for w, d in zip(group, dec):
                a, b = w.frames(f, T)
                stitcher.add(a, d[:b - a], crossfade=True)
            timings["decode"] += time.perf_counter() - t0

    # ------------------------------------------------------------------ inference
    @torch.no_grad()
    def __call__(self, audio: AudioInput | None = None, *, features: np.ndarray | None = None,
                 emotion: str | EmotionCurve | None = None, intensity: float | None = None,
                 emotion_reference: AudioInput | ClipSpeech | None = None,
                 style: object | None = None, seed: int | None = None,
                 steps: int = DEFAULT_STEPS, sampler: str = DEFAULT_SAMPLER,
                 audio_guidance: float = DEFAULT_AUDIO_GUIDANCE,
                 emotion_guidance: float = DEFAULT_EMOTION_GUIDANCE, window_s: float | None = None,
                 overlap_s: float | None = None, stitch: StitchMode = "fused",
                 resample: int = 1, batch_windows: int = 32,
                 smoothing: float = DEFAULT_BODY_SMOOTHING, keep_features: bool = True) -> BodyPipelineOutput:
        """Generate body motion for speech of any length.

        Args:
            audio: speech (file path, :class:`motion.audio.Audio` or 16 kHz samples).
            features: ``(T, F)`` precomputed speech features instead of ``audio`` (given with
                ``audio``, they are used and ``audio`` only names the source in the metadata).
            emotion: a label of :data:`motion.types.EMOTIONS`, an
                :class:`~motion.pipelines.emotion_curve.EmotionCurve` (per window: its label and
                intensity at the window's centre, :func:`.body_controls.window_emotions`), or
                None = the audio's own.
            intensity: 0-3 (MEAD levels 1-3); None = unknown (label default 2); not with a curve
                (its keys hold the intensities).
            emotion_reference: a clip whose emotion vector is used instead.
            style: None (the audio's own), a speaker id, or a reference clip.
            seed: RNG seed (None: drawn and recorded in ``motion.meta.seed``).
            steps, sampler: sampling steps and "dpmsolver" (DPM-Solver++, default) / "ddim".
            audio_guidance, emotion_guidance: CFG scales s_a, s_e (0, 0 = unconditional).
            window_s, overlap_s: window and overlap (default: the training window; half of it
                overlapping when fused, 1/4 otherwise).
            stitch: "fused" (default: all windows denoised together, overlaps fused at every
                step, :mod:`.fused`), "inpaint", "crossfade" or "concat" (:mod:`.long_audio`).
            resample: RePaint resampling of inpainted windows (1 = replacement only; DDIM).
            batch_windows: windows denoised together by "fused" (memory is flat in the audio
                length; more windows per batch are faster up to the cores' width).
            smoothing: sigma (frames) of a Gaussian filter over time on the decoded features,
                against decoder jitter (0 = off).
            keep_features: return the ``(T, 315)`` body features (``body_features``); False:
                None, and only the poses and translation are held whole (the windows are
                smoothed and decoded to SMPL-X as they come, :class:`.long_audio.BodyDecoder`;
                the same numbers either way).
        """
        if audio is None and features is None:
            raise ValueError("give the audio or its features")
        if stitch not in STITCH_MODES:
            raise ValueError(f"stitch must be one of {STITCH_MODES}, got {stitch!r}")
        if steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        if batch_windows < 1:
            raise ValueError(f"batch_windows must be >= 1, got {batch_windows}")
        if smoothing < 0:
            raise ValueError(f"smoothing must be >= 0 frames, got {smoothing}")
        emo_source = controls.parse_emotion(emotion, emotion_reference)
        curve = emotion if isinstance(emotion, EmotionCurve) else None
        if curve is not None and intensity is not None:
            raise ValueError("an emotion curve holds its own intensities (LABEL@INTENSITY in its keys): "
                             "leave intensity out")
        style_choice = controls.parse_style(style, self.speech_encoder.num_speakers)
        if intensity is None and emo_source == "label":
            intensity = 2.0
        if intensity is not None and not 0.0 <= float(intensity) <= 3.0:
            raise ValueError(f"intensity must be within [0, 3], got {intensity}")
        seed = int(np.random.default_rng().integers(2**31)) if seed is None else int(seed)
        timings = dict.fromkeys(("features", "encode", "sample", "decode"), 0.0)
        t0 = time.perf_counter()
        if features is not None:
            feats = np.asarray(features, np.float32)
        else:
            assert audio is not None
            feats = self.speech_features(audio)
        timings["features"] = time.perf_counter() - t0
        T, f = int(feats.shape[0]), self.vae.downsample
        if T < 1:
            raise ValueError("the audio is too short: not one motion frame")
        windows, win_s, ov_s = self._plan(T, window_s, overlap_s, stitch)
        t0 = time.perf_counter()
        speech = ClipSpeech()
        emo_ref = self._clip_speech(emotion_reference) if emotion_reference is not None else None
        sty_ref = (self._clip_speech(style_choice.reference)  # type: ignore[arg-type]
                   if style_choice.source == "reference" else None)
        timings["encode"] = time.perf_counter() - t0
        gen = torch.Generator(device=self.device).manual_seed(seed)
        sched = sampling_scheduler(self.scheduler_config, sampler)
        latents = torch.zeros(windows[-1].stop, self.vae.latent_dim)
        stitcher = BodyDecoder(T, BODY_FEATURE_DIM, self.features.fps, smoothing, keep_features=keep_features)
        label = controls.emotion_index(emotion) if isinstance(emotion, str) else None
        label_only = emo_source in ("label", "curve")

        def condition(lat: Any, group: list[Window]) -> Any:
            labels: int | list[int] | None = label
            inten: float | list[float] | None = intensity
            if curve is not None:  # per window: the curve at its centre
                labels, inten = controls.window_emotions(curve, group, f, T, self.features.fps)
            return controls.build_condition(lat, labels, inten, emo_ref, style_choice, sty_ref,
                                            self.speech_encoder.speaker_head)

        if stitch == "fused":
            def sample(cond: Any, group: list[Window], known: torch.Tensor | None) -> torch.Tensor:
                return sample_fused(self.denoiser, sched, cond, group, steps, audio_guidance,
                                    emotion_guidance, gen, label_only, known)

            self._generate_fused(feats, windows, speech, latents, stitcher, timings, condition,
                                 sample, batch_windows)
        else:
            for w in windows:
                t0 = time.perf_counter()
                lat = encode_window(self.speech_encoder, feats, w, f)
                speech.add(lat, float(w.length))
                timings["encode"] += time.perf_counter() - t0
                cond = condition(lat, [w])
                known = latents[None, w.start:w.start + w.known] if stitch == "inpaint" and w.known else None
                t0 = time.perf_counter()
                z = sample_latents(self.denoiser, sched, cond, w.length, steps, audio_guidance,
                                   emotion_guidance, gen, drop_emotion_vector=label_only, known=known,
                                   resample=resample if known is not None else 1)
                timings["sample"] += time.perf_counter() - t0
                latents[w.start:w.stop] = z[0].cpu()
                t0 = time.perf_counter()
                a, b = w.frames(f, T)
                dec = self.vae.decode(self.latent_norm.inverse(z), b - a)[0]
                stitcher.add(a, dec.cpu().numpy(), crossfade=stitch != "concat")
                timings["decode"] += time.perf_counter() - t0
        poses, trans = stitcher.finish()  # smoothed and decoded as the windows came
        body = stitcher.features
        probs = speech.emotion_probs()
        heard = EMOTIONS[int(probs.argmax())] if probs is not None and audio is not None else None
        meta_emotion = {"label": emotion, "audio": heard, "curve": None,
                        "reference": emo_ref.emotion_label() if emo_ref else None}[emo_source]
        curve_extra: dict[str, Any] = {}
        if curve is not None:  # the longest-held label and its mean intensity; the keys in extra
            meta_emotion, intensity, curve_extra = curve_meta(curve, T, self.features.fps)
        meta = MotionMeta(
            emotion=meta_emotion, intensity=intensity, style=style_choice.describe(),
            audio=str(audio) if isinstance(audio, (str, os.PathLike)) else None, seed=seed,
            source="motion.pipelines.body",
            extra={"emotion_source": emo_source, "style_source": style_choice.source,
                   "audio_emotion": heard, "sampler": sampler, "steps": steps,
                   "audio_guidance": audio_guidance, "emotion_guidance": emotion_guidance,
                   "window_s": win_s, "overlap_s": ov_s, "stitch": stitch, "resample": resample,
                   "smoothing": smoothing,
                   "weights": self.source, **curve_extra})
        motion = Motion(poses=poses, trans=trans, betas=np.zeros(NUM_BETAS_BEAT2),
                        expression=np.zeros((T, NUM_EXPRESSIONS), np.float32),
                        fps=self.features.fps, meta=meta)
        return BodyPipelineOutput(motion, body, latents[:self.vae.latent_length(T)].numpy(),
                                  windows, seam_frames(windows, f, T), heard, probs, timings)
