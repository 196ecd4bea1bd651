"""FBX export through Blender's own exporter, run in a subprocess with the ``bpy`` module.

``bpy`` (Blender 4.2 LTS as a Python module: ``pip install 'motion-toolkit[blender]'``) is
never imported by the toolkit's process: this module prepares the rig and animation as
plain arrays (:func:`prepare_rig`), writes them to a temporary ``.npz`` and runs
``[python, _blender_fbx.py, json]`` (no shell) with ``BLENDER_USER_RESOURCES`` pointing to
a temporary folder, so Blender never touches ``~/.config/blender``. ``$MOTION_BLENDER_PYTHON``
names another interpreter that has ``bpy`` (e.g. a Python 3.11 venv when the toolkit runs on 3.12).

What the file holds:

* an armature of 55 bones named :data:`motion.types.JOINT_NAMES`, parented per
  :data:`motion.types.PARENTS` (no leaf bones). Heads = the rest joints of the body model
  shaped by the motion's betas; tails point at the bone's main child joint (pelvis -> spine1,
  wrist -> middle1, ...) or continue the parent bone for leaves (finger tips, feet); the
  head points up, the jaw forward-down, the eyes forward. Bone Z axes face the character's
  front where possible.
* a mesh skinned with the model's weights (one vertex group per joint; weights < 1e-4
  dropped and the rest renormalised), and shape keys ``Basis`` + the first
  ``num_expressions`` expression blendshapes (default ``min(50, E)``; stand-in keys carry
  the semantic names ``smile``, ``blink_left``...), or with ``arkit=True`` ARKit's 52
  (``eyeBlinkLeft`` ... ``tongueOut``, :mod:`motion.export.arkit_shapes`). Shape key sliders
  span [-10, 10].
* one action: a quaternion key per bone per frame, root (pelvis) location keys, shape key
  value keys; frames ``0..T-1``, so the first key is at time 0 (Blender's importer puts it on
  frame 1); scene fps = motion fps (fractional rates via ``fps_base``).
* on the floor: the lowest vertex over the clip at height 0 (:mod:`motion.export.floor`);
  smooth shading (smoothing groups and per-vertex normals in the file).

Presets (``preset=``):

=========  ==========================================================================
blender    plain: Blender Z up (SMPL-X ``x, y, z`` -> ``x, -z, y``), metres, axes -Z forward /
           Y up, ``FBX_SCALE_NONE``. Re-imports in Blender exactly where it was.
unity      the SMPL-X add-on's recipe: data in Y up (the "-90 X bake"), objects at +90 X, so
           the root imports into Unity without rotation; metres (header ``UnitScaleFactor``
           100), ``FBX_SCALE_ALL``; a ``root`` bone on the floor (root motion).
unreal     as unity, plus data and location keys x100 (centimetres; header
           ``UnitScaleFactor`` 1, so every importer reads centimetres), armature object named
           ``Armature`` (Unreal then adds no extra root bone), ``root`` bone on the floor.
=========  ==========================================================================

All presets: ``add_leaf_bones=False``, ``bake_anim_use_nla_strips=False``,
``bake_anim_use_all_actions=False``, ``bake_anim_simplify_factor=0`` (every frame kept).
Not exported: pose-corrective blendshapes, the joint shift caused by expression.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from motion.atomic import is_pending
from motion.export.blender_rig import FBX_PRESETS, bone_tails
from motion.export.registry import ExportError, keyword_options, register_exporter
from motion.types import (
    JOINT_NAMES,
    NUM_FACE_EXPRESSIONS_DEFAULT,
    NUM_JOINTS,
    PARENTS,
)

if TYPE_CHECKING:  # pragma: no cover
    from motion.container import Motion
    from motion.export._rest import RestModel
    from motion.export.arkit_shapes import ArkitFace

SCRIPT = Path(__file__).with_name("_blender_fbx.py")
#: Interpreter that runs the Blender script (default: this one).
PYTHON_ENV = "MOTION_BLENDER_PYTHON"
INSTALL_HINT = "pip install 'motion-toolkit[blender]' (bpy==4.2.*, Blender 4.2 LTS as a module; Python 3.11)"
#: Weights below this are dropped from the vertex groups.
MIN_WEIGHT = 1e-4


class BlenderUnavailableError(ExportError):
    """The ``bpy`` module (Blender as a Python module) cannot be imported."""


@dataclass(frozen=True)
class FBXPreset:
    """Axis, scale and naming conventions of one target application.

    Attributes:
        name: preset name.
        y_up_data: keep the data Y up with objects rotated +90 degrees about X (else Z up data).
        scale: data scale (100: centimetres).
        axis_forward, axis_up: Blender FBX exporter axes.
        apply_scale_options: Blender FBX exporter ``apply_scale_options``.
        armature_name: name of the armature object.
        root_bone: add a ``root`` bone on the floor under the pelvis (root motion).
    """

    name: str
    y_up_data: bool
    scale: float
    axis_forward: str = "-Z"
    axis_up: str = "Y"
    apply_scale_options: str = "FBX_SCALE_NONE"
    armature_name: str = "SMPLX"
    root_bone: bool = False


#: The presets, defined once in the rig module that both this exporter and the add-on run.
PRESETS: dict[str, FBXPreset] = {name: FBXPreset(**p) for name, p in FBX_PRESETS.items()}


def prepare_rig(motion: Motion, rest: RestModel, num_expressions: int | None = None,
                semantic_names: bool = False, floor: bool = True, arkit: ArkitFace | None = None
                ) -> dict[str, np.ndarray]:
    """The arrays the Blender script needs (SMPL-X coordinates, metres).

    Returns a dict: ``joint_names`` (55,), ``parents`` (55,), ``heads``/``tails``/``roll_axes``
    (55, 3), ``vertices`` (V, 3), ``faces`` (F, 3), sparse weights ``w_vertex``/``w_joint``/
    ``w_value`` (K,), ``shape_names`` (N,), ``shape_deltas`` (N, V, 3), ``quats`` (T, 55, 4)
    local rotations as WXYZ quaternions (mean pose included), ``root`` (T, 3) pelvis position
    ``J_pelvis + trans`` (raised by :func:`motion.export.floor.floor_offset` when ``floor``),
    ``expression`` (T, N), ``fps`` (). With ``arkit`` (:func:`motion.export.arkit_shapes.arkit_face`)
    the shapes are ARKit's 52 and ``expression`` their weights; the jaw and eyes stay at rest.
    """
    from scipy.spatial.transform import Rotation

    from motion.export.gltf import expression_names

    assert motion.expression is not None
    if arkit is not None:
        motion = arkit.motion
    T, E = motion.num_frames, motion.num_expressions
    n = min(NUM_FACE_EXPRESSIONS_DEFAULT, E) if num_expressions is None else int(num_expressions)
    n = max(0, min(n, rest.expr_dirs.shape[-1]))
    tails, roll = bone_tails(rest.joints)
    w = np.where(rest.weights >= MIN_WEIGHT, rest.weights, 0.0)
    w /= np.maximum(w.sum(1, keepdims=True), 1e-12)
    wv, wj = np.nonzero(w)
    aa = motion.poses.astype(np.float64) + rest.pose_mean[None]
    xyzw = Rotation.from_rotvec(aa.reshape(-1, 3)).as_quat().reshape(T, NUM_JOINTS, 4)
    expr = np.zeros((T, n), np.float32)
    expr[:, : min(n, E)] = motion.expression[:, : min(n, E)]
    root = motion.trans.astype(np.float64) + rest.joints[0]
    if floor:
        from motion.export.floor import floor_offset

        root[:, 1] += floor_offset(motion, rest)
    shape_names = np.array(expression_names(n, semantic_names), dtype=str)
    shape_deltas = np.ascontiguousarray(rest.expr_dirs[:, :, :n].transpose(2, 0, 1), dtype=np.float32)
    if arkit is not None:
        shape_names = np.array(arkit.names, dtype=str)
        shape_deltas = np.ascontiguousarray(arkit.deltas, dtype=np.float32)
        expr = np.ascontiguousarray(arkit.weights, dtype=np.float32)
    return {
        "joint_names": np.array(JOINT_NAMES), "parents": np.array(PARENTS, np.int32),
        "heads": rest.joints, "tails": tails, "roll_axes": roll,
        "vertices": rest.vertices, "faces": rest.faces.astype(np.int32),
        "w_vertex": wv.astype(np.int32), "w_joint": wj.astype(np.int32), "w_value": w[wv, wj].astype(np.float32),
        "shape_names": shape_names, "shape_deltas": shape_deltas,
        "quats": xyzw[..., [3, 0, 1, 2]], "root": root,
        "expression": expr, "fps": np.float64(motion.fps),
    }


def check_blender(python: str | None = None) -> None:
    """Fail fast when this interpreter runs the Blender script and has no ``bpy`` to find.

    Only a cheap look-up (``bpy`` is not imported here); the subprocess makes the real
    import and reports failure with exit status 3 (see :func:`run_blender_script`).
    """
    if (python or os.environ.get(PYTHON_ENV) or sys.executable) != sys.executable:
        return
    try:
        missing = importlib.util.find_spec("bpy") is None
    except (ImportError, ValueError):
        missing = True
    if missing:
        raise BlenderUnavailableError(f"FBX export needs Blender's Python module bpy, which is not installed: "
                                      f"{INSTALL_HINT}")


@contextlib.contextmanager
def _blender_home() -> Iterator[str]:
    """Blender's user-resources folder: ``$MOTION_CACHE_DIR/blender`` (kept, so a kill leaves
    nothing new in TMPDIR), else a temporary folder."""
    from motion.bodymodels.paths import cache_root

    home = cache_root() / "blender"
    try:
        home.mkdir(parents=True, exist_ok=True)
        ok = os.access(home, os.W_OK | os.X_OK)
    except OSError:
        ok = False
    if ok:
        yield str(home)
        return
    with tempfile.TemporaryDirectory(prefix="motion-blender-") as tmp:
        yield tmp


def run_blender_script(script: Path, args: dict[str, Any], python: str | None = None,
                       timeout: float = 600.0) -> subprocess.CompletedProcess[str]:
    """Run a Blender-side ``script`` with ``args`` (JSON) in a subprocess; raise on failure.

    ``BLENDER_USER_RESOURCES`` points at a fresh temporary folder. Raises
    :class:`BlenderUnavailableError` when the interpreter cannot import ``bpy``,
    :class:`ExportError` for any other failure (with the end of Blender's output).
    """
    from motion._proc import child_kwargs

    exe = python or os.environ.get(PYTHON_ENV) or sys.executable
    with _blender_home() as home:
        env = dict(os.environ, BLENDER_USER_RESOURCES=home)
        try:
            res = subprocess.run([exe, str(script), json.dumps(args)], capture_output=True, text=True,
                                 timeout=timeout, env=env, cwd=home, check=False, **child_kwargs())
        except subprocess.TimeoutExpired as exc:
            raise ExportError(f"Blender did not finish within {timeout:g} s") from exc
        except OSError as exc:
            raise ExportError(f"cannot run the Blender interpreter {exe!r}: {exc}") from exc
    if res.returncode == 3 and "MOTION_NO_BPY" in res.stderr:
        why = res.stderr.strip().splitlines()[-1]
        raise BlenderUnavailableError(f"FBX export needs Blender's Python module bpy: {exe} says {why}. "
                                      f"Install it: {INSTALL_HINT}")
    if res.returncode != 0:
        tail = "\n".join((res.stderr or res.stdout).strip().splitlines()[-12:])
        raise ExportError(f"Blender failed (exit {res.returncode}):\n{tail}")
    return res


def write_fbx(
    motion: Motion,
    path: str | Path,
    *,
    preset: str = "blender",
    num_expressions: int | None = None,
    floor: bool = True,
    arkit: bool = False,
    arkit_map: Any = None,
    body_model: Any = None,
    models_dir: str | None = None,
    timeout: float = 600.0,
) -> None:
    """Write ``motion`` as an FBX file (armature, skinned mesh, shape keys, animation).

    Args:
        motion: the animation.
        path: destination ``.fbx``.
        preset: ``"blender"``, ``"unity"`` or ``"unreal"`` (see the module docstring).
        num_expressions: shape keys to export (default ``min(50, E)``).
        floor: raise the root so the lowest vertex over the clip is at the floor.
        arkit: the face as ARKit's 52 shape keys named as Apple's (``eyeBlinkLeft`` ...), animated
            with the ARKit weights, jaw and eyes in the shapes (:mod:`motion.export.arkit_shapes`);
            ``num_expressions`` is then ignored.
        arkit_map: the FLAME -> ARKit map for ``arkit`` (default the stand-in map).
        body_model: an :mod:`smplx` SMPL-X model (loaded for the motion when omitted).
        models_dir: models folder used when loading the body model.
        timeout: seconds Blender may take.

    Raises:
        BlenderUnavailableError: ``bpy`` is not installed. ExportError: Blender failed.
    """
    from motion.export._rest import load_model, rest_model
    from motion.export.gltf import _is_standin

    if preset not in PRESETS:
        raise ExportError(f"unknown FBX preset {preset!r}; choose one of {', '.join(PRESETS)}")
    check_blender()
    model = load_model(motion, body_model, models_dir)
    rest = rest_model(model, motion.betas)
    face = None
    if arkit:
        from motion.export.arkit_shapes import arkit_face

        face = arkit_face(motion, rest, model, arkit_map, _is_standin(model))
    rig = prepare_rig(motion, rest, num_expressions, _is_standin(model), floor, face)
    # The rig goes to Blender in an unnamed temporary file (O_TMPFILE where the system has it),
    # read through /proc/PID/fd/N: a kill leaves nothing in TMPDIR.
    with tempfile.TemporaryFile(prefix="motion-fbx-", suffix=".npz") as data:
        np.savez(data, **rig)
        data.flush()
        out = str(path) if is_pending(path) else str(Path(path).resolve())  # /proc/PID/fd/N stays as it is
        args = {"data": _reachable(data), "out": out, "preset": asdict(PRESETS[preset])}
        run_blender_script(SCRIPT, args, timeout=timeout)


def _reachable(f: IO[bytes]) -> str:
    """A path another process can open ``f`` by (``/proc/PID/fd/N``; its name where it has one)."""
    proc = f"/proc/{os.getpid()}/fd/{f.fileno()}"
    name = getattr(f, "name", None)
    if os.path.exists(proc):
        return proc
    if isinstance(name, str):  # pragma: no cover - no /proc
        return name
    raise ExportError("cannot hand the rig to Blender: no /proc and no temporary file name")  # pragma: no cover


def _export(motion: Motion, path: Path, **opts: Any) -> None:
    write_fbx(motion, path, **opts)


register_exporter("fbx", (".fbx",), _export, "FBX via Blender (bpy subprocess): armature, skinned mesh, "
                  "shape keys, animation; presets blender/unity/unreal", options=keyword_options(write_fbx))
