"""Guided reverse diffusion over one latent window with a known prefix (replacement method).

At every step the latents that are *known* (the overlap with the previous window) are
replaced by the known clean latents noised to the noise level the sampler has just reached
(RePaint, Lugmayr et al. 2022, Eq. 8; the "replacement method" of Song et al. 2021 and of
Ho et al. 2022, "Video Diffusion Models", Sec. 3.1)::

    x_{t'}[known] = sqrt(abar_{t'}) z_known + sqrt(1 - abar_{t'}) eps,   eps ~ N(0, I) fresh

with ``t'`` the next timestep of the sampling schedule, and after the last step the known
latents themselves. The unknown latents are denoised by the guided model output
(compositional CFG, :func:`motion.models.sampler.guided_output`) and so are pulled towards
continuations consistent with the known part. Replacement alone harmonises only partly (Ho
et al. 2022 note it); RePaint's resampling (Lugmayr et al. 2022, Alg. 1, jump length 1)
helps: with ``resample = U > 1`` every step but the last is repeated U times, going back
by re-noising ``x_{t'} -> x_t ~ N(sqrt(abar_t / abar_{t'}) x_{t'}, (1 - abar_t / abar_{t'}) I)``
(DDIM only: multistep solvers keep a history that a step back would invalidate). It
multiplies the sampling cost by about U. Cross-fading the decoded windows
(:mod:`.long_audio`) hides what mismatch is left. Without known latents this is exactly
:func:`motion.models.sampler.sample_latents`.
"""

from __future__ import annotations

import torch

from motion.models.denoiser import BodyCondition, LatentDenoiser
from motion.models.sampler import NoiseScheduler, guided_output, step_kwargs


def noise_to(z0: torch.Tensor, timestep: torch.Tensor | int, alphas_cumprod: torch.Tensor,
             generator: torch.Generator | None) -> torch.Tensor:
    """``q(z_t | z_0)``: ``sqrt(abar_t) z0 + sqrt(1 - abar_t) eps`` (Ho et al. 2020, Eq. 4)."""
    abar = alphas_cumprod[int(timestep)].to(z0.dtype)
    eps = torch.randn(z0.shape, generator=generator, device=z0.device, dtype=z0.dtype)
    return abar.sqrt() * z0 + (1.0 - abar).sqrt() * eps


@torch.no_grad()
def sample_window(denoiser: LatentDenoiser, scheduler: NoiseScheduler, cond: BodyCondition,
                  num_latents: int, steps: int, audio_scale: float = 1.0,
                  emotion_scale: float = 1.0, generator: torch.Generator | None = None,
                  drop_emotion_vector: bool = False, known: torch.Tensor | None = None,
                  eta: float = 0.0, resample: int = 1) -> torch.Tensor:
    """Sample clean standardized latents ``(B, L, C)`` whose first ``K`` latents are ``known``.

    Args:
        denoiser: the trained denoiser (eval mode is set for the loop).
        scheduler: a sampling scheduler (DDIM or DPM-Solver++); its state is reset.
        cond: conditions of the B sequences.
        num_latents: L.
        steps: sampling steps.
        audio_scale, emotion_scale: compositional guidance scales s_a, s_e.
        generator: RNG of the initial noise, the replacement noise and stochastic steps.
        drop_emotion_vector: condition on the emotion label only (see ``guided_output``).
        known: ``(B, K, C)`` known leading latents (K <= L), or None.
        eta: DDIM stochasticity (0 = deterministic DDIM).
        resample: RePaint resampling count U (1 = replacement only; > 1 needs DDIM).
    """
    if resample < 1:
        raise ValueError(f"resample must be >= 1, got {resample}")
    if resample > 1 and type(scheduler).__name__ != "DDIMScheduler":
        raise ValueError("RePaint resampling (resample > 1) needs the DDIM sampler: multistep "
                         f"solvers keep a history a step back would break; got {type(scheduler).__name__}")
    param = next(denoiser.parameters())
    B = cond.style.shape[0]
    shape = (B, num_latents, denoiser.latent_dim)
    latents = torch.randn(shape, generator=generator, device=param.device, dtype=param.dtype)
    latents = latents * scheduler.init_noise_sigma
    scheduler.set_timesteps(steps, device=param.device)
    timesteps = scheduler.timesteps
    abar: torch.Tensor = scheduler.alphas_cumprod.to(param.device)  # type: ignore[attr-defined]
    K = 0 if known is None else min(int(known.shape[1]), num_latents)
    z_known = latents.new_zeros(0) if known is None else known[:, :K].to(param.device, param.dtype)
    if K:
        latents[:, :K] = noise_to(z_known, timesteps[0], abar, generator)
    kwargs = step_kwargs(scheduler, generator, eta)
    was_training = denoiser.training
    denoiser.eval()
    try:
        for i, t in enumerate(timesteps):
            last = i + 1 == len(timesteps)
            for u in range(1 if (last or not K) else resample):
                if u:  # RePaint: back from t' to t by the forward process
                    ratio = abar[int(t)] / abar[int(timesteps[i + 1])]
                    eps = torch.randn(latents.shape, generator=generator, device=latents.device,
                                      dtype=latents.dtype)
                    latents = ratio.sqrt() * latents + (1.0 - ratio).sqrt() * eps
                model_in = scheduler.scale_model_input(latents, t)
                out = guided_output(denoiser, model_in, t, cond, audio_scale, emotion_scale,
                                    drop_emotion_vector)
                latents = scheduler.step(out, t, latents, **kwargs).prev_sample
                if K:
                    latents[:, :K] = (z_known if last else
                                      noise_to(z_known, timesteps[i + 1], abar, generator))
    finally:
        denoiser.train(was_training)
    return latents
