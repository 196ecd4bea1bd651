"""Losses of the speech encoder (AMUSE, Sec. 3.1) and of the motion VAE.

Speech batches hold groups of G clips of the same sentence (G = 4: the 2 x 2 speaker x
emotion grid of :class:`motion.data.windows.PairWindowDataset`, or G = 1 for plain windows)::

    A (s1, e1)   B (s1, e2)   C (s2, e1)   D (s2, e2)

Cross-reconstruction rebuilds each clip from the *other* clips' latents: its content from
the clip that shares neither speaker nor emotion, its emotion from the clip with the same
emotion and the other speaker, its style from the clip with the same speaker and the other
emotion (AMUSE, Eq. 3-5).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F

from motion.models.motion_vae import MotionVAE
from motion.models.speech_encoder import SpeechDisentangler

# Source clip of each latent for targets A, B, C, D (module docstring).
CONTENT_SRC = (3, 2, 1, 0)
EMOTION_SRC = (2, 3, 0, 1)
STYLE_SRC = (1, 0, 3, 2)


@dataclass
class SpeechLossWeights:
    """Weights of the speech-encoder loss terms."""

    self_recon: float = 1.0
    cross_recon: float = 1.0
    emotion: float = 0.1
    speaker: float = 0.1
    content_speaker: float = 1.0
    content_emotion: float = 0.5


def masked_mean(per_sample: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``(B,)`` values where ``mask`` is True (0 when none is)."""
    m = mask.to(per_sample.dtype)
    return (per_sample * m).sum() / m.sum().clamp_min(1.0)


def _l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``(B, ...)`` -> per-sample mean absolute difference ``(B,)``."""
    return (a - b).abs().flatten(1).mean(1)


def _check_labels(labels: torch.Tensor, classes: int, what: str) -> None:
    if labels.numel() and int(labels.max()) >= classes:
        raise ValueError(f"{what} label {int(labels.max())} >= the head's {classes} classes; "
                         f"raise the speech encoder's num_{what}s")


def _masked_ce(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy over known labels (-1 = unknown).

    With no known label it is 0 but still connected to the head's parameters, so DDP
    never sees an unused parameter.
    """
    ce = F.cross_entropy(logits, labels, ignore_index=-1, reduction="sum")
    return ce / (labels >= 0).sum().clamp_min(1)


