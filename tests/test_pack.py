"""Packing the demo runs into a weights folder: layout, float16 matrices, loading back."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from motion.models.config import load_module, save_module
from motion.models.speech_encoder import SpeechDisentangler
from motion.training.pack import LAYOUT, main, pack


def _runs(root: Path) -> Path:
    torch.manual_seed(0)
    enc = SpeechDisentangler(in_dim=8, width=16, conv_layers=1, layers=1, heads=2)
    for runs in LAYOUT.values():
        for run in runs:
            latest = root / run / "latest"
            save_module(enc, latest, f"{run}_net")
            (latest / "manifest.json").write_text(f'{{"stage": "{run}"}}\n')
            (latest / "notes.log").write_text("not copied")
    return root


def test_pack_layout_half_and_reload(tmp_path: Path) -> None:
    runs = _runs(tmp_path / "runs")
    sizes = pack(runs, tmp_path / "weights")
    w = tmp_path / "weights"
    assert sorted(p.name for p in w.iterdir()) == ["body", "face", "metrics"]
    assert sorted(p.name for p in (w / "metrics").iterdir()) == [
        "face_emotion_net.json", "face_emotion_net.pt", "manifest.json",
        "motion_metrics_net.json", "motion_metrics_net.pt"]
    assert '"motion_metrics"' in (w / "metrics" / "manifest.json").read_text()  # the first run's
    sd = torch.load(w / "body" / "latent_diffusion_net.pt", weights_only=True)
    assert {v.dtype for v in sd.values() if v.dim() >= 2} == {torch.float16}
    assert {v.dtype for v in sd.values() if v.dim() == 1 and v.is_floating_point()} == {torch.float32}
    full = load_module(runs / "latent_diffusion" / "latest", "latent_diffusion_net").eval()
    half = load_module(w / "body", "latent_diffusion_net").eval()
    assert next(half.parameters()).dtype == torch.float32
    x = torch.randn(2, 20, 8)
    torch.testing.assert_close(half.encode(x).content, full.encode(x).content, atol=2e-2, rtol=0)
    full_size = sum((runs / r / "latest" / f"{r}_net.pt").stat().st_size for r in LAYOUT["body"])
    assert sizes["body"] < full_size
    pack(runs, w, half=False)  # replacing an existing folder works and leaves no temp folder behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs", "weights"]


def test_pack_missing_run_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = _runs(tmp_path / "runs")
    import shutil

    shutil.rmtree(runs / "face_decoder_bands")
    assert main([str(runs), str(tmp_path / "weights")]) == 1
    assert "face_decoder_bands/latest" in capsys.readouterr().err and not (tmp_path / "weights").exists()


def test_a_later_run_replaces_an_earlier_runs_module(tmp_path: Path) -> None:
    """body = the denoiser's export with the robustness-distilled speech encoder in place of its own."""
    runs = _runs(tmp_path / "runs")
    assert LAYOUT["body"] == ("latent_diffusion", "speech_encoder_robust")
    for run, seed in (("latent_diffusion", 1), ("speech_encoder_robust", 2)):
        torch.manual_seed(seed)
        save_module(SpeechDisentangler(in_dim=8, width=16, conv_layers=1, layers=1, heads=2), runs / run / "latest",
                    "speech_encoder")
    pack(runs, tmp_path / "weights", half=False)
    packed = torch.load(tmp_path / "weights" / "body" / "speech_encoder.pt", weights_only=True)
    robust = torch.load(runs / "speech_encoder_robust" / "latest" / "speech_encoder.pt", weights_only=True)
    assert all(torch.equal(packed[k], robust[k]) for k in robust)
    assert '"latent_diffusion"' in (tmp_path / "weights" / "body" / "manifest.json").read_text()
