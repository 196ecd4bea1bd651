"""Body models: stand-in generator, safe loading through smplx, FK, expressions, regions."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
smplx = pytest.importorskip("smplx")

from motion.bodymodels import (  # noqa: E402
    EXPRESSION_NAMES, ModelFormatError, ModelNotFoundError, expression_index, face_regions, flame_forward,
    forward_kinematics, load_body_model, load_face_model, standin_models_dir,
)
from motion.bodymodels.regions import derive_regions_from_landmarks  # noqa: E402
from motion.bodymodels.safe_pickle import load_object_npy, loads  # noqa: E402
from motion.bodymodels.standin import standin_version, write_standin  # noqa: E402
from motion.types import JOINT_INDEX as J  # noqa: E402
from motion.types import PARENTS  # noqa: E402

# iBUG-68 landmark k is static landmark k - 17
R_UP, R_LO = [37 - 17, 38 - 17], [41 - 17, 40 - 17]
L_UP, L_LO = [43 - 17, 44 - 17], [47 - 17, 46 - 17]
LIP_IN_UP, LIP_IN_LO, CORNERS = 62 - 17, 66 - 17, [48 - 17, 54 - 17]


@pytest.fixture(scope="session")
def cache(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("motion-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MOTION_CACHE_DIR", str(root))
        mp.delenv("MOTION_MODELS_DIR", raising=False)
        yield root


@pytest.fixture(scope="session")
def standin(cache: Path) -> Path:
    return standin_models_dir()


@pytest.fixture(scope="session")
def body(standin: Path):
    return load_body_model()


@pytest.fixture(scope="session")
def face(standin: Path):
    return load_face_model()


def _zeros(n: int, *shape: int, grad: bool = False) -> torch.Tensor:
    return torch.zeros(n, *shape, requires_grad=grad)


def test_cache_layout_and_version(cache: Path, standin: Path) -> None:
    assert standin == cache / "standin" / standin_version()
    for rel in ("smplx/SMPLX_NEUTRAL.npz", "smplx/SMPL-X__FLAME_vertex_ids.npy", "flame/FLAME_NEUTRAL.pkl",
                "flame/flame_static_embedding.pkl", "flame/flame_dynamic_embedding.npy", "flame/FLAME_masks.pkl"):
        assert (standin / rel).is_file(), rel
    mtime = (standin / "smplx/SMPLX_NEUTRAL.npz").stat().st_mtime_ns
    assert standin_models_dir() == standin  # cached, not regenerated
    assert (standin / "smplx/SMPLX_NEUTRAL.npz").stat().st_mtime_ns == mtime
    assert not [p for p in (cache / "standin").iterdir() if p.name.startswith(".tmp")]


def test_mesh_is_closed_except_neck_ring_and_face_openings(standin: Path) -> None:
    from motion.bodymodels.standin.mesh_primitives import signed_volume

    z = np.load(standin / "smplx" / "SMPLX_NEUTRAL.npz")
    v, f = z["v_template"], z["f"].astype(np.int64)
    assert v.shape == (10475, 3) and 19000 < len(f) < 23000 and f.dtype == np.int64
    edges = np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), axis=1)
    uniq, count = np.unique(edges, axis=0, return_counts=True)
    assert set(count) <= {1, 2}
    ends = v[uniq[count == 1]].reshape(-1, 3)
    neck = ends[:, 1] < 0.45  # the head's neck ring, deep inside the torso
    assert 60 < neck.sum() < 250
    assert (ends[~neck, 2] > 0.06).all() and 20 < (~neck).sum() < 150  # eye and mouth slits
    assert signed_volume(v, f) > 0.03  # outward normals (a 1.7 m body is ~0.06 m^3)
    assert len(np.unique(f)) == len(v)  # every vertex is used
    assert np.allclose(z["weights"].sum(1), 1.0) and (z["weights"] >= 0).all()
    assert np.allclose(z["J_regressor"].sum(1), 1.0) and (z["J_regressor"] >= 0).all()
    assert np.array_equal(z["kintree_table"][0], np.array(PARENTS))


def test_raw_smplx_create_forward_backward(standin: Path) -> None:
    model = smplx.create(str(standin), model_type="smplx", ext="npz", use_pca=False, num_betas=300,
                         num_expression_coeffs=100)
    betas, expr, pose = _zeros(1, 300, grad=True), _zeros(1, 100, grad=True), _zeros(1, 63, grad=True)
    out = model(betas=betas, expression=expr, body_pose=(pose + 0.1))
    assert out.vertices.shape == (1, 10475, 3) and out.joints.shape == (1, 127, 3)
    (out.vertices.square().sum() + out.joints.square().sum()).backward()
    for p in (betas, expr, pose):
        assert p.grad is not None and p.grad.abs().sum() > 0
    contour = smplx.create(str(standin), model_type="smplx", ext="npz", use_face_contour=True, num_betas=10)
    assert contour().joints.shape == (1, 144, 3)


@pytest.mark.parametrize("contour", [False, True])
def test_raw_flame_create_forward_backward(standin: Path, contour: bool) -> None:
    model = smplx.create(str(standin), model_type="flame", use_face_contour=contour, num_betas=100,
                         num_expression_coeffs=100)
    betas, expr, jaw = _zeros(1, 100, grad=True), _zeros(1, 100, grad=True), _zeros(1, 3, grad=True)
    out = model(betas=betas, expression=expr, jaw_pose=jaw + 0.1)
    assert out.vertices.shape == (1, 5023, 3) and out.joints.shape == (1, 5 + 51 + 17 * contour, 3)
    out.vertices.square().sum().backward()
    for p in (betas, expr, jaw):
        assert p.grad.abs().sum() > 0


def test_human_proportions(body) -> None:
    out = forward_kinematics(body, np.zeros((1, 55, 3), np.float32))
    j, v, kp = out.joints[0].numpy(), out.vertices[0].numpy(), out.keypoints[0].numpy()
    height = v[:, 1].max() - v[:, 1].min()
    assert 1.6 < height < 1.8
    assert 0.5 < j[J["head"], 1] - j[J["pelvis"], 1] < 0.7
    span = np.abs(v[:, 0]).max() * 2
    assert 0.95 < span / height < 1.08
    for side in ("left", "right"):
        assert j[J[f"{side}_hip"], 1] > j[J[f"{side}_knee"], 1] + 0.3 > j[J[f"{side}_ankle"], 1] + 0.6
        assert abs(j[J[f"{side}_elbow"], 0]) > abs(j[J[f"{side}_shoulder"], 0]) + 0.2
    assert np.allclose(j[J["left_wrist"]] * [-1, 1, 1], j[J["right_wrist"]], atol=1e-4)
    assert j[J["left_eye_smplhf"], 1] > j[J["jaw"], 1] > j[J["neck"], 1]
    # smplx's vertex keypoints (nose, eyes, ears, toes, heels, finger tips) sit where they should
    names = ["nose", "reye", "leye", "rear", "lear", "LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel",
             "lthumb", "lindex", "lmiddle", "lring", "lpinky", "rthumb", "rindex", "rmiddle", "rring", "rpinky"]
    k = dict(zip(names, kp[:21]))
    head = v[v[:, 1] > 0.52]
    assert k["nose"][2] == pytest.approx(head[:, 2].max())
    assert k["leye"][0] > 0.02 and k["reye"][0] < -0.02 and k["nose"][1] < k["leye"][1]
    assert k["lear"][0] > 0.07 and k["rear"][0] < -0.07
    assert k["LHeel"][2] < -0.05 and k["LBigToe"][2] > 0.15 and k["LHeel"][1] < -0.93
    assert k["lmiddle"][0] == pytest.approx(v[:, 0].max(), abs=3e-3) and k["rmiddle"][0] == pytest.approx(v[:, 0].min(), abs=3e-3)
    assert k["lthumb"][2] > k["lindex"][2] > k["lmiddle"][2] > k["lring"][2] > k["lpinky"][2]


def test_jaw_opens_mouth_and_eyes_rotate(face) -> None:
    e = np.zeros((2, 100), np.float32)
    out = flame_forward(face, e, jaw=np.array([[0, 0, 0], [0.3, 0, 0]], np.float32),
                        eyes=np.array([[0] * 6, [0, 0.4, 0, 0, 0.4, 0]], np.float32))
    lm = out.landmarks.numpy()
    gap = lm[:, LIP_IN_UP, 1] - lm[:, LIP_IN_LO, 1]
    assert abs(gap[0]) < 1e-3 and gap[1] > 0.012
    assert lm[1, LIP_IN_LO, 1] < lm[0, LIP_IN_LO, 1] - 0.01
    assert abs(lm[1, LIP_IN_UP, 1] - lm[0, LIP_IN_UP, 1]) < 1e-4
    regions = face_regions().flame
    pupil_shift = out.vertices[1, regions["left_eyeball"], 0] - out.vertices[0, regions["left_eyeball"], 0]
    assert pupil_shift.abs().max() > 0.003
    assert (out.vertices[1, regions["forehead"]] - out.vertices[0, regions["forehead"]]).abs().max() < 1e-6


def test_blink_closes_eyelids(face) -> None:
    e = np.zeros((3, 100), np.float32)
    e[1, expression_index("blink_left")] = 1.0
    e[2, expression_index("blink_right")] = 1.0
    lm = flame_forward(face, e).landmarks.numpy()
    opening = lambda up, lo: np.linalg.norm(lm[:, up] - lm[:, lo], axis=2).max(1)  # noqa: E731
    left, right = opening(L_UP, L_LO), opening(R_UP, R_LO)
    assert left[0] > 0.006 and right[0] > 0.006
    assert left[1] < 2e-4 and right[1] == pytest.approx(right[0], abs=1e-6)
    assert right[2] < 2e-4 and left[2] == pytest.approx(left[0], abs=1e-6)


def test_semantic_expressions(face) -> None:
    assert len(EXPRESSION_NAMES) >= 20 and len(set(EXPRESSION_NAMES)) == len(EXPRESSION_NAMES)
    assert EXPRESSION_NAMES[expression_index("smile")] == "smile"
    with pytest.raises(ValueError, match="unknown expression"):
        expression_index("grin")
    e = np.zeros((len(EXPRESSION_NAMES) + 1, 100), np.float32)
    for k in range(len(EXPRESSION_NAMES)):
        e[k + 1, k] = 1.0
    out = flame_forward(face, e)
    disp = (out.vertices[1:] - out.vertices[:1]).norm(dim=2).amax(1).numpy()
    assert (disp > 0.002).all() and (disp < 0.015).all(), dict(zip(EXPRESSION_NAMES, disp))
    lm = out.landmarks.numpy()
    smile = 1 + expression_index("smile")
    assert (lm[smile, CORNERS, 1] - lm[0, CORNERS, 1] > 0.003).all()
    frown = 1 + expression_index("frown")
    assert (lm[frown, CORNERS, 1] - lm[0, CORNERS, 1] < -0.003).all()
    brow = 1 + expression_index("brow_inner_up")
    assert (lm[brow, 3:7, 1] - lm[0, 3:7, 1] > 0.002).all()


def test_expression_matches_between_smplx_and_flame(standin: Path, body, face) -> None:
    ids = np.load(standin / "smplx" / "SMPL-X__FLAME_vertex_ids.npy")
    assert ids.shape == (5023,) and len(np.unique(ids)) == 5023
    e = torch.randn(3, 100, generator=torch.Generator().manual_seed(0))
    zero = np.zeros((3, 55, 3), np.float32)
    sx = forward_kinematics(body, zero, expression=e)
    sx0 = forward_kinematics(body, zero)
    fl, fl0 = flame_forward(face, e), flame_forward(face, torch.zeros(3, 100))
    d_smplx = (sx.vertices - sx0.vertices)[:, ids]
    assert d_smplx.abs().max() > 0.005
    torch.testing.assert_close(d_smplx, fl.vertices - fl0.vertices, atol=1e-6, rtol=0)
    torch.testing.assert_close(sx.joints, sx0.joints, atol=1e-6, rtol=0)  # expressions never move joints
    rest = torch.as_tensor(np.setdiff1d(np.arange(10475), ids))
    assert (sx.vertices - sx0.vertices)[:, rest].abs().max() == 0


def test_forward_kinematics_batching_and_layer(body, standin: Path) -> None:
    rng = np.random.default_rng(0)
    T = 37
    poses = (0.3 * rng.standard_normal((T, 55, 3))).astype(np.float32)
    trans, betas = rng.standard_normal((T, 3)).astype(np.float32), rng.standard_normal(300).astype(np.float32)
    expr = rng.standard_normal((T, 100)).astype(np.float32)
    a = forward_kinematics(body, poses, trans, betas, expr, batch=10)
    assert a.joints.shape == (T, 55, 3) and a.vertices.shape == (T, 10475, 3) and a.joints.dtype == torch.float32
    b = forward_kinematics(load_body_model(layer=True), poses, trans, betas[:16], expr, batch=64)  # betas zero-padded
    small = forward_kinematics(body, poses[:1], trans[:1], np.pad(betas[:16], (0, 284)), expr[:1])
    torch.testing.assert_close(b.vertices[:1], small.vertices, atol=1e-5, rtol=0)
    c = forward_kinematics(body, poses, trans, betas, expr, batch=64)
    torch.testing.assert_close(a.vertices, c.vertices, atol=1e-5, rtol=0)
    female = forward_kinematics(load_body_model(gender="female"), poses[:1])  # the stand-in is neutral only
    torch.testing.assert_close(female.vertices, forward_kinematics(body, poses[:1]).vertices)
    p = torch.as_tensor(poses[:2]).requires_grad_()
    forward_kinematics(body, p, return_vertices=False).joints.sum().backward()
    assert p.grad.abs().sum() > 0
    tall = forward_kinematics(body, poses[:1] * 0, betas=np.eye(300, dtype=np.float32)[0] * 2)
    base = forward_kinematics(body, poses[:1] * 0)
    h = lambda o: float(o.vertices[0, :, 1].max() - o.vertices[0, :, 1].min())  # noqa: E731
    assert h(tall) / h(base) == pytest.approx(1.12, abs=0.01)


def test_missing_models_raise(tmp_path: Path, cache: Path) -> None:
    with pytest.raises(ModelNotFoundError) as err:
        load_body_model(tmp_path)
    msg = str(err.value)
    assert "SMPLX_NEUTRAL.npz" in msg and str(tmp_path / "smplx") in msg
    assert "smpl-x.is.tue.mpg.de" in msg and "stand-in" in msg
    assert isinstance(err.value, FileNotFoundError)
    with pytest.raises(ModelNotFoundError, match=r"FLAME_MALE\.pkl.*male_model\.pkl.*flame\.is\.tue\.mpg\.de"):
        load_face_model(tmp_path, gender="male")
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        load_body_model(tmp_path / "nowhere")
    from motion.bodymodels.paths import describe_models_dir

    text, ok = describe_models_dir(tmp_path)
    assert not ok and "MISSING" in text and "SMPLX_NEUTRAL.npz" in text
    text, ok = describe_models_dir()
    assert ok and "stand-in" in text


def _copy_with(standin: Path, dst: Path, **changes: object) -> Path:
    src = np.load(standin / "smplx" / "SMPLX_NEUTRAL.npz")
    arrays = {k: src[k] for k in src.files}
    for k, v in changes.items():
        if v is None:
            del arrays[k]
        else:
            arrays[k] = v
    (dst / "smplx").mkdir(parents=True)
    np.savez(dst / "smplx" / "SMPLX_NEUTRAL.npz", **arrays)
    return dst


def test_bad_npz_gives_clear_error(tmp_path: Path, standin: Path) -> None:
    bad = _copy_with(standin, tmp_path / "a", posedirs=np.zeros((10475, 3, 10), np.float32))
    with pytest.raises(ModelFormatError, match=r"'posedirs' has shape \(10475, 3, 10\), expected \(V=10475, 3, 486\)"):
        load_body_model(bad)
    bad = _copy_with(standin, tmp_path / "b", J_regressor=None)
    with pytest.raises(ModelFormatError, match=r"missing key 'J_regressor'.*\(55, V=10475\)"):
        load_body_model(bad)
    no_contour = _copy_with(standin, tmp_path / "c", dynamic_lmk_faces_idx=None, dynamic_lmk_bary_coords=None)
    assert load_body_model(no_contour, num_betas=10)().joints.shape == (1, 127, 3)  # the keys are optional
    with pytest.raises(ModelFormatError, match="use_face_contour needs the keys 'dynamic_lmk_faces_idx'"):
        load_body_model(no_contour, use_face_contour=True)


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def test_npz_with_object_arrays_is_rejected(tmp_path: Path, standin: Path) -> None:
    marker = tmp_path / "pwned"
    obj = np.empty(1, dtype=object)
    obj[0] = _Payload(marker)
    bad = _copy_with(standin, tmp_path / "m", v_template=obj)
    with pytest.raises(ModelFormatError, match="'v_template' holds pickled Python objects"):
        load_body_model(bad)
    assert not marker.exists()


class _FakeCh:
    """Pickles like a chumpy array: class chumpy.ch.Ch, value in state['x']."""

    def __init__(self, x: np.ndarray) -> None:
        self.x = x
        self._dirty_vars = set()


def test_restricted_unpickler_maps_chumpy_and_sparse(monkeypatch: pytest.MonkeyPatch) -> None:
    import scipy.sparse as sp
    import types

    fake = types.ModuleType("chumpy.ch")
    _FakeCh.__module__, _FakeCh.__qualname__ = "chumpy.ch", "Ch"
    fake.Ch = _FakeCh
    monkeypatch.setitem(sys.modules, "chumpy", types.ModuleType("chumpy"))
    monkeypatch.setitem(sys.modules, "chumpy.ch", fake)
    v = np.arange(12.0).reshape(4, 3)
    reg = sp.csc_matrix(np.array([[0.5, 0.5, 0, 0], [0, 0, 1.0, 0]]))
    data = pickle.dumps({"v_template": _FakeCh(v), "J_regressor": reg, "nested": [_FakeCh(v[:1])]}, protocol=2)
    monkeypatch.delitem(sys.modules, "chumpy.ch")
    monkeypatch.delitem(sys.modules, "chumpy")
    assert b"chumpy.ch" in data and b"scipy.sparse" in data
    out = loads(data)
    assert isinstance(out["v_template"], np.ndarray) and np.array_equal(out["v_template"], v)
    assert np.array_equal(out["J_regressor"], reg.toarray())
    assert np.array_equal(out["nested"][0], v[:1])
    assert "chumpy" not in sys.modules


def test_restricted_unpickler_refuses_code(tmp_path: Path) -> None:
    evil = b"cos\nsystem\n(S'touch " + str(tmp_path / "pwned").encode() + b"'\ntR."
    with pytest.raises(pickle.UnpicklingError, match=r"forbidden global.*os\.system"):
        loads(evil)
    with pytest.raises(pickle.UnpicklingError, match="forbidden global"):
        loads(pickle.dumps({"x": _Payload(tmp_path / "pwned2")}, protocol=2))
    npy = tmp_path / "evil.npy"
    arr = np.empty((), dtype=object)
    arr[()] = {"lmk_face_idx": _Payload(tmp_path / "pwned3")}
    np.save(npy, arr, allow_pickle=True)
    with pytest.raises(pickle.UnpicklingError, match="forbidden global"):
        load_object_npy(npy)
    assert not any((tmp_path / n).exists() for n in ("pwned", "pwned2", "pwned3"))


def test_generation_is_deterministic(tmp_path: Path, standin: Path) -> None:
    again = write_standin(tmp_path / "again")
    for f in sorted(p for p in standin.rglob("*") if p.is_file()):
        assert f.read_bytes() == (again / f.relative_to(standin)).read_bytes(), f


def test_face_regions(standin: Path) -> None:
    r = face_regions()
    assert r.source == "FLAME_masks.pkl"
    lips, upper = r.ids("lips"), r.ids("upper_face")
    assert 100 < len(lips) < 600 and 200 < len(upper) < 1500 and not np.intersect1d(lips, upper).size
    ids = np.load(standin / "smplx" / "SMPL-X__FLAME_vertex_ids.npy")
    assert np.array_equal(r.ids("lips", "smplx"), ids[lips])
    flame = np.load(next((Path(os.environ["MOTION_CACHE_DIR"]) / "sanitized").glob("flame-*")) / "flame" / "FLAME_NEUTRAL.npz")
    emb = pickle.loads((standin / "flame" / "flame_static_embedding.pkl").read_bytes())
    derived = derive_regions_from_landmarks(flame["v_template"], flame["f"], emb["lmk_face_idx"], emb["lmk_b_coords"])
    iou = len(np.intersect1d(derived["lips"], lips)) / len(np.union1d(derived["lips"], lips))
    assert iou > 0.5
    v = flame["v_template"]
    assert v[derived["upper_face"], 1].min() > v[lips, 1].max()


def test_package_import_is_light() -> None:
    code = ("import sys, motion.bodymodels as b; b.EXPRESSION_NAMES; b.expression_index('smile'); "
            "import motion.bodymodels.paths, motion.render; "
            "heavy = [m for m in ('torch', 'smplx', 'scipy', 'pyrender') if m in sys.modules]; assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1])


def test_tampered_model_cache_is_rebuilt_not_run(tmp_path: Path, standin: Path) -> None:
    """A sanitised cache entry replaced with a pickled payload is never handed to smplx: it is
    checked through the safe readers on every use and written again from the user's file."""
    from motion.bodymodels import load_body_model, load_face_model

    load_body_model()
    load_face_model()
    sanitized = Path(os.environ["MOTION_CACHE_DIR"]) / "sanitized"
    evil = np.empty((), dtype=object)
    evil[()] = _Payload(tmp_path / "pwned_npz")
    good = {}
    for body_npz in sanitized.glob("smplx-*/smplx/SMPLX_NEUTRAL.npz"):  # every entry (other tests add some)
        good[body_npz] = dict(np.load(body_npz))
        np.savez(body_npz, **{**good[body_npz], "v_template": evil})
    for emb in sanitized.glob("flame-*/flame/flame_static_embedding.pkl"):
        emb.write_bytes(pickle.dumps({"lmk_face_idx": _Payload(tmp_path / "pwned_pkl")}, protocol=2))
    assert good
    model, flame = load_body_model(), load_face_model()
    assert not (tmp_path / "pwned_npz").exists() and not (tmp_path / "pwned_pkl").exists()
    assert model.v_template.shape[1] == 3 and flame.v_template.shape[1] == 3

    def plain(f: Path) -> bool:
        try:
            return np.array_equal(np.load(f)["v_template"], good[f]["v_template"])
        except ValueError:  # still the payload: an entry no load used
            return False

    assert any(plain(f) for f in good if f.is_file())  # the entry in use was written again from the user's file
