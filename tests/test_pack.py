"""Packing the demo runs into a weights folder (layout, float16 matrices in safetensors, loading
back), and converting a weights folder of legacy ``.pt`` files to safetensors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from motion.models.config import load_module, save_module
from motion.models.speech_encoder import SpeechDisentangler
from motion.pipelines.motion_pipeline import PARTS
from motion.training.pack import LAYOUT, convert, main, pack


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
    assert sorted(p.name for p in w.iterdir()) == ["body", "face", "manifest.json", "metrics"]
    assert sorted(p.name for p in (w / "metrics").iterdir()) == [
        "face_emotion_net.json", "face_emotion_net.safetensors", "manifest.json",
        "motion_metrics_net.json", "motion_metrics_net.safetensors"]
    manifest = json.loads((w / "metrics" / "manifest.json").read_text())
    assert manifest["stage"] == "motion_metrics"  # the first run's, naming every module of the folder
    assert sorted(manifest["modules"]) == ["face_emotion_net", "motion_metrics_net"]
    assert json.loads((w / "manifest.json").read_text())["modules"] == PARTS
    sd = load_file(w / "body" / "latent_diffusion_net.safetensors")
    assert {v.dtype for v in sd.values() if v.dim() >= 2} == {torch.float16}
    assert {v.dtype for v in sd.values() if v.dim() == 1 and v.is_floating_point()} == {torch.float32}
    full = load_module(runs / "latent_diffusion" / "latest", "latent_diffusion_net").eval()
    half = load_module(w / "body", "latent_diffusion_net").eval()
    assert next(half.parameters()).dtype == torch.float32
    x = torch.randn(2, 20, 8)
    torch.testing.assert_close(half.encode(x).content, full.encode(x).content, atol=2e-2, rtol=0)
    full_size = sum((runs / r / "latest" / f"{r}_net.safetensors").stat().st_size for r in LAYOUT["body"])
    assert sizes["body"] < full_size
    pack(runs, w, half=False)  # replacing an existing folder works and leaves no temp folder behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs", "weights"]


def test_pack_missing_run_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = _runs(tmp_path / "runs")
    import shutil

    shutil.rmtree(runs / "face_decoder_exchange")
    assert main([str(runs), str(tmp_path / "weights")]) == 1
    assert "face_decoder_exchange/latest" in capsys.readouterr().err and not (tmp_path / "weights").exists()


def test_a_later_run_replaces_an_earlier_runs_module(tmp_path: Path) -> None:
    """body = the denoiser's export with the robustness-distilled speech encoder in place of its own."""
    runs = _runs(tmp_path / "runs")
    assert LAYOUT["body"] == ("latent_diffusion", "speech_encoder_robust")
    for run, seed in (("latent_diffusion", 1), ("speech_encoder_robust", 2)):
        torch.manual_seed(seed)
        save_module(SpeechDisentangler(in_dim=8, width=16, conv_layers=1, layers=1, heads=2), runs / run / "latest",
                    "speech_encoder")
    pack(runs, tmp_path / "weights", half=False)
    packed = load_file(tmp_path / "weights" / "body" / "speech_encoder.safetensors")
    robust = load_file(runs / "speech_encoder_robust" / "latest" / "speech_encoder.safetensors")
    assert all(torch.equal(packed[k], robust[k]) for k in robust)
    assert '"latent_diffusion"' in (tmp_path / "weights" / "body" / "manifest.json").read_text()


def test_legacy_pt_runs_are_packed_as_safetensors(tmp_path: Path) -> None:
    """Runs exported before safetensors (``<name>.pt``) pack into safetensors too."""
    runs = _runs(tmp_path / "runs")
    latest = runs / "latent_diffusion" / "latest"
    sd = load_file(latest / "latent_diffusion_net.safetensors")
    (latest / "latent_diffusion_net.safetensors").unlink()
    torch.save(sd, latest / "latent_diffusion_net.pt")
    pack(runs, tmp_path / "weights", half=False)
    again = load_file(tmp_path / "weights" / "body" / "latent_diffusion_net.safetensors")
    assert all(torch.equal(again[k], sd[k]) for k in sd)
    assert not list((tmp_path / "weights").rglob("*.pt"))


def test_convert_keeps_every_tensor_and_names_every_module(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--convert: .pt -> .safetensors in place, same values and dtypes (float16 matrices stay
    float16), manifests completed, a root manifest; the models load the same."""
    torch.manual_seed(0)
    w = tmp_path / "weights"
    enc = SpeechDisentangler(in_dim=8, width=16, conv_layers=1, layers=1, heads=2)
    states = {}
    for sub in ("body", "face", "metrics"):
        save_module(enc, w / sub, f"{sub}_net")
        sd = {k: v.half() if v.is_floating_point() and v.dim() >= 2 else v for k, v in enc.state_dict().items()}
        (w / sub / f"{sub}_net.safetensors").unlink()
        torch.save(sd, w / sub / f"{sub}_net.pt")
        (w / sub / "manifest.json").write_text(json.dumps({"stage": sub, "modules": {}}))
        states[sub] = sd
    (w / "face" / "face_pipeline.json").write_text('{"n_mels": 80}\n')
    assert main(["--convert", str(w)]) == 0
    assert "converted 3 files" in capsys.readouterr().out
    assert not list(w.rglob("*.pt")) and sorted(p.name for p in tmp_path.iterdir()) == ["weights"]
    for sub, sd in states.items():
        again = load_file(w / sub / f"{sub}_net.safetensors")
        assert all(again[k].dtype == sd[k].dtype and torch.equal(again[k], sd[k]) for k in sd)
        manifest = json.loads((w / sub / "manifest.json").read_text())
        assert manifest == {"stage": sub, "modules": {f"{sub}_net": "motion.models.speech_encoder.SpeechDisentangler"}}
    assert (w / "face" / "face_pipeline.json").read_text() == '{"n_mels": 80}\n'
    assert json.loads((w / "manifest.json").read_text()) == {"stage": "motion_pipeline", "modules": PARTS}
    assert convert(w)["converted"] == []  # converting again changes nothing
    assert main(["--convert", str(tmp_path / "none")]) == 1
