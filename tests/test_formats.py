"""Tests for motion.data.formats (readers) and the npz writers of motion.export.npz: round trips,
resampling on read, sniffing, bad input."""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

from motion.container import Motion, MotionMeta
from motion.data.formats import FORMATS, MotionFormatError, read_motion, sniff_format
from motion.data.formats.amass import read_amass
from motion.data.formats.amuse import read_amuse
from motion.data.formats.beat2 import read_beat2
from motion.data.formats.flame_params import read_flame_params
from motion.export.npz import write_npz
from motion.export.npz.amass import write_amass
from motion.export.npz.amuse import write_amuse
from motion.export.npz.beat2 import write_beat2
from motion.export.npz.flame_params import neck_world_rotation, write_flame_params
from motion.data.formats.safe_pickle import UnsafePickleError, safe_loads
from motion.types import JAW, JOINT_INDEX, LEFT_EYE, RIGHT_EYE

NECK, HEAD_J = JOINT_INDEX["neck"], JOINT_INDEX["head"]
TOL = 1e-6


# ---------------------------------------------------------------------------- helpers
def make_motion(T: int = 12, fps: float = 30.0, E: int = 100, seed: int = 0, **kw: Any) -> Motion:
    rng = np.random.default_rng(seed)
    return Motion(
        poses=rng.normal(scale=0.4, size=(T, 55, 3)),
        trans=rng.normal(size=(T, 3)),
        betas=rng.normal(size=10),
        expression=rng.normal(size=(T, E)),
        fps=fps,
        **kw,
    )


def rotvec_to_matrix(rv: np.ndarray) -> np.ndarray:
    """Rodrigues, numpy, (..., 3) -> (..., 3, 3)."""
    rv = np.asarray(rv, np.float64)
    theta = np.linalg.norm(rv, axis=-1, keepdims=True)
    k = np.where(theta > 1e-12, rv / np.maximum(theta, 1e-12), 0.0)
    K = np.zeros(rv.shape[:-1] + (3, 3))
    K[..., 0, 1], K[..., 0, 2], K[..., 1, 2] = -k[..., 2], k[..., 1], -k[..., 0]
    K = K - np.swapaxes(K, -1, -2)
    th = theta[..., None]
    return np.eye(3) + np.sin(th) * K + (1 - np.cos(th)) * (K @ K)


