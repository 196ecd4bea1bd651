"""Face stage 2: the EMOTE-style decoder over the frozen FLINT prior (EMOTE, Sec. 3.3-3.4).

::

    python -m motion.training.cli fit --config configs/face/face_decoder.yaml           # stage 1: vertex losses
    python -m motion.training.cli fit --config configs/face/face_decoder_exchange.yaml  # + perceptual / exchange

The decoder (:class:`~motion.models.face.decoder.EmoteDecoder`) predicts latents of the
frozen prior (``flint_export``: ``runs/flint/latest``), which decodes FLAME expression +
jaw; its speech input is the frozen shared speech encoder's content sequence
(``audio_input: content``, ``speech_encoder_export``) or the log-mel features themselves
(``log_mel``). Style is the speaker id (``style_input: speaker``) or the speech encoder's
style latent of the clip (``speech``). Losses: :mod:`motion.training.face_decoder_losses`;
the perceptual networks (``lip_reader`` / ``face_emotion``: any module following
:class:`~motion.models.face.perceptual.FacePerceptualNet`, by ``class_path``, or the exports
of :mod:`motion.training.face_classifiers`) are frozen. Only the decoder is trained.

The export (``runs/face_decoder/latest``) is self-contained for
:class:`motion.pipelines.face.FacePipeline`: ``face_decoder``, ``flint`` (the prior),
``speech_encoder`` (if used), ``face_pipeline.json`` (inputs, face model) and the manifest.
"""

from __future__ import annotations

import inspect
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

import torch
from torch import nn

from motion.models.config import load_module
from motion.models.face.decoder import AudioInput, EmoteDecoder, SpeechInputs, encode_speech
from motion.models.face.flint import FlintPrior
from motion.models.face.perceptual import check_perceptual
from motion.models.face.vertices import FaceVertexSets
from motion.models.speech_encoder import SpeechDisentangler
from motion.training.base import StageModule, save_plain_hyperparameters
from motion.training.face_decoder_losses import FaceDecoderLoss, FaceDecoderLossWeights, vertex_sets_spec

#: Builds the decoder from (in_dim, latent_dim, downsample, style_dim), which come from the frozen modules.
DecoderFactory = Callable[[int, int, int, int], EmoteDecoder]
M = TypeVar("M", bound=nn.Module)
EXPORT_NAME, PIPELINE_FILE = "face_decoder", "face_pipeline.json"


def _resolve(export: str | None, module: M | None, name: str, cls: type[M], required: bool = True) -> M | None:
    if export is not None:
        if cls is FlintPrior:
            from motion.training.flint_module import load_flint

            return load_flint(export)  # type: ignore[return-value]
        return load_module(Path(export), name, expected=cls)
    if module is None:
        if required:
            raise ValueError(f"give model.init_args.{name}_export (an export folder) or an inline model.init_args.{name}")
        return None
    if cls in (FlintPrior, SpeechDisentangler):
        warnings.warn(f"the face decoder uses an inline, untrained {name}: fine for smoke tests only "
                      f"(set {name}_export)", stacklevel=3)
    return module


def _frozen(module: M) -> M:
    module.requires_grad_(False)
    return module.eval()


