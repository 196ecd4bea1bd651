"""Face metrics on the synthetic corpus ground truth: LVE, FDD, bilabial closure, blinks."""

from __future__ import annotations

import numpy as np
import pytest

from motion.metrics.face import (
    bilabial_closure_accuracy,
    bilabial_middle_frames,
    blink_episodes,
    blink_rate,
    eyelid_closure,
    face_metric_ids,
    fdd,
    lip_gap,
    lve,
    max_blink_duration,
)


@pytest.fixture(scope="module")
def face_model():
    from motion.bodymodels import load_face_model

    return load_face_model()


@pytest.fixture(scope="module")
def ids(face_model):
    return face_metric_ids(face_model)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory, face_model):
    """(motion, timings, ground-truth vertices (T, V, 3)) of 8 tiny-corpus clips."""
    from motion.bodymodels import flame_forward
    from motion.data.beat2_dataset import Beat2Dataset
    from motion.synthetic.corpus import generate_corpus

    root = tmp_path_factory.mktemp("metrics_face") / "corpus"
    generate_corpus(root, size="tiny")
    ds = Beat2Dataset(root, require_audio=False)
    out = []
    for rec in list(ds)[::4][:8]:
        m = ds.load_motion(rec)
        v = flame_forward(face_model, m.expression, jaw=m.jaw, eyes=m.eyes.reshape(-1, 6)).vertices.numpy()
        out.append((m, ds.load_timings(rec), v))
    return out


def test_ids(ids) -> None:
    assert len(ids.lips) > 0 and len(ids.upper_face) > 0 and ids.lid_pairs.shape == (4, 2)
    assert set(ids.lip_centres) <= set(ids.lips.tolist())
    assert lip_gap(ids.template[None], ids.lip_centres)[0] < 1e-4  # lips together at rest
    assert eyelid_closure(ids.template[None], ids.lid_pairs, ids.template)[0] == 0.0


def test_lve_and_fdd(clips, ids) -> None:
    import torch

    for m, _, v in clips:
        neutral = np.broadcast_to(ids.template, v.shape)
        assert lve(v, v, ids.lips) == 0.0 and fdd(v, v, ids.upper_face, ids.template) == 0.0
        assert lve(v, neutral, ids.lips) > 1e-3  # > 1 mm: the lips move when speaking
        assert fdd(neutral, v, ids.upper_face, ids.template) > 0.0  # a still face has no upper-face dynamics
        assert lve(torch.from_numpy(v), neutral, ids.lips) == pytest.approx(lve(v, neutral, ids.lips))
    with pytest.raises(ValueError):
        lve(v[:-1], v, ids.lips)


def test_lve_is_max_over_lips_mean_over_frames() -> None:
    gt = np.zeros((2, 3, 3))
    pred = gt.copy()
    pred[0, 1, 0] = 3.0
    pred[0, 2, 1] = 1.0
    pred[1, 0, 2] = 2.0
    assert lve(pred, gt, [0, 1, 2]) == pytest.approx(2.5)
    assert lve(pred, gt, [2]) == pytest.approx(0.5)


def test_bilabial_closure(clips, face_model, ids) -> None:
    from motion.bodymodels import flame_forward

    gt_acc, open_acc, n = [], [], 0
    for m, timings, v in clips:
        frames = bilabial_middle_frames(timings, m.num_frames, m.fps)
        n += len(frames)
        if not len(frames):
            continue
        gt_acc.append(bilabial_closure_accuracy(v, timings, m.fps, ids.lip_centres))
        jaw_open = np.tile([[0.15, 0.0, 0.0]], (m.num_frames, 1))  # mouth held open by the jaw only
        vo = flame_forward(face_model, np.zeros_like(m.expression), jaw=jaw_open).vertices
        open_acc.append(bilabial_closure_accuracy(vo, timings, m.fps, ids.lip_centres))
    assert n >= 10
    assert np.mean(gt_acc) >= 0.9
    assert np.mean(open_acc) <= 0.1
    assert np.isnan(bilabial_closure_accuracy(v, {"phonemes": []}, 30.0, ids.lip_centres))


def test_bilabial_middle_frames_formats() -> None:
    as_dicts = {"phonemes": [{"symbol": "h", "start": 0.0, "end": 0.1}, {"symbol": "m", "start": 0.1, "end": 0.22},
                             {"symbol": "'a", "start": 0.2, "end": 0.4}, {"symbol": "p", "start": 0.4, "end": 0.44}]}
    as_triples = [("h", 0.0, 0.1), ("m", 0.1, 0.22), ("'a", 0.2, 0.4), ("p", 0.4, 0.44)]
    assert bilabial_middle_frames(as_dicts, 100, 30.0).tolist() == [5, 13]
    assert bilabial_middle_frames(as_triples, 100, 30.0).tolist() == [5, 13]


def test_blink_metrics_on_known_curve() -> None:
    c = np.zeros(1800)  # one minute at 30 fps
    for start, length in ((100, 6), (700, 9), (1500, 4)):
        c[start: start + length] = 1.0
    assert blink_episodes(c) == [(100, 106), (700, 709), (1500, 1504)]
    assert blink_rate(c, 30.0) == pytest.approx(3.0)
    assert max_blink_duration(c, 30.0) == pytest.approx(0.3)
    assert blink_rate(np.stack([c, c], 1), 30.0) == pytest.approx(3.0)  # (T, 2): both eyelids
    assert max_blink_duration(np.zeros(10), 30.0) == 0.0


def test_corpus_blinks_vertices_match_coefficients(clips, ids) -> None:
    for m, _, v in clips:
        coeff = m.expression[:, [11, 12]]
        closure = eyelid_closure(v, ids.lid_pairs, ids.template)
        assert len(blink_episodes(closure, 0.5)) == len(blink_episodes(coeff, 0.5))
        assert max_blink_duration(coeff, m.fps) <= 0.5