def geodesic(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle (radians) between rotation vectors ``a`` and ``b``."""
    r = np.swapaxes(rotvec_to_matrix(a), -1, -2) @ rotvec_to_matrix(b)
    cos = (np.trace(r, axis1=-2, axis2=-1) - 1.0) / 2.0
    return np.arccos(np.clip(cos, -1.0, 1.0))


def spin(axis: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Rotation vectors of ``angles`` about ``axis``, wrapped into [0, pi] (as a file would store them)."""
    axis = axis / np.linalg.norm(axis)
    wrapped = np.mod(angles + np.pi, 2 * np.pi) - np.pi  # (-pi, pi]
    return wrapped[:, None] * axis[None]


def assert_error(fn: Callable[[], Any], path: Path, key: str | None, *needles: str) -> MotionFormatError:
    with pytest.raises(MotionFormatError) as info:
        fn()
    msg = str(info.value)
    assert path.name in msg, msg
    if key is not None:
        assert repr(key) in msg, msg
    for needle in needles:
        assert needle in msg, msg
    return info.value


# ---------------------------------------------------------------------------- BEAT2
def test_beat2_round_trip_keeps_arrays_and_meta(tmp_path: Path) -> None:
    meta = MotionMeta(emotion="Happiness", intensity=2.5, style="spk3", audio="a.wav", seed=7, extra={"take": 4})
    m = make_motion(meta=meta, gender="female")
    out = write_beat2(m, tmp_path / "clip.npz")
    assert out == tmp_path / "clip.npz" and os.listdir(tmp_path) == ["clip.npz"]
    with np.load(out, allow_pickle=False) as f:
        assert f["poses"].shape == (12, 165) and f["betas"].shape == (300,)
        assert f["expressions"].shape == (12, 100)
        assert str(f["model"]) == "smplx2020" and float(f["mocap_frame_rate"]) == 30
        assert f["motion_meta"].dtype.kind == "U"
    r = read_beat2(out, fps=None)
    np.testing.assert_allclose(r.poses, m.poses, atol=TOL)
    np.testing.assert_allclose(r.trans, m.trans, atol=TOL)
    np.testing.assert_allclose(r.expression, m.expression, atol=TOL)
    np.testing.assert_allclose(r.betas[:10], m.betas, atol=TOL)
    assert not r.betas[10:].any() and r.fps == 30 and r.gender == "female"
    assert r.meta == m.meta and r.meta.emotion == "happy"


def test_beat2_always_writes_expressions_and_fits_widths(tmp_path: Path) -> None:
    m = make_motion(E=0)
    out = write_beat2(m, tmp_path / "noface.npz")
    with np.load(out) as f:
        assert f["expressions"].shape == (12, 100) and not f["expressions"].any()
    wide = make_motion(E=120).replace(betas=np.ones(400))
    with np.load(write_beat2(wide, tmp_path / "wide.npz")) as f:
        assert f["expressions"].shape == (12, 100) and f["betas"].shape == (300,)


def test_beat2_real_file_without_meta(tmp_path: Path) -> None:
    path = tmp_path / "2_scott_0_1_1.npz"
    T = 9
    np.savez(path, poses=np.zeros((T, 165)), trans=np.zeros((T, 3)), betas=np.zeros(300),
             expressions=np.zeros((T, 100)), model="smplx2020", gender="neutral", mocap_frame_rate=30)
    m = read_beat2(path)
    assert m.num_frames == T and m.meta.source == str(path) and m.meta.emotion is None


def test_write_appends_npz_suffix(tmp_path: Path) -> None:
    out = write_beat2(make_motion(), tmp_path / "clip")
    assert out == tmp_path / "clip.npz" and sorted(os.listdir(tmp_path)) == ["clip.npz"]


# ---------------------------------------------------------------------------- AMASS
def test_amass_round_trip_and_keys(tmp_path: Path) -> None:
    m = make_motion(gender="male", meta=MotionMeta(emotion="sad"))
    out = write_amass(m, tmp_path / "a.npz")
    with np.load(out, allow_pickle=False) as f:
        assert str(f["surface_model_type"]) == "smplx" and f["betas"].shape == (16,)
        assert int(f["num_betas"]) == 16 and float(f["mocap_time_length"]) == pytest.approx(12 / 30)
        flat = f["poses"]
        np.testing.assert_array_equal(f["root_orient"], flat[:, :3])
        np.testing.assert_array_equal(f["pose_body"], flat[:, 3:66])
        np.testing.assert_array_equal(f["pose_jaw"], flat[:, 66:69])
        np.testing.assert_array_equal(f["pose_eye"], flat[:, 69:75])
        np.testing.assert_array_equal(f["pose_hand"], flat[:, 75:])
        assert f["expressions"].shape == (12, 100)
    r = read_amass(out, fps=None)
    np.testing.assert_allclose(r.poses, m.poses, atol=TOL)
    np.testing.assert_allclose(r.trans, m.trans, atol=TOL)
    np.testing.assert_allclose(r.expression, m.expression, atol=TOL)
    assert r.gender == "male" and r.meta.emotion == "sad" and r.betas.shape == (16,)


def test_amass_writes_zero_expressions_when_absent(tmp_path: Path) -> None:
    with np.load(write_amass(make_motion(E=0), tmp_path / "a.npz")) as f:
        assert f["expressions"].shape == (12, 100) and not f["expressions"].any()


def _amass_spin_file(path: Path, T: int, omega: float, rate_key: str = "mocap_frame_rate") -> np.ndarray:
    """An AMASS file at 120 fps whose left elbow spins at ``omega`` rad/frame about a fixed axis."""
    axis = np.array([0.3, -0.5, 0.8])
    poses = np.zeros((T, 165))
    poses[:, 18 * 3 : 19 * 3] = spin(axis, omega * np.arange(T))
    trans = np.stack([np.arange(T) * 0.01, np.zeros(T), np.arange(T) * -0.02], axis=1)
    np.savez(path, poses=poses, trans=trans, betas=np.zeros(16), gender=np.array("female"),
             surface_model_type="smplx", mocap_time_length=T / 120.0, **{rate_key: np.array(120.0)})
    return axis / np.linalg.norm(axis)


@pytest.mark.parametrize("target", [30.0, 50.0])
def test_amass_120fps_resampled_by_slerp(tmp_path: Path, target: float) -> None:
    T, omega = 241, 0.37  # wraps through pi many times: axis-angle lerp would be wrong there
    axis = _amass_spin_file(tmp_path / "spin.npz", T, omega)
    m = read_amass(tmp_path / "spin.npz", fps=target)
    assert m.fps == target and m.num_frames == round(T * target / 120)
    assert m.duration == pytest.approx(T / 120, abs=0.5 / target)
    src_t = np.minimum(np.arange(m.num_frames) * 120 / target, T - 1)  # source frame position
    expected = spin(axis, omega * src_t)
    got = m.poses[:, 18].astype(np.float64)
    assert geodesic(got, expected).max() < 1e-4
    # every rotation stays on the great circle: its axis is +-axis (or it is ~identity)
    norms = np.linalg.norm(got, axis=1)
    cross = np.linalg.norm(np.cross(got, axis), axis=1)
    assert (cross[norms > 1e-3] / norms[norms > 1e-3]).max() < 1e-4
    np.testing.assert_allclose(m.trans[:, 0], src_t * 0.01, atol=1e-5)
    if target == 50.0:  # the test would catch a lerp of axis-angle vectors
        i0 = np.floor(src_t).astype(int)
        i1 = np.minimum(i0 + 1, T - 1)
        w = (src_t - i0)[:, None]
        src = spin(axis, omega * np.arange(T))
        lerp = (1 - w) * src[i0] + w * src[i1]
        assert geodesic(lerp, expected).max() > 0.1


@pytest.mark.parametrize("rate_key", ["mocap_frame_rate", "mocap_framerate", "fps"])
def test_amass_frame_rate_spellings(tmp_path: Path, rate_key: str) -> None:
    _amass_spin_file(tmp_path / "s.npz", 40, 0.1, rate_key=rate_key)
    assert read_amass(tmp_path / "s.npz", fps=None).fps == 120.0
    assert read_amass(tmp_path / "s.npz").num_frames == 10


def test_amass_assembles_split_keys(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    T = 8
    parts = {"root_orient": rng.normal(size=(T, 3)), "pose_body": rng.normal(size=(T, 63)),
             "pose_jaw": rng.normal(size=(T, 3)), "pose_eye": rng.normal(size=(T, 6)),
             "pose_hand": rng.normal(size=(T, 90))}
    np.savez(tmp_path / "split.npz", trans=np.zeros((T, 3)), mocap_frame_rate=30.0, gender="male", **parts)
    m = read_motion(tmp_path / "split.npz")
    flat = m.flat_poses
    for key, sl in [("root_orient", slice(0, 3)), ("pose_body", slice(3, 66)), ("pose_jaw", slice(66, 69)),
                    ("pose_eye", slice(69, 75)), ("pose_hand", slice(75, 165))]:
        np.testing.assert_allclose(flat[:, sl], parts[key], atol=TOL)
    # hands / jaw / eyes are optional
    np.savez(tmp_path / "body.npz", trans=np.zeros((T, 3)), mocap_frame_rate=30.0,
             root_orient=parts["root_orient"], pose_body=parts["pose_body"])
    m = read_amass(tmp_path / "body.npz")
    assert not m.flat_poses[:, 66:].any()
    np.testing.assert_allclose(m.flat_poses[:, 3:66], parts["pose_body"], atol=TOL)


def test_amass_write_at_other_rate(tmp_path: Path) -> None:
    m = make_motion(T=10)
    out = write_amass(m, tmp_path / "a.npz", fps=60)
    with np.load(out) as f:
        assert float(f["mocap_frame_rate"]) == 60 and f["poses"].shape == (20, 165)
        assert float(f["mocap_time_length"]) == pytest.approx(20 / 60)
    r = read_amass(out, fps=None)
    np.testing.assert_allclose(r.poses[::2], m.poses, atol=1e-5)


# ---------------------------------------------------------------------------- AMUSE
def test_amuse_round_trip_unflattened(tmp_path: Path) -> None:
    m = make_motion(E=0, gender="female")
    out = write_amuse(m, tmp_path / "amuse.npz")
    with np.load(out, allow_pickle=False) as f:
        assert f["poses"].shape == (12, 55, 3) and "expressions" not in f.files
        assert f["betas"].shape == (300,) and float(f["mocap_frame_rate"]) == 30
    r = read_amuse(out, fps=None)
    np.testing.assert_allclose(r.poses, m.poses, atol=TOL)
    np.testing.assert_allclose(r.trans, m.trans, atol=TOL)
    assert r.num_expressions == 0 and r.gender == "female"
    with np.load(write_amuse(make_motion(E=0), tmp_path / "e.npz", with_expressions=True)) as f:
        assert f["expressions"].shape == (12, 100)


def test_amuse_file_as_amuse_writes_it(tmp_path: Path) -> None:
    T = 6
    path = tmp_path / "wayne_seq_0_motion_smplx.npz"
    np.savez(path, poses=np.full((T, 55, 3), 0.1), trans=np.zeros((T, 3)), gender=np.array("male", dtype="<U7"),
             betas=np.zeros(300), mocap_frame_rate=np.array(30, dtype="float64"))
    assert sniff_format(path) == "amuse"
    m = read_motion(path)
    assert m.num_frames == T and m.gender == "male" and np.allclose(m.poses, 0.1)


# ---------------------------------------------------------------------------- FLAME parameters
def _flame_file(path: Path, T: int = 26, E: int = 50, **extra: Any) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(2)
    data = {
        "exp": rng.normal(size=(T, E)),
        "jaw": spin(np.array([1.0, 0.0, 0.0]), 0.02 * np.arange(T)),
        "global_pose": spin(np.array([0.0, 1.0, 0.0]), 0.01 * np.arange(T)),
        "neck": np.tile([0.0, 0.0, 0.05], (T, 1)),
        "eyes": rng.normal(scale=0.05, size=(T, 6)),
        "shape": rng.normal(size=100),
        **extra,
    }
    if path.suffix == ".pkl":
        path.write_bytes(pickle.dumps(data, protocol=4))
    else:
        np.savez(path, **data)
    return data


def test_flame_params_25_to_30_fps(tmp_path: Path) -> None:
    d = _flame_file(tmp_path / "M003_angry_3_001.npz")
    m = read_flame_params(tmp_path / "M003_angry_3_001.npz")
    assert m.fps == 30 and m.num_frames == round(26 * 30 / 25)
    assert m.num_expressions == 100 and not m.expression[:, 50:].any()
    src_t = np.minimum(np.arange(m.num_frames) * 25 / 30, 25)
    assert geodesic(m.jaw.astype(np.float64), spin(np.array([1.0, 0, 0]), 0.02 * src_t)).max() < 1e-5
    assert geodesic(m.poses[:, NECK].astype(np.float64), spin(np.array([0, 1.0, 0]), 0.01 * src_t)).max() < 1e-5
    # linear expression: frame j samples source position src_t[j]
    i0 = np.floor(src_t).astype(int)
    i1 = np.minimum(i0 + 1, 25)
    w = (src_t - i0)[:, None]
    np.testing.assert_allclose(m.expression[:, :50], (1 - w) * d["exp"][i0] + w * d["exp"][i1], atol=1e-5)
    body = np.delete(np.arange(55), [NECK, HEAD_J, JAW, LEFT_EYE, RIGHT_EYE])
    assert not m.poses[:, body].any() and not m.trans.any()
    np.testing.assert_allclose(m.meta.extra["flame_shape"], d["shape"], atol=1e-6)
    keep = read_flame_params(tmp_path / "M003_angry_3_001.npz", fps=None)
    assert keep.fps == 25 and keep.num_frames == 26
    np.testing.assert_allclose(keep.poses[:, HEAD_J], d["neck"], atol=TOL)
    np.testing.assert_allclose(keep.poses[:, LEFT_EYE], d["eyes"][:, :3], atol=TOL)
    np.testing.assert_allclose(keep.poses[:, RIGHT_EYE], d["eyes"][:, 3:], atol=TOL)


def test_flame_params_global_pose_modes(tmp_path: Path) -> None:
    d = _flame_file(tmp_path / "f.npz")
    root = read_flame_params(tmp_path / "f.npz", fps=None, global_pose="root")
    np.testing.assert_allclose(root.poses[:, 0], d["global_pose"], atol=TOL)
    np.testing.assert_allclose(root.poses[:, NECK], d["neck"], atol=TOL)
    drop = read_flame_params(tmp_path / "f.npz", fps=None, global_pose="drop")
    assert not drop.poses[:, 0].any()
    with pytest.raises(ValueError):
        read_flame_params(tmp_path / "f.npz", global_pose="pelvis")  # type: ignore[arg-type]


@pytest.mark.parametrize("suffix", [".npz", ".pkl"])
def test_flame_params_round_trip(tmp_path: Path, suffix: str) -> None:
    d = _flame_file(tmp_path / f"src{suffix}", E=100)
    m = read_flame_params(tmp_path / f"src{suffix}", fps=None)
    m.meta.emotion = "angry"
    out = write_flame_params(m, tmp_path / f"out{suffix}", num_expressions=100)
    assert out.suffix == suffix
    r = read_flame_params(out, fps=None)
    np.testing.assert_allclose(r.poses, m.poses, atol=1e-5)
    np.testing.assert_allclose(r.expression, m.expression, atol=TOL)
    assert r.fps == 25 and r.meta.emotion == "angry"
    np.testing.assert_allclose(r.meta.extra["flame_shape"], d["shape"], atol=1e-6)


def test_flame_params_write_defaults_and_neck_chain(tmp_path: Path) -> None:
    m = make_motion(T=5, E=100)
    out = write_flame_params(m, tmp_path / "face.npz")
    with np.load(out, allow_pickle=False) as f:
        assert f["exp"].shape == (5, 50) and f["eyes"].shape == (5, 6) and f["shape"].shape == (100,)
        np.testing.assert_allclose(f["exp"], m.expression[:, :50], atol=TOL)
        np.testing.assert_allclose(f["jaw"], m.jaw, atol=TOL)
        np.testing.assert_allclose(f["neck"], m.poses[:, HEAD_J], atol=TOL)
        glob = f["global_pose"]
    chain = [0, 3, 6, 9, NECK]  # pelvis, spine1..3, neck
    world = np.eye(3)[None].repeat(5, 0)
    for j in chain:
        world = world @ rotvec_to_matrix(m.poses[:, j])
    assert np.abs(rotvec_to_matrix(glob) - world).max() < 1e-5
    np.testing.assert_allclose(neck_world_rotation(m.poses), glob, atol=TOL)


def test_flame_pickle_protocols_and_scalars(tmp_path: Path) -> None:
    T = 4
    data = {"exp": np.zeros((T, 50), np.float32), "jaw": np.zeros((T, 3)), "fps": np.float64(30.0)}
    for proto in (2, 4, 5):
        path = tmp_path / f"p{proto}.pkl"
        path.write_bytes(pickle.dumps(data, protocol=proto))
        m = read_motion(path, fps=None)
        assert m.fps == 30 and m.num_frames == T


class _Evil:
    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, ("touch pwned",))


def test_flame_pickle_restricted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"exp": _Evil(), "jaw": np.zeros((2, 3))}))
    assert_error(lambda: read_flame_params(path), path, None, "refusing to unpickle", "system")
    assert not (tmp_path / "pwned").exists()
    with pytest.raises(UnsafePickleError):
        safe_loads(pickle.dumps(io.BytesIO(b"x")))
    (tmp_path / "list.pkl").write_bytes(pickle.dumps([np.zeros(3)]))
    assert_error(lambda: read_flame_params(tmp_path / "list.pkl"), tmp_path / "list.pkl", None, "dict")
    (tmp_path / "junk.pkl").write_bytes(b"not a pickle at all")
    assert_error(lambda: read_flame_params(tmp_path / "junk.pkl"), tmp_path / "junk.pkl", None)