def speech_encoder_losses(encoder: SpeechDisentangler, batch: dict[str, torch.Tensor],
                          weights: SpeechLossWeights, input_noise: float = 0.0
                          ) -> dict[str, torch.Tensor]:
    """All speech-encoder loss terms and their weighted sum ``"loss"``.

    Args:
        encoder: the model.
        batch: ``audio (B, G, N, F)`` or ``(B, N, F)`` raw features, ``emotion`` and
            ``speaker`` labels ``(B, G)`` / ``(B,)`` (-1 = unknown), and for G = 4 the flags
            ``has_speaker_pair`` / ``has_emotion_pair`` ``(B,)``.
        weights: loss weights.
        input_noise: std of Gaussian noise added to the standardized *input* only; the
            reconstruction target stays clean (AMUSE: noisy input, clean target).

    Returns:
        Scalar tensors: self_recon, cross_recon, emotion_ce, speaker_ce, content_speaker,
        content_emotion, emotion_acc, speaker_acc, loss.
    """
    audio = batch["audio"]
    if audio.dim() == 3:
        audio = audio[:, None]
    B, G, N, Fdim = audio.shape
    emo_lab = batch["emotion"].reshape(B * G)
    spk_lab = batch["speaker"].reshape(B * G)
    _check_labels(emo_lab, encoder.num_emotions, "emotion")
    _check_labels(spk_lab, encoder.num_speakers, "speaker")
    x = encoder.norm(audio)  # clean standardized target (B, G, N, F)
    noisy = x + input_noise * torch.randn_like(x) if input_noise > 0 else x
    lat = encoder.encode(noisy.reshape(B * G, N, Fdim), normalized=True)
    c = lat.content.reshape(B, G, N, -1)
    e = lat.emotion.reshape(B, G, -1)
    s = lat.style.reshape(B, G, -1)
    zero = x.new_zeros(())
    out: dict[str, torch.Tensor] = {}
    recon = encoder.decode(lat.content, lat.emotion, lat.style).reshape(B, G, N, Fdim)
    out["self_recon"] = (recon - x).abs().mean()
    out["cross_recon"] = out["content_speaker"] = out["content_emotion"] = zero
    if G == 4:
        has_spk = batch["has_speaker_pair"].reshape(B)
        has_emo = batch["has_emotion_pair"].reshape(B)
        cross = encoder.decode(c[:, CONTENT_SRC].reshape(B * G, N, -1),
                               e[:, EMOTION_SRC].reshape(B * G, -1),
                               s[:, STYLE_SRC].reshape(B * G, -1)).reshape(B, G, N, Fdim)
        out["cross_recon"] = masked_mean(_l1(cross, x), has_spk | has_emo)
        # content alignment (AMUSE Eq. 6): same sentence, different speaker (A-C, B-D) ...
        out["content_speaker"] = masked_mean(
            0.5 * (_l1(c[:, 0], c[:, 2]) + _l1(c[:, 1], c[:, 3])), has_spk)
        # ... and, beyond AMUSE, different emotion (A-B, C-D)
        out["content_emotion"] = masked_mean(
            0.5 * (_l1(c[:, 0], c[:, 1]) + _l1(c[:, 2], c[:, 3])), has_emo)
    known_e, known_s = emo_lab >= 0, spk_lab >= 0
    out["emotion_ce"] = _masked_ce(lat.emotion_logits, emo_lab)
    out["speaker_ce"] = _masked_ce(lat.speaker_logits, spk_lab)
    with torch.no_grad():
        out["emotion_acc"] = ((lat.emotion_logits.argmax(-1) == emo_lab)[known_e].float().mean()
                              if known_e.any() else zero)
        out["speaker_acc"] = ((lat.speaker_logits.argmax(-1) == spk_lab)[known_s].float().mean()
                              if known_s.any() else zero)
    w = weights
    out["loss"] = (w.self_recon * out["self_recon"] + w.cross_recon * out["cross_recon"]
                   + w.emotion * out["emotion_ce"] + w.speaker * out["speaker_ce"]
                   + w.content_speaker * out["content_speaker"]
                   + w.content_emotion * out["content_emotion"])
    return out


VAEDistance = Literal["l1", "mse"]


def vae_distance(name: VAEDistance) -> Callable[[torch.Tensor], torch.Tensor]:
    """The per-element error of :func:`motion_vae_losses`: ``l1`` (mean |d|) or ``mse`` (mean d^2).

    Raises:
        ValueError: any other name.
    """
    if name == "l1":
        return lambda d: d.abs().mean()
    if name == "mse":
        return lambda d: d.square().mean()
    raise ValueError(f"distance must be 'l1' or 'mse', got {name!r}")


def motion_vae_losses(vae: MotionVAE, motion: torch.Tensor, kl_weight: float = 1e-4,
                      velocity_weight: float = 1.0, sample: bool = True,
                      distance: VAEDistance = "mse") -> dict[str, torch.Tensor]:
    """Reconstruction, velocity (frame differences) and KL terms.

    All terms are means over standardized features, so ``kl_weight`` ~1e-4..1e-5 is
    relative to a per-element error (AMUSE uses 1e-5 for its clip-level VAE).
    ``distance`` is the per-element error of the reconstruction and velocity terms: ``l1``
    (AMUSE) or ``mse``. L1's gradient has the same size for every error, so while the
    timing of a gesture stroke is still uncertain it is pulled to the median, a held
    pose; on the synthetic corpus an L1 VAE flattened the strokes (arm speed at half of
    the ground truth) where the squared error fits them.

    Args:
        motion: ``(B, N, 315)`` raw body features.

    Returns:
        Scalar tensors: recon, velocity, kl, loss.
    """
    err = vae_distance(distance)
    recon, dist = vae(motion, sample=sample)
    target = vae.norm(motion)
    out = {"recon": err(recon - target),
           "velocity": err(recon.diff(dim=1) - target.diff(dim=1))
           if motion.shape[1] > 1 else recon.new_zeros(()),
           "kl": dist.kl()}
    out["loss"] = out["recon"] + velocity_weight * out["velocity"] + kl_weight * out["kl"]
    return out
