"""Stage 3: latent diffusion over the motion-VAE latent sequence, conditioned on speech.

The speech encoder (stage 1) and motion VAE (stage 2) are loaded frozen from their plain
exports (``<run>/export`` or ``runs/<stage>/latest``: ``<name>.json`` + ``<name>.safetensors``, loaded
with ``weights_only=True``). Training follows DDPM (Ho et al. 2020, Alg. 1) on standardized
posterior means ``z0``: ``z_t = sqrt(abar_t) z0 + sqrt(1 - abar_t) eps`` and an MSE on eps
(or on ``v = sqrt(abar_t) eps - sqrt(1 - abar_t) z0``, Salimans & Ho 2022). Condition groups
are dropped independently for classifier-free guidance (Ho & Salimans 2022).
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Literal, TypeVar

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from motion.models.config import load_module
from motion.models.denoiser import BodyCondition, LatentDenoiser
from motion.models.layers import Standardizer
from motion.models.motion_vae import MotionVAE
from motion.models.sampler import sample_latents, sampling_scheduler, training_scheduler
from motion.models.speech_encoder import SpeechDisentangler
from motion.training.base import StageModule, save_plain_hyperparameters

#: Builds the denoiser from (latent_dim, content_dim, emotion_dim, style_dim, downsample).
DenoiserFactory = Callable[[int, int, int, int, int], LatentDenoiser]
M = TypeVar("M", bound=nn.Module)


def _resolve(export: str | None, module: M | None, name: str, cls: type[M]) -> M:
    if export is not None:
        return load_module(Path(export), name, expected=cls)
    if module is None:
        raise ValueError(f"give model.init_args.{name}_export (the export folder of the {name} "
                         f"stage, e.g. runs/{name}/latest) or an inline model.init_args.{name}")
    warnings.warn(f"latent diffusion uses an inline, untrained {name}: fine for smoke tests, "
                  f"useless for real training (set {name}_export)", stacklevel=3)
    return module


class LatentDiffusionModule(StageModule):
    """Trains a :class:`LatentDenoiser` between a frozen speech encoder and motion VAE.

    Args:
        denoiser: denoiser factory (config: ``class_path`` + ``init_args`` without the five
            dimensions, which come from the frozen modules).
        speech_encoder_export, vae_export: export folders of stages 1 and 2.
        speech_encoder, vae: inline modules instead of exports (smoke tests only).
        prediction_type: "epsilon" or "v_prediction".
        num_train_timesteps, beta_start, beta_end, beta_schedule: DDPM noise schedule.
        p_drop_audio, p_drop_emotion: independent drop rates of the two condition groups.
        p_drop_emotion_vector: drop rate of the speech emotion vector alone (label kept).
        sample_posterior: train on VAE posterior samples instead of means.
        latent_stat_batches: training batches used to standardize the latents.
        val_sampler, val_steps: sampler and steps for the validation sample (0 = skip).
        noise_repeats: noise levels drawn per training window: the batch of clean latents
            is repeated this many times with independent ``t`` and noise, so the frozen
            encoders run once for ``noise_repeats`` denoiser samples (cheaper steps when the
            encoders dominate, as on a CPU).
        init_export: warm start - an earlier latent-diffusion export (``runs/<x>/latest`` or
            ``motion/weights/body``) whose denoiser and latent standardizer are loaded before
            training (fine-tuning: a run continued without its checkpoint, or the shipped
            model on BEAT2). Its denoiser must have the configured width and depth.
        lr, weight_decay, warmup_steps, min_lr_ratio: optimisation (:class:`StageModule`).
    """

    stage = "latent_diffusion"

    def __init__(self, denoiser: DenoiserFactory, speech_encoder_export: str | None = None,
                 vae_export: str | None = None, speech_encoder: SpeechDisentangler | None = None,
                 vae: MotionVAE | None = None,
                 prediction_type: Literal["epsilon", "v_prediction"] = "epsilon",
                 num_train_timesteps: int = 1000, beta_start: float = 0.00085,
                 beta_end: float = 0.012, beta_schedule: str = "scaled_linear",
                 p_drop_audio: float = 0.1, p_drop_emotion: float = 0.1,
                 p_drop_emotion_vector: float = 0.1, sample_posterior: bool = False,
                 latent_stat_batches: int = 16, val_sampler: str = "ddim", val_steps: int = 10,
                 noise_repeats: int = 1, init_export: str | None = None, lr: float = 1e-4,
                 weight_decay: float = 0.0, warmup_steps: int = 500,
                 min_lr_ratio: float = 0.1) -> None:
        super().__init__(lr, weight_decay, warmup_steps, min_lr_ratio)
        save_plain_hyperparameters(self, inspect.currentframe())
        self.speech_encoder = _resolve(speech_encoder_export, speech_encoder, "speech_encoder",
                                       SpeechDisentangler)
        self.vae = _resolve(vae_export, vae, "motion_vae", MotionVAE)
        for frozen in (self.speech_encoder, self.vae):
            frozen.requires_grad_(False).eval()
        enc, v = self.speech_encoder, self.vae
        self.denoiser = denoiser(v.latent_dim, enc.content_dim, enc.emotion_dim, enc.style_dim,
                                 v.downsample)
        self.latent_norm = Standardizer(v.latent_dim, eps=1e-3)
        self.noise_scheduler = training_scheduler(num_train_timesteps, beta_start, beta_end,
                                                  beta_schedule, prediction_type)
        self.p_drop = (p_drop_audio, p_drop_emotion, p_drop_emotion_vector)
        self.sample_posterior = sample_posterior
        self.latent_stat_batches = latent_stat_batches
        self.val_sampler, self.val_steps = val_sampler, val_steps
        if noise_repeats < 1:
            raise ValueError(f"noise_repeats must be >= 1, got {noise_repeats}")
        self.noise_repeats = noise_repeats
        if init_export is not None:
            self._warm_start(Path(init_export))

    def _warm_start(self, export: Path) -> None:
        """Load the denoiser and latent standardizer of ``export`` (weights_only loads)."""
        for name, mod in (("denoiser", self.denoiser), ("latent_norm", self.latent_norm)):
            src = load_module(export, name, expected=type(mod))
            try:
                mod.load_state_dict(src.state_dict())
            except RuntimeError as err:
                raise ValueError(f"model.init_args.init_export: the {name} in {export} does not "
                                 f"match the configured one (set its width / layers to those of "
                                 f"{export / (name + '.json')}): {err}") from err

    def train(self, mode: bool = True) -> LatentDiffusionModule:
        """Train mode for the denoiser only; frozen modules stay in eval (no dropout)."""
        super().train(mode)
        self.speech_encoder.eval()
        self.vae.eval()
        return self

    # ------------------------------------------------------------------ set-up
    def setup(self, stage: str) -> None:
        """Standardizers of inline modules, then latent statistics (once; checkpoints restore them)."""
        if stage != "fit":
            return
        dm = None
        for norm, kind in ((self.speech_encoder.norm, "audio"), (self.vae.norm, "motion")):
            if not bool(norm.initialized):
                dm = dm or self._datamodule()
                norm.set_stats(*dm.feature_stats(kind))
        if not bool(self.latent_norm.initialized):
            dm = dm or self._datamodule()
            loader = DataLoader(dm.datasets["train"], batch_size=dm.batch_size, shuffle=False)
            zs = []
            with torch.no_grad():
                for i, batch in enumerate(loader):
                    if i >= self.latent_stat_batches:
                        break
                    zs.append(self.vae.encode(self._anchor(batch)["motion"]).mean.flatten(0, 1))
            z = torch.cat(zs)
            self.latent_norm.set_stats(z.mean(0), z.std(0))

    def trainable_modules(self) -> list[nn.Module]:
        return [self.denoiser]

    def export_modules(self) -> dict[str, nn.Module]:
        return {"speech_encoder": self.speech_encoder, "motion_vae": self.vae,
                "denoiser": self.denoiser, "latent_norm": self.latent_norm}

    def write_to(self, folder: Path) -> dict[str, str]:
        written = super().write_to(folder)
        self.noise_scheduler.save_config(str(folder))  # scheduler_config.json
        return written

    # ------------------------------------------------------------------ steps
    @staticmethod
    def _anchor(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Plain windows from a batch (the anchor clip of pair batches)."""
        if batch["audio"].dim() == 4:
            return {k: v[:, 0] for k, v in batch.items() if k in ("audio", "motion", "emotion",
                                                                "speaker", "intensity")}
        return batch

    @torch.no_grad()
    def encode_batch(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, BodyCondition]:
        """Standardized clean latents ``z0 (B, L, C)`` and the conditions of a batch."""
        batch = self._anchor(batch)
        lat = self.speech_encoder.encode(batch["audio"])
        dist = self.vae.encode(batch["motion"])
        z0 = self.latent_norm(dist.sample() if self.sample_posterior else dist.mean)
        cond = BodyCondition(lat.content, lat.emotion, lat.style, batch["emotion"],
                             batch["intensity"])
        return z0, cond

    def diffusion_loss(self, z0: torch.Tensor, cond: BodyCondition, drop: bool,
                       generator: torch.Generator | None = None) -> torch.Tensor:
        """DDPM training loss (Ho et al. 2020, Alg. 1) on one batch of latents."""
        B, dev = z0.shape[0], z0.device
        noise = torch.randn(z0.shape, generator=generator, device=dev)
        T = self.noise_scheduler.config.num_train_timesteps
        t = torch.randint(0, T, (B,), generator=generator, device=dev)
        zt = self.noise_scheduler.add_noise(z0, noise, t)
        if self.noise_scheduler.config.prediction_type == "v_prediction":
            target = self.noise_scheduler.get_velocity(z0, noise, t)
        else:
            target = noise
        masks = [torch.rand(B, generator=generator, device=dev) < p if drop else False
                 for p in self.p_drop]
        pred = self.denoiser(zt, t, cond, drop_audio=masks[0], drop_emotion=masks[1],
                             drop_emotion_vector=masks[2])
        return F.mse_loss(pred, target)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        z0, cond = self.encode_batch(batch)
        if self.noise_repeats > 1:
            z0, cond = z0.repeat(self.noise_repeats, 1, 1), cond.repeat(self.noise_repeats)
        loss = self.diffusion_loss(z0, cond, drop=True)
        self.log("train/loss", loss.detach(), batch_size=z0.shape[0], prog_bar=True)
        return loss

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        z0, cond = self.encode_batch(batch)
        gen = torch.Generator(device=z0.device).manual_seed(batch_idx)
        loss = self.diffusion_loss(z0, cond, drop=False, generator=gen)
        self.log("val/loss", loss, batch_size=z0.shape[0], prog_bar=True, sync_dist=True)
        if batch_idx == 0 and self.val_steps > 0:
            sched = sampling_scheduler(self.noise_scheduler.config, self.val_sampler)
            z = sample_latents(self.denoiser, sched, cond, z0.shape[1], steps=self.val_steps,
                               generator=gen)
            motion = self._anchor(batch)["motion"]
            feats = self.vae.decode(self.latent_norm.inverse(z), motion.shape[1], normalized=True)
            self.log("val/sample_l1", (feats - self.vae.norm(motion)).abs().mean(),
                     batch_size=z0.shape[0], sync_dist=True)