# ---------------------------------------------------------------------------- sniffing / registry
def test_read_motion_sniffs_every_flavour(tmp_path: Path) -> None:
    m = make_motion()
    expected = {}
    for name in FORMATS:
        path = write_npz(m, tmp_path / f"{name}.npz", format=name)
        expected[path] = name
    _amass_spin_file(tmp_path / "amass_real.npz", 40, 0.1)
    expected[tmp_path / "amass_real.npz"] = "amass"
    np.savez(tmp_path / "split.npz", root_orient=np.zeros((3, 3)), pose_body=np.zeros((3, 63)),
             trans=np.zeros((3, 3)), mocap_frame_rate=30.0)
    expected[tmp_path / "split.npz"] = "amass"
    _flame_file(tmp_path / "emote.pkl")
    expected[tmp_path / "emote.pkl"] = "flame_params"
    for path, name in expected.items():
        assert sniff_format(path) == name, path
        r = read_motion(path)
        assert r.fps == {"amass_real.npz": 120.0, "emote.pkl": 25.0}.get(path.name, 30.0)  # the file's own rate
        assert read_motion(path, fps=30.0).fps == 30.0
    assert read_motion(tmp_path / "amass_real.npz", fps=30.0).num_frames == 10
    assert read_motion(tmp_path / "beat2.npz", format="emage").num_frames == 12
    np.savez(tmp_path / "odd.npz", foo=np.zeros(3))
    assert_error(lambda: read_motion(tmp_path / "odd.npz"), tmp_path / "odd.npz", None, "foo", "format=")


