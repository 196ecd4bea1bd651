"""Robustness distillation of the speech encoder (motion.training.speech_distill) on a tiny corpus."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from motion.synthetic.corpus import generate_corpus
from motion.models.config import load_module, save_module
from motion.models.speech_encoder import SpeechDisentangler
from motion.training.cli import main

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("distill") / "tiny"
    generate_corpus(root, size="tiny", seed=0, workers=1, progress=False)
    return root


@pytest.fixture(scope="module")
def teacher(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    enc = SpeechDisentangler(in_dim=80, width=32, conv_layers=1, layers=1, heads=2)
    enc.norm.set_stats(torch.full((80,), -8.0), torch.full((80,), 4.0))
    folder = tmp_path_factory.mktemp("teacher")
    save_module(enc, folder, "speech_encoder")
    return folder


def test_datamodule_teacher_hears_the_raw_level_student_the_normalised(corpus: Path, tmp_path: Path) -> None:
    from motion.data.speech_distill import SpeechDistillDataModule

    dm = SpeechDistillDataModule(str(corpus), cache_dir=str(tmp_path), augment_variants=1, batch_size=4)
    dm.prepare_data()
    dm.setup("fit")
    item = dm.datasets["val"][0]  # validation: the clean student variant
    assert item["teacher"].shape == item["student"].shape == (64, 80)
    diff = (item["student"] - item["teacher"]).numpy()
    loud = item["teacher"].numpy() > -10  # where there is speech, the two differ by one gain
    assert np.std(diff[loud]) < 0.05 and abs(float(np.median(diff[loud]))) > 0.01
    train = dm.datasets["train"]
    assert all(len(v) == 2 for v in train.students)  # clean + 1 augmented rendering per clip
    assert not np.allclose(train.students[0][0], train.students[0][1])


def test_losses_vanish_for_the_teacher_itself_and_training_lowers_them(teacher: Path) -> None:
    from motion.training.speech_distill import SpeechDistillModule

    torch.manual_seed(0)
    mod = SpeechDistillModule(str(teacher), lr=1e-3)
    x = torch.randn(4, 64, 80) * 4 - 8
    mod.student.eval()  # no dropout: the copy is the teacher
    with torch.no_grad():
        same = mod.losses(x, x)
    assert float(same["loss"]) < 1e-6 and float(same["emotion_agree"]) == 1.0
    y = x + torch.randn_like(x) * 2  # a degraded rendering
    mod.student.train()
    opt = torch.optim.Adam(mod.student.parameters(), lr=1e-3)
    with torch.enable_grad():  # whatever an earlier test left set
        first = float(mod.losses(x, y)["loss"])
        for _ in range(30):
            opt.zero_grad()
            mod.losses(x, y)["loss"].backward()
            opt.step()
        assert float(mod.losses(x, y)["loss"]) < 0.7 * first
    assert all(not p.requires_grad for p in mod.teacher.parameters())


def test_demo_config_trains_and_exports(corpus: Path, teacher: Path, tmp_path: Path) -> None:
    args = ["fit", "--config", str(REPO / "configs" / "demo" / "speech_encoder_robust.yaml"),
            "--model.init_args.teacher_export", str(teacher), "--data.init_args.root", str(corpus),
            "--data.init_args.cache_dir", str(tmp_path / "cache"), "--data.init_args.num_workers", "0",
            "--data.init_args.augment_variants", "1", "--data.init_args.batch_size", "4",
            "--trainer.max_steps", "3", "--trainer.val_check_interval", "3", "--trainer.limit_val_batches", "1",
            "--trainer.enable_progress_bar", "false", "--trainer.default_root_dir", str(tmp_path / "run")]
    assert main(args) == 0
    export = tmp_path / "run" / "latest"
    manifest = json.loads((export / "manifest.json").read_text())
    assert manifest["stage"] == "speech_encoder" and manifest["data"]["loudness_lufs"] == -22.0
    student = load_module(export, "speech_encoder", expected=SpeechDisentangler)
    orig = load_module(teacher, "speech_encoder")
    assert any(not torch.equal(a, b) for a, b in zip(student.state_dict().values(), orig.state_dict().values()))
