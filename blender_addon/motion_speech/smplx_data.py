"""Motion files and the SMPL-X model file, read with numpy only (no ``bpy``, no toolkit).

Motion ``.npz`` flavours (``allow_pickle=False``; the same rules as the toolkit's
``motion.data.formats.sniff_format``):

=============  ==============================================================================
BEAT2 / EMAGE  ``poses`` (T, 165), ``trans`` (T, 3), ``betas``, ``expressions`` (T, E),
               ``mocap_frame_rate`` (default 30)
AMASS          ``poses`` (T, 165) or the split keys ``root_orient`` / ``pose_body`` /
               ``pose_hand`` / ``pose_jaw`` / ``pose_eye``; ``trans``; rate from
               ``mocap_frame_rate`` / ``mocap_framerate`` / ``fps`` (required)
AMUSE          ``poses`` (T, 55, 3), ``trans``, ``betas``, rate (default 30), no ``expressions``
FLAME params   ``exp`` (T, E), ``jaw`` (T, 3), optional ``global_pose`` (-> SMPL-X neck),
               ``neck`` (-> head), ``eyes`` (T, 6); ``fps`` (default 25); body at rest
=============  ==============================================================================

The up axis of the data is told from the motion itself: SMPL-X's body axis is +Y, so the
root rotation maps +Y onto the world's up; when that is nearer +Z than +Y (AMASS
captures) the data is Z up.

The SMPL-X model file is the ``SMPLX_<GENDER>.npz`` that ``smplx.create`` reads (the real
one or the toolkit's stand-in), shaped and posed as ``smplx`` does it with
``num_betas=300, num_expression_coeffs=100, flat_hand_mean=False``.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import floor, resample, rig  # copies of motion/export/floor.py, motion/resample.py and
#                                   motion/export/blender_rig.py (build.py)

RATE_KEYS: tuple[str, ...] = ("mocap_frame_rate", "mocap_framerate", "fps")
AMASS_KEYS = frozenset({"surface_model_type", "mocap_framerate", "mocap_time_length", "num_betas",
                        "root_orient", "pose_body"})
#: (key, first, last) of the flat 165-value pose vector filled by AMASS's split keys.
AMASS_SPLIT: tuple[tuple[str, int, int], ...] = (
    ("root_orient", 0, 3), ("pose_body", 3, 66), ("pose_jaw", 66, 69), ("pose_eye", 69, 75), ("pose_hand", 75, 165),
)
#: Expression shape keys built by default (as the toolkit's exporters).
DEFAULT_SHAPE_KEYS = 50
#: Skinning weights below this are dropped (as the toolkit's FBX exporter).
MIN_WEIGHT = 1e-4
SHAPE_SPACE_DIM, EXPRESSION_SPACE_DIM = 300, 100
GENDERS = ("neutral", "male", "female")


class MotionFileError(ValueError):
    """A motion file that cannot be read; the message names the file and the problem."""


class ModelFileError(ValueError):
    """An SMPL-X model file that cannot be used; the message names the file and the problem."""


@dataclass
class MotionData:
    """One motion in SMPL-X terms.

    Attributes:
        poses: ``(T, 55, 3)`` axis-angle, radians.
        trans: ``(T, 3)`` root translation, metres.
        betas: ``(B,)`` body shape.
        expression: ``(T, E)`` expression coefficients (E may be 0).
        fps: frame rate.
        gender: ``neutral`` / ``male`` / ``female``.
        flavour: ``beat2`` / ``amass`` / ``amuse`` / ``flame_params``.
        up_axis: ``Y`` (SMPL-X) or ``Z`` (AMASS captures), told from the root rotation.
        meta: the toolkit's ``motion_meta`` (emotion, audio, ...) when the file has it.
        path: the file.
    """

    poses: np.ndarray
    trans: np.ndarray
    betas: np.ndarray
    expression: np.ndarray
    fps: float
    gender: str = "neutral"
    flavour: str = "beat2"
    up_axis: str = "Y"
    meta: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def num_frames(self) -> int:
        """Number of frames T."""
        return int(self.poses.shape[0])

    def recorded_audio(self) -> Path | None:
        """The audio file the motion records (toolkit files: ``meta['audio']``, tried as
        given and relative to the file's folder and the folder above), if it exists."""
        rec = self.meta.get("audio")
        if not rec or self.path is None:
            return None
        for cand in (Path(rec), self.path.parent / rec, self.path.parent.parent / rec):
            if cand.is_file():
                return cand.resolve()
        return None

    def resampled(self, fps: float) -> MotionData:
        """This motion at ``fps``: the toolkit's own resampling (``motion.resample``: slerp on
        rotations, linear on translation and expression; ``round(T * fps / self.fps)`` frames,
        the duration kept)."""
        if abs(float(fps) - self.fps) < 1e-9:
            return self
        poses, trans, expr = resample.resample_channels(self.poses, self.trans, self.expression, self.fps, float(fps))
        return MotionData(poses=poses, trans=trans, betas=self.betas,
                          expression=expr, fps=float(fps), gender=self.gender, flavour=self.flavour,
                          up_axis=self.up_axis, meta=self.meta, path=self.path)


def _rotate_y(aa: np.ndarray) -> np.ndarray:
    """Rotate +Y by the ``(T, 3)`` axis-angle rotations (Rodrigues), ``(T, 3)``."""
    theta = np.linalg.norm(aa, axis=-1, keepdims=True)
    k = np.divide(aa, theta, out=np.zeros_like(aa), where=theta > 1e-12)
    v = np.array([0.0, 1.0, 0.0])
    return (v * np.cos(theta) + np.cross(k, v) * np.sin(theta)
            + k * (k @ v)[:, None] * (1.0 - np.cos(theta)))


def up_axis(root_orient: np.ndarray) -> str:
    """``"Z"`` when the root rotations turn the body's +Y nearer the world's +Z than +Y, else ``"Y"``."""
    up = _rotate_y(np.asarray(root_orient, np.float64)).mean(0)
    return "Z" if up[2] > up[1] else "Y"


class _Npz:
    """Checked access to an ``.npz`` (``allow_pickle=False``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.is_file():
            raise MotionFileError(f"motion file not found: {path}")
        if path.suffix.lower() in (".pkl", ".pickle"):
            raise MotionFileError(f"{path.name}: pickle files are not read inside Blender (unsafe); convert it "
                                  f"with the toolkit: motion export {path.name} clip.npz")
        try:
            self.z = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:  # not an npz
            raise MotionFileError(f"{path.name}: not a readable .npz file ({exc})") from None
        if not hasattr(self.z, "files"):
            raise MotionFileError(f"{path.name}: holds a single array, not an .npz archive of named arrays")
        self.keys = set(self.z.files)
        self.frames: int | None = None

    def error(self, msg: str) -> MotionFileError:
        return MotionFileError(f"{self.path.name}: {msg}")

    def raw(self, key: str) -> np.ndarray:
        if key not in self.keys:
            raise self.error(f"key {key!r} is missing (keys: {', '.join(sorted(self.keys)) or 'none'})")
        try:
            return self.z[key]
        except ValueError as exc:  # object arrays need pickle
            raise self.error(f"key {key!r} holds Python objects, which are not read (allow_pickle=False): {exc}")

    def array(self, key: str, shape: tuple[int | str, ...]) -> np.ndarray:
        """A finite float array of ``shape`` (``"T"`` = frames, shared across keys; ``"*"`` = any)."""
        a = self.raw(key)
        if a.dtype.kind not in "fiu" or a.ndim != len(shape):
            raise self.error(f"key {key!r} has shape {a.shape} ({a.dtype}); expected {shape}")
        for n, want in zip(a.shape, shape):
            if want == "T":
                if self.frames is None:
                    self.frames = n
                elif n != self.frames:
                    raise self.error(f"key {key!r} has {n} frames; other keys have {self.frames}")
            elif want != "*" and n != want:
                raise self.error(f"key {key!r} has shape {a.shape}; expected {shape}")
        a = a.astype(np.float64)
        if not np.isfinite(a).all():
            raise self.error(f"key {key!r} holds NaN or Inf")
        return a

    def text(self, key: str, default: str) -> str:
        if key not in self.keys:
            return default
        a = self.raw(key)
        return str(a.item() if a.ndim == 0 else a.reshape(-1)[0]) if a.size else default

    def rate(self, default: float | None) -> float:
        for key in RATE_KEYS:
            if key in self.keys:
                a = self.raw(key)
                try:
                    fps = float(np.asarray(a, np.float64).reshape(-1)[0])
                except (TypeError, ValueError, IndexError):
                    raise self.error(f"key {key!r} is not a number") from None
                if not np.isfinite(fps) or fps <= 0:
                    raise self.error(f"frame rate {key!r} is {fps:g}; expected > 0")
                return fps
        if default is None:
            raise self.error(f"no frame rate: expected one of {', '.join(RATE_KEYS)}")
        return default

    def meta(self) -> dict[str, Any]:
        if "motion_meta" not in self.keys:
            return {}
        try:
            out = json.loads(self.text("motion_meta", "{}"))
        except json.JSONDecodeError:
            return {}
        return out if isinstance(out, dict) else {}

    def gender(self) -> str:
        g = self.text("gender", "neutral").strip().lower()
        return g if g in GENDERS else "neutral"


def sniff(keys: set[str], poses_ndim: int | None) -> str:
    """The flavour of an npz with ``keys`` (``poses_ndim``: dimensions of ``poses``, if any)."""
    if "exp" in keys and "poses" not in keys:
        return "flame_params"
    if poses_ndim == 3:
        return "amuse"
    if keys & AMASS_KEYS:
        return "amass"
    if "poses" in keys:
        return "beat2"
    raise MotionFileError("keys that fit no known flavour; expected 'poses' (BEAT2 / AMASS / AMUSE), AMASS "
                          "split keys ('root_orient', 'pose_body') or FLAME 'exp' + 'jaw'")


def read_motion(path: str | os.PathLike[str]) -> MotionData:
    """Read a BEAT2 / AMASS / AMUSE / FLAME-params motion ``.npz``.

    Raises:
        MotionFileError: missing or unreadable file, missing or misshapen keys, NaN/Inf,
            zero frames, a bad frame rate (the message says which).
    """
    src = _Npz(Path(path))
    with src.z:
        try:
            flavour = sniff(src.keys, src.raw("poses").ndim if "poses" in src.keys else None)
        except MotionFileError as exc:
            raise src.error(str(exc)) from None
        if flavour == "flame_params":
            return _read_flame(src)
        if flavour == "amuse":
            poses = src.array("poses", ("T", 55, 3))
        elif "poses" in src.keys:
            poses = src.array("poses", ("T", 165)).reshape(-1, 55, 3)
        else:  # AMASS split keys
            flat = None
            for key, a, b in AMASS_SPLIT:
                if key in src.keys or key in ("root_orient", "pose_body"):
                    part = src.array(key, ("T", b - a))
                    if flat is None:
                        flat = np.zeros((part.shape[0], 165))
                    flat[:, a:b] = part
            assert flat is not None
            poses = flat.reshape(-1, 55, 3)
        if flavour == "amass":
            model = src.text("surface_model_type", "smplx").strip().lower()
            if model != "smplx":
                raise src.error(f"surface_model_type is {model!r}; only SMPL-X motions are supported")
        trans = src.array("trans", ("T", 3))
        expression = src.array("expressions", ("T", "*")) if "expressions" in src.keys else np.zeros((len(poses), 0))
        betas = src.array("betas", ("*",)) if "betas" in src.keys else np.zeros(0)
        if flavour == "amass" and "num_betas" in src.keys:
            betas = betas[: int(np.asarray(src.raw("num_betas")).reshape(-1)[0])]
        fps = src.rate(None if flavour == "amass" else 30.0)
        if len(poses) == 0:
            raise src.error("has zero frames")
        return MotionData(poses=poses, trans=trans, betas=betas, expression=expression, fps=fps,
                          gender=src.gender(), flavour=flavour, up_axis=up_axis(poses[:, 0]), meta=src.meta(),
                          path=Path(path).resolve())


def _read_flame(src: _Npz) -> MotionData:
    """EMOTE-style FLAME parameters: face only, body at rest (the toolkit's ``global_pose="neck"``)."""
    exp = src.array("exp", ("T", "*"))
    jaw = src.array("jaw", ("T", 3))
    T = exp.shape[0]
    if T == 0:
        raise src.error("has zero frames")
    poses = np.zeros((T, 55, 3))
    poses[:, rig.JOINT_INDEX["jaw"]] = jaw
    if "global_pose" in src.keys:
        poses[:, rig.JOINT_INDEX["neck"]] = src.array("global_pose", ("T", 3))
    if "neck" in src.keys:
        poses[:, rig.JOINT_INDEX["head"]] = src.array("neck", ("T", 3))
    if "eyes" in src.keys:
        eyes = src.raw("eyes")
        eyes = src.array("eyes", ("T", 2, 3) if eyes.ndim == 3 else ("T", 6)).reshape(T, 2, 3)
        poses[:, 23:25] = eyes
    return MotionData(poses=poses, trans=np.zeros((T, 3)), betas=np.zeros(0), expression=exp,
                      fps=src.rate(25.0), gender="neutral", flavour="flame_params", up_axis="Y", meta=src.meta(),
                      path=src.path.resolve())


# --------------------------------------------------------------------------- SMPL-X model
@dataclass
class BodyModel:
    """An SMPL-X model file as numpy arrays (float64).

    Attributes:
        v_template: ``(V, 3)``; faces: ``(F, 3)``; shapedirs: ``(V, 3, Nb)`` shape space;
        exprdirs: ``(V, 3, Ne)`` expression space; j_regressor: ``(55, V)``; weights:
        ``(V, 55)``; pose_mean: ``(55, 3)`` (the relaxed hand mean, ``flat_hand_mean=False``);
        standin: the toolkit's stand-in (its expressions have semantic names); path.
    """

    v_template: np.ndarray
    faces: np.ndarray
    shapedirs: np.ndarray
    exprdirs: np.ndarray
    j_regressor: np.ndarray
    weights: np.ndarray
    pose_mean: np.ndarray
    standin: bool
    path: Path


_MODEL_CACHE: dict[tuple[str, float, int], BodyModel] = {}
STANDIN_MARKER = "STANDIN.txt"


def find_model_file(location: str | os.PathLike[str], gender: str = "neutral") -> Path:
    """The SMPL-X ``.npz`` for ``gender``: ``location`` itself when it is a file, else
    ``<location>/smplx/SMPLX_<GENDER>.npz`` or ``<location>/SMPLX_<GENDER>.npz`` (the
    neutral model when the gendered one is absent).

    Raises:
        ModelFileError: nothing usable there.
    """
    loc = Path(location).expanduser()
    if loc.is_file():
        return loc
    if not loc.is_dir():
        raise ModelFileError(f"SMPL-X model {loc} does not exist")
    g = gender.lower() if gender.lower() in GENDERS else "neutral"
    for folder in (loc / "smplx", loc):
        for gg in dict.fromkeys((g, "neutral")):
            cand = folder / f"SMPLX_{gg.upper()}.npz"
            if cand.is_file():
                return cand
    pkl = list((loc / "smplx").glob("SMPLX_*.pkl")) + list(loc.glob("SMPLX_*.pkl"))
    hint = " (only .pkl files there: use the .npz files of the SMPL-X download)" if pkl else ""
    raise ModelFileError(f"no SMPLX_{g.upper()}.npz in {loc} or {loc / 'smplx'}{hint}")


def load_body_model(path: str | os.PathLike[str]) -> BodyModel:
    """Read an SMPL-X ``.npz`` model (cached by path, size and modification time).

    Raises:
        ModelFileError: not an npz, pickled content, missing keys, not 55 joints.
    """
    p = Path(path).expanduser().resolve()
    if p.suffix.lower() != ".npz":
        raise ModelFileError(f"{p.name}: the add-on reads SMPL-X models as .npz (the SMPL-X download has "
                             f"SMPLX_NEUTRAL.npz); .pkl files are not unpickled inside Blender")
    try:
        st = p.stat()
    except OSError as exc:
        raise ModelFileError(f"SMPL-X model {p} cannot be read: {exc}") from None
    key = (str(p), st.st_mtime, st.st_size)
    if key in _MODEL_CACHE:
        return _MODEL_CACHE[key]
    try:
        z = np.load(p, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ModelFileError(f"{p.name}: not a readable .npz ({exc})") from None
    with z:
        def get(k: str) -> np.ndarray:
            if k not in z.files:
                raise ModelFileError(f"{p.name}: key {k!r} is missing; is this an SMPL-X model file?")
            try:
                return z[k]
            except ValueError as exc:
                raise ModelFileError(f"{p.name}: key {k!r} holds Python objects ({exc})") from None

        v_template = get("v_template").astype(np.float64)
        shapedirs = get("shapedirs").astype(np.float64)
        if shapedirs.ndim == 2:
            shapedirs = shapedirs[:, :, None]
        jreg = get("J_regressor").astype(np.float64)
        weights = get("weights").astype(np.float64)
        faces = get("f").astype(np.int64).reshape(-1, 3)
        hands = [get(k).astype(np.float64).reshape(45) if k in z.files else np.zeros(45)
                 for k in ("hands_meanl", "hands_meanr")]
        parents = get("kintree_table")[0].astype(np.int64) if "kintree_table" in z.files else None
    V = v_template.shape[0]
    if jreg.shape != (55, V) or weights.shape != (V, 55) or shapedirs.shape[:2] != (V, 3):
        raise ModelFileError(f"{p.name}: expected an SMPL-X model (55 joints); J_regressor {jreg.shape}, "
                             f"weights {weights.shape}, shapedirs {shapedirs.shape}")
    if parents is not None and not np.array_equal(parents[1:], np.asarray(rig.PARENTS[1:])):
        raise ModelFileError(f"{p.name}: its kinematic tree differs from SMPL-X's")
    # smplx's split of shapedirs: 300 shape + 100 expression, or the old 10 + 10
    K = shapedirs.shape[-1]
    if K >= SHAPE_SPACE_DIM + EXPRESSION_SPACE_DIM:
        shape, expr = shapedirs[:, :, :SHAPE_SPACE_DIM], shapedirs[:, :, SHAPE_SPACE_DIM:SHAPE_SPACE_DIM + EXPRESSION_SPACE_DIM]
    else:
        shape, expr = shapedirs[:, :, : min(10, K)], shapedirs[:, :, 10:20]
    pose_mean = np.zeros((55, 3))
    pose_mean[25:40] = hands[0].reshape(15, 3)
    pose_mean[40:55] = hands[1].reshape(15, 3)
    model = BodyModel(v_template=v_template, faces=faces, shapedirs=shape, exprdirs=expr, j_regressor=jreg,
                      weights=weights, pose_mean=pose_mean,
                      standin=(p.parent.parent / STANDIN_MARKER).is_file(), path=p)
    _MODEL_CACHE.clear()  # one model at a time: the arrays are large
    _MODEL_CACHE[key] = model
    return model


def rest_shape(model: BodyModel, betas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(vertices (V, 3), joints (55, 3))`` of ``model`` shaped by ``betas`` (truncated / zero-padded)."""
    b = np.zeros(model.shapedirs.shape[-1])
    n = min(len(b), len(betas))
    b[:n] = np.asarray(betas, np.float64)[:n]
    vertices = model.v_template + model.shapedirs @ b
    return vertices, model.j_regressor @ vertices


def character_arrays(model: BodyModel, betas: np.ndarray, num_shape_keys: int = DEFAULT_SHAPE_KEYS) -> dict[str, Any]:
    """What :func:`rig.build_character` needs: skeleton, skinned mesh and expression shape keys."""
    vertices, joints = rest_shape(model, betas)
    tails, roll = rig.bone_tails(joints)
    w = np.where(model.weights >= MIN_WEIGHT, model.weights, 0.0)
    w /= np.maximum(w.sum(1, keepdims=True), 1e-12)
    wv, wj = np.nonzero(w)
    n = max(0, min(int(num_shape_keys), model.exprdirs.shape[-1]))
    return {
        "joint_names": np.array(rig.JOINT_NAMES), "parents": np.array(rig.PARENTS, np.int32),
        "heads": joints, "tails": tails, "roll_axes": roll, "vertices": vertices, "faces": model.faces,
        "w_vertex": wv, "w_joint": wj, "w_value": w[wv, wj],
        "shape_names": np.array(rig.expression_names(n, model.standin), dtype=str),
        "shape_deltas": np.ascontiguousarray(model.exprdirs[:, :, :n].transpose(2, 0, 1)),
    }


def animation_arrays(motion: MotionData, model: BodyModel, num_shape_keys: int) -> dict[str, np.ndarray]:
    """Per-frame ``quats`` (T, 55, 4) WXYZ (mean pose included), ``root`` (T, 3) pelvis
    position ``J_pelvis + trans`` and ``expression`` (T, num_shape_keys) (zero-padded)."""
    _, joints = rest_shape(model, motion.betas)
    quats = resample.rotvec_to_quat(motion.poses + model.pose_mean[None])
    expr = np.zeros((motion.num_frames, num_shape_keys))
    n = min(num_shape_keys, motion.expression.shape[1])
    expr[:, :n] = motion.expression[:, :n]
    return {"quats": quats, "root": motion.trans + joints[0], "expression": expr}


# --------------------------------------------------------------------------- floor
def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """``(..., 4)`` WXYZ quaternions -> ``(..., 3, 3)`` rotation matrices (normalised first)."""
    q = np.asarray(q, np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
        np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
        np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
    ], -2)


def floor_offset(model: BodyModel, motion: MotionData, quats: np.ndarray, root: np.ndarray,
                 up_axis: str | None = None, max_frames: int = floor.MAX_FRAMES) -> float:
    """Metres to add to the root's up coordinate so the lowest skinned vertex of the clip is at 0.

    The toolkit's own skinning (:mod:`floor`, a build-time copy of ``motion/export/floor.py``:
    same sampled frames, linear blend skinning of the shaped rest mesh, no pose correctives), so
    an import stands where the toolkit's exports stand; the up axis is the motion's (SMPL-X ``y``,
    or ``z`` for Z-up captures, whose armature object is turned -90 degrees about X).

    Args:
        model: the SMPL-X model. motion: the motion (betas, up axis).
        quats: ``(T, 55, 4)`` WXYZ local rotations (mean pose included). root: ``(T, 3)`` pelvis
            positions (``J_pelvis + trans``). up_axis: ``Y`` / ``Z`` (default the motion's).
    """
    vertices, joints = rest_shape(model, motion.betas)
    idx = floor.sample_frames(len(quats), max_frames)
    rot = quat_to_matrix(np.asarray(quats)[idx])  # (K, 55, 3, 3)
    axis = 2 if (up_axis or motion.up_axis) == "Z" else 1
    heights = floor.skinned_heights(vertices, joints, np.asarray(rig.PARENTS), model.weights, rot,
                                    np.asarray(root, np.float64)[idx], axis=axis)
    return -float(heights.min())