def test_write_npz_picks_format(tmp_path: Path) -> None:
    m = make_motion()
    assert sniff_format(write_npz(m, tmp_path / "x.npz")) == "beat2"
    p = write_npz(m, tmp_path / "x.pkl")
    assert p.suffix == ".pkl" and sniff_format(p) == "flame_params"
    with pytest.raises(ValueError, match="unknown motion format"):
        write_npz(m, tmp_path / "y.npz", format="bvh")
    with pytest.raises(ValueError, match="unknown motion format"):
        read_motion(tmp_path / "x.npz", format="bvh")


# ---------------------------------------------------------------------------- bad input
def _valid(fmt: str, T: int = 10) -> dict[str, Any]:
    if fmt == "beat2":
        return {"poses": np.zeros((T, 165)), "trans": np.zeros((T, 3)), "betas": np.zeros(300),
                "expressions": np.zeros((T, 100)), "mocap_frame_rate": np.array(30.0), "gender": "neutral"}
    if fmt == "amass":
        return {"poses": np.zeros((T, 165)), "trans": np.zeros((T, 3)), "betas": np.zeros(16),
                "mocap_frame_rate": np.array(120.0), "gender": "male", "surface_model_type": "smplx"}
    if fmt == "amuse":
        return {"poses": np.zeros((T, 55, 3)), "trans": np.zeros((T, 3)), "betas": np.zeros(300),
                "mocap_frame_rate": np.array(30.0), "gender": "male"}
    return {"exp": np.zeros((T, 50)), "jaw": np.zeros((T, 3)), "global_pose": np.zeros((T, 3)),
            "shape": np.zeros(100), "fps": np.array(25.0)}


