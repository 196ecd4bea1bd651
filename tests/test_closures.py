"""The lip-event detector: features, labels, decoding, the model, its training stage and the
shipped weights on a real recording (motion.audio.closures, motion.models.closure_detector)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from motion.audio.closures import (FRAME_OFFSET_S, FRAME_RATE, N_BANDS, closure_features, decode_closures,
                                   detect_closures, frame_labels)
from motion.audio.io import Audio, load_audio
from motion.models.closure_detector import CLOSURE_CLASSES, ClosureDetector

REPO = Path(__file__).resolve().parents[1]
REAL = REPO / "tests" / "data" / "real" / "mfa_acoustic_corpus.wav"
LABELS = REAL.with_suffix(".TextGrid")


def _scaled(audio: Audio, db: float) -> Audio:
    return Audio((audio.samples * 10 ** (db / 20)).astype(np.float32), audio.sr, audio.path)


def test_frame_labels_mark_bilabials_pauses_and_speech() -> None:
    phones = [("_", 0.0, 0.1), ("h", 0.1, 0.2), ("m", 0.2, 0.3), ("A:", 0.3, 0.5), ("p", 0.5, 0.503), ("_", 0.503, 0.6)]
    y = frame_labels(phones, 60)
    t = FRAME_OFFSET_S + np.arange(60) / FRAME_RATE
    assert CLOSURE_CLASSES[1] == "bilabial"
    assert (y[(t >= 0.2) & (t < 0.3)] == 1).all()
    assert (y[(t >= 0.1) & (t < 0.2)] == 0).all() and (y[(t >= 0.3) & (t < 0.5)] == 0).all()
    assert (y[t < 0.1] == 2).all() and (y[t >= 0.51] == 2).all()
    assert y[int(round((0.5015 - FRAME_OFFSET_S) * FRAME_RATE))] == 1  # shorter than a frame: its nearest frame


def test_decode_tiles_the_clip_with_hysteresis() -> None:
    F = 100
    p = np.zeros((F, 3), np.float32)
    p[:, 0] = 1.0
    p[20:30, 1], p[20:30, 0] = 0.4, 0.6  # over LOW but never over HIGH: no bilabial
    p[50:60, 1], p[50:60, 0] = 0.35, 0.65
    p[54, 1], p[54, 0] = 0.9, 0.1  # one peak: the whole run over LOW is the bilabial
    p[80:, 2], p[80:, 0] = 0.9, 0.1
    segs = decode_closures(p, 1.02)
    assert segs[0][1] == 0.0 and segs[-1][2] == pytest.approx(1.02)
    assert all(a[2] == pytest.approx(b[1]) for a, b in zip(segs, segs[1:]))
    bil = [s for s in segs if s[0] == "p"]
    assert len(bil) == 1 and bil[0][1] == pytest.approx(FRAME_OFFSET_S - 0.005 + 0.5)
    assert bil[0][2] == pytest.approx(FRAME_OFFSET_S - 0.005 + 0.6)
    assert segs[-1][0] == "_" and segs[-1][1] == pytest.approx(FRAME_OFFSET_S - 0.005 + 0.8)


def test_features_do_not_follow_the_recording_level_or_a_fixed_colour() -> None:
    audio = load_audio(REAL)
    base = closure_features(audio)
    assert base.shape == (1 + (len(audio.samples) - 400) // 160, N_BANDS)
    for db in (-18.0, 6.0):
        other = closure_features(_scaled(audio, db))
        speech = base.max(1) > np.percentile(base.max(1), 30)
        assert np.abs(other - base)[speech].mean() < 0.05
    # a first-order high shelf (a brighter microphone) shifts each band by about a constant: CMN removes it
    y = audio.samples.copy()
    y[1:] += 0.5 * (audio.samples[1:] - audio.samples[:-1])
    bright = closure_features(Audio(y, audio.sr, audio.path))
    speech = base.max(1) > np.percentile(base.max(1), 50)
    assert np.abs(bright - base)[speech].mean() < 0.5 * np.abs(base[speech]).mean()


def test_detector_is_local_in_time_and_shapes() -> None:
    torch.manual_seed(0)
    m = ClosureDetector(in_dim=N_BANDS, channels=16).eval()
    x = torch.randn(2, 200, N_BANDS)
    y = x.clone()
    y[:, 150:] += 5.0
    with torch.no_grad():
        a, b = m(x), m(y)
    assert a.shape == (2, 200, 3)
    r = m.receptive_frames
    assert torch.allclose(a[:, : 150 - r], b[:, : 150 - r], atol=1e-5)
    assert not torch.allclose(a[:, 150 - r + 2:150], b[:, 150 - r + 2:150], atol=1e-5)
    with pytest.raises(ValueError, match="features"):
        m(torch.randn(1, 10, N_BANDS + 1))


def test_shipped_detector_finds_the_labelled_bilabials_at_any_level() -> None:
    from motion.data.formats.phone_labels import read_phone_labels
    from motion.synthetic.tts.phonemes import is_bilabial

    audio = load_audio(REAL)
    labels = [(s, a, b) for s, a, b in read_phone_labels(LABELS) if is_bilabial(s)]
    assert len(labels) == 3
    for db in (-18.0, 0.0, 6.0):
        track = detect_closures(_scaled(audio, db))
        assert track.source == "detected" and track.language_ok
        assert track.segments[0].start == 0.0 and track.segments[-1].end == pytest.approx(audio.duration)
        found = [(s.start, s.end) for s in track.segments if s.symbol == "p"]
        hits = sum(any(a - 0.03 <= 0.5 * (s + e) <= b + 0.03 for a, b in found) for _, s, e in labels)
        assert hits >= 2, (db, found)
        assert len(found) <= 2 * len(labels)


def test_noise_is_not_read_as_speech_with_closures() -> None:
    rng = np.random.default_rng(0)
    noise = Audio((0.1 * rng.standard_normal(48000)).astype(np.float32), 16000)
    track = detect_closures(noise)
    assert not any(s.symbol == "p" for s in track.segments) or not track.language_ok


def test_face_pipeline_uses_the_detector(tmp_path: Path) -> None:
    from motion.pipelines.face import FacePipeline

    pipe = FacePipeline.from_pretrained(REPO / "motion" / "weights" / "face")
    out = pipe(str(REAL), seed=0, phones="detector")
    assert out.meta["phones"]["source"] == "detected" and out.meta["phones"]["closures"] >= 2


def test_stage_trains_and_exports(tmp_path: Path) -> None:
    from motion.synthetic.corpus import generate_corpus
    from motion.training.cli import main

    corpus = tmp_path / "tiny"
    generate_corpus(corpus, size="tiny", seed=0, workers=1, progress=False)
    manifest = tmp_path / "real" / "manifest.csv"
    manifest.parent.mkdir()
    (manifest.parent / "a.wav").symlink_to(REAL)
    manifest.write_text("path,corpus,speaker,transcript,phone_labels\n"
                        f"a.wav,mfa,michael,,{LABELS}\n", encoding="utf-8")
    args = ["fit", "--config", str(REPO / "configs" / "demo" / "closure_detector.yaml"),
            "--data.init_args.manifests", json.dumps([str(manifest)]), "--data.init_args.synthetic_root", str(corpus),
            "--data.init_args.cache_dir", str(tmp_path / "cache"), "--data.init_args.num_workers", "0",
            "--data.init_args.augment_variants", "1", "--data.init_args.batch_size", "4",
            "--data.init_args.val_share", "0.0", "--model.init_args.channels", "8",
            "--trainer.max_steps", "3", "--trainer.val_check_interval", "3", "--trainer.limit_val_batches", "1",
            "--trainer.default_root_dir", str(tmp_path / "run"), "--trainer.accelerator", "cpu"]
    assert main(args) == 0
    export = tmp_path / "run" / "latest"
    m = json.loads((export / "closure_detector.json").read_text())
    assert m["init_args"]["channels"] == 8
    from motion.audio.closures import load_detector

    track = detect_closures(load_audio(REAL), load_detector(str(export)))
    assert track.segments[-1].end == pytest.approx(load_audio(REAL).duration)
