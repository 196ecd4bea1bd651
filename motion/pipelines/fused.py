"""All windows of a stretch of audio denoised together, their overlaps fused at every step.

MultiDiffusion (Bar-Tal et al. 2023, "MultiDiffusion: Fusing Diffusion Paths for Controlled
Image Generation", Eq. 3-5): one global latent sequence ``x_t (L, C)`` is covered by
overlapping windows ``F_i`` of the length the denoiser was trained on. At every reverse
step each window is denoised on its own (one batched, guided denoiser call for all of
them), and the global model output is the per-position weighted mean of the windows'
outputs::

    eps(x_t)[j] = sum_i w_i(j) eps_i(F_i(x_t))[j] / sum_i w_i(j)

which is the least-squares fusion of Eq. 5 (the scheduler step is affine in the model
output for DDIM and DPM-Solver++, so fusing outputs equals fusing the per-window steps).
The windows therefore agree on their overlaps at every noise level, and there is no seam
to hide afterwards. ``w_i`` ramps up over the overlap at a window's edges (positions with
the least context count least) and is never zero.

Everything is batched across windows, which is what makes CPU inference fast: a window is
~16 latents, far too few to keep two cores busy one at a time. For flat memory on long
audio the windows are taken ``batch_windows`` at a time; a batch starts with the latents
it shares with the previous one *known* and holds them by the replacement method. The loop
itself is :func:`motion.models.sampler.denoise`; this module gives it the fused model output.
"""

from __future__ import annotations

import torch

from motion.models.denoiser import BodyCondition, LatentDenoiser
from motion.models.sampler import NoiseScheduler, denoise, guided_output
from motion.pipelines.long_audio import Window


def window_weights(length: int, ramp: int) -> torch.Tensor:
    """``(length,)`` fusion weights: ``min(i + 1, length - i, ramp + 1) / (ramp + 1)``."""
    i = torch.arange(length, dtype=torch.float32)
    edge = torch.minimum(i + 1, length - i)
    return edge.clamp(max=ramp + 1) / (ramp + 1)


@torch.no_grad()
def sample_fused(denoiser: LatentDenoiser, scheduler: NoiseScheduler, cond: BodyCondition,
                 windows: list[Window], steps: int, audio_scale: float = 1.0,
                 emotion_scale: float = 1.0, generator: torch.Generator | None = None,
                 drop_emotion_vector: bool = False, known: torch.Tensor | None = None,
                 eta: float = 0.0) -> torch.Tensor:
    """Clean standardized latents ``(L, C)`` over ``[windows[0].start, windows[-1].stop)``.

    Args:
        denoiser: the trained denoiser (eval mode is set for the loop).
        scheduler: a sampling scheduler (DDIM or DPM-Solver++); its state is reset.
        cond: conditions of the windows, one row per window (batch ``len(windows)``).
        windows: the windows, in order, all inside the range (absolute positions).
        steps: sampling steps.
        audio_scale, emotion_scale: compositional guidance scales s_a, s_e.
        generator: RNG of the initial noise, the replacement noise and stochastic steps.
        drop_emotion_vector: condition on the emotion label only (``guided_output``).
        known: ``(K, C)`` known leading latents of the range, or None.
        eta: DDIM stochasticity.
    """
    param = next(denoiser.parameters())
    dev, dtype = param.device, param.dtype
    base = windows[0].start
    L = windows[-1].stop - base
    C = denoiser.latent_dim
    if cond.style.shape[0] != len(windows):
        raise ValueError(f"{len(windows)} windows but conditions for {cond.style.shape[0]}")
    lengths = sorted({w.length for w in windows})
    if len(lengths) != 1:
        raise ValueError(f"fused sampling needs windows of one length, got {lengths}")
    noise = torch.randn((1, L, C), generator=generator, device=dev, dtype=dtype)
    # gather / scatter indices (B, W) and fusion weights: per window (B, W, 1), summed (L,)
    idx = torch.stack([torch.arange(w.start - base, w.stop - base, device=dev) for w in windows])
    overlap = max([w.known for w in windows[1:]], default=0)
    wts = window_weights(lengths[0], overlap).to(dev, dtype).expand(len(windows), -1)
    weight = torch.zeros(L, device=dev, dtype=dtype).index_add_(0, idx.reshape(-1), wts.reshape(-1))
    wts = wts[:, :, None]

    def fused_output(model_in: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """``(1, L, C)``: the windows' guided outputs (one batched call), fused by weight."""
        out = guided_output(denoiser, model_in[0][idx], t, cond, audio_scale, emotion_scale,
                            drop_emotion_vector)  # (B, W, C)
        fused = torch.zeros(L, C, device=dev, dtype=dtype)
        fused.index_add_(0, idx.reshape(-1), (out * wts).reshape(-1, C))
        return (fused / weight[:, None])[None]

    z = denoise(denoiser, scheduler, noise, fused_output, steps, generator, eta,
                None if known is None else known[None])
    return z[0]