READERS = {"beat2": read_beat2, "amass": read_amass, "amuse": read_amuse, "flame_params": read_flame_params}
POSE_KEY = {"beat2": "poses", "amass": "poses", "amuse": "poses", "flame_params": "exp"}
RATE_KEY = {"beat2": "mocap_frame_rate", "amass": "mocap_frame_rate", "amuse": "mocap_frame_rate",
            "flame_params": "fps"}
SECOND_KEY = {"beat2": "trans", "amass": "trans", "amuse": "trans", "flame_params": "jaw"}


def _bad(fmt: str, case: str) -> tuple[dict[str, Any], str | None, tuple[str, ...]]:
    """A broken file for ``fmt``: (arrays, key named in the error, other words in it)."""
    d = _valid(fmt)
    pose, second, rate = POSE_KEY[fmt], SECOND_KEY[fmt], RATE_KEY[fmt]
    if case == "missing_key":
        del d[second]
        return d, second, ("missing",)
    if case == "wrong_shape" and fmt == "flame_params":
        d["jaw"] = np.zeros((10, 4))
        return d, "jaw", ("(10, 4)", "expected (T, 3)")
    if case == "wrong_shape":
        d[pose] = np.zeros((10, 160))
        return d, pose, ("(10, 160)", "expected (T, ")
    if case == "frames_disagree":
        d[second] = np.zeros((9, 3))
        return d, second, ("9 frames", "expected 10")
    if case == "nan":
        d[pose] = d[pose].copy()
        d[pose].flat[7] = np.nan
        return d, pose, ("NaN",)
    if case == "inf":
        d[second] = d[second].copy()
        d[second][3, 1] = np.inf
        return d, second, ("Inf",)
    if case == "zero_frames":
        d[pose] = np.zeros((0,) + d[pose].shape[1:])
        d[second] = np.zeros((0, 3))
        return d, pose, ("0 frames",)
    if case == "fps_zero":
        d[rate] = np.array(0.0)
        return d, rate, ("positive",)
    if case == "fps_negative":
        d[rate] = np.array(-30.0)
        return d, rate, ("positive",)
    if case == "text_poses":
        d[pose] = np.array(["a", "b"])
        return d, pose, ("expected numbers",)
    if case == "bad_meta":
        d["motion_meta"] = np.array('{"emotion": "bored"}')
        return d, "motion_meta", ("bored",)
    if case == "bad_json":
        d["motion_meta"] = np.array("{not json")
        return d, "motion_meta", ("JSON",)
    raise AssertionError(case)


