"""Tests for motion.container (Motion, MotionMeta), motion.rotations and motion.resample."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from motion.container import Motion, MotionMeta, concat_motions
from motion.resample import smoothstep
from motion.rotations import REP_DIMS, as_tensor, convert, matrix_to_6d, quat_slerp, sixd_to_matrix, slerp_rotvec


# ---------------------------------------------------------------------------- helpers
def random_rotvecs(n: int, seed: int = 0) -> torch.Tensor:
    """Uniform random rotations (normalised Gaussian quaternions) as rotation vectors."""
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(n, 4, generator=g, dtype=torch.float64)
    q = q / q.norm(dim=-1, keepdim=True)
    return convert(q, "quat", "axis_angle")


def angle_between(a: np.ndarray | torch.Tensor, b: np.ndarray | torch.Tensor) -> np.ndarray:
    """Geodesic angle (radians) between rotation vectors."""
    ma = convert(as_tensor(np.asarray(a), torch.float64), "axis_angle", "matrix")
    mb = convert(as_tensor(np.asarray(b), torch.float64), "axis_angle", "matrix")
    rel = ma.transpose(-1, -2) @ mb
    cos = ((rel.diagonal(dim1=-2, dim2=-1).sum(-1) - 1.0) / 2.0).clamp(-1.0, 1.0)
    return torch.arccos(cos).numpy()


def rotation_angle(rv: np.ndarray) -> np.ndarray:
    return angle_between(np.zeros_like(rv), rv)


def about(axis: list[float], angles: np.ndarray) -> np.ndarray:
    """Rotation vectors of ``angles`` about ``axis``, wrapped into (-pi, pi]."""
    a = np.asarray(axis, np.float64)
    a = a / np.linalg.norm(a)
    wrapped = np.mod(np.asarray(angles, np.float64) + np.pi, 2 * np.pi) - np.pi
    return (wrapped[..., None] * a).astype(np.float32)


def spin_poses(t: np.ndarray, omega: float = 0.05, seed: int = 0, offset: float = 0.0) -> np.ndarray:
    """``(len(t), 55, 3)``: joint j at angle ``omega * t + 0.3 + offset`` about its own fixed random axis."""
    rng = np.random.default_rng(seed)
    axes = rng.normal(size=(55, 3))
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    angle = omega * np.asarray(t, np.float64)[:, None, None] + 0.3 + offset
    angle = np.mod(angle + np.pi, 2 * np.pi) - np.pi  # wrapped into (-pi, pi], as files store them
    return (angle * axes[None]).astype(np.float32)


def smooth_motion(T: int, fps: float = 30.0, seed: int = 0, E: int = 10, omega: float = 0.05) -> Motion:
    """Every joint rotating at a constant angular velocity about its own fixed axis."""
    t = np.arange(T, dtype=np.float64)
    trans = np.stack([0.01 * t, np.zeros(T), 0.02 * t], axis=1)
    expr = np.sin(0.1 * t[:, None] + np.arange(E)[None])
    return Motion(poses=spin_poses(t, omega, seed), trans=trans, expression=expr, fps=fps)


def frame_steps(poses: np.ndarray) -> np.ndarray:
    """Per-frame rotation change (radians), max over joints: shape (T-1,)."""
    return angle_between(poses[:-1], poses[1:]).max(axis=1)


# ---------------------------------------------------------------------------- Motion validation
def test_motion_shapes_and_defaults() -> None:
    m = Motion.zeros(7, num_expressions=100)
    assert m.num_frames == len(m) == 7 and m.duration == pytest.approx(7 / 30)
    assert m.poses.dtype == np.float32 and m.flat_poses.shape == (7, 165)
    assert m.jaw.shape == (7, 3) and m.eyes.shape == (7, 2, 3) and m.body_pose.shape == (7, 21, 3)
    assert m.left_hand.shape == m.right_hand.shape == (7, 15, 3)
    bare = Motion(poses=np.zeros((4, 55, 3)), trans=np.zeros((4, 3)))
    assert bare.expression is not None and bare.expression.shape == (4, 0)
    flat = np.arange(2 * 165, dtype=np.float32).reshape(2, 165)
    assert np.array_equal(Motion.from_flat(flat, np.zeros((2, 3))).flat_poses, flat)
    assert isinstance(Motion(poses=np.zeros((1, 55, 3)), trans=np.zeros((1, 3)), meta={"emotion": "sadness"}).meta,
                      MotionMeta)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"poses": np.zeros((4, 54, 3))}, r"\(T, 55, 3\)"),
        ({"poses": np.zeros((4, 165))}, "3 dimensions"),
        ({"trans": np.zeros((5, 3))}, "trans"),
        ({"trans": np.zeros((4, 2))}, "trans"),
        ({"expression": np.zeros((3, 100))}, "expression"),
        ({"betas": np.zeros((2, 10))}, "betas"),
        ({"fps": 0.0}, "fps"),
        ({"fps": -30.0}, "fps"),
        ({"gender": "robot"}, "gender"),
    ],
)
def test_motion_rejects_bad_shapes(kwargs: dict, match: str) -> None:
    base = {"poses": np.zeros((4, 55, 3)), "trans": np.zeros((4, 3))}
    with pytest.raises(ValueError, match=match):
        Motion(**{**base, **kwargs})


def test_from_flat_rejects_wrong_width() -> None:
    with pytest.raises(ValueError, match="165"):
        Motion.from_flat(np.zeros((3, 160)), np.zeros((3, 3)))


def test_check_finite() -> None:
    m = Motion.zeros(5)
    m.check_finite()
    assert m.is_finite()
    m.expression[3, 2] = np.nan  # type: ignore[index]
    assert not m.is_finite()
    with pytest.raises(ValueError, match=r"expression.*frame 3"):
        m.check_finite()
    m2 = Motion.zeros(5)
    m2.betas[0] = np.inf
    with pytest.raises(ValueError, match="betas"):
        m2.check_finite("clip")


# ---------------------------------------------------------------------------- MotionMeta
@pytest.mark.parametrize("alias, canonical", [("Happiness", "happy"), ("anger", "angry"), ("SURPRISE", "surprised"),
                                              ("disgust", "disgusted"), ("sadness", "sad"), ("fear", "fear")])
def test_meta_canonicalises_emotions(alias: str, canonical: str) -> None:
    assert MotionMeta(emotion=alias).emotion == canonical


def test_meta_rejects_unknown_and_round_trips() -> None:
    with pytest.raises(ValueError, match="unknown emotion"):
        MotionMeta(emotion="bored")
    with pytest.raises(ValueError, match="intensity"):
        MotionMeta(intensity=4)
    meta = MotionMeta(emotion="calm", intensity=1, seed=3, extra={"take": 2})
    d = meta.to_dict()
    assert d == {"emotion": "neutral", "intensity": 1.0, "seed": 3, "extra": {"take": 2}}
    assert MotionMeta.from_dict(d) == meta
    assert MotionMeta.from_dict({"emotion": "happy", "speaker": "x"}).extra == {"speaker": "x"}


# ---------------------------------------------------------------------------- rotations
def test_rotation_round_trips() -> None:
    aa = random_rotvecs(500)
    mat = convert(aa, "axis_angle", "matrix")
    eye = torch.eye(3, dtype=torch.float64).expand_as(mat)
    assert torch.allclose(mat @ mat.transpose(-1, -2), eye, atol=1e-10)
    assert torch.allclose(torch.linalg.det(mat), torch.ones(500, dtype=torch.float64), atol=1e-10)
    for rep in REP_DIMS:
        x = convert(aa, "axis_angle", rep)
        assert x.shape == (500, *REP_DIMS[rep])
        for rep2 in REP_DIMS:  # any -> any -> matrix equals the original matrix
            back = convert(convert(x, rep, rep2), rep2, "matrix")
            assert torch.allclose(back, mat, atol=1e-8), (rep, rep2)
    chain = convert(convert(convert(convert(aa, "axis_angle", "matrix"), "matrix", "quat"), "quat", "6d"),
                    "6d", "axis_angle")
    assert angle_between(chain, aa).max() < 1e-6


def test_6d_is_first_two_rows() -> None:
    aa = random_rotvecs(50, seed=1)
    mat = convert(aa, "axis_angle", "matrix")
    d6 = convert(aa, "axis_angle", "6d")
    assert torch.allclose(d6[:, :3], mat[:, 0, :]) and torch.allclose(d6[:, 3:], mat[:, 1, :])
    assert torch.equal(matrix_to_6d(mat), d6)
    # Gram-Schmidt: a non-orthonormal 6D input gives a rotation whose first row is row 0 normalised
    raw = torch.tensor([[2.0, 0.0, 0.0, 1.0, 3.0, 0.0]], dtype=torch.float64)
    r = sixd_to_matrix(raw)[0]
    assert torch.allclose(r, torch.eye(3, dtype=torch.float64), atol=1e-12)


def test_convert_rejects_unknown_rep() -> None:
    with pytest.raises(ValueError, match="unknown rotation representation"):
        convert(torch.zeros(3), "axis_angle", "euler")  # type: ignore[arg-type]


def test_motion_rotations_round_trip() -> None:
    m = smooth_motion(6)
    for rep in REP_DIMS:
        rot = m.rotations(rep)
        assert tuple(rot.shape) == (6, 55, *REP_DIMS[rep])
        back = Motion.from_rotations(rot, rep, m.trans)
        assert angle_between(back.poses, m.poses).max() < 1e-5


def test_slerp_takes_the_arc_not_the_chord() -> None:
    # identity -> 170 degrees: midway is 85 degrees about the same axis
    a = torch.zeros(1, 3, dtype=torch.float64)
    b = torch.tensor([[0.0, 0.0, math.radians(170)]], dtype=torch.float64)
    mid = slerp_rotvec(a, b, torch.tensor([0.5], dtype=torch.float64))
    assert rotation_angle(mid.numpy())[0] == pytest.approx(math.radians(85), abs=1e-9)
    # +170 -> -170 degrees about z: the short way passes 180; a lerp of the vectors would give identity
    c = torch.tensor([[0.0, 0.0, math.radians(-170)]], dtype=torch.float64)
    mid = slerp_rotvec(b, c, torch.tensor([0.5], dtype=torch.float64))
    assert rotation_angle(mid.numpy())[0] == pytest.approx(math.pi, abs=1e-6)
    # element-wise weights, endpoints exact
    q0 = convert(random_rotvecs(4, 2), "axis_angle", "quat")
    q1 = convert(random_rotvecs(4, 3), "axis_angle", "quat")
    assert torch.allclose(convert(quat_slerp(q0, q1, torch.zeros(4, dtype=torch.float64)), "quat", "matrix"),
                          convert(q0, "quat", "matrix"), atol=1e-9)
    assert torch.allclose(convert(quat_slerp(q0, q1, torch.ones(4, dtype=torch.float64)), "quat", "matrix"),
                          convert(q1, "quat", "matrix"), atol=1e-9)


# ---------------------------------------------------------------------------- resample
def test_resample_30_60_30_is_identity() -> None:
    m = smooth_motion(31)
    up = m.resample(60)
    assert up.fps == 60 and up.num_frames == 62
    back = up.resample(30)
    assert back.num_frames == 31 and back.fps == 30
    assert angle_between(back.poses, m.poses).max() < 1e-5
    np.testing.assert_allclose(back.trans, m.trans, atol=1e-6)
    np.testing.assert_allclose(back.expression, m.expression, atol=1e-6)
    same = m.resample(30)
    assert same is not m and np.array_equal(same.poses, m.poses)


def test_resample_30_to_24_count_duration_and_values() -> None:
    m = smooth_motion(90, omega=0.2)
    r = m.resample(24)
    assert r.num_frames == 72 and r.duration == pytest.approx(m.duration)
    # frame j of the output samples source position j * 30 / 24; every joint spins uniformly
    src_t = np.arange(72) * 30 / 24
    i0 = np.floor(src_t).astype(int)
    w = src_t - i0
    i1 = np.minimum(i0 + 1, 89)
    # the rotation from the lower neighbour is a fraction w of the step between neighbours
    step = angle_between(m.poses[i0], m.poses[i1])
    part = angle_between(m.poses[i0], r.poses)
    np.testing.assert_allclose(part, step * w[:, None], atol=1e-4)
    np.testing.assert_allclose(r.trans[:, 0], 0.01 * src_t, atol=1e-5)
    with pytest.raises(ValueError, match="positive"):
        m.resample(0)


def test_resample_slerps_170_degrees() -> None:
    poses = np.zeros((2, 55, 3), np.float32)
    poses[1, 5] = [0.0, math.radians(170), 0.0]
    m = Motion(poses=poses, trans=np.zeros((2, 3)), fps=1.0)
    r = m.resample(2.0)  # frame 1 lies halfway
    assert r.num_frames == 4
    assert rotation_angle(r.poses[1, 5:6])[0] == pytest.approx(math.radians(85), abs=1e-5)
    axis = r.poses[1, 5] / np.linalg.norm(r.poses[1, 5])
    np.testing.assert_allclose(axis, [0, 1, 0], atol=1e-6)
    poses[0, 5] = [0.0, 0.0, math.radians(170)]
    poses[1, 5] = [0.0, 0.0, math.radians(-170)]
    r = Motion(poses=poses, trans=np.zeros((2, 3)), fps=1.0).resample(2.0)
    assert rotation_angle(r.poses[1, 5:6])[0] == pytest.approx(math.pi, abs=1e-5)


# ---------------------------------------------------------------------------- slice / clip
def test_slice_and_clip() -> None:
    m = smooth_motion(30)
    s = m.slice(2, 5)
    assert s.num_frames == 3 and np.array_equal(s.poses, m.poses[2:5]) and np.array_equal(s.trans, m.trans[2:5])
    assert np.array_equal(s.expression, m.expression[2:5])
    s.poses[0] += 1.0
    assert not np.array_equal(s.poses[0], m.poses[2])  # a copy
    c = m.clip(0.1, 0.2)
    assert c.num_frames == 3 and np.array_equal(c.poses, m.poses[3:6])
    assert m.clip(0.5).num_frames == 15
    with pytest.raises(ValueError, match="empty"):
        m.slice(10, 10)


# ---------------------------------------------------------------------------- concat
def test_concat_hard_cut() -> None:
    a, b = smooth_motion(10, seed=1), smooth_motion(8, seed=2)
    c = a.concat(b)
    assert c.num_frames == 18
    assert np.array_equal(c.poses[:10], a.poses) and np.array_equal(c.poses[10:], b.poses)
    assert np.array_equal(c.trans[10:], b.trans)  # hard cut: no shift
    assert np.array_equal(Motion.concatenate([a, b, a]).poses[18:], a.poses)


def _two_parts(T1: int, T2: int, n: int, delta: float, omega: float = 0.05) -> tuple[Motion, Motion]:
    """``b`` continues ``a``'s uniform spins from a's overlap start, ahead by ``delta`` radians."""
    a = smooth_motion(T1, omega=omega)
    t = np.arange(T1 - n, T1 - n + T2, dtype=np.float64)
    b = Motion(poses=spin_poses(t, omega, offset=delta),
               trans=np.stack([0.01 * t + 5.0, np.full(T2, 0.3), 0.02 * t - 2.0], axis=1), fps=a.fps,
               expression=np.zeros((T2, a.num_expressions)))
    return a, b


@pytest.mark.parametrize("delta", [0.0, 0.15])
def test_concat_crossfade_is_continuous(delta: float) -> None:
    T1, T2, n, omega = 40, 30, 10, 0.05
    a, b = _two_parts(T1, T2, n, delta, omega)
    c = a.concat(b, crossfade=n)
    assert c.num_frames == T1 + T2 - n
    assert np.array_equal(c.poses[: T1 - n], a.poses[: T1 - n])
    assert np.array_equal(c.poses[T1:], b.poses[n:])
    inside = max(frame_steps(a.poses).max(), frame_steps(b.poses).max())
    junction = frame_steps(c.poses[T1 - n - 2 : T1 + 2]).max()
    # smoothstep's slope is at most 1.5, spread over n + 1 steps
    assert junction <= inside + 1.5 * delta / (n + 1) + 1e-5
    hard = frame_steps(a.concat(b).poses[T1 - 2 : T1 + 2]).max()
    if delta:
        assert junction < hard / 3
    # b is shifted horizontally (x, z) to meet a at the first overlapped frame; height kept
    shift = c.trans[T1:] - b.trans[n:]
    expected = a.trans[T1 - n, [0, 2]] - b.trans[0, [0, 2]]
    np.testing.assert_allclose(shift[:, [0, 2]], np.broadcast_to(expected, (T2 - n, 2)), atol=1e-5)
    assert np.abs(shift[:, 1]).max() < 1e-6
    assert np.abs(np.diff(c.trans[:, [0, 2]], axis=0)).max() < 0.05


def test_concat_errors() -> None:
    a = smooth_motion(10)
    with pytest.raises(ValueError, match="fps"):
        a.concat(a.resample(60))
    with pytest.raises(ValueError, match="expression"):
        a.concat(smooth_motion(10, E=5))
    with pytest.raises(ValueError, match="longer"):
        a.concat(a, crossfade=11)
    with pytest.raises(ValueError, match=">= 0"):
        concat_motions([a, a], crossfade=-1)
    with pytest.raises(ValueError, match="at least one"):
        concat_motions([])


def test_smoothstep_weights() -> None:
    w = smoothstep(5)
    assert w.shape == (5,) and 0 < w[0] < w[-1] < 1 and np.all(np.diff(w) > 0)
    np.testing.assert_allclose(w + w[::-1], 1.0, atol=1e-6)
