"""Body models (motion.models): shapes, any-length VAE, export, schedulers, guidance, losses.

Tiny seeded modules on the CPU; every test runs in well under a second.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch

from motion.models import (
    BODY_FEATURE_DIM,
    BodyCondition,
    LatentDenoiser,
    MotionVAE,
    SpeechDisentangler,
    decode_body,
    encode_body,
    load_module,
    save_module,
)
from motion.models.config import build_module
from motion.models.sampler import (
    guidance_weights,
    guided_output,
    sample_latents,
    sampling_scheduler,
    training_scheduler,
)
from motion.rotations import convert
from motion.training.losses import SpeechLossWeights, motion_vae_losses, speech_encoder_losses

DC, DE, DS, C = 8, 6, 5, 4


def tiny_encoder(**kw) -> SpeechDisentangler:
    torch.manual_seed(0)
    return SpeechDisentangler(in_dim=20, content_dim=DC, emotion_dim=DE, style_dim=DS,
                              num_speakers=4, width=16, conv_layers=1, layers=1, heads=2, **kw)


def tiny_vae(downsample: int = 4) -> MotionVAE:
    torch.manual_seed(0)
    return MotionVAE(latent_dim=C, width=16, downsample=downsample, layers=1, heads=2)


def tiny_denoiser(random_out: bool = True) -> LatentDenoiser:
    torch.manual_seed(0)
    den = LatentDenoiser(C, DC, DE, DS, 4, width=16, layers=3, heads=2, dropout=0.0)
    if random_out:  # the output layer starts at zero; make outputs depend on the inputs
        torch.nn.init.normal_(den.out.weight, std=0.5)
    return den.eval()


def condition(B: int = 2, T: int = 40) -> BodyCondition:
    g = torch.Generator().manual_seed(1)
    return BodyCondition(torch.randn(B, T, DC, generator=g), torch.randn(B, DE, generator=g),
                         torch.randn(B, DS, generator=g), torch.tensor([1, -1])[:B],
                         torch.tensor([2.0, -1.0])[:B])


# ---------------------------------------------------------------------------- speech encoder
def test_speech_encoder_shapes():
    enc = tiny_encoder().eval()
    lat = enc.encode(torch.randn(3, 37, 20))
    assert lat.content.shape == (3, 37, DC)
    assert lat.emotion.shape == (3, DE) and lat.style.shape == (3, DS)
    assert lat.emotion_logits.shape == (3, 8) and lat.speaker_logits.shape == (3, 4)
    # content is instance-normalised over time
    assert torch.allclose(lat.content.mean(1), torch.zeros(3, DC), atol=1e-5)
    assert enc.decode(lat.content, lat.emotion, lat.style).shape == (3, 37, 20)
    with pytest.raises(ValueError, match="expects 20 features"):
        enc.encode(torch.randn(1, 10, 80))


def test_speech_losses_pair_grid_and_masks():
    enc = tiny_encoder()
    B, G, N = 3, 4, 16
    batch = {"audio": torch.randn(B, G, N, 20),
             "emotion": torch.tensor([[0, 1, 0, 1]] * B), "speaker": torch.tensor([[1, 1, 2, 2]] * B),
             "has_speaker_pair": torch.tensor([True, False, True]),
             "has_emotion_pair": torch.tensor([True, True, False])}
    out = speech_encoder_losses(enc, batch, SpeechLossWeights(), input_noise=0.1)
    for k in ("self_recon", "cross_recon", "emotion_ce", "speaker_ce", "content_speaker",
              "content_emotion", "loss"):
        assert torch.isfinite(out[k]) and out[k] > 0, k
    out["loss"].backward()
    assert enc.emotion_head.weight.grad is not None
    batch["has_speaker_pair"] = torch.zeros(B, dtype=torch.bool)
    batch["has_emotion_pair"] = torch.zeros(B, dtype=torch.bool)
    out = speech_encoder_losses(enc, batch, SpeechLossWeights())
    assert out["content_speaker"] == 0 and out["content_emotion"] == 0 and out["cross_recon"] == 0
    single = {"audio": torch.randn(B, N, 20), "emotion": torch.tensor([0, -1, 3]),
              "speaker": torch.tensor([1, 2, -1])}
    assert torch.isfinite(speech_encoder_losses(enc, single, SpeechLossWeights())["loss"])
    unknown = {"audio": torch.randn(B, N, 20), "emotion": torch.full((B,), -1),
               "speaker": torch.full((B,), -1)}
    enc.zero_grad()
    out = speech_encoder_losses(enc, unknown, SpeechLossWeights())
    out["loss"].backward()  # heads stay in the graph (DDP needs every parameter used)
    assert out["emotion_ce"] == 0 and enc.emotion_head.weight.grad is not None
    single["speaker"] = torch.tensor([9, 1, 1])
    with pytest.raises(ValueError, match="num_speakers"):
        speech_encoder_losses(enc, single, SpeechLossWeights())


# ---------------------------------------------------------------------------- motion VAE
@pytest.mark.parametrize("T", [1, 37, 200])
@pytest.mark.parametrize("downsample", [4, 8])
def test_vae_any_length(T, downsample):
    vae = tiny_vae(downsample).eval()
    x = torch.randn(2, T, BODY_FEATURE_DIM)
    dist = vae.encode(x)
    L = -(-T // downsample)
    assert dist.mean.shape == dist.logvar.shape == (2, L, C) and dist.num_frames == T
    assert vae.decode(dist.mean, T).shape == (2, T, BODY_FEATURE_DIM)
    recon, _ = vae(x, sample=False)
    assert recon.shape == (2, T, BODY_FEATURE_DIM)
    assert torch.isfinite(motion_vae_losses(vae, x)["loss"])


class _FixedErrorVAE(torch.nn.Module):
    """A VAE stand-in whose reconstruction misses its standardised target by ``error``."""

    def __init__(self, error: torch.Tensor) -> None:
        super().__init__()
        self.error = error

    def norm(self, x: torch.Tensor) -> torch.Tensor:
        return (x - 1.0) / 2.0

    def forward(self, x: torch.Tensor, sample: bool = True) -> tuple[torch.Tensor, Any]:
        return self.norm(x) + self.error, SimpleNamespace(kl=lambda: torch.zeros(()))


def test_vae_loss_distances():
    x = torch.randn(2, 16, BODY_FEATURE_DIM)
    exact = motion_vae_losses(_FixedErrorVAE(torch.zeros_like(x)), x)
    assert float(exact["recon"]) == float(exact["velocity"]) == float(exact["loss"]) == 0.0  # measured on the norm
    steady = torch.full_like(x, 0.5)  # off by the same amount in every frame: no velocity error
    for distance, per_element in (("l1", 0.5), ("mse", 0.25)):
        out = motion_vae_losses(_FixedErrorVAE(steady), x, distance=distance)
        assert float(out["recon"]) == pytest.approx(per_element) and float(out["velocity"]) == 0.0, distance
    spike = torch.zeros_like(x)
    spike[:, 5] = 1.0  # one wrong frame: two jumps
    one, two = (motion_vae_losses(_FixedErrorVAE(k * spike), x, distance="l1") for k in (1.0, 2.0))
    assert float(two["recon"]) == pytest.approx(2 * float(one["recon"]))  # L1 grows with the error
    one, two = (motion_vae_losses(_FixedErrorVAE(k * spike), x) for k in (1.0, 2.0))  # the default: squared
    assert float(two["recon"]) == pytest.approx(4 * float(one["recon"]))
    assert float(one["velocity"]) > float(one["recon"])  # a one-frame error costs more as velocity
    with pytest.raises(ValueError, match="distance"):
        motion_vae_losses(_FixedErrorVAE(steady), x, distance="huber")  # type: ignore[arg-type]
    from motion.training.vae_module import MotionVAEModule

    with pytest.raises(ValueError, match="distance"):  # at construction, not at the first step
        MotionVAEModule(tiny_vae(4), distance="huber")  # type: ignore[arg-type]


def test_vae_rejects_bad_settings():
    with pytest.raises(ValueError, match="power of two"):
        MotionVAE(downsample=3)
    with pytest.raises(ValueError, match="decode to"):
        tiny_vae().decode(torch.randn(1, 10, C), 50)


def test_body_features_round_trip():
    g = torch.Generator().manual_seed(0)
    poses = 0.5 * torch.randn(12, 55, 3, generator=g)
    poses[:, 22:25] = 0.0  # jaw and eyes are not modelled
    trans = torch.cumsum(0.01 * torch.randn(12, 3, generator=g), 0) + torch.tensor([0.3, 0.9, -0.2])
    feats = encode_body(poses, trans)
    assert feats.shape == (12, BODY_FEATURE_DIM)
    p2, t2 = decode_body(feats, start=trans[0])
    torch.testing.assert_close(convert(p2, "axis_angle", "matrix"),
                               convert(poses, "axis_angle", "matrix"), atol=1e-5, rtol=0)
    torch.testing.assert_close(t2, trans, atol=1e-5, rtol=0)


# ---------------------------------------------------------------------------- export format
def test_save_load_module_weights_only(tmp_path):
    vae = tiny_vae().eval()
    vae.norm.set_stats(torch.randn(BODY_FEATURE_DIM), torch.rand(BODY_FEATURE_DIM) + 0.5)
    save_module(vae, tmp_path, "motion_vae")
    cfg = json.loads((tmp_path / "motion_vae.json").read_text())
    assert cfg["class_path"] == "motion.models.motion_vae.MotionVAE" and cfg["init_args"]["width"] == 16
    from safetensors.torch import load_file

    assert load_file(tmp_path / "motion_vae.safetensors").keys() == vae.state_dict().keys()  # no pickle
    again = load_module(tmp_path, "motion_vae", expected=MotionVAE).eval()
    x = torch.randn(1, 9, BODY_FEATURE_DIM)
    torch.testing.assert_close(again.encode(x).mean, vae.encode(x).mean)
    with pytest.raises(ValueError, match="refusing"):
        build_module({"class_path": "os.system", "init_args": {}})
    with pytest.raises(FileNotFoundError, match="holds"):
        load_module(tmp_path, "denoiser")


# ---------------------------------------------------------------------------- denoiser + CFG
def test_denoiser_shapes_and_condition_drops():
    den = tiny_denoiser()
    cond = condition()
    z = torch.randn(2, 10, C)
    full = den(z, torch.tensor([10, 500]), cond)
    assert full.shape == (2, 10, C)
    assert not torch.allclose(full, den(z, 10, cond, drop_audio=True))
    assert not torch.allclose(full, den(z, 10, cond, drop_emotion=torch.tensor([True, False])))
    # content shorter than L * f is padded, longer is cropped
    short = BodyCondition(cond.content[:, :33], cond.emotion, cond.style, cond.emotion_label,
                          cond.intensity)
    assert den(z, 3, short).shape == (2, 10, C)
    no_vec = BodyCondition(cond.content, None, cond.style, cond.emotion_label, cond.intensity)
    torch.testing.assert_close(den(z, 3, no_vec), den(z, 3, cond, drop_emotion_vector=True))


def test_cfg_scales():
    den, cond, z, t = tiny_denoiser(), condition(), torch.randn(2, 10, C), torch.tensor(300)
    with torch.no_grad():
        uncond = den(z, t, cond, drop_audio=True, drop_emotion=True)
        audio = den(z, t, cond, drop_emotion=True)
        full = den(z, t, cond)
        torch.testing.assert_close(guided_output(den, z, t, cond, 0.0, 0.0), uncond)
        torch.testing.assert_close(guided_output(den, z, t, cond, 1.0, 1.0), full)
        torch.testing.assert_close(guided_output(den, z, t, cond, 1.0, 0.0), audio)
        s_a, s_e = 2.5, 4.0
        expected = uncond + s_a * (audio - uncond) + s_e * (full - audio)
        torch.testing.assert_close(guided_output(den, z, t, cond, s_a, s_e), expected,
                                   atol=1e-5, rtol=1e-5)
        only_a = guided_output(den, z, t, cond, 3.0, 1.0)
        only_e = guided_output(den, z, t, cond, 1.0, 3.0)
        assert not torch.allclose(only_a, only_e) and not torch.allclose(only_a, full)
    assert guidance_weights(1.0, 1.0) == {"full": 1.0}


@pytest.mark.parametrize("kind", ["ddim", "dpmsolver"])
def test_sampling_schedulers(kind):
    train = training_scheduler(prediction_type="v_prediction")
    assert train.config.beta_schedule == "scaled_linear" and train.config.num_train_timesteps == 1000
    sched = sampling_scheduler(train.config, kind)
    assert sched.config.prediction_type == "v_prediction"
    den, cond = tiny_denoiser(), condition()
    a = sample_latents(den, sched, cond, 10, steps=4, audio_scale=2.0, emotion_scale=3.0,
                       generator=torch.Generator().manual_seed(0))
    assert len(sched.timesteps) == 4 and a.shape == (2, 10, C) and torch.isfinite(a).all()
    b = sample_latents(den, sched, cond, 10, steps=4, audio_scale=2.0, emotion_scale=3.0,
                       generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(a, b)
    c = sample_latents(den, sched, cond, 10, steps=4, audio_scale=0.0, emotion_scale=0.0,
                       generator=torch.Generator().manual_seed(0))
    assert not torch.allclose(a, c)
    with pytest.raises(ValueError, match="unknown sampler"):
        sampling_scheduler(train.config, "euler")


@pytest.mark.parametrize("kind", ["ddim", "dpmsolver"])
def test_sampling_starts_at_the_last_training_timestep(kind):
    """Trailing spacing (Lin et al. 2024): the first of 10 steps is t = 999, not 900."""
    train = training_scheduler()
    assert train.config.timestep_spacing == "leading"
    sched = sampling_scheduler(train.config, kind)
    sched.set_timesteps(10)
    assert sched.timesteps.tolist() == list(range(999, 0, -100))
    leading = sampling_scheduler(train.config, kind, spacing="leading")
    leading.set_timesteps(10)
    assert int(leading.timesteps[0]) == 900
    with pytest.raises(ValueError, match="spacing must be one of"):
        sampling_scheduler(train.config, kind, spacing="random")  # type: ignore[arg-type]


@pytest.mark.parametrize("prediction_type", ["epsilon", "v_prediction"])
def test_diffusion_overfits_fixed_batch(prediction_type):
    """DDPM training step on a fixed batch (fixed noise and t): the loss falls in 20 steps."""
    from motion.training.diffusion_module import LatentDiffusionModule

    enc, vae = tiny_encoder(), tiny_vae()
    with pytest.warns(UserWarning, match="inline, untrained"):
        module = LatentDiffusionModule(
            lambda *dims: LatentDenoiser(*dims, width=32, layers=3, heads=2, dropout=0.0),
            speech_encoder=enc, vae=vae, prediction_type=prediction_type)
    module.train()
    assert not module.speech_encoder.training and not module.vae.training
    batch = {"audio": torch.randn(4, 32, 20), "motion": torch.randn(4, 32, BODY_FEATURE_DIM),
             "emotion": torch.tensor([0, 1, 2, -1]), "intensity": torch.tensor([1.0, 2.0, 3.0, -1.0])}
    z0, cond = module.encode_batch(batch)
    assert z0.shape == (4, 8, C)
    opt = torch.optim.Adam(module.denoiser.parameters(), lr=3e-3)
    losses = []
    for _ in range(20):
        loss = module.diffusion_loss(z0, cond, drop=False, generator=torch.Generator().manual_seed(0))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0], losses
    assert all(p.grad is None for p in module.vae.parameters())


def test_alignment_frame_map():
    from motion.data.alignment import frame_map, warp

    a = [(0.2, 0.5, "why"), (0.5, 0.9, "did")]
    b = [(0.4, 1.0, "why"), (1.0, 1.8, "did")]
    pos = frame_map(a, b, 30, 60, 30.0)
    assert pos.shape == (30,) and np.all(np.diff(pos) >= 0)
    assert pos[int(0.2 * 30)] == pytest.approx(0.4 * 30) and pos[15] == pytest.approx(1.0 * 30)
    assert np.allclose(frame_map(None, None, 30, 60, 30.0), np.arange(30) * 2.0)
    x = np.arange(60, dtype=np.float32)[:, None]
    assert np.allclose(warp(x, pos)[:, 0], pos)


def test_broken_weights_files_are_named_not_run(tmp_path):
    """Empty, truncated, code-carrying and mismatched legacy .pt files: one WeightsFileError naming
    the file (the safetensors cases: tests/test_weights.py)."""
    import pickle

    from motion.models.config import WeightsFileError

    vae = tiny_vae()
    save_module(vae, tmp_path, "motion_vae")
    (tmp_path / "motion_vae.safetensors").unlink()  # an export from before safetensors
    pt = tmp_path / "motion_vae.pt"
    torch.save(vae.state_dict(), pt)
    good = pt.read_bytes()
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            import os

            return (os.mkdir, (str(marker),))

    cases = {b"": "empty", good[: len(good) // 2]: "cannot be loaded", pickle.dumps({"x": Payload()}): "cannot be loaded"}
    for data, why in cases.items():
        pt.write_bytes(data)
        with pytest.raises(WeightsFileError, match=why) as exc:
            load_module(tmp_path, "motion_vae")
        assert "motion_vae.pt" in str(exc.value) and "\n" not in str(exc.value)
    assert not marker.exists()
    torch.save({"unexpected": torch.zeros(1)}, pt)
    with pytest.raises(WeightsFileError, match="does not fit motion_vae.json"):
        load_module(tmp_path, "motion_vae")
    (tmp_path / "motion_vae.json").write_text("{not json")
    with pytest.raises(WeightsFileError, match="motion_vae.json is not a module config"):
        load_module(tmp_path, "motion_vae")