CASES = ["missing_key", "wrong_shape", "frames_disagree", "nan", "inf", "zero_frames", "fps_zero",
         "fps_negative", "text_poses", "bad_meta", "bad_json"]


@pytest.mark.parametrize("fmt", list(READERS))
@pytest.mark.parametrize("case", CASES)
def test_bad_file_raises_with_file_and_key(tmp_path: Path, fmt: str, case: str) -> None:
    data, key, needles = _bad(fmt, case)
    path = tmp_path / f"bad_{fmt}_{case}.npz"
    np.savez(path, **data)
    assert_error(lambda: READERS[fmt](path), path, key, *needles)
    if case not in ("bad_meta", "bad_json"):  # also through the front door
        assert_error(lambda: read_motion(path, format=fmt), path, key, *needles)


@pytest.mark.parametrize("fmt", list(READERS))
def test_missing_and_non_npz_files(tmp_path: Path, fmt: str) -> None:
    missing = tmp_path / "nope.npz"
    assert_error(lambda: READERS[fmt](missing), missing, None, "not found")
    text = tmp_path / "notes.npz"
    text.write_text("hello")
    assert_error(lambda: READERS[fmt](text), text, None, "not an .npz")
    npy = tmp_path / "single.npz"
    with open(npy, "wb") as f:
        np.save(f, np.zeros(3))
    assert_error(lambda: READERS[fmt](npy), npy, None, "not an .npz")
    assert_error(lambda: read_motion(missing), missing, None, "not found")


