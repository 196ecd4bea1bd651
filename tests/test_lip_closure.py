"""Bilabial closure as a constraint on the face model (motion.pipelines.lip_closure)."""

from __future__ import annotations

import numpy as np
import pytest

from motion.pipelines.lip_closure import LipCloser, closure_weights


def test_closure_weights_hold_the_bilabial_and_ease_out() -> None:
    phones = [("_", 0.0, 0.2), ("m", 0.2, 0.3), ("A:", 0.3, 0.6), ("t", 0.6, 0.7), ("p", 0.7, 0.71)]
    w = closure_weights(phones, 30, 30.0, ramp_s=0.07)
    assert w.shape == (30,) and w.dtype == np.float32
    assert (w[6:10] == 1).all()  # 0.2-0.3 s: frames 6..9
    assert 0 < w[5] < 1 and 0 < w[10] < 1  # easing in and out
    assert (w[12:19] == 0).all()  # the vowel and the t stay free
    assert w[21] == 1.0  # a p shorter than a frame still marks its middle frame
    assert closure_weights([("a", 0, 1)], 30, 30.0).max() == 0
    held = closure_weights([("p", 0.5, 0.51)], 30, 30.0, ramp_s=0.0, min_hold_s=0.1)
    assert (held[14:17] == 1).all() and held[:13].max() == 0


@pytest.fixture(scope="module")
def closer() -> LipCloser:
    from motion.bodymodels import load_face_model

    return LipCloser.from_face_model(load_face_model(num_expressions=50), 50)


def test_solve_shuts_open_lips_with_a_small_change(closer: LipCloser) -> None:
    g = np.random.default_rng(0)
    T = 40
    expr = (0.1 * g.standard_normal((T, 50))).astype(np.float32)
    jaw = np.zeros((T, 3), np.float32)
    jaw[:, 0] = np.linspace(0.1, 0.3, T)  # from a little to a wide-open mouth
    before = closer.gap(expr, jaw)
    assert before.min() > 0.003
    w = np.zeros(T, np.float32)
    w[10:30] = 1.0
    w[30] = 0.5
    e2, j2 = closer(expr, jaw, w)
    after = closer.gap(e2, j2)
    assert (after[10:30] < 1.1e-3).all(), after[10:30]  # down to target_gap (1 mm)
    assert np.array_equal(e2[:10], expr[:10]) and np.array_equal(j2[31:], jaw[31:])  # weight 0: untouched
    assert after[30] < before[30] and after[30] > after[29]  # half weight: half way
    assert np.abs(j2 - jaw).max() < 0.35  # damping: the jaw moves no further than it must
    with pytest.raises(ValueError, match="weight"):
        closer(expr, jaw, w[:-1])



def test_rest_weights_shut_long_pauses_only() -> None:
    from motion.pipelines.lip_closure import rest_weights

    phones = [("_", 0.0, 1.0), ("a", 1.0, 1.5), ("_", 1.5, 1.7), ("t", 1.7, 2.0), ("_", 2.0, 3.0)]
    w = rest_weights(phones, 90, 30.0, min_pause_s=0.3, margin_s=0.1, ramp_s=0.1)
    assert (w[:27] == 1).all() and w[29] < 1 and (w[33:60] == 0).all()  # 0-0.9 s held; the 0.2 s pause free
    assert (w[63:] == 1).all() and 0 < w[61] < 1
