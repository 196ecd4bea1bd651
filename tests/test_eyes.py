"""Eyes and blinks post-processing: blink rate / duration, gaze ranges, closure-keeping smoothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from motion.container import Motion
from motion.metrics.face import blink_rate, max_blink_duration
from motion.pipelines.eyes import (
    BLINK_CURVE_30FPS,
    STANDIN_BLINK_CHANNELS,
    add_blinks,
    add_gaze,
    blink_curve,
    gaze_track,
    postprocess_face,
)
from motion.pipelines.face_smoothing import closure_mask, protect_weight, smooth_face

TWO_MINUTES = 3600  # frames at 30 fps


def _blinks(m: Motion) -> np.ndarray:
    return m.expression[:, list(STANDIN_BLINK_CHANNELS)]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory):
    from motion.data.beat2_dataset import Beat2Dataset
    from motion.synthetic.corpus import generate_corpus

    root = tmp_path_factory.mktemp("eyes") / "corpus"
    generate_corpus(root, size="tiny")
    return Beat2Dataset(root, require_audio=False)


def test_blink_curve() -> None:
    assert len(BLINK_CURVE_30FPS) == 13 and BLINK_CURVE_30FPS.max() == 1.0
    assert BLINK_CURVE_30FPS[0] == BLINK_CURVE_30FPS[-1] == 0.0
    assert len(blink_curve(30.0)) == 13 and len(blink_curve(60.0)) == 25  # same 0.4 s at any rate


@pytest.mark.parametrize("seed", range(6))
def test_blink_rate_on_two_minutes(seed: int) -> None:
    m = add_blinks(Motion.zeros(TWO_MINUTES), seed=seed)
    rate = blink_rate(_blinks(m), m.fps)
    assert 8.0 <= rate <= 30.0
    assert rate == pytest.approx(m.meta.extra["blinks"]["rate_per_min"], abs=0.5)
    assert 0.0 < max_blink_duration(_blinks(m), m.fps) <= 0.5
    assert np.array_equal(m.expression[:, 11], m.expression[:, 12])  # both eyelids


def test_blinks_seeded_switchable_and_explicit_rate() -> None:
    m = Motion.zeros(900)
    a, b = add_blinks(m, seed=3), add_blinks(m, seed=3)
    assert np.array_equal(a.expression, b.expression)
    assert not np.array_equal(a.expression, add_blinks(m, seed=4).expression)
    assert np.array_equal(add_blinks(m, seed=3, enabled=False).expression, m.expression)
    assert blink_rate(_blinks(add_blinks(Motion.zeros(TWO_MINUTES), seed=0, rate=20.0)), 30.0) == pytest.approx(20.0)
    assert not m.expression.any()  # input untouched


def test_blinks_on_vertices(corpus) -> None:
    """The eyelids shut on the mesh: vertex-based closure gives the same blinks as the coefficients."""
    import torch

    from motion.bodymodels import load_face_model
    from motion.metrics.face import eyelid_closure, face_metric_ids
    from motion.models.face.flame_layer import FlameExpressionLayer

    fm = load_face_model()
    ids = face_metric_ids(fm)
    keep = np.unique(ids.lid_pairs)
    layer = FlameExpressionLayer.from_flame(fm, 100, keep)
    m = add_blinks(Motion.zeros(TWO_MINUTES), seed=1)
    v = layer(torch.from_numpy(m.expression), torch.zeros(TWO_MINUTES, 3)).numpy()
    pairs = np.searchsorted(keep, ids.lid_pairs)
    closure = eyelid_closure(v, pairs, ids.template[keep])
    assert blink_rate(closure, 30.0) == pytest.approx(blink_rate(_blinks(m), 30.0))
    assert max_blink_duration(closure, 30.0) <= 0.5


def test_blink_direction_for_pca_bases() -> None:
    m = Motion.zeros(600, num_expressions=10)
    with pytest.raises(ValueError, match="blink_direction"):
        add_blinks(m, seed=0)
    d = np.linspace(-1.0, 1.0, 10)
    out = add_blinks(m, seed=0, rate=20.0, blink_direction=d)
    peak = int(np.argmax(np.abs(out.expression[:, -1])))
    np.testing.assert_allclose(out.expression[peak], d, atol=1e-6)


def test_gaze_ranges() -> None:
    m = add_gaze(Motion.zeros(TWO_MINUTES), seed=0)
    eyes = m.poses[:, [23, 24]]
    assert np.array_equal(eyes[:, 0], eyes[:, 1]) and not eyes[..., 2].any()
    r = np.linalg.norm(eyes[:, 0], axis=1)
    assert r.max() <= 0.2 + 1e-6
    moving = np.any(np.diff(eyes[:, 0], axis=0) != 0, axis=1)  # frame i -> i+1 changes
    held = r[1:][~moving]
    assert np.all((held < 1e-7) | ((held >= 0.1 - 1e-6) & (held <= 0.2 + 1e-6)))
    # moves are runs of <= 5 frames; fixations (move start to move start) last >= 25 frames
    starts = np.flatnonzero(moving & ~np.concatenate([[False], moving[:-1]]))
    runs = [len(list(g)) for k, g in __import__("itertools").groupby(moving) if k]
    assert max(runs) <= 5 and np.diff(starts).min() >= 25
    assert 0.25 <= np.mean(held < 1e-7) <= 0.6  # ~40 % of fixations at the centre
    g = gaze_track(3000, 30.0, np.random.default_rng(5))
    assert np.array_equal(g, gaze_track(3000, 30.0, np.random.default_rng(5)))
    assert not add_gaze(Motion.zeros(30), seed=0, enabled=False).poses.any()


def test_smoothing_keeps_bilabial_closures(corpus) -> None:
    import torch

    from motion.bodymodels import load_face_model
    from motion.metrics.face import bilabial_closure_accuracy, face_metric_ids
    from motion.models.face.flame_layer import FlameExpressionLayer

    fm = load_face_model()
    lips = FlameExpressionLayer.from_flame(fm, 100, np.array(face_metric_ids(fm).lip_centres))  # 2 vertices
    acc: dict[str, list[float]] = {"gt": [], "kept": [], "kept_phonemes": [], "smeared": []}
    for rec in list(corpus)[:10]:
        m, ph = corpus.load_motion(rec), corpus.load_timings(rec)
        variants = {"gt": m, "kept": smooth_face(m, window=15),
                    "kept_phonemes": smooth_face(m, window=15, press_channel=None,
                                                 closed=closure_mask(ph, m.num_frames, m.fps)),
                    "smeared": smooth_face(m, window=15, press_channel=None)}
        for k, mm in variants.items():
            v = lips(torch.from_numpy(mm.expression), torch.from_numpy(mm.jaw))
            acc[k].append(bilabial_closure_accuracy(v, ph, m.fps, (0, 1)))
    mean = {k: float(np.nanmean(v)) for k, v in acc.items()}
    assert mean["gt"] >= 0.9 and mean["kept"] >= mean["gt"] - 1e-9 and mean["kept_phonemes"] >= mean["gt"] - 1e-9
    assert mean["smeared"] < 0.6, mean  # plain Savitzky-Golay opens the plosives: the protection matters


def test_smoothing_reduces_jitter_elsewhere() -> None:
    rng = np.random.default_rng(0)
    m = Motion.zeros(300)
    m.expression[:] = rng.normal(0.0, 0.05, m.expression.shape)
    m.expression[100:103, 4] = 1.0  # a pressed-lips closure
    m.poses[:, 22, 0] = 0.1 + rng.normal(0.0, 0.02, 300)
    m.poses[100:103, 22, 0] = 0.0
    s = smooth_face(m)
    assert np.array_equal(s.expression[100:103], m.expression[100:103]) and not s.poses[100:103, 22].any()
    jitter = lambda x: np.abs(np.diff(x, 2, axis=0)).mean()
    assert jitter(s.expression[150:]) < 0.5 * jitter(m.expression[150:])
    assert jitter(s.poses[150:, 22]) < 0.5 * jitter(m.poses[150:, 22])
    assert np.array_equal(smooth_face(m, enabled=False).expression, m.expression)
    np.testing.assert_allclose(protect_weight(np.array([0, 0, 1, 0, 0, 0], bool), 2), [1 / 3, 2 / 3, 1, 2 / 3, 1 / 3, 0])


def test_closure_mask_and_postprocess(corpus) -> None:
    rec = corpus[0]
    m, ph = corpus.load_motion(rec), corpus.load_timings(rec)
    mask = closure_mask(ph, m.num_frames, m.fps)
    assert mask.any() and m.expression[mask, 4].min() >= 0.99  # corpus closures are lips_press = 1
    a = postprocess_face(m, seed=7, closed=mask)
    b = postprocess_face(m, seed=7, closed=mask)
    assert np.array_equal(a.expression, b.expression) and np.array_equal(a.poses, b.poses)
    assert np.array_equal(a.expression[mask, 4], m.expression[mask, 4])
    assert np.abs(a.poses[:, 23]).max() > 0 and "blinks" in a.meta.extra
    off = postprocess_face(m, seed=7, smooth=False, blinks=False, gaze=False)
    assert np.array_equal(off.expression, m.expression) and np.array_equal(off.poses, m.poses)


def test_metrics_module_is_light() -> None:
    import subprocess
    import sys

    code = "import sys, motion.metrics, motion.pipelines.eyes; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                         cwd=Path(__file__).parents[1])
    assert out.stdout.strip() == "False", out.stderr
