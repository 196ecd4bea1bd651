"""Body pipeline: export -> from_pretrained -> motion; controls, seeds, CFG, long audio, API, CLI.

The model is tiny and built here (the denoiser trained with the training stage's loss), then
written with ``BodyPipeline.save_pretrained`` and loaded back through
``BodyPipeline.from_pretrained``. To make seams measurable the VAE decoder is smooth by
construction (4x downsampling, transposed convolutions with equal taps, no transformer
layers) and the denoiser is trained for 200 steps (~2 s) on a toy prior whose latent
sequences are constant in time: inside a window the motion is then smooth, while
independently sampled windows differ, as with a trained model.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from motion.models import (
    BodyCondition,
    LatentDenoiser,
    MotionVAE,
    SpeechDisentangler,
    encode_body,
)
from motion.pipelines.body import BodyPipeline
from motion.pipelines.weights import WeightsNotFoundError

F_MELS, C = 20, 4


pytestmark = pytest.mark.usefixtures("one_thread")


def speech(seconds: float, seed: int = 0, sr: int = 16000) -> np.ndarray:
    """Syllable-like bursts: harmonics of a random f0 under raised-cosine envelopes."""
    rng = np.random.default_rng(seed)
    y = 0.003 * rng.standard_normal(int(seconds * sr))
    pos = 0
    while pos < y.size:
        n = int(sr * rng.uniform(0.1, 0.3))
        t = np.arange(min(n, y.size - pos)) / sr
        f0 = rng.uniform(90, 250)
        env = np.sin(np.pi * t / (n / sr)) ** 2 * rng.uniform(0.1, 0.4)
        y[pos:pos + t.size] += env * sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 6))
        pos += n + int(sr * rng.uniform(0.0, 0.2))
    return y.astype(np.float32)


def build_export(out: Path) -> Path:
    """The tiny smooth model (module docstring), exported like a trained stage 3."""
    from motion.data.feature_cache import FeatureConfig
    from motion.training.diffusion_module import LatentDiffusionModule

    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    enc = SpeechDisentangler(in_dim=F_MELS, content_dim=8, emotion_dim=6, style_dim=5,
                             num_speakers=4, width=16, conv_layers=1, layers=1, heads=2, dropout=0.0)
    vae = MotionVAE(latent_dim=C, width=16, downsample=4, conv_layers=0, layers=0, heads=2, dropout=0.0)
    with torch.no_grad():
        vae.dec_in.weight.mul_(100.0)  # positions are negligible next to the latent
        for up in vae.dec_ups:  # equal taps: a constant input upsamples to a constant
            up.weight.copy_(up.weight[:, :, :1].expand_as(up.weight))
        vae.norm.set_stats(encode_body(torch.zeros(1, 55, 3), torch.zeros(1, 3))[0], torch.full((315,), 0.1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = LatentDiffusionModule(lambda *d: LatentDenoiser(*d, width=16, layers=1, heads=2, dropout=0.0),
                                       speech_encoder=enc, vae=vae)
    opt = torch.optim.Adam(module.denoiser.parameters(), 1e-2)
    B, L = 32, 60
    for _ in range(200):
        z0 = torch.randn(B, 1, C, generator=g).expand(B, L, C)
        cond = BodyCondition(torch.randn(B, 4 * L, 8, generator=g), torch.randn(B, 6, generator=g),
                             torch.randn(B, 5, generator=g), torch.randint(0, 8, (B,), generator=g),
                             torch.full((B,), 2.0))
        loss = module.diffusion_loss(z0, cond, drop=True, generator=g)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return Path(BodyPipeline(module.speech_encoder, module.vae, module.denoiser, module.latent_norm,
                             dict(module.noise_scheduler.config), FeatureConfig("log_mel", F_MELS, 30.0))
                .save_pretrained(out))


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    return build_export(tmp_path_factory.mktemp("weights") / "body")


@pytest.fixture(scope="module")
def pipe(export) -> BodyPipeline:
    return BodyPipeline.from_pretrained(export)


@pytest.fixture(scope="module")
def wavs(tmp_path_factory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("wav")
    a, b = d / "a.wav", d / "b.wav"
    sf.write(a, speech(3.0, 0), 16000)
    sf.write(b, speech(3.0, 1) * 0.5, 16000)
    return a, b


# ---------------------------------------------------------------------------- pipeline
def test_output_shapes_fps_meta(pipe, wavs):
    out = pipe(wavs[0], emotion="Happiness", intensity=2.5, seed=7, steps=3)
    m = out.motion
    assert m.fps == 30.0 and m.num_frames == 90 and m.poses.shape == (90, 55, 3)
    assert np.all(m.poses[:, 22:25] == 0) and m.expression.shape == (90, 100) and not m.expression.any()
    assert np.abs(m.poses).max() > 0 and m.is_finite()
    assert out.body_features.shape == (90, 315) and out.latents.shape == (23, C)
    meta = m.meta
    assert (meta.emotion, meta.intensity, meta.seed, meta.audio) == ("happy", 2.5, 7, str(wavs[0]))
    assert meta.extra["emotion_source"] == "label" and meta.extra["steps"] == 3
    assert meta.extra["audio_emotion"] == out.audio_emotion and out.audio_emotion_probs.shape == (8,)
    own = pipe(wavs[0], seed=7, steps=3).motion.meta
    assert own.emotion == out.audio_emotion and own.extra["emotion_source"] == "audio"
    assert own.intensity is None and own.style is None


def test_seed_determinism_and_diversity(pipe, wavs):
    a = pipe(wavs[0], seed=1, steps=3).body_features
    b = pipe(wavs[0], seed=1, steps=3).body_features
    c = pipe(wavs[0], seed=2, steps=3, sampler="dpmsolver").body_features
    d = pipe(wavs[0], seed=2, steps=3, sampler="dpmsolver").body_features
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(c, d)
    assert np.abs(a - pipe(wavs[0], seed=2, steps=3).body_features).max() > 1e-3
    assert pipe(wavs[0], steps=1).motion.meta.seed is not None  # drawn and recorded


def test_cfg_zero_is_unconditional(pipe, wavs):
    kw = {"seed": 3, "steps": 3, "audio_guidance": 0.0, "emotion_guidance": 0.0}
    a = pipe(wavs[0], emotion="happy", **kw).body_features
    b = pipe(wavs[1], emotion="sad", intensity=1.0, style=2, **kw).body_features
    np.testing.assert_allclose(a, b, atol=1e-6)
    c = pipe(wavs[0], emotion="happy", seed=3, steps=3, audio_guidance=2.0, emotion_guidance=3.0)
    assert np.abs(c.body_features - a).max() > 1e-4


def test_emotion_label_changes_output(pipe, wavs):
    happy = pipe(wavs[0], emotion="happy", seed=0, steps=3).body_features
    sad = pipe(wavs[0], emotion="sad", seed=0, steps=3).body_features
    assert np.abs(happy - sad).max() > 1e-4
    with pytest.raises(ValueError, match="unknown emotion"):
        pipe(wavs[0], emotion="furious")
    with pytest.raises(ValueError, match="either an emotion label or"):
        pipe(wavs[0], emotion="sad", emotion_reference=wavs[1])


def test_reference_clip_emotion_and_style(pipe, wavs):
    own = pipe(wavs[0], seed=0, steps=3)
    ref = pipe(wavs[0], emotion_reference=wavs[1], seed=0, steps=3)
    assert ref.motion.meta.extra["emotion_source"] == "reference"
    assert np.abs(ref.body_features - own.body_features).max() > 1e-5
    sty = pipe(wavs[0], style=str(wavs[1]), seed=0, steps=3)
    assert sty.motion.meta.style == str(wavs[1]) and sty.motion.meta.extra["style_source"] == "reference"
    assert np.abs(sty.body_features - own.body_features).max() > 1e-5
    spk = pipe(wavs[0], style="3", seed=0, steps=3)
    assert spk.motion.meta.style == "3" and np.abs(spk.body_features - own.body_features).max() > 1e-5
    with pytest.raises(ValueError, match="outside the speech encoder's speakers 0..3"):
        pipe(wavs[0], style=9)
    with pytest.raises(FileNotFoundError, match="style reference clip not found"):
        pipe(wavs[0], style="no_such_clip.wav")


def test_steer_style_reaches_the_speaker():
    from motion.pipelines.body_controls import steer_style

    torch.manual_seed(0)
    head = torch.nn.Linear(5, 4)
    s0 = torch.randn(3, 5)
    s = steer_style(s0, head, speaker=2, target=0.9)
    assert (torch.softmax(head(s), -1)[:, 2] >= 0.9).all()
    done = steer_style(s, head, speaker=2)
    torch.testing.assert_close(done, s)  # already there: unchanged


# ---------------------------------------------------------------------------- long audio
def test_inpainting_keeps_the_known_prefix(pipe):
    from motion.models.sampler import sample_latents, sampling_scheduler

    g = torch.Generator().manual_seed(5)
    cond = BodyCondition(torch.randn(1, 240, 8, generator=g), torch.randn(1, 6, generator=g),
                         torch.randn(1, 5, generator=g), torch.tensor([1]), torch.tensor([2.0]))
    sched = sampling_scheduler(pipe.scheduler_config, "ddim")
    kw = {"audio_scale": 1.0, "emotion_scale": 1.5}
    free = sample_latents(pipe.denoiser, sched, cond, 60, 4, generator=torch.Generator().manual_seed(0),
                          known=torch.zeros(1, 0, C), **kw)
    ref = sample_latents(pipe.denoiser, sched, cond, 60, steps=4, generator=torch.Generator().manual_seed(0),
                         **kw)
    torch.testing.assert_close(free, ref)  # nothing known: the plain sampler
    gap = {"free": [], "replace": [], "repaint": []}
    for seed in range(3):  # a known prefix drawn from the toy prior (constant in time)
        known = torch.randn(1, 1, C, generator=g).expand(1, 12, C)
        for name, extra in (("free", {}), ("replace", {"known": known}),
                            ("repaint", {"known": known, "resample": 2})):
            z = sample_latents(pipe.denoiser, sched, cond, 60, 10, generator=torch.Generator().manual_seed(seed),
                               **extra, **kw)
            if "known" in extra:
                torch.testing.assert_close(z[:, :12], known)
            gap[name].append(float((z[:, 12:24] - known[:, :1]).abs().mean()))
    # the unknown part continues the known one: closer to it than an unconstrained sample
    assert np.mean(gap["replace"]) < np.mean(gap["free"]) and np.mean(gap["repaint"]) < np.mean(gap["free"]), gap
    with pytest.raises(ValueError, match="needs the DDIM sampler"):
        sample_latents(pipe.denoiser, sampling_scheduler(pipe.scheduler_config, "dpmsolver"), cond, 8, 2,
                       known=known, resample=2)


def test_forward_process_is_the_training_schedule(pipe):
    """The replacement noise is q(z_t | z_0) = sqrt(abar_t) z_0 + sqrt(1 - abar_t) eps on the
    training schedule for every sampler (DDIM's own add_noise; a DDPM twin for DPM-Solver++)."""
    from motion.models.sampler import forward_process, sampling_scheduler

    z0, eps = torch.randn(2, 7, C), torch.randn(2, 7, C)
    for kind in ("ddim", "dpmsolver"):
        sched = sampling_scheduler(pipe.scheduler_config, kind)
        sched.set_timesteps(5)
        q = forward_process(sched)
        assert (q is sched) == (kind == "ddim")
        for t in sched.timesteps:
            abar = sched.alphas_cumprod[int(t)]
            assert torch.equal(q.add_noise(z0, eps, t), abar.sqrt() * z0 + (1.0 - abar).sqrt() * eps)


def test_fused_sampler(pipe):
    from motion.models.sampler import sample_latents, sampling_scheduler
    from motion.pipelines.fused import sample_fused, window_weights
    from motion.pipelines.long_audio import Window, plan_windows

    np.testing.assert_allclose(window_weights(6, 2).numpy(), [1 / 3, 2 / 3, 1, 1, 2 / 3, 1 / 3])
    g = torch.Generator().manual_seed(5)
    kw = {"audio_scale": 1.0, "emotion_scale": 1.5}
    for kind in ("ddim", "dpmsolver"):
        sched = sampling_scheduler(pipe.scheduler_config, kind)
        cond = BodyCondition(torch.randn(1, 240, 8, generator=g), torch.randn(1, 6, generator=g),
                             torch.randn(1, 5, generator=g), torch.tensor([1]), torch.tensor([2.0]))
        one = sample_fused(pipe.denoiser, sched, cond, [Window(0, 60, 0)], 4,
                           generator=torch.Generator().manual_seed(0), **kw)
        ref = sample_latents(pipe.denoiser, sched, cond, 60, steps=4,
                             generator=torch.Generator().manual_seed(0), **kw)
        torch.testing.assert_close(one, ref[0])  # a single window: exactly the plain sampler
    ws = plan_windows(100, 40, 10)
    B = len(ws)
    cond = BodyCondition(torch.randn(B, 160, 8, generator=g), torch.randn(B, 6, generator=g),
                         torch.randn(B, 5, generator=g), torch.ones(B, dtype=torch.long),
                         torch.full((B,), 2.0))
    known = torch.randn(1, C, generator=g).expand(10, C)
    z = sample_fused(pipe.denoiser, sampling_scheduler(pipe.scheduler_config), cond, ws, 6,
                     generator=torch.Generator().manual_seed(1), known=known, **kw)
    assert z.shape == (100, C) and torch.isfinite(z).all()
    torch.testing.assert_close(z[:10], known)
    with pytest.raises(ValueError, match="windows but conditions"):
        sample_fused(pipe.denoiser, sampling_scheduler(pipe.scheduler_config), cond, ws[:1], 2)


def test_plan_windows_and_stitcher():
    from motion.models.body_features import decode_body
    from motion.pipelines.long_audio import (
        FeatureStitcher,
        decode_body_chunked,
        plan_windows,
        seam_frames,
    )

    ws = plan_windows(150, 60, 12)
    assert [(w.start, w.stop, w.known) for w in ws] == [(0, 60, 0), (48, 108, 12), (90, 150, 18)]
    assert plan_windows(30, 60, 12) == plan_windows(30, 60, 12)[:1] and plan_windows(30, 60, 12)[0].stop == 30
    concat = plan_windows(150, 60, 0, shift_last=False)
    assert [(w.start, w.stop, w.known) for w in concat] == [(0, 60, 0), (60, 120, 0), (120, 150, 0)]
    assert seam_frames(ws, 4, 600) == [(192 + 240) // 2, (360 + 432) // 2]
    with pytest.raises(ValueError, match="overlap"):
        plan_windows(100, 10, 10)
    feats = np.random.default_rng(0).standard_normal((100, 315)).astype(np.float32)
    whole = [x.numpy() for x in decode_body(torch.from_numpy(feats))]
    for got, want in zip(decode_body_chunked(feats, 30.0, chunk=16), whole):
        np.testing.assert_allclose(got, want, atol=1e-5)
    st = FeatureStitcher(10, 1)
    st.add(0, np.zeros((6, 1)))
    st.add(4, np.ones((6, 1)))
    assert st.out[:4].max() == 0 and st.out[6:].min() == 1 and 0 < st.out[4, 0] < st.out[5, 0] < 1


def test_smoothing_filters_jitter_only_when_asked(pipe):
    from motion.pipelines.long_audio import smooth_features

    x = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    assert smooth_features(x, 0.0) is x
    y = smooth_features(x, 1.0)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert np.abs(np.diff(y, 2, axis=0)).mean() < 0.3 * np.abs(np.diff(x, 2, axis=0)).mean()
    np.testing.assert_allclose(smooth_features(np.ones((5, 2), np.float32), 2.0), 1.0, atol=1e-6)  # constants kept
    feats = pipe.speech_features(speech(3.0, 1))
    raw = pipe(features=feats, seed=0, steps=2, smoothing=0.0)
    smooth = pipe(features=feats, seed=0, steps=2, smoothing=1.5)
    np.testing.assert_allclose(smooth.body_features, smooth_features(raw.body_features, 1.5), atol=1e-5)
    assert smooth.motion.meta.extra["smoothing"] == 1.5
    with pytest.raises(ValueError, match="smoothing"):
        pipe(features=feats, smoothing=-1.0)


def test_long_audio_is_continuous(pipe):
    from motion.metrics.body import joint_positions, seam_jumps

    audio = speech(40.0, 3)
    feats = pipe.speech_features(audio)
    kw = {"seed": 0, "steps": 4, "window_s": 8.0, "overlap_s": 1.6}
    t0 = time.perf_counter()
    inp = pipe(features=feats, stitch="inpaint", **kw)
    elapsed = time.perf_counter() - t0
    cat = pipe(features=feats, stitch="concat", **kw)
    fused = pipe(features=feats, **kw)  # the default
    chunked = pipe(features=feats, batch_windows=2, **kw)  # flat memory: 2 windows at a time
    assert fused.motion.meta.extra["stitch"] == "fused" and fused.windows == inp.windows
    assert fused.motion.is_finite() and chunked.motion.num_frames == 1200
    assert inp.motion.num_frames == cat.motion.num_frames == 1200 and inp.motion.is_finite()
    assert len(inp.windows) == 6 and all(w.length == 60 for w in inp.windows)
    assert [w.known for w in inp.windows] == [0, 12, 12, 12, 12, 12]
    assert inp.latents.shape == (300, C)
    jumps = {}
    for radius in (4, 24 + 4):  # near the seam; the whole overlap (its end is where inpainting stops)
        jumps[radius] = {name: seam_jumps(joint_positions(o.motion.poses), o.seams, 30.0, radius=radius)
                         for name, o in (("inpaint", inp), ("concat", cat), ("fused", fused),
                                 ("fused, 2 windows a batch", chunked))}
        for name in ("inpaint", "fused", "fused, 2 windows a batch"):
            assert jumps[radius][name].seam <= jumps[radius]["concat"].seam, jumps
            assert jumps[radius][name].ratio < jumps[radius]["concat"].ratio, jumps
    times = {}
    for seconds in (10, 20, 40):
        t0 = time.perf_counter()
        pipe(features=feats[:seconds * 30], stitch="inpaint", **kw)
        times[seconds] = round(time.perf_counter() - t0, 3)
    print(f"\nseams {({r: {k: v.to_dict() for k, v in j.items()} for r, j in jumps.items()})}; 40 s in {elapsed:.2f} s; "
          f"time vs length {times}")


# ---------------------------------------------------------------------------- API and CLI
def test_generate_without_weights_says_how_to_train(wavs, monkeypatch, tmp_path):
    import motion
    from motion.pipelines import weights

    monkeypatch.delenv("MOTION_WEIGHTS_DIR", raising=False)
    monkeypatch.setattr(weights, "SHIPPED_WEIGHTS", tmp_path / "none")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(WeightsNotFoundError) as err:
        motion.generate(wavs[0], emotion="happy")
    msg = str(err.value)
    assert "MOTION_WEIGHTS_DIR" in msg and "motion fit --config configs/body/latent_diffusion.yaml" in msg
    assert "motion fit --config configs/body/speech_encoder.yaml" in msg
    with pytest.raises(WeightsNotFoundError, match="speech_encoder.json/.safetensors"):
        BodyPipeline.from_pretrained(tmp_path)
    monkeypatch.setenv("MOTION_WEIGHTS_DIR", str(tmp_path / "missing"))
    with pytest.raises(WeightsNotFoundError, match="is not a folder"):
        motion.generate(wavs[0])


def test_generate_api_env_weights_and_face_merge(export, wavs, monkeypatch):
    import motion
    from motion.pipelines.generate import generate_motion, merge_face

    monkeypatch.setenv("MOTION_WEIGHTS_DIR", str(export.parent))  # a root holding body/
    m = motion.generate(wavs[0], emotion="angry", seed=4, fps=15, options=motion.GenerationOptions(steps=2))
    assert m.fps == 15 and m.num_frames == 45 and m.meta.emotion == "angry"
    assert m.meta.extra["face"].startswith("neutral")

    class FakeFace:
        def __call__(self, audio, **kw):
            T = 89  # one frame short: merged by edge padding
            return type("Out", (), {"expression": np.full((T, 50), 0.5, np.float32),
                                    "jaw": np.full((T, 3), 0.1, np.float32),
                                    "eyes": np.full((T, 2, 3), 0.2, np.float32), "num_frames": T})()

    out = generate_motion(str(wavs[0]), BodyPipeline.from_pretrained(export), FakeFace(), seed=0, steps=2)
    mm = out.motion
    assert mm.meta.extra["face"] == "generated" and mm.expression.shape == (90, 100)
    assert np.allclose(mm.poses[:, 22], 0.1) and np.allclose(mm.poses[:, 23:25], 0.2)
    assert np.allclose(mm.expression[:, :50], 0.5) and not mm.expression[:, 50:].any()
    assert merge_face(mm, FakeFace()(None)).num_frames == 90


def test_cli_generate_and_evaluate(export, wavs, tmp_path, capsys):
    from motion.cli import main
    from motion.synthetic.corpus import generate_corpus
    from motion.data.formats import read_motion
    from motion.metrics.classifier import MotionClassifier
    from motion.metrics.feature_extractor import MotionFeatureExtractor
    from motion.models.config import save_module

    out = tmp_path / "clip.npz"
    assert main(["generate", str(wavs[0]), "-o", str(out), "--weights", str(export), "--emotion", "sad",
                 "--seed", "5", "--steps", "2", "--stitch", "crossfade"]) == 0
    m = read_motion(out)
    assert m.num_frames == 90 and m.meta.emotion == "sad" and m.meta.seed == 5
    assert main(["generate", str(wavs[0]), "-o", str(out), "--weights", str(tmp_path / "nope")]) == 1
    assert "motion fit --config" in capsys.readouterr().err

    corpus = generate_corpus(tmp_path / "corpus", size="tiny", seed=0, workers=1, progress=False).root
    mdir = tmp_path / "metrics"
    torch.manual_seed(0)
    save_module(MotionFeatureExtractor(width=16, feature_dim=8), mdir, "feature_extractor")
    save_module(MotionClassifier(width=16), mdir, "emotion_classifier")
    save_module(MotionClassifier(width=16, num_classes=4), mdir, "speaker_classifier")
    js = tmp_path / "eval.json"
    args = ["evaluate", "--data", str(corpus), "--weights", str(export), "--metrics", str(mdir),
            "--max-clips", "4", "--steps", "2", "--swap-emotions", "--emotion-guidance", "2.5", "--json", str(js)]
    assert main(args) == 0
    captured = capsys.readouterr()
    table = captured.out
    assert "generate body" in captured.err and "load val" in captured.err  # progress bars
    for row in ("ground truth", "GT of other clips", "motion VAE reconstruction", "generated",
                "generated (swapped emotion)", "mean pose", "shuffled GT", "checks: fgd_half_of_mean_pose"):
        assert row in table
    res = json.loads(js.read_text())
    rows = res["rows"]
    assert list(rows)[:2] == ["ground truth", "GT of other clips"] and res["reference_clips"] == 4
    assert rows["GT of other clips"]["fgd"] > 0 and rows["GT of other clips"]["style_acc"] is not None
    assert set(res["checks"]) == {"fgd_half_of_mean_pose", "intra_fgd_half_of_shuffled_gt", "bc_80_of_gt",
                                  "emotion_80_of_gt", "swap_emotion_majority"}
    assert res["clips"] == 4 and rows["ground truth"]["fgd"] == pytest.approx(0.0, abs=1e-6)
    assert res["settings"]["emotion_guidance"] == 2.5 and "audio_guidance" not in res["settings"]
    assert rows["mean pose"]["l1div"] == pytest.approx(0.0, abs=1e-9) and rows["mean pose"]["bc"] == 0.0
    assert rows["generated"]["fgd"] > 0 and 0 <= rows["generated"]["emotion_acc"] <= 1


def test_body_checks_against_baselines():
    from motion.metrics.evaluate_body import body_checks, format_checks

    row = lambda fgd, intra, bc, emo: {"fgd": fgd, "fgd_intra": intra, "bc": bc, "emotion_acc": emo}
    rows = {"ground truth": row(0.0, 0.0, 0.70, 1.0), "generated": row(4.0, 5.0, 0.55, 0.79),
            "mean pose": row(8.0, 9.0, 0.0, 0.1), "shuffled GT": row(0.2, 9.9, 0.7, 0.2)}
    checks = body_checks({"rows": rows})
    assert checks == {"fgd_half_of_mean_pose": True, "intra_fgd_half_of_shuffled_gt": False,
                      "bc_80_of_gt": False, "emotion_80_of_gt": False, "swap_emotion_majority": None}
    rows["generated (swapped emotion)"] = row(4.0, 5.0, 0.5, 0.6)
    rows["generated"] = row(4.1, 4.9, 0.56, 0.8)
    assert set(body_checks({"rows": rows}).values()) == {False, True}
    assert body_checks({"rows": rows})["swap_emotion_majority"] is True
    assert format_checks({"a": True, "b": False, "c": None}) == "checks: a ok, b FAIL, c n/a"
    rows["generated"]["fgd"] = None  # no metric networks
    assert body_checks({"rows": rows})["fgd_half_of_mean_pose"] is None


def test_generate_and_evaluate_help_import_no_torch():
    import subprocess
    import sys

    code = ("import sys\nfrom motion.cli import main\n"
            "for a in (['generate', '--help'], ['evaluate', '--help']):\n"
            "    try:\n        main(a)\n    except SystemExit:\n        pass\n"
            "print('HEAVY', [m for m in ('torch', 'scipy', 'diffusers') if m in sys.modules])\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert res.returncode == 0 and "HEAVY []" in res.stdout, res.stdout + res.stderr
    assert "--emotion-ref" in res.stdout and "--swap-emotions" in res.stdout
