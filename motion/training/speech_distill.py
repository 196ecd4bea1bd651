"""Robustness distillation of the speech encoder: real-recording input, the teacher's latents.

The body denoiser was trained on the latents of a speech encoder that heard clean synthetic
speech at its raw level. A student copy of that encoder is trained to give the *same*
latents (content sequence, emotion and style vectors, both heads' posteriors) from the same
frames after loudness normalisation and after the degradations real recordings bring
(:mod:`motion.audio.augment`), the teacher seeing the clean clip (Hinton et al. 2015;
consistency training as in Xie et al. 2020, "Unsupervised Data Augmentation"). The denoiser
needs no retraining: the student speaks the teacher's latent language.

Loss (each term averaged over the batch)::

    w_content * mean |c_s - c_t|^2                     content (B, T, Dc), instance-normalised
  + w_emotion * mean (|e_s - e_t|^2 / var_B(e_t))      emotion vector (B, De), per-dimension scale
  + w_style   * mean (|s_s - s_t|^2 / var_B(s_t))      style vector (B, Ds)
  + w_logits  * [KL(p_t || p_s) emotion + KL(q_t || q_s) speaker]
"""

from __future__ import annotations

import copy
import inspect

import torch
import torch.nn.functional as F
from torch import nn

from motion.models.config import load_module
from motion.models.speech_encoder import SpeechDisentangler
from motion.training.base import StageModule, save_plain_hyperparameters


def _scaled_mse(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Mean squared error per dimension divided by the teacher's batch variance (floored)."""
    var = teacher.detach().var(0, unbiased=False).clamp_min(1e-3)
    return ((student - teacher) ** 2 / var).mean()


def _kl(teacher_logits: torch.Tensor, student_logits: torch.Tensor) -> torch.Tensor:
    return F.kl_div(F.log_softmax(student_logits, -1), F.log_softmax(teacher_logits, -1),
                    log_target=True, reduction="batchmean")


class SpeechDistillModule(StageModule):
    """Trains a student copy of a speech-encoder export (module notes).

    Args:
        teacher_export: folder with ``speech_encoder.json`` / ``.safetensors`` (e.g. ``motion/weights/body``).
        w_content, w_emotion, w_style, w_logits: loss weights.
        lr, weight_decay, warmup_steps, min_lr_ratio: optimisation (:class:`StageModule`).
    """

    stage = "speech_encoder"

    def __init__(self, teacher_export: str = "motion/weights/body", w_content: float = 1.0,
                 w_emotion: float = 1.0, w_style: float = 1.0, w_logits: float = 0.5, lr: float = 1e-4,
                 weight_decay: float = 0.0, warmup_steps: int = 100, min_lr_ratio: float = 0.1) -> None:
        super().__init__(lr, weight_decay, warmup_steps, min_lr_ratio)
        save_plain_hyperparameters(self, inspect.currentframe())
        teacher = load_module(teacher_export, "speech_encoder", expected=SpeechDisentangler).float()
        self.teacher = teacher.requires_grad_(False).eval()
        self.student = copy.deepcopy(teacher).requires_grad_(True).train()
        self.weights = {"content": w_content, "emotion": w_emotion, "style": w_style, "logits": w_logits}

    def train(self, mode: bool = True) -> SpeechDistillModule:
        super().train(mode)
        self.teacher.eval()  # the teacher never drops out
        return self

    def trainable_modules(self) -> list[nn.Module]:
        return [self.student]

    def export_modules(self) -> dict[str, nn.Module]:
        return {"speech_encoder": self.student}

    def losses(self, teacher_feats: torch.Tensor, student_feats: torch.Tensor) -> dict[str, torch.Tensor]:
        """Loss terms (module notes) for ``(B, W, F)`` teacher and student inputs."""
        with torch.no_grad():
            t = self.teacher.encode(teacher_feats)
        s = self.student.encode(student_feats)
        terms = {"content": F.mse_loss(s.content, t.content),
                 "emotion": _scaled_mse(s.emotion, t.emotion),
                 "style": _scaled_mse(s.style, t.style),
                 "logits": _kl(t.emotion_logits, s.emotion_logits) + _kl(t.speaker_logits, s.speaker_logits)}
        terms["loss"] = sum(self.weights[k] * v for k, v in terms.items())  # type: ignore[assignment]
        with torch.no_grad():
            terms["emotion_agree"] = (s.emotion_logits.argmax(-1) == t.emotion_logits.argmax(-1)).float().mean()
        return terms

    def _step(self, batch: dict[str, torch.Tensor], split: str) -> torch.Tensor:
        terms = self.losses(batch["teacher"], batch["student"])
        return self.log_losses(terms, split, batch["teacher"].shape[0])
