"""The speech encoder run window by window, and clip-level summaries of its outputs.

The encoder is applied to the same latent windows as the denoiser (motion frames
``[start * f, stop * f)``), so its memory use does not depend on the audio length and every
window sees speech of the length it was trained on. :class:`ClipSpeech` keeps running,
length-weighted means of the emotion and style vectors and of the two heads' posteriors;
they summarise a reference clip (emotion / style transfer) or report the emotion heard in
the input.
"""

from __future__ import annotations

import numpy as np
import torch

from motion.models.speech_encoder import SpeechDisentangler, SpeechLatents
from motion.pipelines.long_audio import Window
from motion.types import EMOTIONS


def encode_window(encoder: SpeechDisentangler, feats: np.ndarray, window: Window,
                  downsample: int) -> SpeechLatents:
    """Encode the motion frames of ``window`` from ``feats (T, F)``; batch of 1.

    The last window may cover fewer frames than ``length * f``; the denoiser pads the content
    by repeating its last frame (:meth:`LatentDenoiser.align_content`).
    """
    a, b = window.frames(downsample, feats.shape[0])
    dev = next(encoder.parameters()).device
    x = torch.from_numpy(np.ascontiguousarray(feats[a:b], np.float32))[None].to(dev)
    with torch.no_grad():
        return encoder.encode(x)


def encode_windows(encoder: SpeechDisentangler, feats: np.ndarray, windows: list[Window],
                   downsample: int) -> SpeechLatents:
    """Encode windows of one length as one batch ``(B, length * f, F)``.

    Frames past the end of ``feats (T, F)`` (the last window's tail) repeat the last frame,
    as the denoiser pads content (:meth:`LatentDenoiser.align_content`).
    """
    n = windows[0].length * downsample
    if any(w.length * downsample != n for w in windows):
        raise ValueError("encode_windows needs windows of one length")
    def frames(a: int) -> np.ndarray:  # padded window by window: no copy of the clip's features
        seg = feats[a:a + n]
        if seg.shape[0] < n:
            seg = np.concatenate([seg, np.repeat(feats[-1:], n - seg.shape[0], 0)])
        return seg

    dev = next(encoder.parameters()).device
    x = np.stack([frames(w.start * downsample) for w in windows])
    with torch.no_grad():
        return encoder.encode(torch.from_numpy(np.ascontiguousarray(x, np.float32)).to(dev))


class ClipSpeech:
    """Length-weighted means over windows of emotion / style vectors and head posteriors."""

    def __init__(self) -> None:
        self._w = 0.0
        self._sums: dict[str, torch.Tensor] = {}

    def add(self, lat: SpeechLatents, weight: float | list[float]) -> None:
        """Accumulate the latents of a batch of windows of ``weight`` latent frames each."""
        w = torch.as_tensor(weight, dtype=torch.float32).reshape(-1, 1)
        if w.shape[0] == 1 and lat.emotion.shape[0] > 1:
            w = w.expand(lat.emotion.shape[0], 1)
        parts = {"emotion": lat.emotion, "style": lat.style,
                 "emotion_probs": torch.softmax(lat.emotion_logits, -1),
                 "speaker_probs": torch.softmax(lat.speaker_logits, -1)}
        for k, v in parts.items():
            v = (v.detach().float().cpu() * w).sum(0)
            self._sums[k] = self._sums[k] + v if k in self._sums else v
        self._w += float(w.sum())

    def _mean(self, key: str) -> torch.Tensor:
        if not self._w:
            raise ValueError("no speech was encoded")
        return self._sums[key] / self._w

    @property
    def emotion(self) -> torch.Tensor:
        """``(De,)`` mean emotion vector."""
        return self._mean("emotion")

    @property
    def style(self) -> torch.Tensor:
        """``(Ds,)`` mean style vector."""
        return self._mean("style")

    def emotion_probs(self) -> np.ndarray | None:
        """``(num_emotions,)`` mean emotion posterior (None before any window)."""
        return self._mean("emotion_probs").numpy() if self._w else None

    def speaker_probs(self) -> np.ndarray | None:
        """``(num_speakers,)`` mean speaker posterior (None before any window)."""
        return self._mean("speaker_probs").numpy() if self._w else None

    def emotion_label(self) -> str:
        """The most probable emotion."""
        probs = self.emotion_probs()
        assert probs is not None
        return EMOTIONS[int(np.argmax(probs[:len(EMOTIONS)]))]


def encode_clip(encoder: SpeechDisentangler, feats: np.ndarray, windows: list[Window],
                downsample: int) -> ClipSpeech:
    """Encode every window of a clip into a :class:`ClipSpeech` summary."""
    out = ClipSpeech()
    for w in windows:
        out.add(encode_window(encoder, feats, w, downsample), float(w.length))
    return out