@pytest.mark.parametrize("fmt", list(READERS))
def test_object_array_rejected(tmp_path: Path, fmt: str) -> None:
    d = _valid(fmt)
    pose = POSE_KEY[fmt]
    obj = np.empty(d[pose].shape[:1], dtype=object)
    obj[:] = [row for row in d[pose]]
    d[pose] = obj
    path = tmp_path / "objects.npz"
    np.savez(path, **d)
    assert_error(lambda: READERS[fmt](path), path, pose, "object array")


@pytest.mark.parametrize("fmt", list(READERS))
def test_requested_fps_must_be_positive(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "ok.npz"
    np.savez(path, **_valid(fmt))
    assert_error(lambda: READERS[fmt](path, fps=0), path, None, "positive")


def test_format_specific_errors(tmp_path: Path) -> None:
    d = _valid("amass")
    d["surface_model_type"] = "smplh"
    np.savez(tmp_path / "h.npz", **d)
    assert_error(lambda: read_amass(tmp_path / "h.npz"), tmp_path / "h.npz", "surface_model_type", "'smplx'")
    d = _valid("amass")
    d["poses"] = np.zeros((10, 156))
    np.savez(tmp_path / "h2.npz", **d)
    assert_error(lambda: read_amass(tmp_path / "h2.npz"), tmp_path / "h2.npz", "poses", "SMPL+H")
    d = _valid("amass")
    del d["mocap_frame_rate"]
    np.savez(tmp_path / "norate.npz", **d)
    assert_error(lambda: read_amass(tmp_path / "norate.npz"), tmp_path / "norate.npz", None, "mocap_framerate")
    d = _valid("amass")
    d["root_orient"] = np.zeros((11, 3))
    np.savez(tmp_path / "split_bad.npz", **d)
    assert_error(lambda: read_amass(tmp_path / "split_bad.npz"), tmp_path / "split_bad.npz", "root_orient", "11 frames")
    d = _valid("beat2")
    d["gender"] = "robot"
    np.savez(tmp_path / "g.npz", **d)
    assert_error(lambda: read_beat2(tmp_path / "g.npz"), tmp_path / "g.npz", "gender", "robot")
    d = _valid("amuse")
    d["poses"] = np.zeros((10, 165))
    np.savez(tmp_path / "flat.npz", **d)
    assert_error(lambda: read_amuse(tmp_path / "flat.npz"), tmp_path / "flat.npz", "poses", "(T, 55, 3)")


# ---------------------------------------------------------------------------- atomic writes
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_nan_motion_writes_nothing(tmp_path: Path, fmt: str) -> None:
    m = make_motion()
    m.poses[3, 4, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        write_npz(m, tmp_path / "out.npz", format=fmt)
    assert os.listdir(tmp_path) == []


def test_failed_write_keeps_old_file_and_leaves_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = write_beat2(make_motion(seed=1), tmp_path / "keep.npz")
    before = target.read_bytes()

    def broken_savez(file: Any, **arrays: Any) -> None:
        file.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        write_beat2(make_motion(seed=2), target)
    assert os.listdir(tmp_path) == ["keep.npz"] and target.read_bytes() == before
