"""Body training through the real LightningCLI on a generated ``tiny`` corpus.

Covers the datamodule (windows, same-sentence pair grids, the npz feature cache),
``fast_dev_run`` of every shipped body stage config (and variant), ``--print_config``, the run folder
(resolved config, checkpoints loadable with ``weights_only=True``, plain exports), resuming
with ``--ckpt_path`` and a 2-process DDP run on the CPU (gloo). Model widths are shrunk on
the command line so each run takes a few seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from motion.synthetic.corpus import generate_corpus
from motion.training.cli import main

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"
#: Body configs that `motion fit` runs: the stages and their variants (speech_distill: tests/test_speech_distill.py)
#: and the demo-weights stages.
EXPERIMENTS = sorted(p for p in (CONFIGS / "body").glob("*.yaml") if p.stem != "speech_distill") + sorted(
    p for p in (CONFIGS / "demo").glob("*.yaml")
    if p.stem in ("speech_encoder", "motion_vae", "latent_diffusion", "motion_metrics"))
#: Command-line overrides that shrink each stage's model (by config-name prefix).
TINY = {
    "speech_encoder": ["--model.encoder.width", "32", "--model.encoder.layers", "1",
                       "--model.encoder.conv_layers", "1"],
    "motion_vae": ["--model.vae.width", "32", "--model.vae.layers", "1"],
    "latent_diffusion": ["--model.denoiser.width", "32", "--model.denoiser.layers", "3",
                         "--model.val_steps", "2"],
    "motion_metrics": ["--model.extractor.width", "16", "--model.emotion_classifier.width", "16",
                       "--model.speaker_classifier.width", "16"],
}


def stage_of(config: Path) -> str:
    stages = [s for s in TINY if config.stem.startswith(s)]
    assert stages, f"{config.name}: no smoke-test rule for this config (add it to TINY)"
    return stages[0]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("body") / "tiny"
    generate_corpus(root, size="tiny", seed=0, workers=1, progress=False)
    return root


@pytest.fixture(scope="module")
def common(corpus, tmp_path_factory) -> list[str]:
    cache = tmp_path_factory.mktemp("feature_cache")
    return ["--data.root", str(corpus), "--data.cache_dir", str(cache), "--data.batch_size", "2",
            "--data.num_workers", "0", "--trainer.enable_progress_bar", "false",
            "--trainer.enable_model_summary", "false"]


def fit(config: str | Path, common: list[str], root: Path, *extra: str) -> None:
    path = config if isinstance(config, Path) else CONFIGS / "body" / f"{config}.yaml"
    args = ["fit", "--config", str(path), *common,
            *TINY[stage_of(Path(config))], "--trainer.default_root_dir", str(root), *extra]
    assert main(args) == 0


@pytest.fixture(scope="module")
def stage_runs(common, tmp_path_factory) -> dict[str, Path]:
    """Stages 1 and 2 trained for 2 steps (debug trainer): their default_root_dirs."""
    runs = tmp_path_factory.mktemp("runs")
    out = {}
    for stage in ("speech_encoder", "motion_vae"):
        fit(stage, common, runs / stage, "--trainer", str(CONFIGS / "trainer" / "debug.yaml"))
        out[stage] = runs / stage
    return out


def test_datamodule_pairs_and_feature_cache(corpus, tmp_path, monkeypatch):
    from motion.data import feature_cache
    from motion.data.datamodule import Beat2DataModule

    dm = Beat2DataModule(str(corpus), cache_dir=str(tmp_path), pairs=True, batch_size=3)
    dm.prepare_data()
    npz = sorted(tmp_path.glob("*.npz"))
    assert len(npz) == 20 and (tmp_path / "digests.json").is_file()  # train + val clips
    monkeypatch.setattr(feature_cache, "compute_clip_features",
                        lambda *a: pytest.fail("cache miss"))
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    assert batch["audio"].shape == (3, 4, 64, 80) and batch["motion"].shape == (3, 4, 64, 315)
    assert batch["has_speaker_pair"].all() and batch["has_emotion_pair"].all()
    spk, emo = batch["speaker"], batch["emotion"]
    assert (spk[:, 0] == spk[:, 1]).all() and (spk[:, 0] != spk[:, 2]).all()
    assert (emo[:, 0] == emo[:, 2]).all() and (emo[:, 0] != emo[:, 1]).all()
    assert (spk[:, 2] == spk[:, 3]).all() and (emo[:, 1] == emo[:, 3]).all()
    mean, std = dm.feature_stats("audio")
    assert mean.shape == std.shape == (80,)
    fbank = feature_cache.FeatureCache(tmp_path, feature_cache.FeatureConfig("fbank", 128))
    assert fbank.path(dm._records("train")[0]) not in npz


def test_print_config_and_help(capsys):
    exp = str(CONFIGS / "body" / "latent_diffusion.yaml")
    assert main(["--config", exp, "--print_config"]) == 0
    out = capsys.readouterr().out
    assert "class_path: motion.training.diffusion_module.LatentDiffusionModule" in out
    assert "beta_schedule: scaled_linear" in out and "default_root_dir: runs/latent_diffusion" in out
    assert main(["fit", "--help"]) == 0
    assert main(["fit", "--config", exp, "--model.init_args.no_such_field", "1"]) != 0


@pytest.fixture(scope="module")
def encoder_exports(stage_runs) -> list[str]:
    """Overrides that point a latent-diffusion run at the stage-1 and stage-2 exports."""
    return ["--model.speech_encoder_export", str(stage_runs["speech_encoder"] / "latest"),
            "--model.vae_export", str(stage_runs["motion_vae"] / "latest")]


def test_run_folder_checkpoint_and_export(stage_runs):
    from motion.models import MotionVAE, load_module

    root = stage_runs["motion_vae"]
    run = root / "lightning_logs" / "version_0"
    assert "MotionVAEModule" in (run / "config.yaml").read_text()
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    hp = ckpt["hyper_parameters"]
    assert hp["_class_path"] == "motion.training.vae_module.MotionVAEModule"
    assert hp["vae"]["init_args"]["width"] == 32 and ckpt["global_step"] == 2
    for export in (run / "export", root / "latest"):
        manifest = json.loads((export / "manifest.json").read_text())
        assert manifest["stage"] == "motion_vae" and manifest["body_features"]["dim"] == 315
        vae = load_module(export, "motion_vae", expected=MotionVAE)
        assert bool(vae.norm.initialized)


def test_resume_with_ckpt_path(stage_runs, common):
    root = stage_runs["motion_vae"]
    last = root / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"
    fit("motion_vae", common, root, "--trainer", str(CONFIGS / "trainer" / "debug.yaml"),
        "--trainer.max_epochs", "2", "--ckpt_path", str(last))
    resumed = torch.load(root / "lightning_logs" / "version_1" / "checkpoints" / "last.ckpt",
                         weights_only=True)
    assert resumed["epoch"] == 1 and resumed["global_step"] == 4


@pytest.mark.parametrize("config", EXPERIMENTS, ids=lambda p: p.stem)
def test_fast_dev_run_every_experiment(config, common, encoder_exports, tmp_path):
    extra: list[str] = ["--trainer.fast_dev_run", "true"]
    if stage_of(config) == "latent_diffusion":
        extra += encoder_exports
    fit(config, common, tmp_path, *extra)
    manifest = json.loads((tmp_path / "latest" / "manifest.json").read_text())
    assert manifest["stage"] == stage_of(config)
    if manifest["stage"] == "latent_diffusion":
        assert set(manifest["modules"]) == {"speech_encoder", "motion_vae", "denoiser", "latent_norm"}
        sample_from_export(tmp_path / "latest", num_frames=50)


def test_warm_start_and_stop_at_step(common, encoder_exports, tmp_path):
    """init_export loads an earlier denoiser (lr 0 keeps it), StopAtStep ends the run at step 2
    of a 6-step schedule (as `make weights` replays the shipped denoiser's stop); a denoiser of
    another width is refused with a message naming the export."""
    from motion.models import load_module

    fit("latent_diffusion", common, tmp_path / "base", "--trainer", str(CONFIGS / "trainer" / "debug.yaml"),
        *encoder_exports)
    base = tmp_path / "base" / "latest"
    tuned = tmp_path / "tuned"
    fit("latent_diffusion", common, tuned, *encoder_exports,
        "--model.init_export", str(base), "--model.lr", "0", "--trainer.max_steps", "6",
        "--trainer.val_check_interval", "2", "--trainer.limit_val_batches", "1",
        "--trainer.callbacks+=motion.training.callbacks.StopAtStep", "--trainer.callbacks.step", "2")
    manifest = json.loads((tuned / "latest" / "manifest.json").read_text())
    assert manifest["global_step"] == 2
    for name in ("denoiser", "latent_norm"):
        before = load_module(base, name).state_dict()
        after = load_module(tuned / "latest", name).state_dict()
        assert before.keys() == after.keys()
        assert all(torch.equal(before[k], after[k]) for k in before), name
    with pytest.raises(ValueError, match="does not match the configured one"):
        fit("latent_diffusion", common, tmp_path / "bad", *encoder_exports,
            "--model.init_export", str(base), "--model.denoiser.width", "48",
            "--trainer.fast_dev_run", "true")


def test_ema_weights_are_exported(common, encoder_exports, tmp_path):
    """Lightning's EMAWeightAveraging needs no code: the export holds the averaged denoiser
    (after 3 steps at decay 0.5 it differs from plain training's) and a set latent standardizer."""
    from motion.models import load_module

    run = ["--trainer", str(CONFIGS / "trainer" / "debug.yaml"), "--trainer.limit_train_batches", "3",
           "--model.lr", "1e-2", "--model.warmup_steps", "0", *encoder_exports]
    fit("latent_diffusion", common, tmp_path / "plain", *run)
    fit("latent_diffusion", common, tmp_path / "ema", *run,
        "--trainer.callbacks+=pytorch_lightning.callbacks.EMAWeightAveraging", "--trainer.callbacks.decay", "0.5")
    plain, ema = (load_module(tmp_path / r / "latest", "denoiser").state_dict() for r in ("plain", "ema"))
    assert not all(torch.equal(plain[k], ema[k]) for k in plain)
    norm = load_module(tmp_path / "ema" / "latest", "latent_norm")
    ref = load_module(tmp_path / "plain" / "latest", "latent_norm")
    assert bool(norm.initialized) and torch.allclose(norm.std, ref.std)


def sample_from_export(export: Path, num_frames: int) -> None:
    """Everything inference needs is in the export: audio features -> SMPL-X poses."""
    from diffusers import DDPMScheduler

    from motion.models import BodyCondition, decode_body, load_module
    from motion.models.sampler import sample_latents, sampling_scheduler

    enc, vae, den, norm = (load_module(export, n).eval() for n in
                           ("speech_encoder", "motion_vae", "denoiser", "latent_norm"))
    train_cfg = DDPMScheduler.load_config(str(export))
    audio = torch.randn(1, num_frames, enc.in_dim)
    with torch.no_grad():
        lat = enc.encode(audio)
        cond = BodyCondition(lat.content, lat.emotion, lat.style, torch.tensor([6]), torch.tensor([3.0]))
        z = sample_latents(den, sampling_scheduler(train_cfg, "ddim"), cond,
                           vae.latent_length(num_frames), steps=3, audio_scale=1.5,
                           emotion_scale=2.0, generator=torch.Generator().manual_seed(0))
        feats = vae.decode(norm.inverse(z), num_frames)
    poses, trans = decode_body(feats[0])
    assert poses.shape == (num_frames, 55, 3) and trans.shape == (num_frames, 3)
    assert torch.isfinite(poses).all()


@pytest.mark.slow  # two training processes (~20 s on 2 cores)
def test_ddp_two_cpu_processes(common, tmp_path):
    """Lightning DDP, 2 processes on the CPU (gloo): same entry point, no code change."""
    args = [sys.executable, "-m", "motion.training.cli", "fit",
            "--config", str(CONFIGS / "body" / "motion_vae.yaml"), *common, *TINY["motion_vae"],
            "--trainer.accelerator", "cpu", "--trainer.devices", "2", "--trainer.strategy", "ddp",
            "--trainer.max_steps", "2", "--trainer.limit_val_batches", "1",
            "--trainer.num_sanity_val_steps", "0", "--trainer.default_root_dir", str(tmp_path)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "distributed_backend=gloo" in proc.stderr + proc.stdout
    assert "All distributed processes registered. Starting with 2 processes" in proc.stderr + proc.stdout
    ckpt = torch.load(tmp_path / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt",
                      weights_only=True)
    assert ckpt["global_step"] == 2
    assert (tmp_path / "latest" / "motion_vae.safetensors").is_file()


@pytest.mark.slow  # a process pool over 100+ clips (~10 s on 2 cores)
def test_fill_cache_in_worker_processes(corpus, tmp_path):
    """The parallel fill writes every entry and hands the files' digests back to the parent."""
    from motion.data.beat2_dataset import index_beat2
    from motion.data.feature_cache import FeatureCache, FeatureConfig, fill_cache

    recs = index_beat2(corpus)
    cache = FeatureCache(tmp_path, FeatureConfig(n_mels=20))
    fill_cache(cache, recs * 4, workers=2)  # >= 100 records: the process pool path
    again = FeatureCache(tmp_path, FeatureConfig(n_mels=20))
    assert all(again.path(r).is_file() for r in recs)
    assert len(again._digests or {}) == 2 * len(recs)  # npz + wav per clip, saved by the parent
    feats = again.get(recs[0])
    assert feats.audio.shape[1] == 20 and feats.audio.shape[0] == feats.motion.shape[0]


def test_cache_workers_start_single_threaded(monkeypatch):
    """Worker processes spawn with one thread per library; the parent's settings come back."""
    import os

    from motion.data.feature_cache import _THREAD_VARS, _single_threaded_children

    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    with _single_threaded_children():
        assert all(os.environ[k] == "1" for k in _THREAD_VARS)
    assert os.environ["OMP_NUM_THREADS"] == "7" and "MKL_NUM_THREADS" not in os.environ
