"""Emotion and style controls of the body pipeline: parsing and the latent vectors they pick.

Emotion (one of):

* ``None`` - the emotion heard in the speech: the speech encoder's emotion vector of each
  window, with the label its emotion head predicts (AMUSE's default behaviour);
* a label (+ intensity) - the label and intensity condition; the speech emotion vector is
  dropped (``drop_emotion_vector``) so the label is not fighting what the voice carries;
* a reference clip - the emotion vector (and predicted label) of another recording, AMUSE's
  latent swap (Chhatre et al. 2024, Sec. 4.3);
* an emotion curve (:class:`~motion.pipelines.emotion_curve.EmotionCurve`) - per window, the
  label with the largest weight and the intensity at the window's centre
  (:func:`window_emotions`), conditioned as a fixed label is (the speech emotion vector dropped).
  Overlapping windows are fused, so the body's change follows the windows' hop.

Style (one of): ``None`` (the speech's own style vector), a speaker id, or a reference clip
(its style vector). A speaker id is turned into a style vector through the speaker-ID head
of the speech encoder (a linear softmax classifier ``p(k | s) = softmax(W s + b)_k``):
starting from the speech's own style ``s0``, normalised gradient-ascent steps on
``log p(k | s)`` move ``s`` until the head attributes it to speaker ``k`` with probability
``target`` - the nearest style (from ``s0``, along the head's ascent path) that the encoder
itself recognises as that speaker. No per-speaker table has to be exported for this.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
from torch import nn

from motion.models.denoiser import BodyCondition
from motion.models.speech_encoder import SpeechLatents
from motion.pipelines.body_speech import ClipSpeech
from motion.pipelines.emotion_curve import EmotionCurve
from motion.pipelines.long_audio import Window
from motion.types import EMOTIONS, canonical_emotion

EmotionSource = Literal["audio", "label", "reference", "curve"]
StyleSource = Literal["audio", "speaker", "reference"]


@dataclass(frozen=True)
class StyleChoice:
    """A parsed style control: ``source`` and the speaker id or reference it names."""

    source: StyleSource
    speaker: int | None = None
    reference: object | None = None

    def describe(self) -> str | None:
        """The value recorded in :attr:`motion.container.MotionMeta.style`."""
        if self.source == "speaker":
            return str(self.speaker)
        if self.source == "reference":
            ref = self.reference
            return str(ref) if isinstance(ref, (str, Path)) else "reference clip"
        return None


def parse_style(style: object | None, num_speakers: int) -> StyleChoice:
    """``None`` | speaker id (int or digits) | reference clip (path, Audio, samples).

    Raises:
        ValueError: a speaker id outside ``[0, num_speakers)``.
        FileNotFoundError: a path that is neither digits nor an existing file.
    """
    if style is None:
        return StyleChoice("audio")
    speaker: int | None = None
    if isinstance(style, bool):
        raise TypeError(f"style must be a speaker id or a reference clip, got {style!r}")
    if isinstance(style, int):
        speaker = style
    elif isinstance(style, str) and style.strip().lstrip("-").isdigit() and not Path(style).is_file():
        speaker = int(style.strip())
    if speaker is not None:
        if not 0 <= speaker < num_speakers:
            raise ValueError(f"speaker id {speaker} is outside the speech encoder's speakers "
                             f"0..{num_speakers - 1}")
        return StyleChoice("speaker", speaker=speaker)
    if isinstance(style, (str, os.PathLike)):
        path = Path(style)
        if not path.is_file():
            raise FileNotFoundError(f"style reference clip not found: {path} (style takes a "
                                    "speaker id or the path of a speech recording)")
        return StyleChoice("reference", reference=path)
    return StyleChoice("reference", reference=style)


def parse_emotion(emotion: str | EmotionCurve | None, emotion_reference: object | None) -> EmotionSource:
    """Which emotion control is asked for (a label or curve and a reference exclude each other)."""
    if emotion is not None and emotion_reference is not None:
        what = "curve" if isinstance(emotion, EmotionCurve) else "label"
        raise ValueError(f"give either an emotion {what} or an emotion reference clip, not both")
    if isinstance(emotion, EmotionCurve):
        return "curve"
    if emotion is not None:
        canonical_emotion(emotion)
        return "label"
    return "reference" if emotion_reference is not None else "audio"


def emotion_index(emotion: str) -> int:
    """Index of ``emotion`` in :data:`motion.types.EMOTIONS` (aliases accepted)."""
    return EMOTIONS.index(canonical_emotion(emotion))


def window_emotions(curve: EmotionCurve, windows: list[Window], downsample: int, num_frames: int,
                    fps: float) -> tuple[list[int], list[float]]:
    """Per window: the curve's label index (largest weight) and intensity at the window's centre,
    ``(a + b) / 2 / fps`` seconds for its motion frames ``[a, b)`` (``Window.frames``: latents
    times the VAE's ``downsample``, cropped to ``num_frames``)."""
    centres = []
    for w in windows:
        a, b = w.frames(downsample, num_frames)
        centres.append(0.5 * (a + b) / fps)
    idx, inten = curve.labels(centres)
    return [int(i) for i in idx], [float(x) for x in inten]


def steer_style(style: torch.Tensor, head: nn.Linear, speaker: int, target: float = 0.9,
                max_steps: int = 200, step_frac: float = 0.05) -> torch.Tensor:
    """Move style vectors ``(B, Ds)`` until ``head`` gives ``speaker`` probability >= target.

    Each step adds ``step_frac * (|s0| + 1e-3) * g / |g|`` with ``g = d log p(k|s) / ds``
    (normalised gradient ascent; deterministic). Stops per row once the target is reached.
    """
    s0 = style.detach()
    s = s0.clone()
    scale = step_frac * (s0.norm(dim=-1, keepdim=True) + 1e-3)
    with torch.enable_grad():
        for _ in range(max_steps):
            x = s.clone().requires_grad_(True)
            logp = torch.log_softmax(head(x), dim=-1)[:, speaker]
            done = logp.detach().exp() >= target
            if bool(done.all()):
                break
            (grad,) = torch.autograd.grad(logp.sum(), x)
            step = scale * grad / (grad.norm(dim=-1, keepdim=True) + 1e-12)
            s = torch.where(done[:, None], s, s + step.detach())
    return s.detach()


def build_condition(lat: SpeechLatents, label: int | list[int] | None, intensity: float | list[float] | None,
                    emo_ref: ClipSpeech | None, style: StyleChoice, sty_ref: ClipSpeech | None,
                    speaker_head: nn.Linear) -> BodyCondition:
    """The :class:`BodyCondition` of a batch of windows under the chosen controls.

    Args:
        lat: the windows' speech latents (content ``(B, T, Dc)``, emotion, style, head logits).
        label: requested emotion index, or one per window (a curve), or None (the heard /
            reference emotion's label).
        intensity: requested intensity, or one per window, or None (unknown: -1).
        emo_ref, sty_ref: summaries of the emotion / style reference clips, if any.
        style: the parsed style control.
        speaker_head: the speech encoder's speaker-ID head (speaker-id style).
    """
    dev = lat.content.device
    B = lat.content.shape[0]
    emotion_vec, emo_label = lat.emotion, lat.emotion_logits.argmax(-1)
    if emo_ref is not None:
        emotion_vec = emo_ref.emotion[None].to(dev).expand(B, -1)
        emo_label = torch.full((B,), EMOTIONS.index(emo_ref.emotion_label()), device=dev)
    for name, per in (("labels", label), ("intensities", intensity)):
        if isinstance(per, list) and len(per) != B:
            raise ValueError(f"{len(per)} window {name} for {B} windows")
    if isinstance(label, list):
        emo_label = torch.tensor(label, device=dev)
    elif label is not None:
        emo_label = torch.full((B,), label, device=dev)
    style_vec = lat.style
    if style.source == "speaker":
        style_vec = steer_style(style_vec, speaker_head, int(style.speaker))  # type: ignore[arg-type]
    elif sty_ref is not None:
        style_vec = sty_ref.style[None].to(dev).expand(B, -1)
    if isinstance(intensity, list):
        inten_t = torch.tensor(intensity, dtype=torch.float32, device=dev)
    else:
        inten_t = torch.full((B,), -1.0 if intensity is None else float(intensity), device=dev)
    return BodyCondition(lat.content, emotion_vec, style_vec, emo_label.long(), inten_t)
