"""Body metrics on known inputs, the metric networks and their training module (CPU, < 5 s)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from motion.metrics import body as M
from motion.metrics.classifier import MotionClassifier
from motion.metrics.feature_extractor import MotionFeatureExtractor
from motion.types import NUM_JOINTS

FPS = 30.0


# ---------------------------------------------------------------------------- FGD
def test_fgd_zero_for_identical_and_grows_with_mean_shift():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((400, 6)) @ rng.standard_normal((6, 6))
    assert M.fgd(x, x) == pytest.approx(0.0, abs=1e-8)
    shifts = [M.fgd(x, x + s) for s in (0.25, 0.5, 1.0, 2.0)]
    assert all(a < b for a, b in itertools.pairwise(shifts))
    # equal covariances: FGD is the squared mean distance (6 dims shifted by 2 -> 24)
    assert shifts[-1] == pytest.approx(6 * 2.0**2, rel=1e-6)
    # different spread only: Tr(S1 + S2 - 2 sqrt(S1 S2)) = (1 - 2)^2 per dim for S = I, 4I
    y = rng.standard_normal((20000, 3))
    assert M.fgd(y, 2 * y) == pytest.approx(3.0, rel=0.02)
    assert np.isfinite(M.fgd(np.zeros((5, 4)), np.ones((5, 4))))  # singular covariances
    with pytest.raises(ValueError, match="N >= 2"):
        M.fgd(x[:1], x)


# ---------------------------------------------------------------------------- beats, BC
def moving_joints(speed: np.ndarray) -> np.ndarray:
    """``(T, 55, 3)``: every joint translates along x with the given speed (m/s)."""
    x = np.concatenate([[0.0], np.cumsum((speed[1:] + speed[:-1]) / 2) / FPS])
    joints = np.zeros((speed.size, NUM_JOINTS, 3))
    joints[..., 0] = x[:, None]
    return joints


def test_beat_consistency_aligned_beats_score_higher():
    T, period = 300, 30  # 10 s, a velocity minimum every second at frames 15, 45, ...
    t = np.arange(T)
    speed = 1.2 - np.cos(2 * np.pi * (t - 15) / period)  # minima of 0.2 m/s at 15 + 30k
    joints = moving_joints(speed)
    beats = M.motion_beats(joints, FPS, threshold=0.1, order=4)
    assert set(range(45, 255, 30)) <= set(beats.tolist()) and all((b - 15) % 30 == 0 for b in beats)
    assert M.motion_beats(joints, FPS, threshold=0.5, order=4).size == 0  # minima below threshold
    onsets = np.arange(15, T, 30)
    aligned = M.beat_consistency(joints, onsets, FPS, threshold=0.1, order=4)
    shifted = M.beat_consistency(joints, onsets + 15, FPS, threshold=0.1, order=4)  # 0.5 s off
    assert aligned == pytest.approx(1.0) and shifted == pytest.approx(np.exp(-0.25 / 0.18), abs=1e-6)
    assert aligned > shifted
    still = np.zeros((T, NUM_JOINTS, 3))
    assert M.beat_consistency(still, onsets, FPS) == 0.0
    assert np.isnan(M.beat_consistency(joints, np.array([0, 1]), FPS))  # onsets only in the trimmed first second


def test_short_clip_trim_and_hit_rate():
    assert M.gaussian_hit_rate(np.array([1.0]), np.array([1.3]), 0.3) == pytest.approx(np.exp(-0.5))
    assert np.isnan(M.gaussian_hit_rate(np.array([]), np.array([1.0]), 0.3))
    assert M.gaussian_hit_rate(np.array([1.0]), np.array([]), 0.3) == 0.0
    T = 90  # 3 s: trim = min(2 s, 10 % of 3 s) = 9 frames at each end, not the whole clip
    speed = 1.2 - np.cos(2 * np.pi * np.arange(T) / 20)
    assert M.beat_consistency(moving_joints(speed), np.array([20, 40, 60]), FPS, threshold=0.1, order=4) == 1.0


# ---------------------------------------------------------------------------- L1div, FK, seams
def test_l1div():
    const = np.ones((50, NUM_JOINTS, 3))
    assert M.l1div([const, 2 * const]) == 0.0
    alt = np.zeros((10, 2, 3))
    alt[::2] = 0.5  # +-0.25 around the mean in each of 6 coordinates
    assert M.l1div([alt]) == pytest.approx(6 * 0.25)
    assert M.l1div([alt, np.zeros((10, 2, 3))]) == pytest.approx(6 * 0.25 / 2)


def test_joint_positions_rest_and_translation():
    from motion.bodymodels.skeleton import joint_positions as rest

    poses = np.zeros((3, NUM_JOINTS, 3))
    np.testing.assert_allclose(M.joint_positions(poses)[1], rest())
    trans = np.array([[0, 0, 0], [1, 0, 0], [0, 2, 0]], float)
    np.testing.assert_allclose(M.joint_positions(poses, trans)[2], rest() + [0, 2, 0])
    poses[:, 18] = [0, 0, np.pi / 2]  # left elbow bent: the wrist moves, the shoulder does not
    j = M.joint_positions(poses)
    assert np.allclose(j[0, 16], rest()[16]) and not np.allclose(j[0, 20], rest()[20])


def test_seam_jumps():
    t = np.arange(300) / FPS
    smooth = moving_joints(1.0 + 0.2 * np.sin(2 * np.pi * t))
    s = M.seam_jumps(smooth, [100, 200], FPS, radius=4)
    assert s.ratio == pytest.approx(1.0, abs=0.3)
    jumped = smooth.copy()
    jumped[150:] += 0.05  # a 5 cm jump between frames 149 and 150
    s2 = M.seam_jumps(jumped, [150], FPS, radius=4)
    assert s2.ratio > 10 and s2.to_dict()["seam"] == s2.seam


# ---------------------------------------------------------------------------- networks
@pytest.mark.parametrize("T", [1, 37, 64])
def test_feature_extractor_and_classifier_any_length(T):
    torch.manual_seed(0)
    fe = MotionFeatureExtractor(width=16, feature_dim=8).eval()
    x = torch.randn(2, T, 315)
    recon, z = fe(x)
    assert recon.shape == (2, T, 315) and z.shape == (2, -(-T // 4), 8)
    assert fe.clip_features([x[0], x[1, : max(T // 2, 1)]]).shape[1] == 8
    clf = MotionClassifier(width=16, num_classes=5).eval()
    assert clf(x).shape == (2, 5) and clf.predict([x[0], x[1]]).shape == (2,)
    with pytest.raises(ValueError, match="expects 315"):
        clf(torch.randn(1, 4, 10))


def test_metrics_module_losses_and_export(tmp_path):
    from motion.models.config import load_module
    from motion.training.metrics_module import MotionMetricsModule

    torch.manual_seed(0)
    mod = MotionMetricsModule(MotionFeatureExtractor(width=16, feature_dim=8),
                              MotionClassifier(width=16), MotionClassifier(width=16, num_classes=4))
    batch = {"motion": torch.randn(4, 32, 315), "emotion": torch.tensor([0, 3, -1, 7]),
             "speaker": torch.tensor([1, 2, 3, -1])}
    out = mod.losses(batch)
    for k in ("recon", "velocity", "emotion_ce", "speaker_ce", "loss"):
        assert torch.isfinite(out[k]) and out[k] > 0, k
    out["loss"].backward()
    assert mod.speaker_classifier.head[-1].weight.grad is not None
    pairs = {k: v[None].expand(2, *v.shape) for k, v in batch.items()}  # (B, G, ...) grids
    assert torch.isfinite(mod.losses({k: v.transpose(0, 1) for k, v in pairs.items()})["loss"])
    with pytest.raises(ValueError, match="speaker label 9"):
        mod.losses({**batch, "speaker": torch.tensor([9, 0, 0, 0])})
    out = mod.save_pretrained(tmp_path / "export")
    fe = load_module(out, "feature_extractor", expected=MotionFeatureExtractor)
    assert fe.feature_dim == 8 and (out / "speaker_classifier.safetensors").is_file()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stage"] == mod.stage and set(manifest["modules"]) == set(mod.export_modules())
    # a failed export leaves the previous one whole, and nothing beside it
    before = {f.name: f.read_bytes() for f in out.iterdir()}

    def broken(folder: Path) -> dict[str, str]:
        (folder / "feature_extractor.json").write_text("{}")
        raise OSError(28, "No space left on device")

    mod.write_to = broken  # type: ignore[method-assign]
    with pytest.raises(OSError, match="No space left"):
        mod.save_pretrained(out)
    assert {f.name: f.read_bytes() for f in out.iterdir()} == before
    assert [f.name for f in tmp_path.iterdir()] == ["export"]


def test_evaluation_helpers():
    from pathlib import Path

    from motion.metrics.evaluate_body import EvalClip, format_table, shuffled_partner

    def clip(i: int, spk: int, sent: int) -> EvalClip:
        return EvalClip(f"c{i}", spk, 0, 3.0, sent, Path("x.wav"), np.zeros((5, 315)), np.zeros(0))

    clips = [clip(0, 1, 0), clip(1, 1, 0), clip(2, 1, 1), clip(3, 2, 0)]
    assert shuffled_partner(clips, 0) == 2  # same speaker, other sentence
    assert shuffled_partner(clips, 3) != 3  # no other clip of speaker 2: any other clip
    table = format_table({"rows": {"generated": {"fgd": None, "bc": float("nan"), "l1div": 1.0,
                                                 "emotion_acc": 0.5, "style_acc": None}}})
    assert "n/a" in table and "50.0%" in table and "1.000" in table


def test_vae_reconstruction_decodes_in_windows():
    from motion.metrics.evaluate_body import vae_reconstruction
    from motion.models.motion_vae import MotionVAE

    torch.manual_seed(0)
    vae = MotionVAE(width=16, layers=1, heads=2, latent_dim=4).eval()
    x = np.random.default_rng(0).normal(size=(37, 315)).astype(np.float32)
    whole = vae_reconstruction(vae, x)
    windowed = vae_reconstruction(vae, x, window=16)
    assert whole.shape == windowed.shape == (37, 315)
    first = vae_reconstruction(vae, x[:16])
    np.testing.assert_allclose(windowed[:16], first, atol=1e-5)  # window 1 sees only its frames
    assert not np.allclose(whole[:16], first, atol=1e-3)  # the whole clip is one window


def test_intra_fgd_sees_wrong_condition_that_pooled_fgd_misses():
    rng = np.random.default_rng(0)
    centres = {0: np.zeros(3), 1: np.full(3, 3.0)}
    real = [rng.standard_normal((20, 3)) + centres[c] for c in (0, 1) * 6]
    labels = [0, 1] * 6
    swapped = [real[i + 1] if i % 2 == 0 else real[i - 1] for i in range(len(real))]  # right motion, wrong clip
    assert M.intra_fgd(real, labels, real, labels) == pytest.approx(0.0, abs=1e-8)
    pooled = M.fgd(np.concatenate(real), np.concatenate(swapped))
    intra = M.intra_fgd(real, labels, swapped, labels)
    assert pooled == pytest.approx(0.0, abs=1e-8) and intra > 20.0  # 3^2 * 3 = 27 per class
    assert np.isnan(M.intra_fgd(real, [-1] * len(real), real, labels))


def test_intra_fgd_floor_falls_with_the_number_of_clips():
    """Two samples of one distribution: the Fréchet distance is biased upwards by ~1/N, which
    the "GT of other clips" row of ``motion evaluate`` reports (the floor of this many clips)."""
    rng = np.random.default_rng(0)

    def floor(clips_per_class: int) -> float:
        draw = lambda: [rng.standard_normal((4, 8)) + c for c in range(4) for _ in range(clips_per_class)]
        labels = [c for c in range(4) for _ in range(clips_per_class)]
        return M.intra_fgd(draw(), labels, draw(), labels)

    small, large = floor(10), floor(160)
    assert small > 4 * large > 0.0  # 16x the clips: about a 16th of the bias