class FaceDecoderModule(StageModule):
    """Trains an :class:`EmoteDecoder` against a frozen FLINT prior (module notes).

    Args:
        decoder: decoder factory (config: ``class_path`` + ``init_args`` without the four dimensions).
        flint_export / flint: the FLINT prior (export folder, or inline for smoke tests).
        speech_encoder_export / speech_encoder: the shared speech encoder (optional with ``log_mel``).
        audio_input: ``content`` (speech encoder content) or ``log_mel``.
        audio_dim: speech features per frame with ``log_mel`` and no encoder (= ``data.n_mels``).
        style_input: ``speaker`` (speaker-id embedding) or ``speech`` (the encoder's style latent).
        lip_reader / lip_reader_export, face_emotion / face_emotion_export: perceptual networks (stage 2).
        init_decoder: export folder whose ``face_decoder`` weights initialise the decoder (stage 2 from stage 1).
        models_dir: FLAME model folder of the vertex losses (None: ``$MOTION_MODELS_DIR`` or the stand-in).
        loss_region: vertices of the vertex / velocity terms (``moving``, ``face``, ``all``, ...).
        loss_stride: keep every k-th vertex of ``loss_region`` (speed; the lip set stays whole).
        w_*: loss weights (:class:`~motion.training.face_decoder_losses.FaceDecoderLossWeights`).
        p_drop_style: probability of training a clip with the "unknown speaker" code (speaker ids).
        lr, weight_decay, warmup_steps, min_lr_ratio: optimisation (:class:`StageModule`).
    """

    stage = "face_decoder"

    def __init__(self, decoder: DecoderFactory, flint_export: str | None = None, flint: FlintPrior | None = None,
                 speech_encoder_export: str | None = None, speech_encoder: SpeechDisentangler | None = None,
                 audio_input: AudioInput = "content", audio_dim: int = 80,
                 style_input: Literal["speaker", "speech"] = "speaker",
                 lip_reader: nn.Module | None = None, lip_reader_export: str | None = None,
                 face_emotion: nn.Module | None = None, face_emotion_export: str | None = None,
                 init_decoder: str | None = None, models_dir: str | None = None, loss_region: str = "moving",
                 loss_stride: int = 1,
                 w_vertex: float = 1.0e6, w_lip_vertex: float = 1.0e6, w_velocity: float = 1.0e6,
                 w_param: float = 0.0, w_lip_closure: float = 0.0, w_lip_perceptual: float = 0.0,
                 w_emotion_perceptual: float = 0.0,
                 w_exchange_lip: float = 0.0, w_exchange_lip_vertex: float = 0.0, w_exchange_emotion: float = 0.0,
                 p_drop_style: float = 0.1, lr: float = 1.0e-4, weight_decay: float = 0.0,
                 warmup_steps: int = 100, min_lr_ratio: float = 0.1) -> None:
        super().__init__(lr, weight_decay, warmup_steps, min_lr_ratio)
        save_plain_hyperparameters(self, inspect.currentframe())
        from motion.bodymodels import load_face_model

        resolved = _resolve(flint_export, flint, "flint", FlintPrior)
        assert resolved is not None
        self.flint = resolved.freeze()  # no gradients to the prior, always in eval mode (EMOTE Sec. 3.3)
        enc = _resolve(speech_encoder_export, speech_encoder, "speech_encoder", SpeechDisentangler, required=False)
        self.speech_encoder = _frozen(enc) if enc is not None else None
        if style_input not in ("speaker", "speech"):
            raise ValueError(f"style_input must be 'speaker' or 'speech', got {style_input!r}")
        if style_input == "speech" and enc is None:
            raise ValueError("style_input='speech' needs the speech encoder (speech_encoder_export)")
        self.audio_input, self.style_input, self.p_drop_style = audio_input, style_input, p_drop_style
        if audio_input == "content":
            if enc is None:
                raise ValueError("audio_input='content' needs the speech encoder (speech_encoder_export)")
            in_dim = enc.content_dim
        else:
            in_dim = enc.in_dim if enc is not None else audio_dim
        style_dim = enc.style_dim if style_input == "speech" and enc is not None else 0
        self.decoder = decoder if isinstance(decoder, EmoteDecoder) else decoder(
            in_dim, self.flint.latent_dim, self.flint.downsample, style_dim)
        self.decoder.check_flint(self.flint)
        if (self.decoder.in_dim, self.decoder.style_dim) != (in_dim, style_dim):
            raise ValueError(f"decoder takes ({self.decoder.in_dim} speech, {self.decoder.style_dim} style) features, "
                             f"the inputs give ({in_dim}, {style_dim})")
        if init_decoder is not None:
            from motion.models.config import read_state, weights_file

            path = weights_file(init_decoder, EXPORT_NAME)
            if path is None:
                raise FileNotFoundError(f"model.init_args.init_decoder: no {EXPORT_NAME}.safetensors (or .pt) in {init_decoder}")
            self.decoder.load_state_dict(read_state(path))
        nets = [_resolve(exp, net, name, nn.Module, required=False)
                for exp, net, name in ((lip_reader_export, lip_reader, "lip_reader"), (face_emotion_export, face_emotion, "face_emotion"))]
        for net, name in zip(nets, ("lip_reader", "face_emotion")):
            if net is not None:
                check_perceptual(net, name)
        self.lip_reader = _frozen(nets[0]) if nets[0] is not None else None
        self.face_emotion = _frozen(nets[1]) if nets[1] is not None else None
        weights = FaceDecoderLossWeights(w_vertex, w_lip_vertex, w_velocity, w_param, w_lip_closure,
                                         w_lip_perceptual, w_emotion_perceptual, w_exchange_lip,
                                         w_exchange_lip_vertex, w_exchange_emotion)
        self.models_dir = models_dir
        sets = FaceVertexSets.build(load_face_model(models_dir), self.flint.num_expressions,
                                    vertex_sets_spec(self.lip_reader, self.face_emotion, loss_region, loss_stride,
                                                     closure=w_lip_closure > 0),
                                    models_dir)
        self.loss = FaceDecoderLoss(sets, weights, self.lip_reader, self.face_emotion)

    def train(self, mode: bool = True) -> FaceDecoderModule:
        """Train mode for the decoder only; frozen modules stay in eval (no dropout)."""
        super().train(mode)
        for m in (self.flint, self.speech_encoder, self.lip_reader, self.face_emotion):
            if m is not None:
                m.eval()
        return self

    def setup(self, stage: str) -> None:
        """Standardizers from the training data (once; checkpoints restore them)."""
        if stage != "fit":
            return
        enc, norm = self.speech_encoder, self.decoder.norm
        F = (enc.in_dim if enc is not None else self.decoder.in_dim)
        n_mels = getattr(getattr(self._datamodule(), "features", None), "dim", F)
        if n_mels != F:
            raise ValueError(f"the data has {n_mels} speech features per frame, the face decoder's speech "
                             f"input takes {F}: set data.n_mels (or model.audio_dim) to match")
        if enc is not None and not bool(enc.norm.initialized):
            enc.norm.set_stats(*self._datamodule().feature_stats("audio"))
        if not bool(norm.initialized):
            if self.audio_input == "log_mel":
                norm.set_stats(*self._datamodule().feature_stats("audio"))
            else:  # content is instance-normalised by the encoder already
                norm.set_stats(torch.zeros_like(norm.mean), torch.ones_like(norm.std))

    def trainable_modules(self) -> list[nn.Module]:
        return [self.decoder]

    def export_modules(self) -> dict[str, nn.Module]:
        out: dict[str, nn.Module] = {EXPORT_NAME: self.decoder, "flint": self.flint}
        if self.speech_encoder is not None:
            out["speech_encoder"] = self.speech_encoder
        return out

    def pipeline_settings(self) -> dict[str, Any]:
        """What :class:`motion.pipelines.face.FacePipeline` needs besides the weights."""
        from motion.audio.loudness import TARGET_LUFS
        from motion.bodymodels.paths import is_standin, resolve_models_dir

        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        data = dm.describe() if dm is not None and hasattr(dm, "describe") else {}
        return {"audio_input": self.audio_input, "style_input": self.style_input,
                "audio_features": data.get("audio_features", "log_mel"), "n_mels": data.get("n_mels", 80),
                "fps": data.get("fps", 30.0), "loudness_lufs": data.get("loudness_lufs", TARGET_LUFS), "face_model": "stand-in" if is_standin(resolve_models_dir(self.models_dir))
                else "user", "num_expressions": self.flint.num_expressions}

    def write_to(self, folder: Path) -> dict[str, str]:
        written = super().write_to(folder)
        (folder / PIPELINE_FILE).write_text(json.dumps(self.pipeline_settings(), indent=2) + "\n",
                                                     encoding="utf-8")
        return written

    # ------------------------------------------------------------------ steps
    def speech(self, audio: torch.Tensor) -> SpeechInputs:
        """Decoder inputs from raw speech features ``(B, T, F)``."""
        return encode_speech(audio, self.speech_encoder, self.audio_input)

    def _style(self, batch: dict[str, torch.Tensor], sp: SpeechInputs, train: bool) -> torch.Tensor:
        if self.style_input == "speech":
            assert sp.style is not None
            return sp.style
        spk = batch["speaker"]
        if train and self.p_drop_style > 0:
            spk = torch.where(torch.rand(spk.shape, device=spk.device) < self.p_drop_style, -1, spk)
        return spk

    def _step(self, batch: dict[str, torch.Tensor], split: str) -> torch.Tensor:
        sp = self.speech(batch["audio"])
        style = self._style(batch, sp, split == "train")
        emo, inten = batch["emotion"], batch["intensity"]
        out = self.decoder.generate(self.flint, sp.features, emo, inten, style)
        exchanged = new_emo = None
        if self.loss.weights.exchange:  # content-emotion exchange (EMOTE Sec. 3.4): permute the labels
            perm = torch.randperm(emo.shape[0], device=emo.device)
            new_emo = emo[perm]
            x = self.decoder.generate(self.flint, sp.features, new_emo, inten[perm], style)
            exchanged = (x.expression, x.jaw)
        terms = self.loss(self.flint, (out.expression, out.jaw), (batch["expression"], batch["jaw"]),
                          exchanged, new_emo)
        return self.log_losses(terms, split, emo.shape[0], total="total", drop=("lve",),
                               extra={"vertex_mm2": terms["vertex"] * 1e6, "lve_mm": terms["lve"] * 1e3})

